/*
 * The dedupe tree: the release that --dedupe shares blocks with, walked
 * beside the staging tree, and the reflink that shares them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/fs.h>

#include "extract_int.h"

/* Whether path is a shared link's, or under one: never shared. */
static int
kept(struct zar *z, const char *path)
{
	size_t i, n;

	for (i = 0; i < z->o.nkeep; i++) {
		n = strlen(z->o.keep[i]);
		if (strncmp(path, z->o.keep[i], n) == 0 &&
		    (path[n] == '\0' || path[n] == '/'))
			return 1;
	}
	return 0;
}

/* The parent of path in the dedupe tree; never creates anything. */
int
zx_dparent(struct zar *z, const char *path, const char **basep)
{
	return zx_cached_parent(&z->dd, z->o.dedupe_fd, 0, path, basep);
}

int
zx_dedupe_open(struct zar *z, const char *path, const struct ent *e,
    struct stat *sb)
{
	const char *obase;
	int dfd, old;

	if (z->o.dedupe_fd == -1 || z->noclone || e->sparse ||
	    kept(z, path) || (dfd = zx_dparent(z, path, &obase)) == -1)
		return -1;
	old = openat(dfd, obase, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);
	if (old != -1 && (fstat(old, sb) == -1 || !S_ISREG(sb->st_mode) ||
	    (e->size >= 0 && sb->st_size != e->size))) {
		close(old);
		old = -1;
	}
	return old;
}

int
zx_dedupe_same(struct zar *z, int old, const void *buf, size_t len,
    int64_t off, uint64_t *matched)
{
	if (len > z->cmpsize) {
		unsigned char *nb = realloc(z->cmp, len);

		if (nb == NULL)
			return zx_fail(z, ENOMEM, "out of memory");
		z->cmp = nb;
		z->cmpsize = len;
	}
	if ((uint64_t)off != *matched ||
	    pread(old, z->cmp, len, off) != (ssize_t)len ||
	    memcmp(z->cmp, buf, len) != 0)
		return 0;
	*matched += len;
	return 1;
}

/*
 * Make the new file fd share old's blocks copy-on-write (a reflink, on
 * btrfs, XFS and the like): equal content, its own inode, so that a write
 * into either file, by anyone, root included, never shows in the other.
 * -1 where the file system cannot; then the file is written instead, and
 * no later file tries again.  Hard links are never used: two releases
 * sharing an inode would let a deploy hook that writes into the new one
 * change the live one.
 */
int
zx_clone_old(struct zar *z, int old, int fd)
{
	if (z->noclone)
		return -1;
	if (ioctl(fd, FICLONE, old) == 0)
		return 0;
	if (errno == EOPNOTSUPP || errno == ENOTTY || errno == EXDEV ||
	    errno == EINVAL)
		z->noclone = 1;
	return -1;
}
