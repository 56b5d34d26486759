/*
 * nginx -t, the reload, the master's workers and the drain, for a tool
 * that has just put a new include file or link in place.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fsatom.h"
#include "nginx.h"
#include "nginxctl.h"
#include "proc.h"

#define ARGV_MAX	128
#define OUT_MAX		(64 << 10)
#define WORKERS_MAX	1024
#define PIDS_MAX	(1 << 16)

void
zngx_ctl_init(struct zngx_ctl *c)
{
	memset(c, 0, sizeof *c);
	c->pid_file = "/run/nginx.pid";
	c->timeout = 30;
	c->spawn_wait = 10;
	c->syncfd = -1;
	c->master = -1;
}

void
zngx_ctl_free(struct zngx_ctl *c)
{
	free(c->old);
	free(c->before);
	free(c->now);
	c->old = c->now = NULL;
	c->before = NULL;
}

/*
 * Runs while nginx -t does, so that the directory sync and the scan of
 * /proc cost no time.  A master that the pid file names gets SIGHUP
 * later; a pid file naming anything else is stale.
 */
static void
while_testing(void *arg)
{
	struct zngx_ctl *c = arg;
	struct zproc_scan scan = { c->before, 0, PIDS_MAX, NULL, 0 };

	/*
	 * The directory sync that makes the rename durable: a crash before
	 * it leaves the old file or the new one, both whole, so it can
	 * overlap nginx -t.
	 */
	if (c->syncfd != -1 && zfsync_dir(c->syncfd) == -1)
		c->sync_errno = errno;
	if (c->no_reload)
		return;
	c->master = zngx_read_pid(c->pid_file);
	if (c->master != -1 && !zngx_is_master(c->master,
	    c->words[c->nwords - 1]))
		c->master = -1;
	if (c->master == -1)
		return;
	/* Nothing is reloaded yet: a failure here puts the old file back. */
	if ((c->nold = zngx_children(c->master, c->old, WORKERS_MAX,
	    &scan)) == -1)
		c->workers_errno = errno;
	c->nbefore = scan.nseen;
}

/* argv under limit seconds, output into *out ("" when it never ran). */
static int
run(char *const argv[], char **out, struct zngx_ctl *c, int testing,
    double limit)
{
	struct zrun r = { .timeout = limit, .out_max = OUT_MAX,
	    .during = testing ? while_testing : NULL, .arg = c };
	int rc, e;

	rc = zrun(argv, &r);
	e = errno;
	*out = r.out != NULL ? r.out : strdup("");
	errno = e;
	return rc;
}

int
zngx_run(struct zngx_ctl *c, const char *a1, const char *a2, char **out)
{
	const char *argv[ARGV_MAX];
	size_t i, n = 0;

	if (c->nwords + c->nargs + 3 > ARGV_MAX) {
		*out = strdup("");
		errno = E2BIG;
		return -1;
	}
	for (i = 0; i < c->nwords; i++)
		argv[n++] = c->words[i];
	for (i = 0; i < c->nargs; i++)
		argv[n++] = c->args[i];
	argv[n++] = a1;
	if (a2 != NULL)
		argv[n++] = a2;
	argv[n] = NULL;
	return run((char *const *)argv, out, c, strcmp(a1, "-t") == 0,
	    c->timeout);
}

int
zngx_test(struct zngx_ctl *c, char **out)
{
	if (c->old == NULL && !c->no_reload) {
		c->old = calloc(WORKERS_MAX, sizeof *c->old);
		c->now = calloc(WORKERS_MAX, sizeof *c->now);
		c->before = calloc(PIDS_MAX, sizeof *c->before);
		if (c->old == NULL || c->now == NULL || c->before == NULL) {
			*out = strdup("");
			errno = ENOMEM;
			return -1;
		}
	}
	c->master = -1;
	c->nold = 0;
	c->sync_errno = c->workers_errno = 0;
	return zngx_run(c, "-t", NULL, out);
}

int
zngx_test_verdict(int rc, int e, const char *out)
{
	if (rc == -1 && e == ETIMEDOUT)
		return ZNGX_T_TIMEOUT;
	if (rc == -1)
		return ZNGX_T_NORUN;
	if (rc == 127 || rc >= 128)
		return ZNGX_T_EXEC;
	/*
	 * nginx -t also opens the pid file and the logs.  A user who may
	 * not (a deploy user without sudo) makes it fail on a configuration
	 * that is fine: that is no refusal of the configuration.
	 */
	if (out != NULL && (strstr(out, "(13: Permission denied)") != NULL ||
	    strstr(out, "(1: Operation not permitted)") != NULL))
		return ZNGX_T_NOPERM;
	/*
	 * --nginx 'sudo -n nginx' without a rule that lets this user run
	 * it: sudo's refusal, said in its own name, before nginx ever ran.
	 */
	if (out != NULL && (strncmp(out, "sudo: ", 6) == 0 ||
	    strstr(out, "\nsudo: ") != NULL))
		return ZNGX_T_NOPERM;
	return ZNGX_T_REFUSED;
}

int
zngx_reload(struct zngx_ctl *c, char **out)
{
	char buf[128];

	if (c->reload_cmd != NULL) {
		const char *argv[] = { "/bin/sh", "-c", c->reload_cmd, NULL };

		return run((char *const *)argv, out, c, 0, c->timeout);
	}
	if (c->master == -1)
		return zngx_run(c, "-s", "reload", out);
	*out = NULL;
	if (kill(c->master, SIGHUP) == 0)
		return 0;
	/*
	 * A deploy user may not signal root's master; nginx -s reload
	 * through --nginx 'sudo -n nginx' may.
	 */
	if (errno == EPERM)
		return zngx_run(c, "-s", "reload", out);
	snprintf(buf, sizeof buf, "kill -HUP %d: %s", (int)c->master,
	    strerror(errno));
	*out = strdup(buf);
	return -1;
}

/*
 * Children of the master that were not there before: its new workers.
 * The quick scan reads only processes whose pid was not in use before;
 * but pids are reused (after a wrap, a pid freed a moment ago may be the
 * next one handed out), so a full scan, which tells processes apart by
 * pid and start time, comes every few polls.
 */
static int
new_children(struct zngx_ctl *c, int full)
{
	struct zproc_scan skip = { NULL, 0, 0, c->before, c->nbefore };
	int n, i, j, fresh = 0;

	if (!full)
		return zngx_children(c->master, c->now, WORKERS_MAX, &skip);
	if ((n = zngx_children(c->master, c->now, WORKERS_MAX, NULL)) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		for (j = 0; j < c->nold; j++)
			if (c->now[i].pid == c->old[j].pid &&
			    c->now[i].start == c->old[j].start)
				break;
		if (j == c->nold)
			fresh++;
	}
	return fresh;
}

int
zngx_new_workers(struct zngx_ctl *c)
{
	double deadline = znow() + c->spawn_wait;
	int fresh, last = 0, still = 0, polls;

	/*
	 * nginx forks its new workers one after the other, then waits 100
	 * ms before it tells the old ones to quit; a drain waits for that,
	 * a plain switch returns once the new workers are up.
	 */
	for (polls = 1;; polls++) {
		fresh = new_children(c, polls % 8 == 0);
		if (fresh > 0 && fresh >= c->nold)
			break;
		if (fresh > 0 && fresh == last && ++still == 3)
			break;
		if (fresh != last)
			still = 0;
		last = fresh;
		/*
		 * A deploy user may not signal a root master: EPERM says it
		 * is alive, only ESRCH says it is gone.
		 */
		if (znow() >= deadline ||
		    (kill(c->master, 0) == -1 && errno == ESRCH) ||
		    zsig_pending())
			break;
		zsleep(0.002);
	}
	return fresh;
}

int
zngx_drain(struct zngx_ctl *c, double deadline)
{
	return zproc_wait_gone(c->old, c->nold, deadline);
}
