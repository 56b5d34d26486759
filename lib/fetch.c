/*
 * Spooling stdin and URLs.  A spool is an O_TMPFILE file: it has no name,
 * so no crash, signal or kill -9 can leave it behind, and no other process
 * can open it by a path and change it between the check and the unpack.
 * A fetch starts the spool afresh on every attempt: a retried transfer
 * never appends to the bytes of a failed one.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "fetch.h"
#include "fsatom.h"
#include "http.h"

#define REDIRECTS	5
#define TIMEOUT		30.0

/* Where a transfer's bytes go, and what the transfer has seen. */
struct dest {
	const struct zfetch_opts *o;
	int	 fd;		/* the spool; -1: kept in memory by lib/http */
	uint64_t off;
	int	 big;		/* passed o->max */
	int	 ioerr;		/* errno of a failed write */
	double	 shown_at;	/* when the progress line was last drawn */
	curl_off_t shown_now;	/* and the bytes it showed */
	int	 drawn;		/* a progress line is on the terminal */
};

int
zspool_open(int dirfd)
{
	char name[64];
	int fd, i;

	fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd != -1 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd;
	/* A file system without O_TMPFILE: a name, unlinked at once. */
	for (i = 0; i < 100; i++) {
		if (ztmpname(name, sizeof name, "spool") == -1)
			return -1;
		fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd != -1) {
			unlinkat(dirfd, name, 0);
			return fd;
		}
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

/* Start the spool afresh. */
static int
dest_reset(struct dest *d)
{
	d->off = 0;
	d->big = 0;
	d->ioerr = 0;
	if (d->fd != -1 && (ftruncate(d->fd, 0) == -1 ||
	    lseek(d->fd, 0, SEEK_SET) == -1))
		return -1;
	return 0;
}

/* Append n bytes to the spool; 0, or -1 with d->big or d->ioerr set. */
static int
dest_write(struct dest *d, const char *data, size_t n)
{
	ssize_t w;

	if (d->o->max != 0 && n > d->o->max - d->off) {
		d->big = 1;
		return -1;
	}
	while (n > 0) {
		w = pwrite(d->fd, data, n, (off_t)d->off);
		if (w == -1 && errno == EINTR && !*d->o->stop)
			continue;
		if (w == -1) {
			d->ioerr = errno;
			return -1;
		}
		data += w;
		n -= (size_t)w;
		d->off += (uint64_t)w;
	}
	return 0;
}

int
zspool_copy(int in, int out, const struct zfetch_opts *o)
{
	struct dest d = { .o = o, .fd = out };
	char buf[1 << 16];
	ssize_t n;

	if (dest_reset(&d) == -1)
		return -1;
	for (;;) {
		if (*o->stop) {
			errno = EINTR;
			return -1;
		}
		n = read(in, buf, sizeof buf);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		if (dest_write(&d, buf, (size_t)n) == -1) {
			errno = d.big ? EFBIG : d.ioerr;
			return -1;
		}
	}
	return lseek(out, 0, SEEK_SET) == -1 ? -1 : 0;
}

static size_t
on_data(const char *data, size_t n, void *arg)
{
	return dest_write(arg, data, n) == 0 ? n : 0;
}

static void
mib(char *buf, size_t size, double bytes)
{
	if (bytes < 1024 * 1024)
		snprintf(buf, size, "%.0f KiB", bytes / 1024);
	else
		snprintf(buf, size, "%.1f MiB", bytes / (1024 * 1024));
}

/* A progress line, at most ten times a second; and the signal check. */
static int
on_progress(void *arg, curl_off_t total, curl_off_t now, curl_off_t ut,
    curl_off_t un)
{
	struct dest *d = arg;
	char a[32], b[32];
	double t;

	(void)ut;
	(void)un;
	if (*d->o->stop)
		return 1;
	if (!d->o->progress || now == d->shown_now ||
	    (t = znow()) - d->shown_at < 0.1)
		return 0;
	d->shown_at = t;
	d->shown_now = now;
	mib(a, sizeof a, (double)now);
	mib(b, sizeof b, (double)total);
	fprintf(stderr, "\r\033[K%s: fetching %s: %s%s%s", zprogname,
	    d->o->shown ? d->o->shown : "", a, total > 0 ? " of " : "",
	    total > 0 ? b : "");
	d->drawn = 1;
	return 0;
}

/* Exponential backoff, half of each step random so hosts spread out. */
static double
backoff(unsigned n)
{
	double step = 0.5 * (double)(1u << (n < 6 ? n : 6));

	return step / 2 + step / 2 * ((double)random() / RAND_MAX);
}

/* The options of one attempt beyond lib/http's house rules. */
static int
tune(struct zhttp *r, const char *url, struct dest *d)
{
	double t = d->o->timeout > 0 ? d->o->timeout : TIMEOUT;
	int bad = 0;

	/* No whole-transfer bound: a large artifact takes what it takes,
	 * but a connection that stalls for t seconds is given up. */
	bad |= curl_easy_setopt(r->h, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)ceil(t * 1000));
	bad |= curl_easy_setopt(r->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	bad |= curl_easy_setopt(r->h, CURLOPT_LOW_SPEED_TIME,
	    (long)ceil(t));
	if (d->o->max != 0)
		bad |= curl_easy_setopt(r->h, CURLOPT_MAXFILESIZE_LARGE,
		    (curl_off_t)d->o->max);
	/* A redirect may not take an https fetch down to plain http. */
	if (strncasecmp(url, "https:", 6) == 0)
		bad |= curl_easy_setopt(r->h, CURLOPT_REDIR_PROTOCOLS_STR,
		    "https");
	bad |= curl_easy_setopt(r->h, CURLOPT_XFERINFOFUNCTION, on_progress);
	bad |= curl_easy_setopt(r->h, CURLOPT_XFERINFODATA, d);
	bad |= curl_easy_setopt(r->h, CURLOPT_NOPROGRESS, 0L);
	return bad ? -1 : 0;
}

/*
 * What one finished attempt means: 0 done, 1 worth retrying after *wait
 * seconds, -1 final (errno set); why says what happened.
 */
static int
judge(struct zhttp *r, CURLcode rc, struct dest *d, double *wait,
    char *why, size_t size)
{
	char within[64];

	*wait = -1;
	if (*d->o->stop) {
		snprintf(why, size, "interrupted");
		errno = EINTR;
		return -1;
	}
	if (d->big || r->overflow || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(why, size, "larger than %llu bytes",
		    (unsigned long long)d->o->max);
		errno = EFBIG;
		return -1;
	}
	if (d->ioerr) {
		snprintf(why, size, "cannot write the spool: %s",
		    strerror(d->ioerr));
		errno = d->ioerr;
		return -1;
	}
	if (rc != CURLE_OK) {
		snprintf(within, sizeof within, "within %g s",
		    d->o->timeout > 0 ? d->o->timeout : TIMEOUT);
		zhttp_error(r, rc, within, why, size);
		if (rc == CURLE_UNSUPPORTED_PROTOCOL &&
		    strncasecmp(r->url, "https:", 6) == 0)
			snprintf(why, size, "a redirect away from https "
			    "refused");
		errno = EHOSTUNREACH;
		switch (rc) {
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_CONNECT:
		case CURLE_OPERATION_TIMEDOUT:
		case CURLE_GOT_NOTHING:
		case CURLE_RECV_ERROR:
		case CURLE_SEND_ERROR:
		case CURLE_PARTIAL_FILE:
			return 1;
		default:
			return -1;
		}
	}
	if (r->status >= 200 && r->status <= 299)
		return 0;
	if (r->status == 429 || r->status >= 500) {
		snprintf(why, size, "the server answered %ld", r->status);
		*wait = r->retry_after;
		errno = EHOSTUNREACH;
		return 1;
	}
	snprintf(why, size, r->status == 404 || r->status == 410 ?
	    "not found (%ld)" : r->status >= 300 && r->status <= 399 ?
	    "a redirect not followed (%ld)" : "refused (%ld)", r->status);
	errno = r->status == 404 || r->status == 410 ? ENOENT :
	    r->status == 401 || r->status == 403 ? EACCES : EPROTO;
	return -1;
}

/* The attempts at url, into d; r holds the last answer. */
static int
fetch(struct zhttp *r, const char *url, const struct zhttp_opts *ho,
    struct dest *d, char *why, size_t size)
{
	const struct zfetch_opts *o = d->o;
	unsigned attempt;
	double wait;
	CURLcode rc;
	int v, e;

	if (zhttp_global() == -1) {
		snprintf(why, size, "cannot start libcurl");
		errno = ENOMEM;
		return -1;
	}
	for (attempt = 1;; attempt++) {
		if (dest_reset(d) == -1 || zhttp_setup(r, url, ho) == -1 ||
		    tune(r, url, d) == -1) {
			snprintf(why, size, "%s", strerror(errno));
			return -1;
		}
		rc = zhttp_perform(r);
		if (d->drawn)
			fprintf(stderr, "\r\033[K");
		d->drawn = 0;
		if ((v = judge(r, rc, d, &wait, why, size)) <= 0)
			return v;
		if (attempt > o->retries) {
			e = errno;
			if (o->retries > 0)
				snprintf(why + strlen(why), size - strlen(why),
				    ", given up after %u attempts", attempt);
			errno = e;
			return -1;
		}
		if (wait < 0)
			wait = backoff(attempt);
		if (wait > 60) {
			snprintf(why + strlen(why), size - strlen(why),
			    ", and asked for a retry in %.0f s", wait);
			errno = EHOSTUNREACH;
			return -1;
		}
		zinfo("%s: %s, retrying in %.1f s", o->shown ? o->shown : "",
		    why, wait);
		zsleep(wait);
	}
}

int
zfetch_url(const char *url, int out, const struct zfetch_opts *o,
    char *why, size_t size)
{
	struct zhttp_opts ho = { .agent = o->agent, .cacert = o->cacert,
	    .insecure = o->insecure,
	    .redirects = REDIRECTS, .bodymode = ZHTTP_SINK, .sink = on_data };
	struct zhttp r;
	struct dest d = { .o = o, .fd = out };
	int rc, e;

	ho.sinkarg = &d;
	memset(&r, 0, sizeof r);
	rc = fetch(&r, url, &ho, &d, why, size);
	e = errno;
	zhttp_free(&r);
	if (rc == 0 && lseek(out, 0, SEEK_SET) == -1) {
		snprintf(why, size, "%s", strerror(errno));
		return -1;
	}
	errno = e;
	return rc;
}

char *
zfetch_small(const char *url, size_t max, const struct zfetch_opts *o,
    size_t *len, char *why, size_t size)
{
	struct zhttp_opts ho = { .agent = o->agent, .cacert = o->cacert,
	    .insecure = o->insecure,
	    .redirects = REDIRECTS, .bodymode = ZHTTP_KEEP, .max = max };
	struct zfetch_opts so = *o;
	struct zhttp r;
	struct dest d = { .o = &so, .fd = -1 };
	char *s = NULL;
	int e;

	so.max = max;
	so.progress = 0;
	memset(&r, 0, sizeof r);
	if (fetch(&r, url, &ho, &d, why, size) == 0) {
		if (r.body != NULL) {
			s = r.body;
			*len = r.len;
			r.body = NULL;
		} else if ((s = strdup("")) != NULL)
			*len = 0;
		else
			snprintf(why, size, "out of memory");
	}
	e = errno;
	zhttp_free(&r);
	errno = e;
	return s;
}

int
zfetch_is_url(const char *arg)
{
	return strncasecmp(arg, "http://", 7) == 0 ||
	    strncasecmp(arg, "https://", 8) == 0;
}
