/*
 * Locking.  flock(2) rather than a pid file: the kernel drops the lock
 * when the holder dies, so a crashed deploy never blocks the next one.
 * The holder's identity is written into the lock file only to tell a
 * waiting user who is in the way; it is never used to decide anything.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "ci.h"
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

/* Whether the fdinfo file at path shows an exclusive flock(2) held. */
static int
fdinfo_flock(const char *path)
{
	char line[256];
	int held = 0;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		return 0;
	while (!held && fgets(line, sizeof line, f) != NULL)
		held = strncmp(line, "lock:", 5) == 0 &&
		    strstr(line, " FLOCK ") != NULL &&
		    strstr(line, " WRITE ") != NULL;
	fclose(f);
	return held;
}

/*
 * A process with a descriptor on dev/ino that holds the flock, found by
 * looking through /proc: the process that took a lock may have exited
 * and left it to a child (flock 9 in a shell, then exec sleep).  -1 when
 * none can be seen.
 */
static long
holder_pid(dev_t dev, ino_t ino)
{
	/* Room for two whole d_names: the compiler checks it. */
	char path[sizeof "/proc//fdinfo/" +
	    2 * sizeof ((struct dirent *)0)->d_name];
	struct dirent *pe, *fe;
	struct stat sb;
	long found = -1;
	DIR *pd, *fd;

	if ((pd = opendir("/proc")) == NULL)
		return -1;
	while (found == -1 && (pe = readdir(pd)) != NULL) {
		if (strspn(pe->d_name, "0123456789") != strlen(pe->d_name))
			continue;
		snprintf(path, sizeof path, "/proc/%s/fd", pe->d_name);
		if ((fd = opendir(path)) == NULL)
			continue;
		while (found == -1 && (fe = readdir(fd)) != NULL) {
			snprintf(path, sizeof path, "/proc/%s/fd/%s",
			    pe->d_name, fe->d_name);
			if (fe->d_name[0] == '.' || stat(path, &sb) == -1 ||
			    sb.st_dev != dev || sb.st_ino != ino)
				continue;
			snprintf(path, sizeof path, "/proc/%s/fdinfo/%s",
			    pe->d_name, fe->d_name);
			if (fdinfo_flock(path))
				found = atol(pe->d_name);
		}
		closedir(fd);
	}
	closedir(pd);
	return found;
}

/*
 * "pid PID on HOST since TIME by TOOL", and the CI run when there is one
 * (", jenkins run 42 https://ci/job/app/42/"), so that a second deploy
 * is told which build to wait for.
 */
static int
holder_line(char *buf, size_t size)
{
	const char *ci, *run, *url;
	int n;

	n = snprintf(buf, size, "pid %ld on %s since %s by %s",
	    (long)getpid(), zhost(), ziso8601((long long)time(NULL)),
	    zprogname);
	zci_run(&ci, &run, &url);
	if (n > 0 && (size_t)n < size && ci != NULL)
		n += snprintf(buf + n, size - (size_t)n, ", %s run%s%s%s%s",
		    ci, run ? " " : "", run ? run : "", url ? " " : "",
		    url ? url : "");
	if (n < 0)
		return n;
	if ((size_t)n >= size - 1)
		n = (int)size - 2;
	buf[n++] = '\n';
	return n;
}

int
zlock_inherited(int dir, const char *name)
{
	struct stat want, sb;
	struct dirent *de;
	char path[64];
	int fd, found = -1;
	DIR *d;

	if (fstatat(dir, name, &want, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(want.st_mode))
		return -1;
	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while (found == -1 && (de = readdir(d)) != NULL) {
		char *end;
		long n = strtol(de->d_name, &end, 10);

		if (*end != '\0' || end == de->d_name || n < 0 ||
		    n == dirfd(d))
			continue;
		fd = (int)n;
		snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
		if (fstat(fd, &sb) == 0 && sb.st_dev == want.st_dev &&
		    sb.st_ino == want.st_ino && fdinfo_flock(path))
			found = fd;
	}
	closedir(d);
	return found;
}

/*
 * The holder that the kernel knows, when the lock file does not name it:
 * flock(1) and other programs take the lock without writing who they
 * are, and the file still names the last zdd tool that held it.
 * /proc/locks gives the pid that took the lock on this inode.
 */
static void
real_holder(int fd, char *holder, size_t size)
{
	char line[256], comm[64] = "";
	unsigned maj, min;
	unsigned long long ino;
	long pid = -1, named = -1, p;
	struct stat sb;
	FILE *f;

	if (sscanf(holder, "pid %ld ", &named) != 1)
		named = -1;
	if (fstat(fd, &sb) == -1 || (f = fopen("/proc/locks", "re")) == NULL)
		goto out;
	while (pid == -1 && fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "%*d: FLOCK %*s %*s %ld %x:%x:%llu", &p,
		    &maj, &min, &ino) == 4 && ino == sb.st_ino &&
		    makedev(maj, min) == sb.st_dev)
			pid = p;
	fclose(f);
	/* The pid that took it may be gone, its lock left to a child. */
	if (pid != -1 && kill((pid_t)pid, 0) == -1 && errno == ESRCH)
		pid = holder_pid(sb.st_dev, sb.st_ino);
	if (pid == -1 || pid == named)
		goto out;
	snprintf(line, sizeof line, "/proc/%ld/comm", pid);
	if ((f = fopen(line, "re")) != NULL) {
		if (fgets(comm, sizeof comm, f) == NULL)
			comm[0] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	snprintf(holder, size, "pid %ld on %s by %s", pid, zhost(),
	    comm[0] ? comm : "another process");
	return;
out:
	if (holder[0] == '\0')
		snprintf(holder, size, "another process");
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
			real_holder(fd, holder, holdersize);
		}
		close(fd);
		errno = e;
		return -1;
	}
	len = holder_line(buf, sizeof buf);
	if (ftruncate(fd, 0) == 0 && len > 0)
		(void)!pwrite(fd, buf, (size_t)len, 0);
	return fd;
}

int
zlock_peek(int dirfd, const char *name, char *holder, size_t holdersize)
{
	char line[256];
	unsigned maj, min;
	unsigned long long ino;
	struct stat sb;
	int fd, held = 0, e;
	ssize_t n;
	FILE *f;

	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) ==
	    -1)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &sb) == -1 || (f = fopen("/proc/locks", "re")) == NULL) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	/* A shared lock (flock -s) keeps a deploy out as well. */
	while (!held && fgets(line, sizeof line, f) != NULL)
		held = sscanf(line, "%*d: FLOCK %*s %*s %*d %x:%x:%llu", &maj,
		    &min, &ino) == 3 && ino == sb.st_ino &&
		    makedev(maj, min) == sb.st_dev;
	fclose(f);
	if (held && holder != NULL && holdersize > 0) {
		if ((n = pread(fd, holder, holdersize - 1, 0)) < 0)
			n = 0;
		holder[n] = '\0';
		holder[strcspn(holder, "\n")] = '\0';
		real_holder(fd, holder, holdersize);
	}
	close(fd);
	return held;
}

/* The next word of *s (up to a space), into buf; 0 if there is none. */
static int
word(const char **s, char *buf, size_t size)
{
	size_t n;

	*s += strspn(*s, " ");
	if ((n = strcspn(*s, " ")) == 0 || n >= size)
		return 0;
	memcpy(buf, *s, n);
	buf[n] = '\0';
	*s += n;
	return 1;
}

int
zlock_holder_parse(const char *line, struct zholder *h)
{
	char w[512], *end;
	const char *s = line;
	size_t n;

	memset(h, 0, sizeof *h);
	h->pid = -1;
	if (!word(&s, w, sizeof w) || strcmp(w, "pid") != 0 ||
	    !word(&s, w, sizeof w) ||
	    (h->pid = strtol(w, &end, 10), *end != '\0' || h->pid <= 0) ||
	    !word(&s, w, sizeof w) || strcmp(w, "on") != 0 ||
	    !word(&s, h->host, sizeof h->host) || !word(&s, w, sizeof w))
		goto bad;
	if (strcmp(w, "since") == 0 &&
	    (!word(&s, h->since, sizeof h->since) || !word(&s, w, sizeof w)))
		goto bad;
	if (strcmp(w, "by") != 0)
		goto bad;
	/* The tool: all up to ", " (a process's name may have spaces). */
	s += strspn(s, " ");
	n = strstr(s, ", ") ? (size_t)(strstr(s, ", ") - s) : strlen(s);
	if (n == 0 || n >= sizeof h->tool)
		goto bad;
	memcpy(h->tool, s, n);
	h->tool[n] = '\0';
	s += n;
	if (*s == '\0')
		return 0;
	s += 2;
	if (!word(&s, h->ci, sizeof h->ci) || !word(&s, w, sizeof w) ||
	    strcmp(w, "run") != 0)
		goto bad;
	/* RUN and URL are each optional: a URL has "://". */
	while (word(&s, w, sizeof w)) {
		if (strstr(w, "://") != NULL && h->url[0] == '\0')
			snprintf(h->url, sizeof h->url, "%s", w);
		else if (h->run[0] == '\0' && h->url[0] == '\0' &&
		    strlen(w) < sizeof h->run)
			memcpy(h->run, w, strlen(w) + 1);
		else
			goto bad;
	}
	return 0;
bad:
	memset(h, 0, sizeof *h);
	h->pid = -1;
	return -1;
}

int
zlock_wait(double *wait)
{
	if (*wait >= 0)
		return 0;
	*wait = 0;
	return zenv_seconds("ZDD_LOCK_WAIT", wait);
}
