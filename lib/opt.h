/*
 * Values on the command line, read the same way by every tool: counts,
 * sizes, durations with fractions of a second, and the "-" operand that
 * reads its value from the first line of stdin.
 */
#ifndef ZDD_OPT_H
#define ZDD_OPT_H

#include <stdint.h>

/* Options every tool shares, set by the tool's getopt_long loop. */
struct zopts {
	int	json;
	int	dry_run;
};
extern struct zopts zopt;

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
