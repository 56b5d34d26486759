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
 * The lock wait to use: *wait itself when --lock-wait gave one (>= 0),
 * else $ZDD_LOCK_WAIT's, else 0; -1 if that is malformed.  Tools call it
 * just before they lock, so that a bad value never breaks a run that
 * takes no lock (a dry run, --show, status) and --lock-wait overrides it.
 */
int	zlock_wait(double *wait);

#endif
