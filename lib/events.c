/*
 * The event log and the history read from it.  Writing is one line per
 * event, appended with one write(2) and synced, so that a crash leaves at
 * worst one torn last line.  Reading turns the log (and, for trees that
 * have none, Capistrano's revisions.log) into what rollback, prune and
 * --list need: the order releases were made in, each link's history and
 * which releases are bad.  The parsers do no I/O, so the fuzz harness
 * calls exactly what the tools call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ci.h"
#include "clock.h"
#include "diag.h"
#include "events.h"
#include "ident.h"
#include "io.h"

#define LOGNAME		"events.jsonl"
/* How much of a torn tail is looked at for its last newline. */
#define TAILMAX		65536
/* Warnings about bad lines, at most, before one summary. */
#define WARNMAX		3

static void
put(json_t *o, const char *key, const char *val)
{
	if (val != NULL)
		json_object_set_new(o, key, json_string(val));
}

/*
 * Cut what follows the last newline of fd (size bytes long): a line that
 * a crashed writer left half written.  Under the lock no one else is
 * writing, so it can only be that.
 */
static int
cut_torn_tail(int fd, off_t size)
{
	char buf[TAILMAX];
	off_t from = size > TAILMAX ? size - TAILMAX : 0;
	ssize_t n, i;

	if (size == 0)
		return 0;
	n = pread(fd, buf, (size_t)(size - from), from);
	if (n <= 0)
		return n == 0 ? 0 : -1;
	if (buf[n - 1] == '\n')
		return 0;
	for (i = n - 1; i >= 0 && buf[i] != '\n'; i--)
		;
	/* No newline in the last 64 KiB: not ours to cut; start a line. */
	if (i < 0 && from > 0)
		return 1;
	return ftruncate(fd, from + i + 1);
}

int
zlog_append(int dirfd, const char *name, const char *line, size_t len)
{
	struct stat sb;
	char *buf = NULL;
	const char *s = line;
	ssize_t w;
	int fd, rc = 0, e, nl;

	/* Read as well: the tail is looked at before the append. */
	fd = openat(dirfd, name,
	    O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd == -1)
		return -1;
	if (fstat(fd, &sb) == -1 || (nl = cut_torn_tail(fd, sb.st_size)) ==
	    -1 || fstat(fd, &sb) == -1)
		rc = -1;
	else if (nl == 1 && (buf = malloc(len + 1)) == NULL)
		rc = -1;
	else {
		if (buf != NULL) {
			buf[0] = '\n';
			memcpy(buf + 1, line, len++);
			s = buf;
		}
		/* One write: a reader sees the whole line or none of it. */
		if ((w = write(fd, s, len)) != (ssize_t)len) {
			/*
			 * A full disk shows as a short write: take the half
			 * line back, so the log stays whole, and say why.
			 */
			if (w >= 0) {
				(void)!ftruncate(fd, sb.st_size);
				errno = ENOSPC;
			}
			rc = -1;
		} else if (fsync(fd) == -1)
			rc = -1;
	}
	e = errno;
	if (close(fd) == -1 && rc == 0) {
		rc = -1;
		e = errno;
	}
	free(buf);
	errno = e;
	return rc;
}

int
zrevlog(struct zroot *r, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n > sizeof line - 2)
		n = sizeof line - 2;
	line[n++] = '\n';
	return zlog_append(r->fd, "revisions.log", line, (size_t)n);
}

int
zevent_append(struct zroot *r, const char *event, json_t *fields)
{
	const char *ci, *run, *url;
	json_t *o;
	char *line, *p;
	size_t len;
	int rc, e;

	o = json_object();
	if (o == NULL) {
		json_decref(fields);
		errno = ENOMEM;
		return -1;
	}
	put(o, "time", ziso8601((long long)time(NULL)));
	put(o, "event", event);
	if (fields != NULL)
		json_object_update(o, fields);
	json_decref(fields);
	put(o, "user", zuser());
	put(o, "host", zhost());
	zci_run(&ci, &run, &url);
	put(o, "ci", ci);
	put(o, "run", run);
	put(o, "run_url", url);
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	len = line != NULL ? strlen(line) : 0;
	if (line == NULL || (p = realloc(line, len + 2)) == NULL) {
		free(line);
		errno = ENOMEM;
		return -1;
	}
	line = p;
	line[len++] = '\n';
	if (r->zddfd == -1) {
		free(line);
		errno = ENOENT;
		return -1;
	}
	rc = zlog_append(r->zddfd, LOGNAME, line, len);
	e = errno;
	free(line);
	errno = e;
	return rc;
}

void
zhist_init(struct zhist *h)
{
	memset(h, 0, sizeof *h);
	h->index = json_object();
}

void
zhist_free(struct zhist *h)
{
	free(h->rel);
	free(h->chg);
	free(h->rvchg);
	json_decref(h->index);
	memset(h, 0, sizeof *h);
}

const struct zhrel *
zhist_rel(const struct zhist *h, const char *id)
{
	json_t *i = json_object_get(h->index, id);

	return i != NULL ? &h->rel[json_integer_value(i)] : NULL;
}

/* The record of id, made on first mention; NULL when out of memory. */
static struct zhrel *
rel_of(struct zhist *h, const char *id)
{
	json_t *i = json_object_get(h->index, id);
	struct zhrel *v, *hr;

	if (i != NULL)
		return &h->rel[json_integer_value(i)];
	if (h->nrel == h->relcap) {
		size_t cap = h->relcap ? h->relcap * 2 : 64;

		if ((v = reallocarray(h->rel, cap, sizeof *v)) == NULL)
			return NULL;
		h->rel = v;
		h->relcap = cap;
	}
	if (json_object_set_new(h->index, id,
	    json_integer((json_int_t)h->nrel)) == -1)
		return NULL;
	hr = &h->rel[h->nrel++];
	memset(hr, 0, sizeof *hr);
	strcpy(hr->id, id);
	hr->first = hr->made = -1;
	hr->bad = -1;
	return hr;
}

static struct zhchange *
new_change(struct zhchange **v, size_t *n, size_t *cap)
{
	struct zhchange *nv;

	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;

		if ((nv = reallocarray(*v, c, sizeof *nv)) == NULL)
			return NULL;
		*v = nv;
		*cap = c;
	}
	memset(&(*v)[*n], 0, sizeof **v);
	return &(*v)[(*n)++];
}

/* A string member that is a valid id, "" when absent; -1 when invalid. */
static int
id_member(json_t *o, const char *key, const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = "";
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || !zid_valid(json_string_value(v)))
		return -1;
	*out = json_string_value(v);
	return 0;
}

/*
 * Apply one parsed event.  0 done (an event of a kind this reader does not
 * use, from a newer tool or zdd-switch, counts as done), -1 not an event.
 */
static int
apply_event(struct zhist *h, json_t *o, long seq)
{
	const char *ev, *rel, *link, *prev, *tm;
	struct zhrel *hr, *hp;
	struct zhchange *c;
	int is_link, is_rb;

	if (!json_is_object(o) ||
	    (ev = json_string_value(json_object_get(o, "event"))) == NULL)
		return -1;
	if (id_member(o, "release", &rel) == -1 ||
	    id_member(o, "link", &link) == -1 ||
	    id_member(o, "previous", &prev) == -1)
		return -1;
	if (*link != '\0' && !zlink_name_valid(link))
		return -1;
	is_link = strcmp(ev, "link") == 0;
	is_rb = strcmp(ev, "rollback") == 0;
	if (!is_link && !is_rb && strcmp(ev, "release") != 0 &&
	    strcmp(ev, "bad") != 0 && strcmp(ev, "good") != 0 &&
	    strcmp(ev, "prune") != 0)
		return 0;
	if (*rel == '\0' || ((is_link || is_rb) && *link == '\0'))
		return -1;
	if ((hr = rel_of(h, rel)) == NULL)
		return -1;
	/*
	 * Creation order: where a release is made.  One the log never saw
	 * made (linked, marked, named as a link's previous one) is older
	 * than the log, and keeps its place by id among those.
	 */
	if (hr->first == -1 && strcmp(ev, "release") == 0)
		hr->first = seq;
	if (strcmp(ev, "release") == 0) {
		/* An id used again after a prune is a new release. */
		hr->made = seq;
		hr->live = 0;
		hr->bad = -1;
	} else if (strcmp(ev, "bad") == 0)
		hr->bad = 1;
	else if (strcmp(ev, "good") == 0)
		hr->bad = 0;
	else if (is_link || is_rb) {
		hr->live = 1;
		hr->bad = 0;
		if (*prev != '\0' && strcmp(prev, rel) != 0) {
			if ((hp = rel_of(h, prev)) == NULL)
				return -1;
			/* rel_of() may have moved hr. */
			hr = &h->rel[json_integer_value(json_object_get(
			    h->index, rel))];
			hp->live = 1;
			if (is_rb)
				hp->bad = 1;
		}
		if ((c = new_change(&h->chg, &h->nchg, &h->chgcap)) == NULL)
			return -1;
		c->seq = seq;
		c->rollback = is_rb;
		tm = json_string_value(json_object_get(o, "time"));
		if (tm != NULL && strlen(tm) < sizeof c->time)
			strcpy(c->time, tm);
		strcpy(c->link, link);
		strcpy(c->release, rel);
		strcpy(c->previous, prev);
	}
	return 0;
}

void
zhist_parse_events(struct zhist *h, const char *buf, size_t len, int warn)
{
	const char *p = buf, *end = buf + len, *nl;
	json_error_t jerr;
	long lineno = 0;
	json_t *o;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		/* No newline: a line still being written, or torn. */
		if (nl == NULL)
			break;
		lineno++;
		if (nl == p)
			continue;
		o = json_loadb(p, (size_t)(nl - p), JSON_DISABLE_EOF_CHECK |
		    JSON_REJECT_DUPLICATES, &jerr);
		if (o != NULL && jerr.position < nl - p) {
			/* Something after the object on the same line. */
			json_decref(o);
			o = NULL;
		}
		if (o != NULL && apply_event(h, o, h->events) == 0)
			h->events++;
		else {
			h->skipped++;
			if (warn && h->skipped <= WARNMAX)
				zwarnx(".zdd/%s: line %ld: not an event, "
				    "skipped", LOGNAME, lineno);
		}
		json_decref(o);
	}
	if (warn && h->skipped > WARNMAX)
		zwarnx(".zdd/%s: %ld lines in all were not events",
		    LOGNAME, h->skipped);
}

/* The id after marker in line, if it is one; into id. */
static int
revlog_id(const char *line, size_t len, const char *marker, char *id)
{
	const char *p, *q, *end = line + len;
	size_t mlen = strlen(marker), n;

	p = memmem(line, len, marker, mlen);
	if (p == NULL)
		return 0;
	p += mlen;
	for (q = p; q < end && *q != ' ' && *q != '\r'; q++)
		;
	n = (size_t)(q - p);
	if (n == 0 || n > ZID_MAX)
		return 0;
	memcpy(id, p, n);
	id[n] = '\0';
	return zid_valid(id);
}

void
zhist_parse_revlog(struct zhist *h, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;
	char id[ZID_MAX + 1];
	struct zhrel *hr, *hp;
	struct zhchange *c;
	long seq = 0;
	int rb;

	/*
	 * Capistrano's two lines: "Branch B (at R) deployed as release ID
	 * by USER" and "USER rolled back to release ID".  Others (a
	 * hand-written note) are not history and are passed over.
	 */
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		rb = 0;
		if (!revlog_id(p, (size_t)(nl - p), " deployed as release ",
		    id)) {
			if (!revlog_id(p, (size_t)(nl - p),
			    " rolled back to release ", id))
				continue;
			rb = 1;
		}
		if ((hr = rel_of(h, id)) == NULL)
			return;
		c = new_change(&h->rvchg, &h->nrvchg, &h->rvchgcap);
		if (c == NULL)
			return;
		c->seq = seq++;
		c->rollback = rb;
		strcpy(c->link, "current");
		strcpy(c->release, id);
		if (h->nrvchg > 1)
			strcpy(c->previous, h->rvchg[h->nrvchg - 2].release);
		if (rb && c->previous[0] != '\0' &&
		    strcmp(c->previous, id) != 0) {
			if ((hp = rel_of(h, c->previous)) == NULL)
				return;
			hp->rv_bad = 1;
			hr = (struct zhrel *)zhist_rel(h, id);
		}
		hr->rv_live = 1;
		hr->rv_bad = 0;
	}
}

/*
 * Read dirfd/name whole, or its last max bytes from the start of a line;
 * NULL with errno ENOENT when there is no such file.
 */
static char *
load_tail(int dirfd, const char *name, size_t max, size_t *len, int warn)
{
	struct stat sb;
	char *buf, *nl;
	off_t from = 0;
	int fd, e;

	if (dirfd == -1) {
		errno = ENOENT;
		return NULL;
	}
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return NULL;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		e = S_ISREG(sb.st_mode) ? errno : EINVAL;
		close(fd);
		errno = e;
		return NULL;
	}
	if (sb.st_size > (off_t)max) {
		from = sb.st_size - (off_t)max;
		if (warn)
			zwarnx("%s is larger than %zu MiB: reading its end",
			    name, max >> 20);
		if (lseek(fd, from, SEEK_SET) == -1) {
			e = errno;
			close(fd);
			errno = e;
			return NULL;
		}
	}
	/* The file may grow while it is read: keep what fits. */
	buf = zread_all(fd, max, 0, ZREAD_TRUNCATE, len);
	e = errno;
	close(fd);
	if (buf == NULL) {
		errno = e;
		return NULL;
	}
	if (from > 0 && (nl = memchr(buf, '\n', *len)) != NULL) {
		*len -= (size_t)(nl + 1 - buf);
		memmove(buf, nl + 1, *len + 1);
	}
	return buf;
}

int
zhist_load(struct zroot *r, struct zhist *h, int warn)
{
	size_t len;
	char *buf;

	zhist_init(h);
	if (h->index == NULL) {
		errno = ENOMEM;
		return -1;
	}
	buf = load_tail(r->zddfd, LOGNAME, ZEVENTS_MAX, &len, warn);
	if (buf == NULL && errno != ENOENT)
		return -1;
	if (buf != NULL) {
		h->have_events = 1;
		zhist_parse_events(h, buf, len, warn);
		free(buf);
	}
	buf = load_tail(r->fd, "revisions.log", ZEVENTS_MAX, &len, warn);
	if (buf == NULL && errno != ENOENT)
		return -1;
	if (buf != NULL) {
		h->have_revlog = 1;
		zhist_parse_revlog(h, buf, len);
		free(buf);
	}
	return 0;
}

int
zhist_link(const struct zhist *h, const char *name, const char *cur,
    const struct zhchange ***out, size_t *np)
{
	const struct zhchange **v, *last = NULL;
	size_t i, n = 0;
	int revlog;

	*out = NULL;
	*np = 0;
	for (i = 0; i < h->nchg; i++)
		if (strcmp(h->chg[i].link, name) == 0) {
			last = &h->chg[i];
			n++;
		}
	/*
	 * revisions.log describes current.  It is the record when the event
	 * log has none for current, and when the event log is behind it:
	 * Capistrano (cap deploy, cap deploy:rollback) moved current since,
	 * writing only revisions.log, whose newest line names where current
	 * points while the event log's does not.
	 */
	revlog = strcmp(name, "current") == 0 && h->nrvchg > 0 &&
	    (n == 0 || (cur != NULL && strcmp(last->release, cur) != 0 &&
	    strcmp(h->rvchg[h->nrvchg - 1].release, cur) == 0));
	if (revlog) {
		if ((v = calloc(h->nrvchg, sizeof *v)) == NULL)
			return -1;
		for (i = 0, n = 0; i < h->nrvchg; i++)
			v[n++] = &h->rvchg[i];
	} else if (n > 0) {
		if ((v = calloc(n, sizeof *v)) == NULL)
			return -1;
		for (i = 0, n = 0; i < h->nchg; i++)
			if (strcmp(h->chg[i].link, name) == 0)
				v[n++] = &h->chg[i];
	} else
		return 0;
	*out = v;
	*np = n;
	return 0;
}

int
zhist_bad(const struct zhist *h, const char *id, int manifest_bad)
{
	const struct zhrel *hr = zhist_rel(h, id);

	/*
	 * The event log decides when it says anything; then revisions.log;
	 * a bad mark in the manifest (zdd before the log) stands otherwise.
	 */
	if (hr != NULL && hr->bad != -1)
		return hr->bad;
	if (hr != NULL && hr->rv_bad)
		return 1;
	return manifest_bad;
}

/*
 * Creation order: releases the event log never names come first (they
 * are older than it), by id with numbers compared as numbers, so that
 * build 10 follows build 9; then the rest in the log's order.
 */
static int
ordercmp(const void *a, const void *b)
{
	const struct zrel *x = a, *y = b;

	if ((x->order < 0) != (y->order < 0))
		return x->order < 0 ? -1 : 1;
	if (x->order != y->order && x->order >= 0)
		return x->order < y->order ? -1 : 1;
	return strverscmp(x->id, y->id);
}

void
zhist_annotate(const struct zhist *h, struct zrel *v, size_t n)
{
	const struct zhrel *hr;
	size_t i;

	for (i = 0; i < n; i++) {
		struct zrel *z = &v[i];
		int inlog;

		hr = zhist_rel(h, z->id);
		inlog = hr != NULL && (hr->first >= 0 || hr->live ||
		    hr->bad != -1);
		z->order = hr != NULL ? hr->first : -1;
		z->bad = zhist_bad(h, z->id, z->bad);
		/*
		 * Went live: as the event log says; a release older than
		 * the log counts as live, as it did before there was one
		 * (so that no prune takes it for a failed deploy); in a
		 * tree with only revisions.log, as that log says; with no
		 * record at all, every release counts.
		 */
		if (inlog)
			z->went_live = hr->live || hr->rv_live;
		else if (h->have_events || !h->have_revlog)
			z->went_live = 1;
		else
			z->went_live = hr != NULL && hr->rv_live;
		if (z->links[0] != '\0')
			z->went_live = 1;
		if (z->links[0] != '\0')
			z->state = ZREL_LIVE;
		else if (z->bad)
			z->state = ZREL_BAD;
		else if (z->went_live)
			z->state = ZREL_WAS_LIVE;
		else
			z->state = ZREL_STAGED;
	}
	if (n > 1)	/* qsort(NULL, 0, ...) is undefined: a root with none */
		qsort(v, n, sizeof *v, ordercmp);
}

const char *
zstate_name(int state)
{
	switch (state) {
	case ZREL_LIVE:
		return "live";
	case ZREL_BAD:
		return "bad";
	case ZREL_WAS_LIVE:
		return "was-live";
	default:
		return "staged";
	}
}
