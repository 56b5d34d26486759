/*
 * zdd-lock: hold a deploy root's lock for a whole deploy.  It takes the
 * flock(2) on ROOT/.zdd/lock that every zdd tool takes, runs COMMAND (a
 * deploy script, a CodeDeploy hook, an Ansible task) with the locked
 * descriptor inherited, and releases the lock when COMMAND exits.  The
 * zdd tools COMMAND runs find the inherited lock and work under it; a
 * second deploy waits (--lock-wait) or exits 75, told who holds the lock,
 * on which host, for which CI run.
 *
 * The lock is released by zdd-lock itself with LOCK_UN, not by the last
 * close: a daemon that COMMAND started (the new release's backend) also
 * inherited the descriptor, and must not hold the next deploy off.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"
#include "layout.h"
#include "lock.h"
#include "opt.h"

/* The command's pid, for the signal handler to pass signals on. */
static volatile sig_atomic_t child;

static void
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: zdd-lock [-qv] [-r root] [--json] [--lock-wait sec] "
	    "command [arg ...]\n");
	exit(code);
}

/*
 * A terminal's ^C reaches the whole process group, COMMAND included; a
 * TERM sent to zdd-lock alone (a CI job cancelled) is passed on, and
 * zdd-lock waits for COMMAND to finish before it unlocks.
 */
static void
forward(int sig)
{
	if (child > 0)
		kill((pid_t)child, sig);
}

static int
run(char **argv, int lockfd)
{
	struct sigaction sa;
	sigset_t block, old;
	int status, e;
	pid_t pid;

	/*
	 * Held back until the command's pid is known, so that a signal
	 * that comes before it is passed on rather than lost.
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = forward;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* Let COMMAND inherit the lock: it is close-on-exec otherwise. */
	if (lockfd != -1 && fcntl(lockfd, F_SETFD, 0) == -1)
		zdie(EX_OSERR, "cannot pass the lock on");
	fflush(NULL);
	if ((pid = fork()) == -1)
		zdie(EX_OSERR, "cannot fork");
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		execvp(argv[0], argv);
		e = errno;
		zerr("cannot run %s", argv[0]);
		_exit(e == ENOENT ? 127 : 126);
	}
	child = pid;
	sigprocmask(SIG_SETMASK, &old, NULL);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			zdie(EX_OSERR, "cannot wait for %s", argv[0]);
	child = 0;
	/* Unlock for every holder of the descriptor, daemons included. */
	if (lockfd != -1)
		(void)flock(lockfd, LOCK_UN);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EX_SOFTWARE;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "help",	no_argument,		NULL, 'h' },
		/* --json: its stdout is COMMAND's, nothing of its own. */
		{ "json",	no_argument,		NULL, ZOPT_JSON },
		{ "lock-wait",	required_argument,	NULL, ZOPT_LOCK_WAIT },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "root",	required_argument,	NULL, 'r' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	struct zcommon co = ZCOMMON_INIT;
	struct zroot r;
	const char *root;
	int c, rc;

	zinit(argv[0]);
	/* "+": the options after COMMAND are COMMAND's. */
	while ((c = getopt_long(argc, argv, "+hqr:vV", longopts, NULL)) != -1)
		switch (c) {
		case 'h':
			usage(0);
			break;
		default:
			if ((rc = zopt_common(c, optarg, &co)) == -1)
				zdiex(EX_USAGE, "%s %s: %s", co.bad, optarg,
				    co.why);
			if (rc == 0)
				usage(EX_USAGE);
		}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage(EX_USAGE);
	if ((root = zroot_arg(co.root)) == NULL)
		zdiex(EX_USAGE, "no deploy root: give -r ROOT or set ZDD_ROOT");
	if (zlock_wait(&co.lock_wait) == -1)
		zdiex(EX_USAGE, "ZDD_LOCK_WAIT: not a number of seconds");
	/* The first deploy makes the root, as zdd-release would. */
	if (zroot_open(&r, root, ZROOT_CREATE) == -1) {
		if (errno == EPERM && zroot_holder(&r)[0] != '\0')
			zdiex(EX_NOPERM, "%s", zroot_holder(&r));
		zdie(zexit_errno(errno), "cannot open deploy root %s", root);
	}
	if (zroot_lock(&r, co.lock_wait) == -1)
		exit(zroot_lock_report(&r));
	if (zroot_inherited(&r))
		zdebug("%s: already locked by this deploy", zroot_path(&r));
	else
		zdebug("%s: locked", zroot_path(&r));
	rc = run(argv, zroot_lockfd(&r));
	zdebug("%s exited %d, %s unlocked", argv[0], rc, zroot_path(&r));
	zroot_close(&r);
	return rc;
}
