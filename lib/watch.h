/*
 * The watch after a switch: the new backend under real traffic for a
 * while, its answers counted from nginx's access log (written in the
 * format '$upstream_addr $upstream_status') or HAProxy's counters, and
 * a probe run every second.  The 5xx share is judged at every poll once
 * ZWATCH_MIN answers are counted, and at the end on whatever came, so
 * that a backend failing half its answers is caught within a second or
 * two while one early 502 out of 1 answer is not.
 */
#ifndef ZDD_WATCH_H
#define ZDD_WATCH_H

#include <stddef.h>
#include <sys/types.h>

#include "haproxy.h"

/* The answers counted before the share is judged before the end. */
#define ZWATCH_MIN	20

struct zwatch {
	/* Set by the caller. */
	const char *name;	/* the backend: a target, a HAProxy server */
	const char *addr;	/* as $upstream_addr writes it */
	double	 seconds;	/* how long */
	double	 max5xx;	/* percent of 5xx past which it failed */
	int	 logfd;		/* the access log, or -1 */
	off_t	 off;		/* where its new lines start */
	const struct zhap *hap;	/* or HAProxy's counters for name */
	/* A probe, every second: 0 passed, else -1 with why filled. */
	int	(*probe)(void *arg, char *why, size_t size);
	void	*arg;
	/* What it counted. */
	long	 total, c5xx;
	long	 total0, c5xx0;	/* HAProxy's counters at the start */
	char	 why[1024];	/* why it failed */
};

/*
 * Count the complete lines of buf[0..len) (modified) that are answers
 * of w->addr.  Returns how many bytes they took: the rest is a line cut
 * short, to be read again once whole.
 */
size_t	zwatch_count(struct zwatch *w, char *buf, size_t len);

/*
 * Whether the 5xx share counted so far is past w->max5xx: 1, with why
 * filled; 0 when it is not, or when final is 0 and fewer than
 * ZWATCH_MIN answers came.
 */
int	zwatch_over(struct zwatch *w, int final);

/*
 * Watch for w->seconds, or until the share or the probe fails.  0 when
 * it held; 1 when it failed (why says why, with the counts); -1 when a
 * recorded signal came.
 */
int	zwatch_run(struct zwatch *w);

#endif
