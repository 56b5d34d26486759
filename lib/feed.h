/*
 * The bytes of an artifact, read, hashed and decompressed in a thread of
 * their own and handed to the archive reader through a bounded queue, so
 * that decompression on one core overlaps parsing and writing on the
 * other, as `tar -xz' overlaps gzip and tar.  Memory stays bounded: the
 * queue holds a few chunks whatever the artifact's size.
 */
#ifndef ZDD_FEED_H
#define ZDD_FEED_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>

#include <archive.h>

#include "digest.h"

struct zfeed;

/*
 * A compression bomb: decompressed data past ZFEED_RATIO times the
 * compressed bytes read, once past the first ZFEED_SLACK bytes, is
 * refused.  Deflate cannot pass 1,032 to 1, so no gzip stream is ever
 * refused; on zeros xz reaches about 7,000 to 1, zstd 33,000 and bzip2
 * a million, and real artifacts (text, code, images) stay under 20.
 */
#define ZFEED_RATIO	2000
#define ZFEED_SLACK	(1 << 20)

/*
 * Start reading fd to its end in a new thread, after the npre bytes of
 * pre that the caller read (and hashed) already: every byte read goes
 * into sha, and the data is decompressed with one filter
 * (ARCHIVE_FILTER_GZIP ... or ARCHIVE_FILTER_NONE), within ZFEED_RATIO.
 * A signal that sets *stop ends it within a tenth of a second.  NULL
 * (errno set) on failure.
 */
struct zfeed *zfeed_start(int fd, struct zdigest *sha, int filter,
	    const void *pre, size_t npre, volatile sig_atomic_t *stop);

/*
 * The one compression filter the n bytes at p start with, by its magic
 * number, or ARCHIVE_FILTER_NONE.  zdd names the filter itself rather
 * than let libarchive bid, because libarchive's bidding goes on into the
 * output, up to 25 filters deep: a few hundred bytes of gzip in gzip in
 * gzip, corrupt, kept it busy for minutes.  One layer is read, no more.
 */
int	zfeed_filter(const void *p, size_t n);

/* Let libarchive read the one filter (ARCHIVE_FILTER_GZIP ...) named. */
void	zfeed_support_filter(struct archive *a, int filter);

/* libarchive's read callback, with the feed as its client data. */
la_ssize_t zfeed_read(struct archive *a, void *feed, const void **buf);

/*
 * End the feed: the reader is done with it.  With drain set, what is left
 * of fd is still read and hashed (the digest covers every byte of the
 * artifact), not decompressed.  Returns 0, or -1 with *eno the system
 * error (EINTR when stopped) or, *eno 0, *why saying what was wrong with
 * the data.  Frees the feed.
 */
int	zfeed_end(struct zfeed *f, int drain, int *eno, char *why,
	    size_t whysize);

/*
 * After zfeed_read() failed: the feed's system error (0 when the data was
 * at fault), and its message.
 */
/* Waits on cv for at most a tenth of a second; mu is held. */
void	zfeed_tick(pthread_cond_t *cv, pthread_mutex_t *mu);
int	zfeed_errno(struct zfeed *f);
const char *zfeed_error(struct zfeed *f);

#endif
