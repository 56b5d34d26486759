/*
 * The one bounded read loop.  The buffer grows by doubling up to max, so
 * a small answer costs a small buffer and a large one is refused (or cut)
 * before it can take the machine's memory.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "clock.h"
#include "io.h"

/* Wait until fd is readable or the deadline passes. */
static int
wait_readable(int fd, double deadline)
{
	struct pollfd pfd;
	int ms;

	for (;;) {
		ms = (int)((deadline - znow()) * 1000);
		if (ms <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, ms) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (pfd.revents != 0)
			return 0;
	}
}

char *
zread_all(int fd, size_t max, double deadline, int flags, size_t *lenp)
{
	char scratch[4096], *buf, *nbuf;
	size_t len = 0, cap = max < 4096 ? max : 4096;
	ssize_t n;
	int e;

	if ((buf = malloc(cap + 1)) == NULL)
		return NULL;
	for (;;) {
		if (len == cap && cap < max) {
			cap = cap > max / 2 ? max : cap * 2;
			if ((nbuf = realloc(buf, cap + 1)) == NULL)
				goto fail;
			buf = nbuf;
		}
		if (deadline > 0 && wait_readable(fd, deadline) == -1)
			goto fail;
		/* Once full, read on into scratch to see the end (or more). */
		if (len < cap)
			n = read(fd, buf + len, cap - len);
		else
			n = read(fd, scratch, sizeof scratch);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		if (len < cap)
			len += (size_t)n;
		else if (!(flags & ZREAD_TRUNCATE)) {
			errno = EFBIG;
			goto fail;
		}
	}
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
fail:
	e = errno;
	free(buf);
	errno = e;
	return NULL;
}
