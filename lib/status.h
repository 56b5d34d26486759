/*
 * Accepted HTTP statuses: a list such as "200,204,300-399" or "2xx",
 * given on the command line and matched against what a server answered.
 */
#ifndef ZDD_STATUS_H
#define ZDD_STATUS_H

#include <stddef.h>

#define ZSTATUS_MAX	64	/* items in one status list */

/* An accepted status list: ranges lo..hi, inclusive. */
struct zstatus {
	int	n;
	struct {
		int lo, hi;
	} r[ZSTATUS_MAX];
};

/*
 * Parse a status list: items N, N-M or Nxx separated by commas, each
 * status in 100..599.  On failure -1, with *pos set to the offset of the
 * offending character in s and why to a short reason.
 */
int	zstatus_parse(const char *s, struct zstatus *st, size_t *pos,
	    const char **why);
/* Whether status is in the list. */
int	zstatus_match(const struct zstatus *st, long status);

#endif
