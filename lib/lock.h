/*
 * Exclusive locks with flock(2).  A lock belongs to an open file
 * description, so it goes away with its holder, even a killed one: there
 * are no stale locks to clean up and the lock file is never removed.
 */
#ifndef ZDD_LOCK_H
#define ZDD_LOCK_H

#include <stddef.h>

/*
 * Lock fd, waiting at most wait seconds (0: not at all).  -1 with errno
 * EWOULDBLOCK when another holder kept it the whole time.
 */
int	zlock_fd(int fd, double wait);

/*
 * Open (creating it 0644) and lock dirfd/name, then write into it who
 * holds it: "pid PID on HOST since TIME by TOOL", and the CI run.
 * Returns the fd, which the caller keeps open (it is close-on-exec, so
 * no child such as nginx inherits the lock).  On EWOULDBLOCK, holder (if
 * not NULL) receives what the current holder wrote.
 */
int	zlock_file(int dirfd, const char *name, double wait, char *holder,
	    size_t holdersize);

/*
 * A descriptor this process inherited on dirfd/name whose open file
 * description holds an exclusive flock(2) on it: the lock of a whole
 * deploy that runs this tool (zdd-lock(1), or flock(1) on the file).
 * Returned so that the tool works under it instead of waiting for
 * itself; -1 when there is none.  A descriptor that is merely open on the
 * file, without the lock, does not count.
 */
int	zlock_inherited(int dirfd, const char *name);

/*
 * Whether anyone holds a flock(2) on dirfd/name, seen in /proc/locks
 * without taking the lock (a lock taken for an instant would turn away a
 * deploy that starts in that instant): 0 free (no lock file is free), 1
 * held, with holder (if not NULL) as zlock_file() gives it; -1 with
 * errno when it cannot tell.
 */
int	zlock_peek(int dirfd, const char *name, char *holder,
	    size_t holdersize);

/* What a holder line says, each part empty (pid -1) when it is not said. */
struct zholder {
	long	 pid;
	char	 host[256];
	char	 since[32];	/* ISO 8601 UTC */
	char	 tool[64];	/* the zdd tool, or the process's name */
	char	 ci[32];	/* jenkins, github-actions, travis... */
	char	 run[128];	/* the CI's run id */
	char	 url[512];	/* the CI's run URL */
};

/*
 * Read a holder line ("pid PID on HOST [since TIME ]by TOOL[, CI run[
 * RUN][ URL]]") into h; -1 when it is not one (h then says nothing).
 */
int	zlock_holder_parse(const char *line, struct zholder *h);

/*
 * The lock wait to use: *wait itself when --lock-wait gave one (>= 0),
 * else $ZDD_LOCK_WAIT's, else 0; -1 if that is malformed.  Tools call it
 * just before they lock, so that a bad value never breaks a run that
 * takes no lock (a dry run, --show, status) and --lock-wait overrides it.
 */
int	zlock_wait(double *wait);

#endif
