/*
 * A zip file on disk, on both cores.  Zip is read from its central
 * directory, which alone holds the modes and tells symlinks from files,
 * so libarchive reads it by seeks and lib/feed.c's stream cannot carry
 * it.  Instead libarchive's whole zip reader (parsing, inflating, each
 * entry's CRC) runs in a thread of its own and copies every entry's header
 * and data into records, which it hands to the calling thread through a
 * ring of NSLOT slots.  The calling thread applies the entry policy and
 * writes, as for any other archive: the policy, the byte counts and the
 * tree in memory stay in one thread.  A third thread hashes the file with
 * pread(2) meanwhile, since the reader's seeks do not visit every byte
 * once and in order.  Memory stays bounded: the slots, the reader's and
 * the hash's buffers, whatever the artifact's size.  Either side waits on
 * one condition variable at most a tenth of a second at a time, so that a
 * signal (which only the calling thread receives) or the end of the other
 * side is seen at once.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "extract_int.h"
#include "feed.h"

#define NSLOT	8
#define SLOT	(64 * 1024)
#define MINDATA	4096		/* less room left: on to the next slot */
#define HBUF	(128 * 1024)

/* Record and payload lengths are kept multiples of 16. */
#define PAD(n)		(((n) + 15) & ~(size_t)15)
#define PAYLOAD(r)	((char *)(r) + PAD(sizeof(struct rec)))

/* An entry's header, a block of its data, its end; the archive's end. */
enum { R_HDR = 1, R_DATA, R_END, R_EOF, R_ERR };
/* Where the reader failed: opening the archive, at a header, in data. */
enum { W_OPEN = 1, W_HEAD, W_DATA };

/* One record in a slot; its payload follows it. */
struct rec {
	int	 kind;		/* R_* */
	uint32_t len;		/* bytes of payload */
	int64_t	 off;		/* R_DATA: where the block goes */
	struct ent e;		/* R_HDR, its strings in the payload */
	uint32_t namelen;	/* R_HDR: with the NUL; UINT32_MAX: none */
	uint32_t linklen;	/* R_HDR: with the NUL; UINT32_MAX: none */
	int	 where;		/* R_ERR: W_* */
	int	 eno;		/* R_ERR: the system error, or 0 */
	int	 nomsg;		/* R_ERR: libarchive had no message */
};

struct slot {
	char	*buf;
	size_t	 cap, len;
};

struct zq {
	pthread_mutex_t mu;
	pthread_cond_t cv;	/* a slot was handed over or freed, an end */
	struct slot s[NSLOT];
	size_t	 head, count;	/* the slots handed over, in order */
	int	 waiting;	/* the caller waits for a slot */
	int	 done;		/* the reader has finished */
	int	 lost;		/* ... and dropped a record: its errno */
	int	 quit;		/* the caller wants no more records */
	int	 hquit;		/* ... nor the digest */
	volatile sig_atomic_t *stop;
	int	 fd;
	pthread_t rth, hth;
	/* The reader's own. */
	int	 w;		/* the slot being filled, or -1 */
	int	 ineno;		/* why the last read or seek of fd failed */
	char	 in[128 * 1024];
	/* The hash's own, and the caller's after the join. */
	struct zdigest *sha;
	char	*hbuf;
	int	 heno;
	/* The caller's own. */
	int	 held;		/* s[head] is being read */
	size_t	 pos;		/* ... at this offset */
	int	 where, eno;	/* why the last record could not be had */
	int	 nomsg;
	char	 err[512];
	char	*name, *link;	/* the last header's, copied */
	size_t	 namecap, linkcap;
};

static int
stopped(const struct zq *q)
{
	return q->stop != NULL && *q->stop;
}

static la_ssize_t
fd_read(struct archive *a, void *arg, const void **buf)
{
	struct zq *q = arg;
	ssize_t n;

	do {
		if (stopped(q)) {
			q->ineno = EINTR;
			archive_set_error(a, EINTR, "interrupted");
			return -1;
		}
		n = read(q->fd, q->in, sizeof q->in);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		q->ineno = errno;
		archive_set_error(a, errno, "read error");
		return -1;
	}
	*buf = q->in;
	return n;
}

static la_int64_t
fd_seek(struct archive *a, void *arg, la_int64_t off, int whence)
{
	struct zq *q = arg;
	off_t o = lseek(q->fd, (off_t)off, whence);

	if (o == -1) {
		q->ineno = errno;
		archive_set_error(a, errno, "seek error");
		return ARCHIVE_FATAL;
	}
	return (la_int64_t)o;
}

/* Hand the slot being filled to the caller, if it holds anything. */
static void
ship_locked(struct zq *q)
{
	if (q->w == -1 || q->s[q->w].len == 0)
		return;
	q->count++;
	q->w = -1;
	pthread_cond_broadcast(&q->cv);
}

static void
ship(struct zq *q)
{
	pthread_mutex_lock(&q->mu);
	ship_locked(q);
	pthread_mutex_unlock(&q->mu);
}

/*
 * After a record: the caller that waits gets what there is at once, so
 * that it never idles while a slot fills.
 */
static void
nudge(struct zq *q)
{
	pthread_mutex_lock(&q->mu);
	if (q->waiting)
		ship_locked(q);
	pthread_mutex_unlock(&q->mu);
}

/* A free slot to fill: 0, or -1 when the caller quit or a signal came. */
static int
claim(struct zq *q)
{
	int rc = -1;

	pthread_mutex_lock(&q->mu);
	while (q->count == NSLOT && !q->quit && !stopped(q))
		zfeed_tick(&q->cv, &q->mu);
	if (!q->quit && !stopped(q)) {
		q->w = (int)((q->head + q->count) % NSLOT);
		q->s[q->w].len = 0;
		rc = 0;
	}
	pthread_mutex_unlock(&q->mu);
	return rc;
}

/*
 * Room for a record of kind with len bytes of payload: the record, or
 * NULL when the caller quit (or, q->lost set, memory ran out).  Only a
 * header can outgrow a slot (a name of up to 64 KiB, a symlink target of
 * up to 512 KiB), so a slot grows to at most that.
 */
static struct rec *
put(struct zq *q, int kind, size_t len)
{
	size_t need = PAD(sizeof(struct rec)) + PAD(len);
	struct slot *s;
	struct rec *r;
	char *p;

	if (q->w != -1 && q->s[q->w].len + need > q->s[q->w].cap)
		ship(q);
	if (q->w == -1 && claim(q) == -1)
		return NULL;
	s = &q->s[q->w];
	if (s->len + need > s->cap) {
		if ((p = realloc(s->buf, s->len + need)) == NULL) {
			q->lost = ENOMEM;
			return NULL;
		}
		s->buf = p;
		s->cap = s->len + need;
	}
	r = (struct rec *)(void *)(s->buf + s->len);
	memset(r, 0, sizeof *r);
	r->kind = kind;
	r->len = (uint32_t)len;
	s->len += need;
	return r;
}

static int
header(struct zq *q, struct archive_entry *ae)
{
	struct ent e;
	struct rec *r;
	size_t nl = 0, ll = 0;
	int named = zx_ent_of(ae, &e) == 0;

	if (named)
		nl = strlen(e.name) + 1;
	if (e.link != NULL)
		ll = strlen(e.link) + 1;
	if ((r = put(q, R_HDR, nl + ll)) == NULL)
		return -1;
	r->namelen = named ? (uint32_t)nl : UINT32_MAX;
	r->linklen = e.link != NULL ? (uint32_t)ll : UINT32_MAX;
	if (named)
		memcpy(PAYLOAD(r), e.name, nl);
	if (e.link != NULL)
		memcpy(PAYLOAD(r) + nl, e.link, ll);
	r->e = e;
	r->e.name = r->e.link = NULL;
	nudge(q);
	return 0;
}

/* A block of data, in pieces that fit what room the slots have. */
static int
data(struct zq *q, const char *p, size_t len, int64_t off)
{
	const size_t hd = PAD(sizeof(struct rec));
	struct rec *r;
	size_t room, k;

	while (len > 0) {
		room = q->w == -1 ? SLOT : q->s[q->w].cap - q->s[q->w].len;
		if (room < hd + MINDATA) {
			ship(q);
			room = SLOT;
		}
		k = room - hd < len ? room - hd : len;
		if ((r = put(q, R_DATA, k)) == NULL)
			return -1;
		r->off = off;
		memcpy(PAYLOAD(r), p, k);
		p += k;
		off += (int64_t)k;
		len -= k;
		nudge(q);
	}
	return 0;
}

static void
fail(struct zq *q, int where, struct archive *a)
{
	const char *s = archive_error_string(a);
	size_t n = s != NULL ? strlen(s) + 1 : 1;
	struct rec *r;

	if ((r = put(q, R_ERR, n)) == NULL)
		return;
	r->where = where;
	r->eno = q->ineno;
	r->nomsg = s == NULL;
	memcpy(PAYLOAD(r), s != NULL ? s : "", n);
}

/* The reader: libarchive's zip reader, from the central directory. */
static void *
parse(void *arg)
{
	struct zq *q = arg;
	struct archive *a;
	struct archive_entry *ae;
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	if ((a = archive_read_new()) == NULL) {
		q->lost = ENOMEM;
		goto out;
	}
	archive_read_support_format_zip_seekable(a);
	archive_read_set_callback_data(a, q);
	archive_read_set_read_callback(a, fd_read);
	archive_read_set_seek_callback(a, fd_seek);
	if (archive_read_open1(a) != ARCHIVE_OK) {
		fail(q, W_OPEN, a);
		goto out;
	}
	for (;;) {
		r = archive_read_next_header(a, &ae);
		if (r == ARCHIVE_EOF) {
			(void)put(q, R_EOF, 0);
			break;
		}
		if (q->ineno != 0 || (r != ARCHIVE_OK && r != ARCHIVE_WARN)) {
			fail(q, W_HEAD, a);
			break;
		}
		if (header(q, ae) == -1)
			break;
		while ((r = archive_read_data_block(a, &buf, &len, &off)) ==
		    ARCHIVE_OK)
			if (data(q, buf, len, off) == -1)
				goto out;
		if (r != ARCHIVE_EOF) {
			fail(q, W_DATA, a);
			break;
		}
		if (put(q, R_END, 0) == NULL)
			break;
		nudge(q);
	}
out:
	archive_read_free(a);
	pthread_mutex_lock(&q->mu);
	ship_locked(q);
	q->done = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* The digest of every byte of the file, from its first. */
static void *
hash(void *arg)
{
	struct zq *q = arg;
	off_t o = 0;
	ssize_t n;
	int e = 0;

	for (;;) {
		pthread_mutex_lock(&q->mu);
		if (stopped(q))
			e = EINTR;
		else if (q->hquit)
			e = ECANCELED;
		pthread_mutex_unlock(&q->mu);
		if (e != 0)
			break;
		if ((n = pread(q->fd, q->hbuf, HBUF, o)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0) {
			e = n == -1 ? errno : 0;
			break;
		}
		if (zdigest_update(q->sha, q->hbuf, (size_t)n) == -1) {
			e = errno;
			break;
		}
		o += n;
	}
	q->heno = e;
	return NULL;
}

/* The caller's next record, or NULL with q->eno (EINTR when stopped). */
static struct rec *
take(struct zq *q)
{
	struct rec *r = NULL;

	pthread_mutex_lock(&q->mu);
	if (q->held && q->pos >= q->s[q->head].len) {
		q->head = (q->head + 1) % NSLOT;
		q->count--;
		q->held = 0;
		pthread_cond_broadcast(&q->cv);
	}
	while (!q->held && q->count == 0 && !q->done && !stopped(q)) {
		q->waiting = 1;
		zfeed_tick(&q->cv, &q->mu);
	}
	q->waiting = 0;
	if (stopped(q))
		q->eno = EINTR;
	else if (!q->held && q->count == 0)
		q->eno = q->lost != 0 ? q->lost : EIO;
	else {
		if (!q->held) {
			q->held = 1;
			q->pos = 0;
		}
		r = (struct rec *)(void *)(q->s[q->head].buf + q->pos);
		q->pos += PAD(sizeof *r) + PAD(r->len);
	}
	pthread_mutex_unlock(&q->mu);
	if (r == NULL)
		q->where = W_DATA;
	return r;
}

/* The reader's failure, from its record, into q. */
static void
failed(struct zq *q, const struct rec *r)
{
	q->where = r->where;
	q->eno = r->eno;
	q->nomsg = r->nomsg;
	snprintf(q->err, sizeof q->err, "%s", PAYLOAD(r));
}

/* A string of a header, copied to last while the entry is made. */
static char *
keep(char **last, size_t *cap, const char *s, size_t len)
{
	char *p;

	if (len > *cap) {
		if ((p = realloc(*last, len)) == NULL)
			return NULL;
		*last = p;
		*cap = len;
	}
	memcpy(*last, s, len);
	return *last;
}

/* The next entry's header: 1, 0 at the archive's end, -1 (q says why). */
static int
next_entry(struct zq *q, struct ent *e)
{
	struct rec *r;

	for (;;) {
		if ((r = take(q)) == NULL)
			return -1;
		switch (r->kind) {
		case R_DATA:
		case R_END:
			continue;	/* what the last entry left unread */
		case R_EOF:
			return 0;
		case R_ERR:
			failed(q, r);
			return -1;
		}
		*e = r->e;
		if ((r->namelen != UINT32_MAX && (e->name = keep(&q->name,
		    &q->namecap, PAYLOAD(r), r->namelen)) == NULL) ||
		    (r->linklen != UINT32_MAX && (e->link = keep(&q->link,
		    &q->linkcap, PAYLOAD(r) + (r->namelen != UINT32_MAX ?
		    r->namelen : 0), r->linklen)) == NULL)) {
			q->eno = ENOMEM;
			return -1;
		}
		return 1;
	}
}

/* Why a system error stopped the reading, in z. */
static int
read_failed(struct zar *z, int eno)
{
	return zx_fail(z, eno, eno == EINTR ? "interrupted" :
	    eno == ENOMEM ? "out of memory" : "cannot read the artifact");
}

int
zx_zip_block(struct zar *z, struct zq *q, const void **buf, size_t *len,
    int64_t *off)
{
	struct rec *r;

	if ((r = take(q)) == NULL)
		return read_failed(z, q->eno);
	switch (r->kind) {
	case R_DATA:
		*buf = PAYLOAD(r);
		*len = r->len;
		*off = r->off;
		return 1;
	case R_END:
		return 0;
	case R_ERR:
		if (r->eno != 0)
			return read_failed(z, r->eno);
		return zx_fail(z, 0, "corrupt or truncated archive in entry "
		    "'%s': %s", z->last, r->nomsg ? "unreadable" : PAYLOAD(r));
	}
	/* No header or end comes before this entry's end. */
	return zx_fail(z, EIO, "cannot read the artifact");
}

static void
zq_free(struct zq *q)
{
	int i;

	for (i = 0; i < NSLOT; i++)
		free(q->s[i].buf);
	free(q->hbuf);
	free(q->name);
	free(q->link);
	free(q);
}

/*
 * End both threads: the digest, which ok lets finish, and the reader.
 * Returns the digest's system error, or 0.  Frees q.
 */
static int
zq_end(struct zq *q, int ok)
{
	int e;

	pthread_mutex_lock(&q->mu);
	q->quit = 1;
	q->hquit = !ok;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->rth, NULL);
	pthread_join(q->hth, NULL);
	e = q->heno;
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	zq_free(q);
	return e;
}

static struct zq *
zq_start(int fd, struct zdigest *sha, volatile sig_atomic_t *stop)
{
	struct zq *q = calloc(1, sizeof *q);
	sigset_t all, old;
	int i, e;

	if (q == NULL)
		return NULL;
	q->fd = fd;
	q->sha = sha;
	q->stop = stop;
	q->w = -1;
	for (i = 0; i < NSLOT; i++) {
		if ((q->s[i].buf = malloc(SLOT)) == NULL)
			goto fail;
		q->s[i].cap = SLOT;
	}
	if ((q->hbuf = malloc(HBUF)) == NULL)
		goto fail;
	if (lseek(fd, 0, SEEK_SET) == -1)
		goto fail;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	/* Signals go to the calling thread alone, which reacts to them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if ((e = pthread_create(&q->rth, NULL, parse, q)) == 0 &&
	    (e = pthread_create(&q->hth, NULL, hash, q)) != 0) {
		pthread_mutex_lock(&q->mu);
		q->quit = 1;
		pthread_mutex_unlock(&q->mu);
		pthread_join(q->rth, NULL);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e == 0)
		return q;
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	errno = e;
fail:
	e = errno;
	zq_free(q);
	errno = e;
	return NULL;
}

/* Why next_entry() failed, in z. */
static int
entry_failed(struct zar *z, struct zq *q)
{
	const char *why = q->nomsg ? NULL : q->err;

	if (q->eno != 0)
		return read_failed(z, q->eno);
	if (q->where == W_OPEN)
		return zx_open_failed(z, why, 0, ARCHIVE_FILTER_NONE);
	return zx_bad_header(z, why);
}

int
zx_read_zip(struct zar *z, int fd, struct zdigest *sha)
{
	struct source src = { NULL, -1, NULL, 0, 0, NULL, NULL };
	struct ent e;
	struct zq *q;
	int rc, eno;

	if ((q = zq_start(fd, sha, z->o.stop)) == NULL)
		return zx_fail(z, errno, "cannot start reading the artifact");
	src.q = q;
	for (;;) {
		if ((rc = next_entry(q, &e)) == -1) {
			rc = entry_failed(z, q);
			break;
		}
		if (rc == 0)
			break;
		if (e.name == NULL) {
			rc = zx_no_name(z);
			break;
		}
		if ((rc = zx_entry(z, &e, &src)) == -1)
			break;
	}
	if ((eno = zq_end(q, rc == 0)) != 0 && rc == 0)
		rc = read_failed(z, eno);
	return rc;
}
