/*
 * Commands run with a deadline, signals recorded for a clean death, and
 * a wait for foreign processes to exit.  The one file-scope variable is
 * the signal that came: a handler can set nothing else safely.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "proc.h"
#include "text.h"

#define TICK_MS	100	/* how often a wait looks at the clock */

static volatile sig_atomic_t caught;

static void
record(int sig)
{
	if (caught == 0)
		caught = sig;
}

void
zsig_catch(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = record;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: poll(2) and waitpid(2) return at the signal. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int
zsig_pending(void)
{
	return caught;
}

void
zsig_die(void)
{
	int sig = caught ? caught : SIGTERM;
	sigset_t set;

	fflush(stdout);
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	_exit(128 + sig);
}

/* Milliseconds to wait for: a tick, shortened by the deadline. */
static int
tick(double deadline)
{
	double left;

	if (deadline <= 0)
		return TICK_MS;
	left = (deadline - znow()) * 1000;
	if (left < 0)
		return 0;
	return left < TICK_MS ? (int)left + 1 : TICK_MS;
}

/* Kill the whole group (a shell and what it started), and reap pid. */
static void
kill_group(pid_t pid)
{
	int st;

	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
}

int
zrun(char *const argv[], struct zrun *r)
{
	double deadline = r->timeout > 0 ? znow() + r->timeout : 0;
	size_t len = 0, max = r->out_max ? r->out_max : 65536;
	struct pollfd pfd;
	char chunk[4096];
	pid_t pid, parent;
	ssize_t n;
	int p[2], st, e, open_ = 1;

	r->out = NULL;
	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	parent = getpid();
	if ((pid = fork()) == -1) {
		e = errno;
		close(p[0]);
		close(p[1]);
		errno = e;
		return -1;
	}
	if (pid == 0) {
		sigset_t none;

		dup2(p[1], 1);
		dup2(p[1], 2);
		/*
		 * No descriptor of ours past exec, nor before it: a lock held
		 * through one (flock(2) belongs to the open file, which fork
		 * shares) must go when we die, not when the child execs.
		 */
		closefrom(3);
		/*
		 * Its own group, so that a timeout kills what it started; and
		 * it dies with us, as it would in our group.
		 */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		dprintf(2, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	close(p[1]);
	if ((r->out = malloc(max + 1)) == NULL) {
		kill_group(pid);
		close(p[0]);
		errno = ENOMEM;
		return -1;
	}
	r->out[0] = '\0';
	if (r->during != NULL)
		r->during(r->arg);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (;;) {
		if (zsig_pending()) {
			e = EINTR;
			break;
		}
		if (deadline > 0 && znow() >= deadline) {
			e = ETIMEDOUT;
			break;
		}
		if (open_) {
			if (poll(&pfd, 1, tick(deadline)) <= 0)
				continue;
			n = read(p[0], chunk, sizeof chunk);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				open_ = 0;
				continue;
			}
			/* Beyond max the rest is read and dropped. */
			if (len < max) {
				size_t k = (size_t)n < max - len ?
				    (size_t)n : max - len;

				memcpy(r->out + len, chunk, k);
				len += k;
				r->out[len] = '\0';
			}
			continue;
		}
		/*
		 * The output is closed; the command may still run (a daemon
		 * it forked keeps no pipe).  Wait for it, a tick at a time.
		 */
		if (waitpid(pid, &st, WNOHANG) == pid) {
			close(p[0]);
			if (WIFEXITED(st))
				return WEXITSTATUS(st);
			return 128 + WTERMSIG(st);
		}
		poll(NULL, 0, 10);
	}
	kill_group(pid);
	close(p[0]);
	errno = e;
	return -1;
}

/*
 * The command name may hold spaces and parentheses, so fields are counted
 * from the last ')'.
 */
int
zproc_stat(pid_t pid, char *state, pid_t *ppid, unsigned long long *start)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return -1;
	p += 2;
	*state = *p;
	/* Field 3 is the state; 4 the parent; 22 the start time. */
	for (field = 3; field < 22 && p != NULL; field++) {
		if (field == 4)
			*ppid = (pid_t)strtol(p, NULL, 10);
		if ((p = strchr(p, ' ')) != NULL)
			p++;
	}
	if (p == NULL)
		return -1;
	*start = strtoull(p, NULL, 10);
	return 0;
}

int
zproc_alive(const struct zproc *p)
{
	unsigned long long start;
	pid_t ppid;
	char state;

	if (zproc_stat(p->pid, &state, &ppid, &start) == -1)
		return 0;
	return state != 'Z' && state != 'X' && start == p->start;
}

int
zproc_wait_gone(const struct zproc *v, int n, double deadline)
{
	struct pollfd *pfd;
	int i, left, np = 0;

	/*
	 * A pidfd becomes readable when its process exits.  It is opened by
	 * pid, so the start time is checked after the open: then the pidfd
	 * is known to name the process we meant, not a reuse of its pid.
	 * Where pidfd_open(2) is missing, the start times are polled.
	 */
	if ((pfd = calloc((size_t)n + 1, sizeof *pfd)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		int fd = pidfd_open(v[i].pid, 0);

		if (fd == -1)
			continue;
		if (!zproc_alive(&v[i])) {
			close(fd);
			continue;
		}
		pfd[np].fd = fd;
		pfd[np].events = POLLIN;
		np++;
	}
	for (;;) {
		left = 0;
		for (i = 0; i < n; i++)
			if (zproc_alive(&v[i]))
				left++;
		if (left == 0 || zsig_pending() ||
		    (deadline > 0 && znow() >= deadline))
			break;
		/*
		 * Exited workers stay zombies until their master reaps them,
		 * which the pidfd does not wait for; a short poll without
		 * pidfds covers that and kernels without pidfd_open(2).
		 */
		if (np > 0)
			(void)poll(pfd, (nfds_t)np, tick(deadline));
		else
			(void)poll(NULL, 0, 5);
		for (i = 0; i < np; i++)
			if (pfd[i].revents != 0)
				pfd[i].fd = -pfd[i].fd - 1;
	}
	for (i = 0; i < np; i++)
		close(pfd[i].fd < 0 ? -pfd[i].fd - 1 : pfd[i].fd);
	free(pfd);
	if (left > 0 && zsig_pending()) {
		errno = EINTR;
		return -1;
	}
	return left;
}

void
zrelay(const char *out)
{
	const char *p = out, *nl;
	char line[512];
	int n = 0;

	while (p != NULL && *p != '\0' && n < 20) {
		nl = strchrnul(p, '\n');
		ztext_clean(p, (size_t)(nl - p), line, sizeof line);
		if (*line != '\0') {
			zerrx("%s", line);
			n++;
		}
		p = *nl ? nl + 1 : nl;
	}
}
