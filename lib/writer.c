/*
 * The writer: files, directories and links made in the staging tree with
 * *at() calls, one component at a time and never through a symlink; data
 * counted as it is written; directories given their modes once the tree is
 * whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extract_int.h"

void
zx_dircache_drop(struct dircache *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->dir[0] = '\0';
}

/*
 * The directory dir (its first len bytes, clean, "" for from itself),
 * opened by walking from the directory from one component at a time
 * without following symlinks; missing ones are made (0700 until
 * zar_finish_dirs()) when create is set.  from stays open.
 */
static int
descend(int from, const char *dir, size_t len, int create)
{
	char buf[PATH_MAX], *p, *s;
	int fd = from, nfd;

	if (len == 0)
		return dup(from);
	if (len >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, dir, len);
	buf[len] = '\0';
	for (p = buf; p != NULL; p = s) {
		if ((s = strchr(p, '/')) != NULL)
			*s++ = '\0';
		nfd = openat(fd, p, DIRFLAGS);
		if (nfd == -1 && errno == ENOENT && create) {
			if (mkdirat(fd, p, 0700) == -1 && errno != EEXIST)
				nfd = -1;
			else
				nfd = openat(fd, p, DIRFLAGS);
		}
		if (fd != from)
			close(fd);
		if (nfd == -1)
			return -1;
		fd = nfd;
	}
	return fd;
}

/* The directory that holds path under base; *basep gets the last name. */
int
zx_walk(int base, const char *path, int create, const char **basep)
{
	const char *s = strrchr(path, '/');

	*basep = s ? s + 1 : path;
	return descend(base, path, s ? (size_t)(s - path) : 0, create);
}

/*
 * The parent of path under base, from the one-entry cache c; made on the
 * way when create is set.  *basep is set to the last component.  From the
 * cached directory it goes up with ".." to what both paths share, then
 * down: walking from base each time would cost the whole depth for every
 * entry, quadratic in a deep tree.  ".." is safe in these trees: every
 * directory was opened without following a symlink, and only this run
 * moves anything in them.
 */
int
zx_cached_parent(struct dircache *c, int base, int create, const char *path,
    const char **basep)
{
	const char *s = strrchr(path, '/');
	size_t n = s ? (size_t)(s - path) : 0, cl, i, common = 0, up = 0;
	int fd, nfd;

	*basep = s ? s + 1 : path;
	cl = strlen(c->dir);
	if (c->fd != -1 && cl == n && strncmp(c->dir, path, n) == 0)
		return c->fd;
	fd = -1;
	if (c->fd != -1) {
		for (i = 0; i < cl && i < n && c->dir[i] == path[i];)
			if (++i, (i == cl || c->dir[i] == '/') &&
			    (i == n || path[i] == '/'))
				common = i;
		for (i = common; i < cl; i++)
			up += c->dir[i] == '/';
		up += common == 0 && cl > 0;
		fd = c->fd;
		c->fd = -1;
		while (up-- > 0 && fd != -1) {
			nfd = openat(fd, "..", DIRFLAGS);
			close(fd);
			fd = nfd;
		}
		if (fd != -1) {
			if (common < n && path[common] == '/')
				common++;
			nfd = descend(fd, path + common, n - common, create);
			close(fd);
			fd = nfd;
		}
	}
	zx_dircache_drop(c);
	if (fd == -1 && (fd = descend(base, path, n, create)) == -1)
		return -1;
	c->fd = fd;
	memcpy(c->dir, path, n);
	c->dir[n] = '\0';
	return c->fd;
}

/* The parent of path in the staging tree. */
int
zx_parent(struct zar *z, const char *path, const char **basep)
{
	return zx_cached_parent(&z->wr, z->dirfd, 1, path, basep);
}


/* The next block of an entry's data: 1, or 0 at its end, -1 on error. */
static int
next_block(struct zar *z, struct source *src, const void **buf, size_t *len,
    int64_t *off)
{
	ssize_t n;

	if (src->q != NULL)
		return zx_zip_block(z, src->q, buf, len, off);
	if (src->a == NULL && src->fd == -1)
		return 0;	/* a directory or a link being copied */
	if (src->a != NULL) {
		la_int64_t o;
		int rc = archive_read_data_block(src->a, buf, len, &o);

		if (rc == ARCHIVE_EOF)
			return 0;
		if (rc != ARCHIVE_OK) {
			zx_fail(z, 0, "corrupt or truncated archive in entry "
			    "'%s': %s", z->last, archive_error_string(src->a));
			return -1;
		}
		*off = o;
		return 1;
	}
	n = read(src->fd, src->buf, src->bufsize);
	if (n == -1) {
		zx_fail(z, errno, "cannot read %s", z->last);
		return -1;
	}
	if (src->sha != NULL)
		(void)zdigest_update(src->sha, src->buf, (size_t)n);
	*buf = src->buf;
	*len = (size_t)n;
	*off = src->off;
	src->off += n;
	return n > 0;
}

/* pwrite(2) of all of buf, however many calls that takes. */
static int
write_all(int fd, const void *buf, size_t len, int64_t off)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = pwrite(fd, p, len, (off_t)off)) <= 0) {
			if (n == 0)
				errno = EIO;
			if (n == -1 && errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
copy_prefix(int from, int to, uint64_t n)
{
	char buf[65536];
	off_t o = 0;
	ssize_t r;

	while ((uint64_t)o < n) {
		size_t want = n - (uint64_t)o < sizeof buf ?
		    (size_t)(n - (uint64_t)o) : sizeof buf;
		if ((r = pread(from, buf, want, o)) <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		if (write_all(to, buf, (size_t)r, o) == -1)
			return -1;
		o += r;
	}
	return 0;
}

/* Drain an entry's data unread, still counting it. */
int
zx_skip_data(struct zar *z, struct source *src)
{
	const void *buf;
	size_t len;
	int64_t off;
	int rc;

	while ((rc = next_block(z, src, &buf, &len, &off)) == 1) {
		if (z->o.stop != NULL && *z->o.stop)
			return zx_fail(z, EINTR, "interrupted");
		/* Data read past is work done all the same: bounded too. */
		z->skipped += len;
		if (z->st.bytes + z->skipped > z->o.max_bytes)
			return zx_fail(z, 0, "entry '%s': the artifact expands "
			    "past %llu bytes", z->last,
			    (unsigned long long)z->o.max_bytes);
	}
	return rc;
}

int
zx_write_file(struct zar *z, const char *path, const struct ent *e,
    struct source *src)
{
	const void *buf;
	size_t len;
	int64_t off;
	uint64_t end = 0, matched = 0;
	const char *base;
	mode_t mode = e->mode & 0777;
	int pfd = -1, fd = -1, old = -1, rc, same;
	struct stat sb;

	if (z->dirfd != -1 && (pfd = zx_parent(z, path, &base)) == -1)
		return zx_fail(z, errno, "cannot create the directory of %s",
		    path);
	if (z->dirfd != -1)
		old = zx_dedupe_open(z, path, e, &sb);
	while ((rc = next_block(z, src, &buf, &len, &off)) == 1) {
		if (z->o.stop != NULL && *z->o.stop) {
			rc = zx_fail(z, EINTR, "interrupted");
			break;
		}
		if (len == 0)
			continue;
		if (off < 0 || (uint64_t)off + len > end) {
			uint64_t grown = (uint64_t)off + len - end;
			if (off < 0 ||
			    z->st.bytes + z->skipped + grown > z->o.max_bytes ||
			    z->st.bytes + grown < z->st.bytes) {
				rc = zx_fail(z, 0, "entry '%s': the artifact "
				    "expands past %llu bytes", path,
				    (unsigned long long)z->o.max_bytes);
				break;
			}
			z->st.bytes += grown;
			end = (uint64_t)off + len;
		}
		if (z->dirfd == -1)
			continue;
		if (old != -1) {
			if ((same = zx_dedupe_same(z, old, buf, len, off,
			    &matched)) == -1) {
				rc = -1;
				break;
			}
			if (same)
				continue;
		}
		if (fd == -1) {
			fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL |
			    O_NOFOLLOW | O_CLOEXEC, 0600);
			if (fd == -1) {
				rc = zx_fail(z, errno, "cannot create %s",
				    path);
				break;
			}
			/* The content diverged: what matched is old's. */
			if (old != -1 && copy_prefix(old, fd, matched) == -1) {
				rc = zx_fail(z, errno, "cannot write %s", path);
				break;
			}
		}
		if (old != -1) {
			close(old);
			old = -1;
		}
		if (write_all(fd, buf, len, off) == -1) {
			rc = zx_fail(z, errno, "cannot write %s", path);
			break;
		}
		if (z->o.progress != NULL)
			z->o.progress(&z->st, z->o.progress_arg);
	}
	if (rc == 0 && e->sparse && e->size > 0 && (uint64_t)e->size > end) {
		uint64_t grown = (uint64_t)e->size - end;
		if (z->st.bytes + grown > z->o.max_bytes)
			rc = zx_fail(z, 0,
			    "entry '%s': the artifact expands past "
			    "%llu bytes", path,
			    (unsigned long long)z->o.max_bytes);
		else {
			z->st.bytes += grown;
			end = (uint64_t)e->size;
		}
	}
	if (rc == 0 && z->dirfd != -1 && fd == -1) {
		fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd == -1)
			rc = zx_fail(z, errno, "cannot create %s", path);
		else if (old != -1 && (uint64_t)sb.st_size == matched &&
		    zx_clone_old(z, old, fd) == 0) {
			z->st.deduped++;
			z->st.deduped_bytes += matched;
		} else if (old != -1 && copy_prefix(old, fd, matched) == -1)
			rc = zx_fail(z, errno, "cannot write %s", path);
	}
	if (old != -1)
		close(old);
	if (rc == 0 && fd != -1) {
		struct timespec ts[2] = { { 0, UTIME_OMIT }, e->mtime };

		/* Only a sparse file can end in a hole that needs it. */
		if ((e->sparse && ftruncate(fd, (off_t)end) == -1) ||
		    fchmod(fd, mode) == -1 ||
		    futimens(fd, ts) == -1)
			rc = zx_fail(z, errno, "cannot write %s", path);
	}
	if (fd != -1 && close(fd) == -1 && rc == 0)
		rc = zx_fail(z, errno, "cannot write %s", path);
	return rc;
}

/*
 * A hard link that carries the data of its file (cpio's newc puts it on
 * the last name of the group; the others came as empty links).  Write it
 * as a new file, then point every other name of the group at it, rather
 * than write through the group's inode, which --dedupe may share with an
 * older release.
 */
int
zx_link_data(struct zar *z, size_t ni, const struct ent *e, mode_t mode,
    struct source *src)
{
	struct ent f = *e;
	const char *base, *mbase;
	size_t j;
	int pfd, mfd, bad;

	f.type = ZAR_FILE;
	f.mode = mode;
	if (zx_write_file(z, z->nodes[ni].path, &f, src) == -1)
		return -1;
	if (z->dirfd == -1)
		return 0;
	for (j = z->nodes[ni].ring; j != ni; j = z->nodes[j].ring) {
		const char *m = z->nodes[j].path;

		if (z->nodes[j].type != ZAR_FILE)
			continue;	/* forgotten since */
		if ((mfd = zx_walk(z->dirfd, m, 0, &mbase)) == -1)
			return zx_fail(z, errno, "cannot link %s", m);
		pfd = zx_parent(z, z->nodes[ni].path, &base);
		bad = pfd == -1 || unlinkat(mfd, mbase, 0) == -1 ||
		    linkat(pfd, base, mfd, mbase, 0) == -1;
		close(mfd);
		if (bad)
			return zx_fail(z, errno, "cannot link %s", m);
	}
	return 0;
}

int
zar_finish_dirs(struct zar *z)
{
	const char *base;
	size_t i;
	int pfd, fd, rc, e;

	if (z->dirfd == -1)
		return 0;
	/*
	 * Directories were made 0700 so that nothing could be added to
	 * them from outside and so that a read-only one could still be
	 * filled; now they get their own modes and times.  A parent is
	 * always added before its children, so walking backwards changes
	 * every child before a parent can lose its search bit.
	 */
	for (i = z->nnodes; i-- > 0;) {
		struct node *nd = &z->nodes[i];
		struct timespec ts[2] = { { 0, UTIME_OMIT }, nd->mtime };

		if (nd->type != ZAR_DIR)
			continue;
		/* Through a descriptor: fchmodat() would follow a symlink. */
		if ((pfd = zx_parent(z, nd->path, &base)) == -1 ||
		    (fd = openat(pfd, base, DIRFLAGS)) == -1)
			return zx_fail(z, errno, "cannot open %s", nd->path);
		rc = fchmod(fd, nd->mode & 0777) == -1 ||
		    (nd->mtime.tv_nsec != UTIME_OMIT && futimens(fd, ts) == -1);
		e = errno;
		close(fd);
		if (rc)
			return zx_fail(z, e, "cannot set the mode of %s",
			    nd->path);
	}
	return 0;
}
