/*
 * The watch after a switch: counts, judged as they come, and a probe.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "haproxy.h"
#include "nginx.h"
#include "proc.h"
#include "watch.h"

#define POLL_MS	200

size_t
zwatch_count(struct zwatch *w, char *buf, size_t len)
{
	const char *addr;
	char *p, *nl;
	int status;

	for (p = buf; (nl = memchr(p, '\n', (size_t)(buf + len - p))) !=
	    NULL; p = nl + 1) {
		*nl = '\0';
		if (zngx_log_answer(p, &addr, &status) == 0 &&
		    strcmp(addr, w->addr) == 0) {
			w->total++;
			w->c5xx += status >= 500;
		}
	}
	return (size_t)(p - buf);
}

/* The access log's new complete lines, counted. */
static void
read_log(struct zwatch *w)
{
	char buf[65536];
	size_t used;
	ssize_t n;

	while ((n = pread(w->logfd, buf, sizeof buf - 1, w->off)) > 0) {
		buf[n] = '\0';
		used = zwatch_count(w, buf, (size_t)n);
		/*
		 * A line cut short waits for its end; one longer than the
		 * buffer is no line of the format, and is skipped.
		 */
		if (used == 0 && n < (ssize_t)sizeof buf - 1)
			return;
		w->off += used == 0 ? n : (off_t)used;
	}
}

/* HAProxy's counters for the server, less those at the start. */
static int
read_hap(struct zwatch *w, long *total, long *c5xx)
{
	char *out;
	int rc;

	if ((out = zhap_ask(w->hap, "show stat")) == NULL) {
		snprintf(w->why, sizeof w->why, "cannot reach HAProxy at %s: "
		    "%s", w->hap->socket, strerror(errno));
		return -1;
	}
	rc = zhap_parse_answers(out, w->hap->backend, w->name, total, c5xx);
	free(out);
	if (rc == -1)
		snprintf(w->why, sizeof w->why, "HAProxy's show stat has no "
		    "counters for %s/%s", w->hap->backend, w->name);
	return rc;
}

static int
count(struct zwatch *w)
{
	long t, f;

	if (w->hap == NULL) {
		if (w->logfd != -1)
			read_log(w);
		return 0;
	}
	if (read_hap(w, &t, &f) == -1)
		return -1;
	w->total = t - w->total0;
	w->c5xx = f - w->c5xx0;
	return 0;
}

int
zwatch_over(struct zwatch *w, int final)
{
	if (w->total == 0 || (!final && w->total < ZWATCH_MIN))
		return 0;
	if ((double)w->c5xx * 100 <= w->max5xx * (double)w->total)
		return 0;
	snprintf(w->why, sizeof w->why, "%ld of %ld answers from %s were 5xx "
	    "(%.1f%%, more than %g%%)", w->c5xx, w->total, w->name,
	    (double)w->c5xx * 100 / (double)w->total, w->max5xx);
	return 1;
}

int
zwatch_run(struct zwatch *w)
{
	double deadline = znow() + w->seconds, next_probe = 0;
	int failed = 0;

	w->total = w->c5xx = 0;
	w->why[0] = '\0';
	if (w->hap != NULL && read_hap(w, &w->total0, &w->c5xx0) == -1)
		return 1;
	while (znow() < deadline && !zsig_pending()) {
		if (w->probe != NULL && znow() >= next_probe) {
			next_probe = znow() + 1;
			if (w->probe(w->arg, w->why, sizeof w->why) == -1 &&
			    !zsig_pending()) {
				failed = 1;
				break;
			}
		}
		if (count(w) == -1)
			return 1;
		if (zwatch_over(w, 0))
			return 1;
		poll(NULL, 0, POLL_MS);
	}
	if (zsig_pending())
		return -1;
	if (count(w) == -1)
		return 1;
	if (failed)
		return 1;
	return zwatch_over(w, 1);
}
