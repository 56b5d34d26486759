/*
 * One connection attempt per address the name resolves to, non-blocking
 * with a deadline, so that a backend that drops SYNs costs the timeout
 * and no more.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "reach.h"

/* Connect fd to sa within deadline: 0, or -1 with errno. */
static int
try_connect(int fd, const struct sockaddr *sa, socklen_t salen,
    double deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t el = sizeof(int);
	int ms, e = 0;

	if (connect(fd, sa, salen) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -1;
	for (;;) {
		ms = (int)((deadline - znow()) * 1000);
		if (ms <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (poll(&pfd, 1, ms) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (pfd.revents != 0)
			break;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == -1)
		return -1;
	if (e != 0) {
		errno = e;
		return -1;
	}
	return 0;
}

int
zreach(const char *addr, double timeout, char *why, size_t size)
{
	struct addrinfo hints, *res, *ai;
	char host[256];
	const char *colon, *h = addr;
	double deadline = znow() + timeout;
	size_t hlen;
	int fd, rc, e = 0;

	if (strncmp(addr, "unix:", 5) == 0) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		if (strlen(addr + 5) >= sizeof sun.sun_path) {
			snprintf(why, size, "socket path too long");
			return -1;
		}
		strcpy(sun.sun_path, addr + 5);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
		if (fd == -1 || try_connect(fd, (struct sockaddr *)&sun,
		    sizeof sun, deadline) == -1) {
			snprintf(why, size, "cannot connect: %s",
			    strerror(errno));
			if (fd != -1)
				close(fd);
			return -1;
		}
		close(fd);
		return 0;
	}
	if ((colon = strrchr(addr, ':')) == NULL ||
	    (addr[0] == '[' && colon[-1] != ']'))
		return 1;
	hlen = (size_t)(colon - addr);
	if (addr[0] == '[') {
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof host)
		return 1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, colon + 1, &hints, &res)) != 0) {
		snprintf(why, size, "cannot resolve %s: %s", host,
		    gai_strerror(rc));
		return -1;
	}
	/* Any of the addresses nginx would try will do. */
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1) {
			e = errno;
			continue;
		}
		rc = try_connect(fd, ai->ai_addr, ai->ai_addrlen, deadline);
		e = errno;
		close(fd);
		if (rc == 0) {
			freeaddrinfo(res);
			return 0;
		}
	}
	freeaddrinfo(res);
	snprintf(why, size, "cannot connect: %s", strerror(e));
	return -1;
}
