/*
 * The artifact's bytes on a second core.  A producer thread reads the
 * file descriptor, hashes every byte and, for a compressed artifact,
 * decompresses through a libarchive reader that has one filter and the
 * `raw' format; it copies the output into a ring of NCHUNK chunks.  The
 * archive reader in the calling thread takes chunks from the ring through
 * zfeed_read().  Either side waits for the other on one condition
 * variable, never longer than a tenth of a second at a time, so that a
 * signal (which only the calling thread receives) or the end of the
 * other side is seen at once.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "feed.h"

#define NCHUNK	4
#define CHUNK	(256 * 1024)
#define TICK_MS	100

struct zfeed {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;	/* a chunk came, room was made, or an end */
	char	*chunk[NCHUNK];
	size_t	 len[NCHUNK];
	size_t	 head, count;	/* the chunks in the ring */
	int	 held;		/* the reader still uses chunk[head] */
	int	 eof;		/* the producer has finished */
	int	 quit;		/* the reader wants no more data */
	int	 drain;		/* ... but the rest of fd is to be hashed */
	int	 eno;		/* the producer's system error */
	int	 reno;		/* the reader's (EINTR when stopped) */
	char	 err[256];	/* what was wrong with the data */
	/* The producer's own. */
	int	 fd;
	int	 ineno;		/* why the last read of fd failed */
	struct zdigest *sha;
	int	 filter;
	char	*pre;		/* read ahead by the caller, already hashed */
	size_t	 npre;
	uint64_t nin, nout;	/* compressed bytes read, and what they gave */
	char	 in[128 * 1024];
	volatile sig_atomic_t *stop;
};

static int
stopped(const struct zfeed *f)
{
	return f->stop != NULL && *f->stop;
}

void
zfeed_tick(pthread_cond_t *cv, pthread_mutex_t *mu)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += TICK_MS * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(cv, mu, &ts);
}

/* Whether the reader quit, and whether it wants the rest hashed. */
static int
quitting(struct zfeed *f, int *drain)
{
	int q;

	pthread_mutex_lock(&f->mu);
	q = f->quit;
	if (drain != NULL)
		*drain = f->drain;
	pthread_mutex_unlock(&f->mu);
	return q;
}

/*
 * One read of fd into buf, hashed; 0 at its end, -1 with errno (EINTR
 * when stopped, ECANCELED when the reader quit without wanting the rest).
 * poll(2) bounds each wait, so that an idle pipe cannot hold the thread.
 */
static ssize_t
get(struct zfeed *f, void *buf, size_t size)
{
	struct pollfd pfd = { f->fd, POLLIN, 0 };
	ssize_t n;
	int drain, r;

	if (f->npre > 0) {
		n = (ssize_t)(f->npre < size ? f->npre : size);
		memcpy(buf, f->pre, (size_t)n);
		memmove(f->pre, f->pre + n, f->npre - (size_t)n);
		f->npre -= (size_t)n;
		return n;
	}
	for (;;) {
		if (stopped(f)) {
			errno = EINTR;
			return -1;
		}
		if (quitting(f, &drain) && !drain) {
			errno = ECANCELED;
			return -1;
		}
		if ((r = poll(&pfd, 1, TICK_MS)) == -1 && errno != EINTR)
			return -1;
		if (r <= 0)
			continue;
		n = read(f->fd, buf, size);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n > 0 && zdigest_update(f->sha, buf, (size_t)n) == -1)
			return -1;
		return n;
	}
}

/* Room for one more chunk: its slot, or -1 when the reader quit. */
static int
room(struct zfeed *f)
{
	int slot = -1;

	pthread_mutex_lock(&f->mu);
	while (f->count == NCHUNK && !f->quit && !stopped(f))
		zfeed_tick(&f->cv, &f->mu);
	if (!f->quit && !stopped(f))
		slot = (int)((f->head + f->count) % NCHUNK);
	pthread_mutex_unlock(&f->mu);
	return slot;
}

static void
publish(struct zfeed *f, int slot, size_t len)
{
	pthread_mutex_lock(&f->mu);
	f->len[slot] = len;
	f->count++;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

/* Uncompressed: read straight into the ring. */
static int
plain(struct zfeed *f)
{
	ssize_t n;
	int slot;

	for (;;) {
		if ((slot = room(f)) == -1)
			return 0;
		if ((n = get(f, f->chunk[slot], CHUNK)) <= 0)
			return (int)n;
		publish(f, slot, (size_t)n);
	}
}

static la_ssize_t
feed_in(struct archive *a, void *arg, const void **buf)
{
	struct zfeed *f = arg;
	ssize_t n = get(f, f->in, sizeof f->in);

	if (n == -1) {
		f->ineno = errno;
		archive_set_error(a, errno, "cannot read the artifact");
		return -1;
	}
	f->nin += (uint64_t)n;
	*buf = f->in;
	return n;
}

int
zfeed_filter(const void *buf, size_t n)
{
	const unsigned char *p = buf;

	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return ARCHIVE_FILTER_GZIP;
	if (n >= 3 && memcmp(p, "BZh", 3) == 0)
		return ARCHIVE_FILTER_BZIP2;
	if (n >= 6 && memcmp(p, "\xfd" "7zXZ\0", 6) == 0)
		return ARCHIVE_FILTER_XZ;
	if (n >= 4 && memcmp(p, "\x28\xb5\x2f\xfd", 4) == 0)
		return ARCHIVE_FILTER_ZSTD;
	return ARCHIVE_FILTER_NONE;
}

void
zfeed_support_filter(struct archive *a, int filter)
{
	switch (filter) {
	case ARCHIVE_FILTER_GZIP:
		archive_read_support_filter_gzip(a);
		break;
	case ARCHIVE_FILTER_BZIP2:
		archive_read_support_filter_bzip2(a);
		break;
	case ARCHIVE_FILTER_XZ:
		archive_read_support_filter_xz(a);
		break;
	case ARCHIVE_FILTER_ZSTD:
		archive_read_support_filter_zstd(a);
		break;
	}
}

/* Compressed: one filter, the raw format, its output into the ring. */
static int
inflate(struct zfeed *f)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	const void *buf;
	const char *p;
	size_t len, k;
	la_int64_t off;
	int rc = -1, r, slot;

	if (a == NULL) {
		errno = ENOMEM;
		return -1;
	}
	archive_read_support_format_raw(a);
	zfeed_support_filter(a, f->filter);
	/* Appending the filter turns libarchive's bidding off: one layer. */
	if (archive_read_append_filter(a, f->filter) != ARCHIVE_OK ||
	    archive_read_open(a, f, NULL, feed_in, NULL) != ARCHIVE_OK)
		goto out;
	if ((r = archive_read_next_header(a, &ae)) != ARCHIVE_OK) {
		rc = r == ARCHIVE_EOF ? 0 : -1;
		goto out;
	}
	while ((r = archive_read_data_block(a, &buf, &len, &off)) ==
	    ARCHIVE_OK) {
		f->nout += len;
		if (f->nout > ZFEED_SLACK && f->nout / ZFEED_RATIO > f->nin) {
			archive_set_error(a, -1, "expands past %d times its "
			    "compressed size: a compression bomb", ZFEED_RATIO);
			goto out;
		}
		for (p = buf; len > 0; p += k, len -= k) {
			if ((slot = room(f)) == -1) {
				rc = 0;
				goto out;
			}
			k = len < CHUNK ? len : CHUNK;
			memcpy(f->chunk[slot], p, k);
			publish(f, slot, k);
		}
	}
	if (r == ARCHIVE_EOF)
		rc = 0;
out:
	if (rc == -1) {
		/* A read's system error, or the data's fault: EINVAL. */
		errno = f->ineno != 0 ? f->ineno : EINVAL;
		snprintf(f->err, sizeof f->err, "%s", archive_error_string(a) ?
		    archive_error_string(a) : "corrupt compressed data");
	}
	archive_read_free(a);
	return rc;
}

static void *
produce(void *arg)
{
	struct zfeed *f = arg;
	int rc, e = 0, drain;
	ssize_t n = 0;

	rc = f->filter == ARCHIVE_FILTER_NONE ? plain(f) : inflate(f);
	if (rc == -1)
		e = errno;
	/* What follows the data (padding, trailing bytes) is hashed too. */
	if (rc == 0 || (e == ECANCELED || e == EINVAL)) {
		while ((quitting(f, &drain) == 0 || drain) &&
		    (n = get(f, f->in, sizeof f->in)) > 0)
			;
		if (n == -1 && errno != ECANCELED)
			e = errno;
	}
	pthread_mutex_lock(&f->mu);
	f->eno = e == EINVAL || e == ECANCELED ? 0 : e;
	if (e != EINVAL)
		f->err[0] = '\0';
	f->eof = 1;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

struct zfeed *
zfeed_start(int fd, struct zdigest *sha, int filter, const void *pre,
    size_t npre, volatile sig_atomic_t *stop)
{
	struct zfeed *f = calloc(1, sizeof *f);
	sigset_t all, old;
	int i, e;

	if (f == NULL)
		return NULL;
	f->fd = fd;
	f->sha = sha;
	f->filter = filter;
	f->stop = stop;
	for (i = 0; i < NCHUNK; i++)
		if ((f->chunk[i] = malloc(CHUNK)) == NULL)
			goto fail;
	if (npre > 0) {
		if ((f->pre = malloc(npre)) == NULL)
			goto fail;
		memcpy(f->pre, pre, npre);
		f->npre = npre;
	}
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	/* Signals go to the calling thread alone, which reacts to them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&f->th, NULL, produce, f);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e == 0)
		return f;
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	errno = e;
fail:
	e = errno;
	for (i = 0; i < NCHUNK; i++)
		free(f->chunk[i]);
	free(f->pre);
	free(f);
	errno = e;
	return NULL;
}

la_ssize_t
zfeed_read(struct archive *a, void *arg, const void **buf)
{
	struct zfeed *f = arg;
	la_ssize_t n;

	pthread_mutex_lock(&f->mu);
	/* libarchive is done with the chunk it had: make room. */
	if (f->held) {
		f->head = (f->head + 1) % NCHUNK;
		f->count--;
		f->held = 0;
		pthread_cond_broadcast(&f->cv);
	}
	while (f->count == 0 && !f->eof && !stopped(f))
		zfeed_tick(&f->cv, &f->mu);
	if (f->count > 0) {
		*buf = f->chunk[f->head];
		n = (la_ssize_t)f->len[f->head];
		f->held = 1;
	} else if (stopped(f) || f->eno != 0 || f->err[0] != '\0') {
		f->reno = stopped(f) ? EINTR : f->eno;
		/* -1 is libarchive's "miscellaneous": the data's fault. */
		archive_set_error(a, f->reno ? f->reno : -1, "%s",
		    f->reno ? strerror(f->reno) : f->err);
		n = -1;
	} else
		n = 0;
	pthread_mutex_unlock(&f->mu);
	return n;
}

int
zfeed_errno(struct zfeed *f)
{
	int e;

	pthread_mutex_lock(&f->mu);
	e = f->reno;
	pthread_mutex_unlock(&f->mu);
	return e;
}

const char *
zfeed_error(struct zfeed *f)
{
	return f->err;
}

int
zfeed_end(struct zfeed *f, int drain, int *eno, char *why, size_t whysize)
{
	int i, rc = 0;

	pthread_mutex_lock(&f->mu);
	f->quit = 1;
	f->drain = drain;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->th, NULL);
	*eno = stopped(f) ? EINTR : f->eno;
	why[0] = '\0';
	/* Data past what the reader needed cannot fail it; read errors can. */
	if (*eno != 0)
		rc = -1;
	else if (!drain && f->err[0] != '\0') {
		snprintf(why, whysize, "%s", f->err);
		rc = -1;
	}
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	for (i = 0; i < NCHUNK; i++)
		free(f->chunk[i]);
	free(f->pre);
	free(f);
	return rc;
}
