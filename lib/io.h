/*
 * Reading a whole stream whose size the other end decides: a file, a
 * pipe from a child, a socket.  One bounded loop for all of them, so that
 * no caller forgets EINTR, a read error taken for the end, or a writer
 * that sends more than the caller can hold.
 */
#ifndef ZDD_IO_H
#define ZDD_IO_H

#include <stddef.h>

/* Flags of zread_all(). */
#define ZREAD_TRUNCATE	1	/* keep the first max bytes, drain the rest */

/*
 * Read fd to its end into a malloc'd buffer, NUL-terminated, its length
 * in *len (NULL allowed).  More than max bytes gives NULL with EFBIG,
 * unless ZREAD_TRUNCATE: then the first max bytes are kept and the rest is
 * read and dropped, so that a child writing to a pipe never blocks on it.
 * deadline is a znow() time after which the read gives up with ETIMEDOUT
 * (0: none); it polls fd, which must then not be a regular file.  On
 * failure NULL with errno set; fd is never closed here.
 */
char	*zread_all(int fd, size_t max, double deadline, int flags,
	    size_t *len);

#endif
