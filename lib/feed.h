/*
 * The bytes of an artifact, read, hashed and decompressed in a thread of
 * their own and handed to the archive reader through a bounded queue, so
 * that decompression on one core overlaps parsing and writing on the
 * other, as `tar -xz' overlaps gzip and tar.  Memory stays bounded: the
 * queue holds a few chunks whatever the artifact's size.
 */
#ifndef ZDD_FEED_H
#define ZDD_FEED_H

#include <signal.h>
#include <stddef.h>

#include <archive.h>

#include "digest.h"

struct zfeed;

/*
 * Start reading fd to its end in a new thread, after the npre bytes of
 * pre that the caller read (and hashed) already: every byte read goes
 * into sha, and the data is decompressed with one filter
 * (ARCHIVE_FILTER_GZIP ... or ARCHIVE_FILTER_NONE).  A signal that sets
 * *stop ends it within a tenth of a second.  NULL (errno set) on failure.
 */
struct zfeed *zfeed_start(int fd, struct zdigest *sha, int filter,
	    const void *pre, size_t npre, volatile sig_atomic_t *stop);

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
int	zfeed_errno(struct zfeed *f);
const char *zfeed_error(struct zfeed *f);

#endif
