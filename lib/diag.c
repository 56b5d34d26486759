/*
 * Diagnostics: every line a tool writes to stderr passes through here so
 * that all tools prefix, silence and word their messages alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"

const char *zprogname = "zdd";
int zquiet;
int zverbose;

/* Set by zdie(): the tool already failed and chose its exit code. */
static int dying;

/*
 * stdout carries a tool's result (a release path, one JSON object), so
 * losing it is a failure however the tool meant to end: a full disk, a
 * closed pipe or a closed descriptor turns a clean exit into 74, in
 * plain and --json modes alike, and every tool gets this without
 * checking each printf.  A tool already dying keeps its own code.
 */
static void
check_stdout(void)
{
	int e;

	if (dying)
		return;
	errno = 0;
	if (fflush(stdout) != EOF && !ferror(stdout))
		return;
	e = errno;
	if (e != 0)
		fprintf(stderr, "%s: stdout: %s\n", zprogname, strerror(e));
	else
		fprintf(stderr, "%s: stdout: cannot write the result\n",
		    zprogname);
	_exit(EX_IOERR);
}

/*
 * A tool started with 0, 1 or 2 closed would hand that number to the
 * first file or socket it opens, and then print its result or its
 * errors into it.  Closed ones are filled: stdin and stderr with
 * /dev/null, stdout with a descriptor that refuses writes (a directory
 * opened read-only), so that a result nobody can read is still a
 * failure, EBADF, as it would have been.
 */
static void
fill_std_fds(void)
{
	int fd, nfd;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (fd == 1)
			nfd = open("/", O_RDONLY | O_DIRECTORY);
		else
			nfd = open("/dev/null", O_RDWR);
		if (nfd == -1)
			_exit(EX_OSERR);
		if (nfd != fd) {
			if (dup2(nfd, fd) == -1)
				_exit(EX_OSERR);
			close(nfd);
		}
	}
}

void
zinit(const char *progname)
{
	const char *p = strrchr(progname, '/');

	zprogname = p ? p + 1 : progname;
	fill_std_fds();
	atexit(check_stdout);
}

void
zversion(void)
{
	printf("%s %s\n", zprogname, ZDD_VERSION);
	exit(0);
}

static void
vmsg(const char *fmt, va_list ap, int err)
{
	/* One fprintf per line keeps concurrent writers from interleaving. */
	char buf[2048];
	int n;

	n = vsnprintf(buf, sizeof buf, fmt, ap);
	if (n < 0)
		buf[0] = '\0';
	if (err)
		fprintf(stderr, "%s: %s: %s\n", zprogname, buf, strerror(err));
	else
		fprintf(stderr, "%s: %s\n", zprogname, buf);
}

void
zerr(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, e);
	va_end(ap);
	errno = e;
}

void
zerrx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
}

void
zdie(int code, const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	dying = 1;
	va_start(ap, fmt);
	vmsg(fmt, ap, e);
	va_end(ap);
	exit(code);
}

void
zdiex(int code, const char *fmt, ...)
{
	va_list ap;

	dying = 1;
	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
	exit(code);
}

/*
 * A warning and a progress note read the same and are silenced alike by
 * -q; they are two names so that a reader of a tool can tell which is
 * which.
 */
void
zwarnx(const char *fmt, ...)
{
	va_list ap;

	if (zquiet)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
}

void
zinfo(const char *fmt, ...)
	__attribute__((alias("zwarnx")));

void
zdebug(const char *fmt, ...)
{
	va_list ap;

	if (!zverbose)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
}

int
zexit_errno(int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
		return EX_NOINPUT;
	case EACCES:
	case EPERM:
	case EROFS:
		return EX_NOPERM;
	case EEXIST:
	case ENOTEMPTY:
	case EMLINK:
		return EX_CANTCREAT;
	case EWOULDBLOCK:
		return EX_TEMPFAIL;
	default:
		return EX_IOERR;
	}
}

static _Noreturn void
oom(void)
{
	zdiex(EX_OSERR, "out of memory");
}

void *
xnonnull(void *p)
{
	if (p == NULL)
		oom();
	return p;
}

void *
xmalloc(size_t n)
{
	return xnonnull(malloc(n ? n : 1));
}

void *
xcalloc(size_t n, size_t size)
{
	return xnonnull(calloc(n ? n : 1, size ? size : 1));
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	return xnonnull(reallocarray(p, n ? n : 1, size ? size : 1));
}

char *
xstrdup(const char *s)
{
	return xnonnull(strdup(s));
}

char *
xstrndup(const char *s, size_t n)
{
	return xnonnull(strndup(s, n));
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	return s;
}
