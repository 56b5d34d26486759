/*
 * File-system atoms.  Every change a user can see is made under a
 * temporary name and renamed into place, and the directory is synced, so
 * that at any instant the old or the new state is visible, never a mix.
 */
#ifndef ZDD_FSATOM_H
#define ZDD_FSATOM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * A temporary name beside name: ".NAME.zdd-XXXXXX".  It starts with a dot
 * and ends in random letters, so no shell or nginx glob such as "*.conf"
 * or "*" picks it up.  buf must hold at least NAME_MAX + 1 bytes.
 */
int	ztmpname(char *buf, size_t size, const char *name);

int	zfsync_dir(int dirfd);

/*
 * Point dirfd/name at target: a temporary symlink renamed over name.
 * -1 when name is as it was; 1 (errno set) when the new link is in place
 * but the directory could not be synced, so the caller must not report
 * "nothing changed".
 */
int	zsymlink_replace(int dirfd, const char *name, const char *target);

/*
 * Replace dirfd/name with data: written to a temporary file, synced, given
 * mode, renamed over name, directory synced.  On failure (-1) name is as
 * it was and no temporary file remains; 1 as for zsymlink_replace().
 * The file gets owner uid and group gid where the caller may give them
 * ((uid_t)-1 and (gid_t)-1 leave the caller's), so that rewriting a
 * file another user owns does not take it from them.
 */
int	zfile_replace(int dirfd, const char *name, const void *data,
	    size_t len, mode_t mode, uid_t uid, gid_t gid);

/*
 * The same without the directory sync, for a caller that syncs the
 * directory itself while it waits for something else (zdd-switch syncs
 * while nginx -t runs).  0, or -1 with name as it was.
 */
int	zsymlink_put(int dirfd, const char *name, const char *target);
int	zfile_put(int dirfd, const char *name, const void *data, size_t len,
	    mode_t mode, uid_t uid, gid_t gid);

/*
 * Remove the temporary files and symlinks that ztmpname() named for name
 * (for any name if NULL) in dirfd: what a run killed between creating
 * and renaming one left.  Call it only while holding the lock that
 * serialises the writers of dirfd.  Returns how many went, or -1.
 */
int	zsweep_tmp(int dirfd, const char *name);

/* mkdir -p of a relative path under dirfd; never follows symlinks. */
int	zmkdirs_at(int dirfd, const char *path, mode_t mode);

/* Read a whole small file (at most max bytes) into a malloc'd buffer. */
char	*zslurp_at(int dirfd, const char *name, size_t max, size_t *len);

struct zrm_stats {
	uint64_t files;		/* non-directories removed */
	uint64_t dirs;		/* directories removed */
	int	 first_errno;	/* the first failure, 0 if none */
	char	 first_path[512];	/* where it happened, relative */
};

/*
 * Delete dirfd/name and everything under it.  Never follows a symlink
 * (a symlink is removed, not what it points at), never descends into
 * another file system, and makes read-only directories writable when the
 * caller owns them.  It keeps going past failures, so that as much as
 * possible goes; returns -1 with the first failure in st if anything
 * remains.
 */
int	zrmtree_at(int dirfd, const char *name, struct zrm_stats *st);

#endif
