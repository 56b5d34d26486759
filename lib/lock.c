/*
 * Locking.  flock(2) rather than a pid file: the kernel drops the lock
 * when the holder dies, so a crashed deploy never blocks the next one.
 * The holder's identity is written into the lock file only to tell a
 * waiting user who is in the way; it is never used to decide anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "ident.h"
#include "lock.h"
#include "opt.h"

int
zlock_fd(int fd, double wait)
{
	double deadline = znow() + wait;

	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return -1;
		if (znow() >= deadline) {
			errno = EWOULDBLOCK;
			return -1;
		}
		zsleep(0.02);
	}
}

int
zlock_file(int dirfd, const char *name, double wait, char *holder,
    size_t holdersize)
{
	char buf[512];
	ssize_t n;
	int fd, len;

	fd = openat(dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0644);
	if (fd == -1)
		return -1;
	if (zlock_fd(fd, wait) == -1) {
		int e = errno;

		if (e == EWOULDBLOCK && holder != NULL && holdersize > 0) {
			n = pread(fd, holder, holdersize - 1, 0);
			if (n < 0)
				n = 0;
			holder[n] = '\0';
			holder[strcspn(holder, "\n")] = '\0';
			if (holder[0] == '\0')
				snprintf(holder, holdersize, "another process");
		}
		close(fd);
		errno = e;
		return -1;
	}
	len = snprintf(buf, sizeof buf, "pid %ld on %s since %s by %s\n",
	    (long)getpid(), zhost(), ziso8601((long long)time(NULL)),
	    zprogname);
	if (ftruncate(fd, 0) == 0 && len > 0)
		(void)!pwrite(fd, buf, (size_t)len, 0);
	return fd;
}

int
zlock_wait_env(double *wait)
{
	*wait = 0;
	return zenv_seconds("ZDD_LOCK_WAIT", wait);
}
