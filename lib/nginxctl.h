/*
 * A running nginx driven through a change of what it serves: nginx -t
 * and the reload, each bounded in time; the master its pid file names,
 * with the workers it had before the reload (those serve the old
 * configuration); the wait for its new workers; the drain, a wait for
 * the old ones to exit.  Everything lives in the caller's struct
 * zngx_ctl; nothing here exits or keeps state of its own.
 */
#ifndef ZDD_NGINXCTL_H
#define ZDD_NGINXCTL_H

#include <stddef.h>
#include <sys/types.h>

#include "proc.h"

struct zngx_ctl {
	/* Set by the caller. */
	char	*const *words;		/* "sudo -n nginx": nginx is last */
	size_t	 nwords;
	const char *const *args;	/* put after the words, each run */
	size_t	 nargs;
	const char *reload_cmd;		/* run by sh -c to reload, or NULL */
	const char *pid_file;
	int	 no_reload;		/* nginx -t only, no master */
	double	 timeout;		/* nginx -t and the reload, each */
	double	 spawn_wait;		/* how long new workers may take */
	int	 syncfd;		/* a directory synced during nginx -t */
	/* Found while nginx -t runs: the master and its workers then. */
	pid_t	 master;		/* -1: none running */
	struct zproc *old;
	int	 nold;
	pid_t	*before;		/* every pid in use then, sorted */
	size_t	 nbefore;
	struct zproc *now;		/* room for a scan of new workers */
	int	 sync_errno, workers_errno;	/* what failed meanwhile */
};

/* What a failed nginx -t means (zngx_test_verdict()). */
enum { ZNGX_T_TIMEOUT = 1, ZNGX_T_NORUN, ZNGX_T_EXEC, ZNGX_T_NOPERM,
    ZNGX_T_REFUSED };

/* Set the defaults: no master, no sync, nothing allocated. */
void	zngx_ctl_init(struct zngx_ctl *c);
void	zngx_ctl_free(struct zngx_ctl *c);

/*
 * Run the nginx command with a1 (and a2 unless NULL) under c->timeout:
 * what zrun() returns, *out what it said ("" when it never ran).
 */
int	zngx_run(struct zngx_ctl *c, const char *a1, const char *a2,
	    char **out);

/*
 * nginx -t.  While it runs, c->syncfd is synced and (unless no_reload)
 * the master and its workers are found: sync_errno and workers_errno
 * say what failed there.  Returns what zngx_run() does.
 */
int	zngx_test(struct zngx_ctl *c, char **out);

/*
 * Why nginx -t failed, from what zngx_test() returned (rc), its errno
 * (e) and its words (out): ZNGX_T_TIMEOUT (killed at the timeout),
 * ZNGX_T_NORUN (never ran, e says why), ZNGX_T_EXEC (exit 127 or a
 * signal), ZNGX_T_NOPERM (it could not open its pid file or logs as
 * this user, or sudo would not run it: no verdict on the
 * configuration), ZNGX_T_REFUSED.
 */
int	zngx_test_verdict(int rc, int e, const char *out);

/*
 * Reload: c->reload_cmd, else SIGHUP to the master (all that nginx -s
 * reload does, after parsing the configuration once more), else nginx
 * -s reload; also when the master may not be signalled by this user.
 * 0 when done; else what zrun() says (-1 with errno ETIMEDOUT or EINTR
 * included), *out holding the command's words or why it could not run
 * (NULL when there are none; free it).
 */
int	zngx_reload(struct zngx_ctl *c, char **out);

/*
 * After a reload: wait at most c->spawn_wait seconds for the master's
 * new workers, as many as there were, or (when an earlier reload's
 * workers are still around) until their number holds still.  Returns
 * how many came, 0 for none, -1 on failure; stops early when the master
 * dies or a recorded signal comes (the caller looks at zsig_pending()).
 */
int	zngx_new_workers(struct zngx_ctl *c);

/*
 * The drain: wait until the old workers have exited, at most until
 * deadline (a znow() time).  What zproc_wait_gone() returns.
 */
int	zngx_drain(struct zngx_ctl *c, double deadline);

#endif
