/*
 * Failure points for the *at() calls and the few others zdd uses that
 * libfiu's POSIX preload library (1.1, Debian 12) does not wrap: it has
 * open, write, fsync, rename and unlink, but zdd works through openat,
 * mkdirat, renameat, renameat2, unlinkat, symlinkat, linkat and syncfs.
 * tests/80-faults.t builds this into a library preloaded after libfiu's
 * own, so that one fiu-run command line ("enable_random
 * name=zdd/io/renameat,probability=0.1,failinfo=28") fails them too.
 * A failing call sets errno to the failinfo, or EIO without one, and
 * does nothing else.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

/* Without FIU_ENABLE, fiu.h makes every failure point a no-op. */
#define FIU_ENABLE 1
#include <fiu.h>

static int
fail(const char *name)
{
	intptr_t e;

	if (!fiu_fail(name))
		return 0;
	e = (intptr_t)fiu_failinfo();
	errno = e > 0 ? (int)e : EIO;
	return 1;
}

#define REAL(ret, name, ...)						\
	static ret (*real)(__VA_ARGS__);				\
	if (real == NULL)						\
		real = (ret (*)(__VA_ARGS__))dlsym(RTLD_NEXT, name)

static mode_t
mode_arg(int flags, va_list ap)
{
	return (flags & (O_CREAT | __O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	REAL(int, "openat", int, const char *, int, ...);

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	if (fail("zdd/io/openat"))
		return -1;
	return real(dirfd, path, flags, mode);
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	REAL(int, "openat64", int, const char *, int, ...);

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	if (fail("zdd/io/openat"))
		return -1;
	return real(dirfd, path, flags, mode);
}

int
mkdir(const char *path, mode_t mode)
{
	REAL(int, "mkdir", const char *, mode_t);

	if (fail("zdd/io/mkdir"))
		return -1;
	return real(path, mode);
}

int
mkdirat(int dirfd, const char *path, mode_t mode)
{
	REAL(int, "mkdirat", int, const char *, mode_t);

	if (fail("zdd/io/mkdir"))
		return -1;
	return real(dirfd, path, mode);
}

int
renameat(int ofd, const char *old, int nfd, const char *new)
{
	REAL(int, "renameat", int, const char *, int, const char *);

	if (fail("zdd/io/renameat"))
		return -1;
	return real(ofd, old, nfd, new);
}

int
renameat2(int ofd, const char *old, int nfd, const char *new, unsigned fl)
{
	REAL(int, "renameat2", int, const char *, int, const char *,
	    unsigned);

	if (fail("zdd/io/renameat"))
		return -1;
	return real(ofd, old, nfd, new, fl);
}

int
unlinkat(int dirfd, const char *path, int flags)
{
	REAL(int, "unlinkat", int, const char *, int);

	if (fail("zdd/io/unlinkat"))
		return -1;
	return real(dirfd, path, flags);
}

int
symlinkat(const char *target, int dirfd, const char *path)
{
	REAL(int, "symlinkat", const char *, int, const char *);

	if (fail("zdd/io/symlinkat"))
		return -1;
	return real(target, dirfd, path);
}

int
linkat(int ofd, const char *old, int nfd, const char *new, int flags)
{
	REAL(int, "linkat", int, const char *, int, const char *, int);

	if (fail("zdd/io/linkat"))
		return -1;
	return real(ofd, old, nfd, new, flags);
}

int
syncfs(int fd)
{
	REAL(int, "syncfs", int);

	if (fail("zdd/io/syncfs"))
		return -1;
	return real(fd);
}

int
fdatasync(int fd)
{
	REAL(int, "fdatasync", int);

	if (fail("zdd/io/fdatasync"))
		return -1;
	return real(fd);
}
