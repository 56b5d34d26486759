/*
 * Getting an artifact that is not a file on disk into one, so that it can
 * be verified before anything reads it as an archive: stdin and http(s)
 * URLs are spooled into an unnamed file (O_TMPFILE) in a directory of the
 * caller's, ROOT/.zdd/tmp, which vanishes with the process however it
 * ends.  URLs are fetched through lib/http.h, retried with backoff; what
 * goes wrong is said without any part of the URL but its host.
 */
#ifndef ZDD_FETCH_H
#define ZDD_FETCH_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct zfetch_opts {
	const char *agent;	/* the tool's name, for User-Agent */
	uint64_t max;		/* bytes; more is refused with EFBIG */
	double	 timeout;	/* to connect, and with no byte coming; 0: 30 */
	unsigned retries;	/* attempts after the first */
	const char *cacert;	/* CA bundle; NULL: the system's */
	int	 insecure;	/* no TLS verification */
	const char *shown;	/* the URL as it may be printed, for progress */
	int	 progress;	/* a progress line on stderr (a terminal's) */
	volatile sig_atomic_t *stop;	/* set by a signal: give up, EINTR */
};

/* An unnamed file for reading and writing in the directory dirfd. */
int	zspool_open(int dirfd);

/*
 * Copy in to its end into out, from out's start, and rewind out.  -1 with
 * errno: EFBIG past o->max, EINTR when *o->stop was set, or the system's.
 */
int	zspool_copy(int in, int out, const struct zfetch_opts *o);

/*
 * Fetch url into out, as zspool_copy() does, following up to 5 redirects
 * (https never down to http).  Connection failures, timeouts, 429 and 5xx
 * answers are retried o->retries times with exponential backoff.  -1 with
 * why set (size bytes) and errno: ENOENT for 404 and 410, EACCES for 401
 * and 403, EPROTO for any other refusal, EHOSTUNREACH when the server
 * could not be reached or kept failing, EFBIG, EINTR, ENOMEM.
 */
int	zfetch_url(const char *url, int out, const struct zfetch_opts *o,
	    char *why, size_t size);

/*
 * A small document (a signature) at url, up to max bytes, into a malloc'd
 * buffer, NUL-terminated, its length in *len; as zfetch_url() otherwise.
 */
char	*zfetch_small(const char *url, size_t max,
	    const struct zfetch_opts *o, size_t *len, char *why, size_t size);

/* Whether arg names a URL (http:// or https://, any case). */
int	zfetch_is_url(const char *arg);

#endif
