/*
 * Probe targets as given on a command line: http:// and https:// URLs,
 * and tcp://HOST:PORT.  The parser checks the shape before any network
 * work starts, and the display form is what may be printed of a target:
 * URLs carry credentials in their userinfo and tokens in their query,
 * so neither is ever shown.
 */
#ifndef ZDD_TARGET_H
#define ZDD_TARGET_H

#include <stddef.h>

enum ztarget_kind { ZTARGET_HTTP, ZTARGET_TCP };

struct ztarget {
	enum ztarget_kind kind;
	char	*url;		/* what libcurl is given */
	char	*show;		/* what may be printed */
};

/* A parse error that has no one place in the text. */
#define ZTARGET_NOPOS	((size_t)-1)

/*
 * Parse s into t.  A tcp:// target becomes the URL http://HOST:PORT/ for
 * a connect-only probe.  On failure -1 with why set to a short reason
 * and *pos to the offset of the offending character, or ZTARGET_NOPOS
 * when libcurl refused the URL as a whole (errno ENOMEM: why is NULL).
 * Free with ztarget_free().
 */
int	ztarget_parse(const char *s, struct ztarget *t, size_t *pos,
	    const char **why);
void	ztarget_free(struct ztarget *t);

/*
 * Check a --resolve entry, HOST:PORT:ADDR[,ADDR...] as curl(1) takes it,
 * and a --header, "Name: value" on one line.  0 when well formed, else
 * -1 with *pos and why set as for ztarget_parse().
 */
int	zresolve_check(const char *s, size_t *pos, const char **why);
int	zheader_check(const char *s, size_t *pos, const char **why);

#endif
