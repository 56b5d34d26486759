/*
 * SIGKILL at a chosen step: preloaded into a zdd tool by tests/85-kill.t,
 * it counts the calls that change or sync the file system (open and
 * openat with any flags, mkdir, rename, unlink, symlink, link, write,
 * pwrite, ftruncate, fchmod, fsync, fdatasync, syncfs) and, when the
 * count reaches $ZDD_KILL_AT, kills its own process with SIGKILL before
 * making that call.  Stepping ZDD_KILL_AT from 1 to the number of calls
 * a whole run makes (written to $ZDD_KILL_COUNT at exit when set) puts a
 * kill between every two steps of the tool, which random delays alone
 * would hit only by luck.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static long calls, at = -1;

static void
step(void)
{
	if (at == -1) {
		const char *s = getenv("ZDD_KILL_AT");
		at = s != NULL ? atol(s) : 0;
	}
	if (++calls == at)
		raise(SIGKILL);
}

__attribute__((destructor)) static void
count(void)
{
	const char *path = getenv("ZDD_KILL_COUNT");
	FILE *f;

	if (path != NULL && (f = fopen(path, "w")) != NULL) {
		fprintf(f, "%ld\n", calls);
		fclose(f);
	}
}

#define REAL(ret, name, ...)						\
	static ret (*real)(__VA_ARGS__);				\
	if (real == NULL)						\
		real = (ret (*)(__VA_ARGS__))dlsym(RTLD_NEXT, name);	\
	step()

static mode_t
mode_arg(int flags, va_list ap)
{
	return (flags & (O_CREAT | __O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

#define OPEN(name, ...)							\
	va_list ap;							\
	mode_t mode;							\
	va_start(ap, flags);						\
	mode = mode_arg(flags, ap);					\
	va_end(ap)

int
open(const char *path, int flags, ...)
{
	OPEN();
	REAL(int, "open", const char *, int, ...);
	return real(path, flags, mode);
}

int
open64(const char *path, int flags, ...)
{
	OPEN();
	REAL(int, "open64", const char *, int, ...);
	return real(path, flags, mode);
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	OPEN();
	REAL(int, "openat", int, const char *, int, ...);
	return real(dirfd, path, flags, mode);
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	OPEN();
	REAL(int, "openat64", int, const char *, int, ...);
	return real(dirfd, path, flags, mode);
}

int
mkdir(const char *path, mode_t mode)
{
	REAL(int, "mkdir", const char *, mode_t);
	return real(path, mode);
}

int
mkdirat(int dirfd, const char *path, mode_t mode)
{
	REAL(int, "mkdirat", int, const char *, mode_t);
	return real(dirfd, path, mode);
}

int
rename(const char *old, const char *new)
{
	REAL(int, "rename", const char *, const char *);
	return real(old, new);
}

int
renameat(int ofd, const char *old, int nfd, const char *new)
{
	REAL(int, "renameat", int, const char *, int, const char *);
	return real(ofd, old, nfd, new);
}

int
renameat2(int ofd, const char *old, int nfd, const char *new, unsigned fl)
{
	REAL(int, "renameat2", int, const char *, int, const char *,
	    unsigned);
	return real(ofd, old, nfd, new, fl);
}

int
unlink(const char *path)
{
	REAL(int, "unlink", const char *);
	return real(path);
}

int
unlinkat(int dirfd, const char *path, int flags)
{
	REAL(int, "unlinkat", int, const char *, int);
	return real(dirfd, path, flags);
}

int
symlinkat(const char *target, int dirfd, const char *path)
{
	REAL(int, "symlinkat", const char *, int, const char *);
	return real(target, dirfd, path);
}

int
linkat(int ofd, const char *old, int nfd, const char *new, int flags)
{
	REAL(int, "linkat", int, const char *, int, const char *, int);
	return real(ofd, old, nfd, new, flags);
}

ssize_t
write(int fd, const void *buf, size_t len)
{
	REAL(ssize_t, "write", int, const void *, size_t);
	return real(fd, buf, len);
}

ssize_t
pwrite(int fd, const void *buf, size_t len, off_t off)
{
	REAL(ssize_t, "pwrite", int, const void *, size_t, off_t);
	return real(fd, buf, len, off);
}

ssize_t
pwrite64(int fd, const void *buf, size_t len, off_t off)
{
	REAL(ssize_t, "pwrite64", int, const void *, size_t, off_t);
	return real(fd, buf, len, off);
}

int
ftruncate(int fd, off_t len)
{
	REAL(int, "ftruncate", int, off_t);
	return real(fd, len);
}

int
fchmod(int fd, mode_t mode)
{
	REAL(int, "fchmod", int, mode_t);
	return real(fd, mode);
}

int
fsync(int fd)
{
	REAL(int, "fsync", int);
	return real(fd);
}

int
fdatasync(int fd)
{
	REAL(int, "fdatasync", int);
	return real(fd);
}

int
syncfs(int fd)
{
	REAL(int, "syncfs", int);
	return real(fd);
}
