/*
 * Values on the command line, read the same way by every tool: counts,
 * sizes, durations with fractions of a second, and the "-" operand that
 * reads its value from the first line of stdin.
 */
#ifndef ZDD_OPT_H
#define ZDD_OPT_H

#include <stdint.h>

/* Options every tool shares, set by zopt_common(). */
struct zopts {
	int	json;
	int	dry_run;
};
extern struct zopts zopt;

/*
 * The long options with no letter that tools share; a tool numbers its
 * own from ZOPT_TOOL on.
 */
enum { ZOPT_JSON = 256, ZOPT_LOCK_WAIT, ZOPT_TOOL };

/* What the shared options leave for the tool to use. */
struct zcommon {
	const char *root;	/* -r, or NULL */
	double	 lock_wait;	/* --lock-wait, or -1 */
	const char *bad;	/* after -1: the option, as in "--lock-wait" */
	const char *why;	/* after -1: what is wrong with its value */
};
#define ZCOMMON_INIT	{ NULL, -1, NULL, NULL }

/*
 * One option from a tool's getopt_long() loop, ch with its argument arg:
 * -n and --json set zopt, -q and -v set diag's zquiet and zverbose, -V
 * prints the version and exits (zversion()), -r and --lock-wait go into
 * c.  1 when ch was one of those; 0 when it is the tool's own (-h too:
 * usage is the tool's); -1 when the value is malformed, with c->bad and
 * c->why saying so (a usage error for the tool: 64).
 */
int	zopt_common(int ch, const char *arg, struct zcommon *c);

/* A decimal integer in [min, max]; -1 if s is anything else. */
int	zparse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* A byte count with an optional K, M, G or T suffix (powers of 1024). */
int	zparse_size(const char *s, uint64_t *out);
/* Seconds, fractions allowed ("0.5", "10"), at most a day. */
int	zparse_seconds(const char *s, double *out);
/*
 * Seconds from the environment variable name, as zparse_seconds() reads
 * them; *out is left alone when name is unset or empty, -1 if malformed.
 */
int	zenv_seconds(const char *name, double *out);

/*
 * The operand itself, or for "-" the first line of stdin without its
 * newline.  NULL on failure, with errno ENODATA for an empty stdin or
 * line; the result is malloc'd.
 */
char	*zoperand(const char *arg);

#endif
