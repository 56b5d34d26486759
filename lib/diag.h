/*
 * Diagnostics and exit codes shared by every zdd tool.  Messages go to
 * stderr as "zdd-TOOL: ...", lower case, no trailing period, in the manner
 * of err(3).  Library functions never exit; tools pick the exit code, most
 * often from the errno that a failed call left, through zexit_errno().
 */
#ifndef ZDD_DIAG_H
#define ZDD_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <sysexits.h>

#define ZDD_VERSION "0.1.0"

/* "The answer is no": unhealthy, rejected, no such live target. */
#define EX_NO 1

extern const char *zprogname;
extern int zquiet;	/* -q: only errors */
extern int zverbose;	/* -v: one line per step */

void	zinit(const char *progname);
void	zversion(void);

/* Errors: always printed.  The "e" forms append strerror(errno). */
void	zerr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	zerrx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void zdie(int code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
_Noreturn void zdiex(int code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
/* Warnings and progress: silenced by -q. */
void	zwarnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	zinfo(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Detail: shown only with -v. */
void	zdebug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The sysexits(3) code that best describes errno value err. */
int	zexit_errno(int err);

/*
 * Allocation that cannot fail: out of memory, the tool says so and exits
 * with EX_OSERR (71).  Tools call these; library functions that can fail
 * return NULL and leave the choice to their caller.
 */
void	*xmalloc(size_t n);
void	*xcalloc(size_t n, size_t size);
void	*xreallocarray(void *p, size_t n, size_t size);
char	*xstrdup(const char *s);
char	*xstrndup(const char *s, size_t n);
char	*xasprintf(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* p itself when not NULL, else the same death: for jansson's results. */
void	*xnonnull(void *p);

#endif
