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
#include <sys/sysmacros.h>
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
 * Deleting a tree with a bounded number of open files, however deep it
 * is.  The walk keeps a level for every directory on its way down (its
 * name, device, inode and mount) but holds only the RM_OPEN deepest open;
 * past that the shallowest is closed.  Coming back up to a closed level,
 * it opens ".." of the level below and checks that this is the directory
 * it left (device, inode, mount), so that a directory renamed meanwhile
 * cannot lead the walk out of the tree; when it is not, the level is
 * reached again from the top by its names, each checked the same way, or
 * the walk gives up.  A reopened directory is read again from its start,
 * skipping the names that failed in it.  A directory that is the root of
 * a mount, or on another device or mount, is never entered.
 */
#define RM_OPEN	16
#define RM_STATX (STATX_TYPE | STATX_MODE | STATX_UID | STATX_INO | \
	    STATX_MNT_ID)

struct rmname {
	struct rmname *next;
	char	 name[];
};

struct rmlevel {
	char	*name;		/* in the level above */
	dev_t	 dev;
	ino_t	 ino;
	uint64_t mnt;		/* mount id; 0 when the kernel gives none */
	DIR	*d;		/* NULL while closed */
	int	 ok;		/* everything in it went, so far */
	int	 reread;	/* reopened: skip the names in failed */
	struct rmname *failed;	/* names in it that could not go */
};

struct rmwalk {
	int	 top;		/* the caller's directory */
	struct rmlevel *lv;	/* lv[0] is the tree's root, deepest last */
	size_t	 n, cap;
	size_t	 nopen;		/* the open levels: the nopen deepest */
	int	 lost;		/* the walk cannot go on */
	struct zrm_stats *st;
};

/* Append s to the path being made in buf, within size. */
static void
rm_cat(char *buf, size_t size, size_t *len, const char *s)
{
	int n;

	if (*len >= size)
		return;
	n = snprintf(buf + *len, size - *len, "%s", s);
	*len += n > 0 ? (size_t)n : 0;
}

/*
 * The first failure: name under the first k levels.  A path too long for
 * the message keeps its first name, then "...", then as much of its end
 * as fits: where in a deep tree it failed is at its end.
 */
static void
rm_fail(struct rmwalk *w, size_t k, const char *name, int err)
{
	struct zrm_stats *st = w->st;
	size_t i, from = 0, len = 0, total, size = sizeof st->first_path;

	if (st->first_errno != 0)
		return;
	st->first_errno = err;
	for (i = 0, total = strlen(name); i < k; i++)
		total += strlen(w->lv[i].name) + 1;
	if (total >= size && k > 1) {
		rm_cat(st->first_path, size, &len, w->lv[0].name);
		rm_cat(st->first_path, size, &len, "/.../");
		for (from = 1; from < k && total - strlen(w->lv[0].name) +
		    len >= size; from++)
			total -= strlen(w->lv[from].name) + 1;
	}
	for (i = from; i < k; i++) {
		rm_cat(st->first_path, size, &len, w->lv[i].name);
		rm_cat(st->first_path, size, &len, "/");
	}
	rm_cat(st->first_path, size, &len, name);
}

/* Remember that name failed in l, so that a second reading skips it. */
static void
rm_remember(struct rmwalk *w, struct rmlevel *l, const char *name)
{
	size_t len = strlen(name);
	struct rmname *f = malloc(sizeof *f + len + 1);

	l->ok = 0;
	if (f == NULL) {
		/* Without the name, a second reading might loop. */
		rm_fail(w, 0, "", ENOMEM);
		w->lost = 1;
		return;
	}
	memcpy(f->name, name, len + 1);
	f->next = l->failed;
	l->failed = f;
}

static int
rm_failed_before(const struct rmlevel *l, const char *name)
{
	const struct rmname *f;

	for (f = l->failed; f != NULL; f = f->next)
		if (strcmp(f->name, name) == 0)
			return 1;
	return 0;
}

static int
rm_statx(int fd, struct statx *sx)
{
	return statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, RM_STATX,
	    sx);
}

/* Whether fd is the directory l was. */
static int
rm_same(int fd, const struct rmlevel *l)
{
	struct statx sx;

	if (rm_statx(fd, &sx) == -1)
		return 0;
	return makedev(sx.stx_dev_major, sx.stx_dev_minor) == l->dev &&
	    sx.stx_ino == l->ino && (l->mnt == 0 ||
	    ((sx.stx_mask & STATX_MNT_ID) && sx.stx_mnt_id == l->mnt));
}

/* Close the shallowest open level but the deepest; 0 if there is none. */
static int
rm_shed(struct rmwalk *w)
{
	struct rmlevel *l;

	if (w->nopen < 2)
		return 0;
	l = &w->lv[w->n - w->nopen];
	closedir(l->d);
	l->d = NULL;
	w->nopen--;
	return 1;
}

/*
 * Open the directory name in pfd as the next level down.  -1 with errno
 * when it cannot be opened, or is a mount point (EXDEV).
 */
static int
rm_push(struct rmwalk *w, int pfd, const char *name)
{
	struct rmlevel *l, *nlv;
	struct statx sx;
	dev_t dev;
	DIR *d;
	int fd, e;

	if (w->n == w->cap) {
		nlv = reallocarray(w->lv, w->cap ? w->cap * 2 : 64,
		    sizeof *w->lv);
		if (nlv == NULL)
			return -1;
		w->lv = nlv;
		w->cap = w->cap ? w->cap * 2 : 64;
	}
	/* Short of descriptors: close levels above, never below one. */
	while ((fd = open_dir(pfd, name)) == -1 &&
	    (errno == EMFILE || errno == ENFILE) && rm_shed(w))
		;
	if (fd == -1)
		return -1;
	if (rm_statx(fd, &sx) == -1)
		goto fail;
	dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
	if (((sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	    (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) || (w->n > 0 &&
	    (dev != w->lv[0].dev || (w->lv[0].mnt != 0 &&
	    sx.stx_mnt_id != w->lv[0].mnt)))) {
		/* A mount point: leave it and everything under it. */
		errno = EXDEV;
		goto fail;
	}
	/* A read-only directory of our own: we need write and search. */
	if ((sx.stx_mode & 0700) != 0700 && sx.stx_uid == geteuid())
		(void)!fchmod(fd, (sx.stx_mode & 07777) | 0700);
	if ((d = fdopendir(fd)) == NULL)
		goto fail;
	l = &w->lv[w->n];
	memset(l, 0, sizeof *l);
	if ((l->name = strdup(name)) == NULL) {
		closedir(d);
		return -1;
	}
	l->dev = dev;
	l->ino = sx.stx_ino;
	l->mnt = (sx.stx_mask & STATX_MNT_ID) ? sx.stx_mnt_id : 0;
	l->d = d;
	l->ok = 1;
	w->n++;
	if (++w->nopen > RM_OPEN)
		rm_shed(w);
	return 0;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/*
 * Open level i again, closed to bound open files, from the open level
 * below it: as its "..", or from the top by names.  Every step is checked
 * against what the level was on the way down.
 */
static int
rm_reopen(struct rmwalk *w, size_t i)
{
	struct rmlevel *l = &w->lv[i];
	size_t k;
	int fd, nfd, ok = 0;

	fd = openat(dirfd(w->lv[i + 1].d), "..",
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd != -1 && rm_same(fd, l))
		ok = 1;
	else if (fd != -1) {
		close(fd);
		fd = -1;
	}
	for (k = 0; !ok && k <= i; k++) {
		nfd = openat(k == 0 ? w->top : fd, w->lv[k].name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (k > 0)
			close(fd);
		fd = nfd;
		if (fd != -1 && !rm_same(fd, &w->lv[k])) {
			close(fd);
			fd = -1;
			errno = ESTALE;
		}
		if (fd == -1) {
			rm_fail(w, k, w->lv[k].name, errno);
			return -1;
		}
	}
	if ((l->d = fdopendir(fd)) == NULL) {
		rm_fail(w, i, l->name, errno);
		close(fd);
		return -1;
	}
	l->reread = 1;
	w->nopen++;
	return 0;
}

static void
rm_free_level(struct rmlevel *l)
{
	struct rmname *f;

	if (l->d != NULL)
		closedir(l->d);
	while ((f = l->failed) != NULL) {
		l->failed = f->next;
		free(f);
	}
	free(l->name);
}

/* The deepest level is read: remove it from the level above. */
static int
rm_pop(struct rmwalk *w)
{
	struct rmlevel *l = &w->lv[w->n - 1];
	struct rmlevel *p = w->n > 1 ? l - 1 : NULL;

	if (p != NULL && p->d == NULL && rm_reopen(w, w->n - 2) == -1)
		return -1;
	closedir(l->d);
	l->d = NULL;
	w->nopen--;
	if (l->ok) {
		if (unlinkat(p != NULL ? dirfd(p->d) : w->top, l->name,
		    AT_REMOVEDIR) == 0)
			w->st->dirs++;
		else {
			rm_fail(w, w->n - 1, l->name, errno);
			l->ok = 0;
		}
	}
	if (!l->ok && p != NULL)
		rm_remember(w, p, l->name);
	rm_free_level(l);
	w->n--;
	return 0;
}

/* Remove one entry of the deepest level, or go down into it. */
static void
rm_entry(struct rmwalk *w, const struct dirent *de)
{
	struct rmlevel *l = &w->lv[w->n - 1];
	const char *n = de->d_name;
	int fd = dirfd(l->d), dir;
	struct stat sb;

	dir = de->d_type == DT_DIR;
	if (de->d_type == DT_UNKNOWN) {
		if (fstatat(fd, n, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
			rm_fail(w, w->n, n, errno);
			rm_remember(w, l, n);
			return;
		}
		dir = S_ISDIR(sb.st_mode);
	}
	if (!dir) {
		if (unlinkat(fd, n, 0) == 0) {
			w->st->files++;
			return;
		}
		if (errno != EISDIR) {
			rm_fail(w, w->n, n, errno);
			rm_remember(w, l, n);
			return;
		}
	}
	if (rm_push(w, fd, n) == -1) {
		l = &w->lv[w->n - 1];
		rm_fail(w, w->n, n, errno);
		rm_remember(w, l, n);
	}
}

int
zrmtree_at(int dirfd, const char *name, struct zrm_stats *st)
{
	struct zrm_stats local;
	struct rmwalk w;
	struct rmlevel *l;
	struct dirent *de;
	struct stat sb;
	const char *n;

	if (st == NULL)
		st = &local;
	memset(st, 0, sizeof *st);
	memset(&w, 0, sizeof w);
	w.top = dirfd;
	w.st = st;
	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(sb.st_mode)) {
		if (unlinkat(dirfd, name, 0) == -1) {
			rm_fail(&w, 0, name, errno);
			return -1;
		}
		st->files++;
		return 0;
	}
	if (rm_push(&w, dirfd, name) == -1) {
		rm_fail(&w, 0, name, errno);
		free(w.lv);
		errno = st->first_errno;
		return -1;
	}
	while (w.n > 0 && !w.lost) {
		l = &w.lv[w.n - 1];
		if ((errno = 0, de = readdir(l->d)) == NULL) {
			if (errno != 0) {
				rm_fail(&w, w.n - 1, l->name, errno);
				l->ok = 0;
			}
			if (rm_pop(&w) == -1)
				w.lost = 1;
			continue;
		}
		n = de->d_name;
		if ((n[0] == '.' && (n[1] == '\0' ||
		    (n[1] == '.' && n[2] == '\0'))) ||
		    (l->reread && rm_failed_before(l, n)))
			continue;
		rm_entry(&w, de);
	}
	/* Lost: what is still open stays, and says so. */
	while (w.n > 0)
		rm_free_level(&w.lv[--w.n]);
	free(w.lv);
	if (st->first_errno != 0) {
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
