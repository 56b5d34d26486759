/*
 * Processes as a tool that changes live configuration handles them: a
 * command run with its output captured and bounded in time, signals that
 * are recorded instead of acted on (so that the caller first puts back
 * what it changed, then dies of the signal), and a wait for processes
 * that are not our children to exit (nginx's old workers), through
 * pidfd_open(2) and poll(2) where the kernel has them.
 */
#ifndef ZDD_PROC_H
#define ZDD_PROC_H

#include <stddef.h>
#include <sys/types.h>

/*
 * SIGINT, SIGTERM and SIGHUP from now on only record that they came and
 * interrupt blocking calls (no SA_RESTART).  zsig_pending() is the signal
 * that came, 0 if none; zsig_die() dies of it the way the default action
 * would, so that a shell sees 128 + N.
 */
void	zsig_catch(void);
int	zsig_pending(void);
_Noreturn void zsig_die(void);

/* A command run by zrun(). */
struct zrun {
	double	 timeout;	/* seconds in all, 0 for none */
	size_t	 out_max;	/* output kept, the rest read and dropped */
	/* Called once the command runs, to overlap work with it. */
	void	(*during)(void *);
	void	*arg;
	char	*out;		/* stdout and stderr, malloc'd, NUL-ended */
};

/*
 * Run argv (PATH searched) in a process group of its own, with stdout
 * and stderr into r->out.  Returns its exit status as a shell gives it
 * (127: it could not be executed, 128 + N: killed by signal N); -1 with
 * errno ETIMEDOUT when r->timeout passed, EINTR when a signal that
 * zsig_catch() records came (the whole group is killed either way, and
 * reaped), or the errno of a failed pipe(2) or fork(2).  r->out is set
 * whenever the command ran (free it), NULL otherwise.
 */
int	zrun(char *const argv[], struct zrun *r);

/*
 * Another program's words (nginx's, HAProxy's), one diagnostic line
 * each, at most 20, made printable by ztext_clean(): a control byte
 * would let the other end clear the terminal or forge a line of ours
 * after a carriage return.  out may be NULL.
 */
void	zrelay(const char *out);

/* A process as /proc shows it: its pid and start time, to survive reuse. */
struct zproc {
	pid_t	pid;
	unsigned long long start;
};

/*
 * Read /proc/PID/stat: state letter, parent and start time; -1 if the
 * process is gone.
 */
int	zproc_stat(pid_t pid, char *state, pid_t *ppid,
	    unsigned long long *start);
/* Whether p is still alive (not exited, not a zombie, not a new process). */
int	zproc_alive(const struct zproc *p);

/*
 * Wait until every process of v[0..n) has exited, at most until deadline
 * (a znow() time), returning early with -1 and errno EINTR when a
 * recorded signal comes.  Returns how many are still alive.
 */
int	zproc_wait_gone(const struct zproc *v, int n, double deadline);

#endif
