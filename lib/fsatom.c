/*
 * File-system atoms: temporary names, atomic replacement of files and
 * symlinks, directory syncs and a recursive delete that cannot be tricked
 * into leaving the tree it was given.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsatom.h"
#include "io.h"

int
ztmpname(char *buf, size_t size, const char *name)
{
	static const char set[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char rnd[8];
	size_t i, n;
	int len;

	if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd) {
		/* Unique enough: callers retry on EEXIST. */
		unsigned long v = (unsigned long)getpid() ^ (unsigned long)&rnd;
		for (i = 0; i < sizeof rnd; i++, v >>= 5)
			rnd[i] = (unsigned char)v;
	}
	/* Keep the whole name within NAME_MAX. */
	n = strlen(name);
	if (n > 200)
		n = 200;
	len = snprintf(buf, size, ".%.*s.zdd-", (int)n, name);
	if (len < 0 || (size_t)len + sizeof rnd + 1 > size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (i = 0; i < sizeof rnd; i++)
		buf[len + i] = set[rnd[i] % (sizeof set - 1)];
	buf[len + sizeof rnd] = '\0';
	return 0;
}

int
zfsync_dir(int dirfd)
{
	/* Some file systems refuse fsync on a directory; that is no error. */
	if (fsync(dirfd) == -1 && errno != EINVAL && errno != EROFS)
		return -1;
	return 0;
}

int
zsymlink_put(int dirfd, const char *name, const char *target)
{
	char tmp[256];
	int tries, e;

	for (tries = 0; tries < 16; tries++) {
		if (ztmpname(tmp, sizeof tmp, name) == -1)
			return -1;
		if (symlinkat(target, dirfd, tmp) == 0)
			break;
		if (errno != EEXIST)
			return -1;
	}
	if (tries == 16)
		return -1;
	if (renameat(dirfd, tmp, dirfd, name) == -1) {
		e = errno;
		unlinkat(dirfd, tmp, 0);
		errno = e;
		return -1;
	}
	return 0;
}

int
zsymlink_replace(int dirfd, const char *name, const char *target)
{
	if (zsymlink_put(dirfd, name, target) == -1)
		return -1;
	/* The new link is in place now: a failed sync is no longer -1. */
	return zfsync_dir(dirfd) == -1 ? 1 : 0;
}

int
zfile_put(int dirfd, const char *name, const void *data, size_t len,
    mode_t mode, uid_t uid, gid_t gid)
{
	const char *p = data;
	char tmp[256];
	ssize_t n;
	int fd = -1, tries, e;

	for (tries = 0; tries < 16 && fd == -1; tries++) {
		if (ztmpname(tmp, sizeof tmp, name) == -1)
			return -1;
		fd = openat(dirfd, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd == -1 && errno != EEXIST)
			return -1;
	}
	if (fd == -1)
		return -1;
	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	/*
	 * The owner before the mode, since fchown() clears set-id bits.  One
	 * who may not give the file away may still give it the group.
	 */
	if ((uid != (uid_t)-1 && uid != geteuid()) ||
	    (gid != (gid_t)-1 && gid != getegid())) {
		if (fchown(fd, uid, gid) == -1 &&
		    (errno != EPERM || (fchown(fd, (uid_t)-1, gid) == -1 &&
		    errno != EPERM)))
			goto fail;
	}
	if (fchmod(fd, mode) == -1 || fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) == -1)
		goto fail;
	return 0;
fail:
	e = errno;
	if (fd != -1)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	errno = e;
	return -1;
}

int
zfile_replace(int dirfd, const char *name, const void *data, size_t len,
    mode_t mode, uid_t uid, gid_t gid)
{
	if (zfile_put(dirfd, name, data, len, mode, uid, gid) == -1)
		return -1;
	/* The new file is in place now: a failed sync is no longer -1. */
	return zfsync_dir(dirfd) == -1 ? 1 : 0;
}

int
zmkdirs_at(int dirfd, const char *path, mode_t mode)
{
	char *copy, *p, *slash;
	int fd, next, rc = -1;

	if ((copy = strdup(path)) == NULL)
		return -1;
	fd = dup(dirfd);
	if (fd == -1)
		goto out;
	for (p = copy; p != NULL && *p != '\0'; p = slash) {
		slash = strchr(p, '/');
		if (slash != NULL)
			*slash++ = '\0';
		if (*p == '\0' || strcmp(p, ".") == 0)
			continue;
		if (mkdirat(fd, p, mode) == -1 && errno != EEXIST)
			goto out;
		next = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (next == -1)
			goto out;
		close(fd);
		fd = next;
	}
	rc = 0;
out:
	if (fd != -1) {
		int e = errno;
		close(fd);
		errno = e;
	}
	free(copy);
	return rc;
}

char *
zslurp_at(int dirfd, const char *name, size_t max, size_t *lenp)
{
	char *buf;
	int fd, e;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return NULL;
	buf = zread_all(fd, max, 0, 0, lenp);
	e = errno;
	close(fd);
	errno = e;
	return buf;
}

static void
rm_fail(struct zrm_stats *st, const char *path, const char *name, int err)
{
	if (st->first_errno != 0)
		return;
	st->first_errno = err;
	if (*path != '\0')
		snprintf(st->first_path, sizeof st->first_path, "%s/%s",
		    path, name);
	else
		snprintf(st->first_path, sizeof st->first_path, "%s", name);
}

/*
 * Open directory dirfd/name without following a symlink.  A directory of
 * our own that we may not read (mode 0000, say) is made readable first,
 * through an O_PATH descriptor so that the chmod reaches exactly the
 * directory that was opened and nothing a racing rename put there.
 */
static int
open_dir(int dirfd, const char *name)
{
	char proc[64];
	struct stat sb;
	int fd, pfd;

	fd = openat(dirfd, name,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd != -1 || errno != EACCES)
		return fd;
	pfd = openat(dirfd, name,
	    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (pfd == -1)
		return -1;
	if (fstat(pfd, &sb) == 0 && sb.st_uid == geteuid()) {
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", pfd);
		if (chmod(proc, (sb.st_mode & 07777) | 0700) == 0)
			fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
	}
	close(pfd);
	if (fd == -1)
		errno = EACCES;
	return fd;
}

/*
 * Remove the directory dirfd/name.  path is where it sits, for messages;
 * dev is the file system we must not leave.  Recursion depth is bounded
 * by the tree's own depth, which PATH_MAX already bounds.
 */
static int
rm_dir(int dirfd, const char *name, dev_t dev, const char *path,
    struct zrm_stats *st)
{
	char sub[512];
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int fd, ok = 1;

	fd = open_dir(dirfd, name);
	if (fd == -1) {
		rm_fail(st, path, name, errno);
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		rm_fail(st, path, name, errno);
		close(fd);
		return -1;
	}
	if (sb.st_dev != dev) {
		/* A mount point: leave it and everything under it. */
		rm_fail(st, path, name, EXDEV);
		close(fd);
		return -1;
	}
	/* A read-only directory of our own: we need write and search. */
	if ((sb.st_mode & 0700) != 0700 && sb.st_uid == geteuid())
		(void)!fchmod(fd, (sb.st_mode & 07777) | 0700);
	if ((d = fdopendir(fd)) == NULL) {
		rm_fail(st, path, name, errno);
		close(fd);
		return -1;
	}
	if (*path != '\0')
		snprintf(sub, sizeof sub, "%s/%s", path, name);
	else
		snprintf(sub, sizeof sub, "%s", name);
	while ((errno = 0, de = readdir(d)) != NULL) {
		const char *n = de->d_name;

		if (n[0] == '.' && (n[1] == '\0' ||
		    (n[1] == '.' && n[2] == '\0')))
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) {
			if (unlinkat(fd, n, 0) == 0) {
				st->files++;
				continue;
			}
			if (errno != EISDIR) {
				rm_fail(st, sub, n, errno);
				ok = 0;
				continue;
			}
		} else if (de->d_type == DT_UNKNOWN) {
			if (fstatat(fd, n, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
				rm_fail(st, sub, n, errno);
				ok = 0;
				continue;
			}
			if (!S_ISDIR(sb.st_mode)) {
				if (unlinkat(fd, n, 0) == 0)
					st->files++;
				else {
					rm_fail(st, sub, n, errno);
					ok = 0;
				}
				continue;
			}
		}
		if (rm_dir(fd, n, dev, sub, st) == -1)
			ok = 0;
	}
	if (errno != 0) {
		rm_fail(st, path, name, errno);
		ok = 0;
	}
	closedir(d);
	if (!ok)
		return -1;
	if (unlinkat(dirfd, name, AT_REMOVEDIR) == -1) {
		rm_fail(st, path, name, errno);
		return -1;
	}
	st->dirs++;
	return 0;
}

int
zrmtree_at(int dirfd, const char *name, struct zrm_stats *st)
{
	struct zrm_stats local;
	struct stat sb;

	if (st == NULL)
		st = &local;
	memset(st, 0, sizeof *st);
	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(sb.st_mode)) {
		if (unlinkat(dirfd, name, 0) == -1) {
			rm_fail(st, "", name, errno);
			return -1;
		}
		st->files++;
		return 0;
	}
	if (rm_dir(dirfd, name, sb.st_dev, "", st) == -1) {
		errno = st->first_errno;
		return -1;
	}
	return 0;
}

/* Whether s is a name ztmpname() made for name (for any name if NULL). */
static int
is_tmpname(const char *s, const char *name)
{
	size_t n = strlen(s), i;

	if (n < 1 + 5 + 8 + 1 || s[0] != '.' ||
	    strncmp(s + n - 13, ".zdd-", 5) != 0)
		return 0;
	for (i = n - 8; i < n; i++)
		if (!isalnum((unsigned char)s[i]))
			return 0;
	return name == NULL || (strlen(name) == n - 14 &&
	    strncmp(s + 1, name, n - 14) == 0);
}

int
zsweep_tmp(int dirfd, const char *name)
{
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int fd, n = 0;

	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!is_tmpname(de->d_name, name) ||
		    fstatat(dirfd, de->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) == -1 ||
		    !(S_ISREG(sb.st_mode) || S_ISLNK(sb.st_mode)))
			continue;
		if (unlinkat(dirfd, de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	if (n > 0)
		zfsync_dir(dirfd);
	return n;
}
