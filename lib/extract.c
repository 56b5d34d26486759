/*
 * Extraction of untrusted artifacts: the entry policy and the writer.
 * Each entry is cleaned and checked against a hash table of every path
 * made so far (its type, and a symlink's target) before anything touches
 * the disk; the disk is then changed only with *at() calls relative to
 * the staging directory, one component at a time and never following a
 * symlink, so that even a policy bug cannot write outside it.  Data bytes
 * are counted as they are expanded, not as headers declare them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include <linux/fs.h>

#include <archive.h>
#include <archive_entry.h>

#include "digest.h"
#include "extract.h"
#include "text.h"

#define DIRFLAGS	(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define MAXLINKS	40	/* symlink expansions, as the kernel allows */

struct node {
	char	*path;
	char	*target;	/* symlinks */
	uint32_t hash;
	int	 type;		/* ZAR_DIR, ZAR_FILE, ZAR_SYMLINK */
	size_t	 ring;		/* next name of the same file (hard links) */
	mode_t	 mode;
	struct timespec mtime;
};

/* Where an entry's data comes from: an archive or a file being copied. */
struct source {
	struct archive *a;
	int	 fd;
	char	*buf;
	size_t	 bufsize;
	int64_t	 off;		/* of the next read() from fd */
	struct zdigest *sha;	/* of every byte read from fd, or NULL */
};

struct ent {
	const char *name;	/* as the archive spells it */
	int	 type;		/* ZAR_*, or 'h' for a hard link */
	mode_t	 mode;
	struct timespec mtime;	/* tv_nsec UTIME_OMIT when unknown */
	int64_t	 size;		/* -1 when unknown */
	int	 sparse;
	const char *link;	/* symlink target or hard link target */
};

/* A directory kept open by its path, for the next entry in the same one. */
struct dircache {
	char	 dir[PATH_MAX];
	int	 fd;		/* -1: none */
};

struct zar {
	struct zar_opts o;
	int	 dirfd;
	struct node *nodes;
	size_t	 nnodes, capnodes;
	size_t	*table;		/* index + 1 into nodes; 0: empty */
	size_t	 tabsize;
	struct zar_stats st;
	char	 err[600];
	int	 eno;
	int	 notarchive;	/* the input is no archive at all */
	int	 noclone;	/* FICLONE failed: no reflinks here */
	uint64_t skipped;	/* data bytes read past, not written */
	char	 last[PATH_MAX];	/* the last entry's cleaned path */
	/* The parent directory last written into, and in the dedupe tree. */
	struct dircache wr, dd;
	unsigned char *cmp;
	size_t	 cmpsize;
};

static void
dircache_drop(struct dircache *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->dir[0] = '\0';
}

static int
fail(struct zar *z, int eno, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(z->err, sizeof z->err, fmt, ap);
	va_end(ap);
	z->eno = eno;
	return -1;
}

/* An entry name fit for one line of stderr, through the one sanitiser. */
static const char *
shown(const char *name, char *buf, size_t size)
{
	return ztext_clean(name, strlen(name), buf, size);
}

static int
refuse(struct zar *z, const char *name, const char *why, const char *more)
{
	char b[160];

	return fail(z, 0, "entry '%s': %s%s%s", shown(name, b, sizeof b), why,
	    more ? " " : "", more ? more : "");
}

int
zar_clean_path(const char *in, unsigned strip, char *out, size_t size,
    const char **why)
{
	const char *p = in, *c;
	size_t n, len = 0;
	unsigned skipped = 0;

	if (strlen(in) >= PATH_MAX) {
		*why = "name longer than PATH_MAX";
		return -1;
	}
	if (in[0] == '/') {
		*why = "absolute path";
		return -1;
	}
	while (*p != '\0') {
		for (c = p; *c != '\0' && *c != '/'; c++)
			;
		n = (size_t)(c - p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			*why = "path with a '..' component";
			return -1;
		}
		if (n > NAME_MAX) {
			*why = "name component longer than NAME_MAX";
			return -1;
		}
		if (n == 0 || (n == 1 && p[0] == '.'))
			;
		else if (skipped < strip)
			skipped++;
		else {
			if (len + n + 2 > size) {
				*why = "name too long";
				return -1;
			}
			if (len > 0)
				out[len++] = '/';
			memcpy(out + len, p, n);
			len += n;
		}
		p = *c ? c + 1 : c;
	}
	out[len] = '\0';
	return len > 0;
}

/* FNV-1a, which extends a prefix's hash one byte at a time. */
#define HASH_INIT	2166136261u
#define HASH_STEP(h, c)	(((h) ^ (unsigned char)(c)) * 16777619u)

static uint32_t
hash(const char *s, size_t n)
{
	uint32_t h = HASH_INIT;

	while (n-- > 0)
		h = HASH_STEP(h, *s++);
	return h;
}

/* path's first len bytes, whose hash h the caller has. */
static struct node *
lookup_h(struct zar *z, const char *path, size_t len, uint32_t h)
{
	size_t i, k;

	if (z->tabsize == 0)
		return NULL;
	for (i = h & (z->tabsize - 1); (k = z->table[i]) != 0;
	    i = (i + 1) & (z->tabsize - 1)) {
		struct node *nd = &z->nodes[k - 1];
		if (nd->hash == h && strncmp(nd->path, path, len) == 0 &&
		    nd->path[len] == '\0')
			return nd;
	}
	return NULL;
}

static struct node *
lookup(struct zar *z, const char *path)
{
	size_t n = strlen(path);

	return lookup_h(z, path, n, hash(path, n));
}

static int
grow(struct zar *z)
{
	size_t nsize = z->tabsize ? z->tabsize * 2 : 1024, i, j;
	size_t *nt = calloc(nsize, sizeof *nt);

	if (nt == NULL)
		return -1;
	for (i = 0; i < z->nnodes; i++) {
		if (z->nodes[i].path == NULL)
			continue;
		for (j = z->nodes[i].hash & (nsize - 1); nt[j] != 0;
		    j = (j + 1) & (nsize - 1))
			;
		nt[j] = i + 1;
	}
	free(z->table);
	z->table = nt;
	z->tabsize = nsize;
	return 0;
}

static struct node *
add(struct zar *z, const char *path, int type, mode_t mode,
    const struct timespec *mtime, const char *target)
{
	struct node *nd;
	size_t i;

	if (z->nnodes == z->capnodes) {
		size_t ncap = z->capnodes ? z->capnodes * 2 : 256;
		struct node *nv = realloc(z->nodes, ncap * sizeof *nv);
		if (nv == NULL)
			return NULL;
		z->nodes = nv;
		z->capnodes = ncap;
	}
	if ((z->nnodes + 1) * 2 > z->tabsize && grow(z) == -1)
		return NULL;
	nd = &z->nodes[z->nnodes];
	memset(nd, 0, sizeof *nd);
	if ((nd->path = strdup(path)) == NULL)
		return NULL;
	if (target != NULL && (nd->target = strdup(target)) == NULL) {
		free(nd->path);
		nd->path = NULL;
		return NULL;
	}
	nd->hash = hash(path, strlen(path));
	nd->type = type;
	nd->ring = z->nnodes;
	nd->mode = mode;
	nd->mtime = *mtime;
	for (i = nd->hash & (z->tabsize - 1); z->table[i] != 0;
	    i = (i + 1) & (z->tabsize - 1))
		;
	z->table[i] = ++z->nnodes;
	return nd;
}

int
zar_lookup(struct zar *z, const char *path)
{
	struct node *nd = lookup(z, path);

	return nd ? nd->type : ZAR_NONE;
}

void
zar_forget(struct zar *z, const char *path)
{
	size_t n = strlen(path), i;

	/*
	 * Forgotten nodes keep their slot in the table, renamed to a name
	 * no clean path can have, so that probing chains stay intact.
	 */
	for (i = 0; i < z->nnodes; i++) {
		char *p = z->nodes[i].path;
		if (p == NULL || strncmp(p, path, n) != 0 ||
		    (p[n] != '\0' && p[n] != '/'))
			continue;
		p[0] = '/';
		z->nodes[i].type = ZAR_NONE;
	}
	if (strncmp(z->wr.dir, path, n) == 0)
		dircache_drop(&z->wr);
}

int
zar_link_inside(struct zar *z, const char *path, const char *target,
    const char **why)
{
	char cur[PATH_MAX], rest[4 * PATH_MAX], tmp[4 * PATH_MAX];
	/* hs[d]: the hash of cur's first d components, so that each step
	 * costs its own component, not the whole path again. */
	uint32_t hs[PATH_MAX / 2 + 1], h;
	size_t clen, n, d, i;
	const char *p, *c;
	int expansions = 0;
	struct node *nd;

	if (target[0] == '\0') {
		*why = "symlink with an empty target";
		return -1;
	}
	if (target[0] == '/') {
		*why = "symlink to an absolute path";
		return -1;
	}
	if (strlen(target) >= PATH_MAX) {
		*why = "symlink target longer than PATH_MAX";
		return -1;
	}
	/* Start in the link's directory; resolve the rest a component at a
	 * time, splicing in the target of every symlink met on the way. */
	snprintf(cur, sizeof cur, "%s", path);
	c = strrchr(cur, '/');
	clen = c ? (size_t)(c - cur) : 0;
	cur[clen] = '\0';
	hs[0] = h = HASH_INIT;
	for (i = d = 0; i <= clen && clen > 0; i++) {
		if (i == clen || cur[i] == '/')
			hs[++d] = h;
		h = HASH_STEP(h, i < clen ? cur[i] : '/');
	}
	snprintf(rest, sizeof rest, "%s", target);
	p = rest;
	while (*p != '\0') {
		for (c = p; *c != '\0' && *c != '/'; c++)
			;
		n = (size_t)(c - p);
		if (n == 0 || (n == 1 && p[0] == '.'))
			;
		else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (clen == 0) {
				*why = "symlink that resolves outside the "
				    "release";
				return -1;
			}
			while (clen > 0 && cur[clen] != '/')
				clen--;
			cur[clen] = '\0';
			d--;
		} else {
			size_t prev = clen;

			if (clen + n + 2 > sizeof cur) {
				*why = "symlink that resolves to a name too "
				    "long";
				return -1;
			}
			h = hs[d];
			if (clen > 0) {
				cur[clen++] = '/';
				h = HASH_STEP(h, '/');
			}
			memcpy(cur + clen, p, n);
			cur[clen + n] = '\0';
			for (i = 0; i < n; i++)
				h = HASH_STEP(h, p[i]);
			nd = lookup_h(z, cur, clen + n, h);
			if (nd != NULL && nd->type == ZAR_SYMLINK) {
				if (++expansions > MAXLINKS) {
					*why = "symlink loop";
					return -1;
				}
				if (nd->target[0] == '/') {
					*why = "symlink that resolves outside "
					    "the release";
					return -1;
				}
				/* Drop the link's name, go on from its target. */
				clen = prev;
				cur[clen] = '\0';
				n = (size_t)snprintf(tmp, sizeof tmp, "%s/%s",
				    nd->target, *c ? c + 1 : "");
				if (n >= sizeof tmp) {
					*why = "symlink chain too long";
					return -1;
				}
				memcpy(rest, tmp, strlen(tmp) + 1);
				p = rest;
				continue;
			}
			clen += n;
			hs[++d] = h;
		}
		p = *c ? c + 1 : c;
	}
	return 0;
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
static int
walk(int base, const char *path, int create, const char **basep)
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
static int
cached_parent(struct dircache *c, int base, int create, const char *path,
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
	dircache_drop(c);
	if (fd == -1 && (fd = descend(base, path, n, create)) == -1)
		return -1;
	c->fd = fd;
	memcpy(c->dir, path, n);
	c->dir[n] = '\0';
	return c->fd;
}

/* The parent of path in the staging tree. */
static int
parent(struct zar *z, const char *path, const char **basep)
{
	return cached_parent(&z->wr, z->dirfd, 1, path, basep);
}

/* The same in the dedupe tree; never creates anything. */
static int
dparent(struct zar *z, const char *path, const char **basep)
{
	return cached_parent(&z->dd, z->o.dedupe_fd, 0, path, basep);
}

struct zar *
zar_new(int dirfd, const struct zar_opts *o)
{
	struct zar *z = calloc(1, sizeof *z);

	if (z == NULL)
		return NULL;
	z->o = *o;
	if (z->o.max_bytes == 0)
		z->o.max_bytes = UINT64_MAX;
	if (z->o.max_files == 0)
		z->o.max_files = UINT64_MAX;
	if (z->o.max_depth == 0)
		z->o.max_depth = UINT_MAX;
	if (dirfd == -1)
		z->o.dedupe_fd = -1;
	z->dirfd = dirfd;
	z->wr.fd = z->dd.fd = -1;
	return z;
}

void
zar_free(struct zar *z)
{
	size_t i;

	if (z == NULL)
		return;
	for (i = 0; i < z->nnodes; i++) {
		free(z->nodes[i].path);
		free(z->nodes[i].target);
	}
	free(z->nodes);
	free(z->table);
	free(z->cmp);
	dircache_drop(&z->wr);
	dircache_drop(&z->dd);
	free(z);
}

const struct zar_stats *
zar_stats(const struct zar *z)
{
	return &z->st;
}

int
zar_no_reflinks(const struct zar *z)
{
	return z->noclone;
}

const char *
zar_error(const struct zar *z)
{
	return z->err;
}

int
zar_not_archive(const struct zar *z)
{
	return z->notarchive;
}

int
zar_errno(const struct zar *z)
{
	return z->eno;
}

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

/* The next block of an entry's data: 1, or 0 at its end, -1 on error. */
static int
next_block(struct zar *z, struct source *src, const void **buf, size_t *len,
    int64_t *off)
{
	ssize_t n;

	if (src->a == NULL && src->fd == -1)
		return 0;	/* a directory or a link being copied */
	if (src->a != NULL) {
		la_int64_t o;
		int rc = archive_read_data_block(src->a, buf, len, &o);

		if (rc == ARCHIVE_EOF)
			return 0;
		if (rc != ARCHIVE_OK) {
			fail(z, 0, "corrupt or truncated archive in entry "
			    "'%s': %s", z->last, archive_error_string(src->a));
			return -1;
		}
		*off = o;
		return 1;
	}
	n = read(src->fd, src->buf, src->bufsize);
	if (n == -1) {
		fail(z, errno, "cannot read %s", z->last);
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

/*
 * Make the new file fd share old's blocks copy-on-write (a reflink, on
 * btrfs, XFS and the like): equal content, its own inode, so that a write
 * into either file, by anyone, root included, never shows in the other.
 * -1 where the file system cannot; then the file is written instead, and
 * no later file tries again.  Hard links are never used: two releases
 * sharing an inode would let a deploy hook that writes into the new one
 * change the live one.
 */
static int
clone_old(struct zar *z, int old, int fd)
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

static int
write_file(struct zar *z, const char *path, const struct ent *e,
    struct source *src)
{
	const void *buf;
	size_t len;
	int64_t off;
	uint64_t end = 0, matched = 0;
	const char *base, *obase;
	mode_t mode = e->mode & 0777;
	int pfd = -1, fd = -1, old = -1, rc;
	struct stat sb;

	if (z->dirfd != -1 && (pfd = parent(z, path, &base)) == -1)
		return fail(z, errno, "cannot create the directory of %s",
		    path);
	if (z->o.dedupe_fd != -1 && !z->noclone && !e->sparse &&
	    !kept(z, path)) {
		int dfd = dparent(z, path, &obase);
		if (dfd != -1)
			old = openat(dfd, obase,
			    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (old != -1 && (fstat(old, &sb) == -1 ||
		    !S_ISREG(sb.st_mode) ||
		    (e->size >= 0 && sb.st_size != e->size))) {
			close(old);
			old = -1;
		}
	}
	while ((rc = next_block(z, src, &buf, &len, &off)) == 1) {
		if (z->o.stop != NULL && *z->o.stop) {
			rc = fail(z, EINTR, "interrupted");
			break;
		}
		if (len == 0)
			continue;
		if (off < 0 || (uint64_t)off + len > end) {
			uint64_t grown = (uint64_t)off + len - end;
			if (off < 0 || z->st.bytes + z->skipped + grown >
			    z->o.max_bytes || z->st.bytes + grown < z->st.bytes) {
				rc = fail(z, 0, "entry '%s': the artifact "
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
			if (len > z->cmpsize) {
				unsigned char *nb = realloc(z->cmp, len);
				if (nb == NULL) {
					rc = fail(z, ENOMEM, "out of memory");
					break;
				}
				z->cmp = nb;
				z->cmpsize = len;
			}
			if ((uint64_t)off == matched &&
			    pread(old, z->cmp, len, off) == (ssize_t)len &&
			    memcmp(z->cmp, buf, len) == 0) {
				matched += len;
				continue;
			}
		}
		if (fd == -1) {
			fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL |
			    O_NOFOLLOW | O_CLOEXEC, 0600);
			if (fd == -1) {
				rc = fail(z, errno, "cannot create %s", path);
				break;
			}
			/* The content diverged: what matched is old's. */
			if (old != -1 && copy_prefix(old, fd, matched) == -1) {
				rc = fail(z, errno, "cannot write %s", path);
				break;
			}
		}
		if (old != -1) {
			close(old);
			old = -1;
		}
		if (write_all(fd, buf, len, off) == -1) {
			rc = fail(z, errno, "cannot write %s", path);
			break;
		}
	}
	if (rc == 0 && e->sparse && e->size > 0 && (uint64_t)e->size > end) {
		uint64_t grown = (uint64_t)e->size - end;
		if (z->st.bytes + grown > z->o.max_bytes)
			rc = fail(z, 0, "entry '%s': the artifact expands past "
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
			rc = fail(z, errno, "cannot create %s", path);
		else if (old != -1 && (uint64_t)sb.st_size == matched &&
		    clone_old(z, old, fd) == 0) {
			z->st.deduped++;
			z->st.deduped_bytes += matched;
		} else if (old != -1 && copy_prefix(old, fd, matched) == -1)
			rc = fail(z, errno, "cannot write %s", path);
	}
	if (old != -1)
		close(old);
	if (rc == 0 && fd != -1) {
		struct timespec ts[2] = { { 0, UTIME_OMIT }, e->mtime };

		/* Only a sparse file can end in a hole that needs it. */
		if ((e->sparse && ftruncate(fd, (off_t)end) == -1) ||
		    fchmod(fd, mode) == -1 ||
		    futimens(fd, ts) == -1)
			rc = fail(z, errno, "cannot write %s", path);
	}
	if (fd != -1 && close(fd) == -1 && rc == 0)
		rc = fail(z, errno, "cannot write %s", path);
	return rc;
}

/* Drain an entry's data unread, still counting it. */
static int
skip_data(struct zar *z, struct source *src)
{
	const void *buf;
	size_t len;
	int64_t off;
	int rc;

	while ((rc = next_block(z, src, &buf, &len, &off)) == 1) {
		if (z->o.stop != NULL && *z->o.stop)
			return fail(z, EINTR, "interrupted");
		/* Data read past is work done all the same: bounded too. */
		z->skipped += len;
		if (z->st.bytes + z->skipped > z->o.max_bytes)
			return fail(z, 0, "entry '%s': the artifact expands "
			    "past %llu bytes", z->last,
			    (unsigned long long)z->o.max_bytes);
	}
	return rc;
}

static const char *
type_name(mode_t t)
{
	switch (t) {
	case AE_IFCHR:	return "character device";
	case AE_IFBLK:	return "block device";
	case AE_IFIFO:	return "FIFO";
	case AE_IFSOCK:	return "socket";
	default:	return "file of an unknown type";
	}
}

/*
 * A hard link that carries the data of its file (cpio's newc puts it on
 * the last name of the group; the others came as empty links).  Write it
 * as a new file, then point every other name of the group at it, rather
 * than write through the group's inode, which --dedupe may share with an
 * older release.
 */
static int
link_data(struct zar *z, size_t ni, const struct ent *e, mode_t mode,
    struct source *src)
{
	struct ent f = *e;
	const char *base, *mbase;
	size_t j;
	int pfd, mfd, bad;

	f.type = ZAR_FILE;
	f.mode = mode;
	if (write_file(z, z->nodes[ni].path, &f, src) == -1)
		return -1;
	if (z->dirfd == -1)
		return 0;
	for (j = z->nodes[ni].ring; j != ni; j = z->nodes[j].ring) {
		const char *m = z->nodes[j].path;

		if (z->nodes[j].type != ZAR_FILE)
			continue;	/* forgotten since */
		if ((mfd = walk(z->dirfd, m, 0, &mbase)) == -1)
			return fail(z, errno, "cannot link %s", m);
		pfd = parent(z, z->nodes[ni].path, &base);
		bad = pfd == -1 || unlinkat(mfd, mbase, 0) == -1 ||
		    linkat(pfd, base, mfd, mbase, 0) == -1;
		close(mfd);
		if (bad)
			return fail(z, errno, "cannot link %s", m);
	}
	return 0;
}

static int
past_max_files(struct zar *z, const char *name)
{
	char n[64];

	snprintf(n, sizeof n, "%llu entries",
	    (unsigned long long)z->o.max_files);
	return refuse(z, name, "is past the limit of", n);
}

/* Check one entry against the policy and the tree so far; then make it. */
static int
entry(struct zar *z, const struct ent *e, struct source *src)
{
	char path[PATH_MAX], tpath[PATH_MAX];
	const char *why, *base, *tbase;
	struct node *nd, *tn;
	size_t i, ti, ni, depth;
	uint32_t h;
	mode_t mode;
	int rc, pfd, tfd;

	if (z->o.stop != NULL && *z->o.stop)
		return fail(z, EINTR, "interrupted");
	rc = zar_clean_path(e->name, z->o.strip, path, sizeof path, &why);
	if (rc == -1)
		return refuse(z, e->name, why, NULL);
	if (rc == 0)
		return skip_data(z, src);
	snprintf(z->last, sizeof z->last, "%s", path);
	for (i = 0, depth = 1; path[i] != '\0'; i++)
		depth += path[i] == '/';
	if (depth > z->o.max_depth) {
		snprintf(tpath, sizeof tpath, "%u", z->o.max_depth);
		return refuse(z, e->name, "is more names deep than the limit "
		    "of", tpath);
	}
	if (++z->st.entries > z->o.max_files)
		return past_max_files(z, e->name);
	/*
	 * Every directory on the way must be a real one, made by us; each
	 * one the path makes counts as an entry.
	 */
	for (i = 0, h = HASH_INIT; path[i] != '\0'; h = HASH_STEP(h, path[i]),
	    i++) {
		if (path[i] != '/')
			continue;
		nd = lookup_h(z, path, i, h);
		if (nd == NULL) {
			struct timespec now = { 0, UTIME_OMIT };

			if (++z->st.entries > z->o.max_files)
				return past_max_files(z, e->name);
			path[i] = '\0';
			nd = add(z, path, ZAR_DIR, 0755, &now, NULL);
			path[i] = '/';
			if (nd == NULL)
				return fail(z, ENOMEM, "out of memory");
			z->st.dirs++;
		} else if (nd->type == ZAR_SYMLINK) {
			path[i] = '\0';
			rc = refuse(z, e->name, "is written through the "
			    "symlink", path);
			return rc;
		} else if (nd->type != ZAR_DIR) {
			path[i] = '\0';
			if (snprintf(tpath, sizeof tpath, "%s, which is not "
			    "a directory", path) < 0)
				tpath[0] = '\0';
			return refuse(z, e->name, "is written under", tpath);
		}
	}
	if ((nd = lookup(z, path)) != NULL) {
		if (nd->type == ZAR_DIR && e->type == ZAR_DIR) {
			nd->mode = e->mode & 0777;
			nd->mtime = e->mtime;
			return skip_data(z, src);
		}
		return refuse(z, e->name, "appears twice in the artifact",
		    NULL);
	}
	switch (e->type) {
	case ZAR_DIR:
		if (add(z, path, ZAR_DIR, e->mode & 0777, &e->mtime,
		    NULL) == NULL)
			return fail(z, ENOMEM, "out of memory");
		z->st.dirs++;
		if (z->dirfd != -1) {
			if ((pfd = parent(z, path, &base)) == -1 ||
			    (mkdirat(pfd, base, 0700) == -1 &&
			    errno != EEXIST))
				return fail(z, errno, "cannot create %s", path);
		}
		return skip_data(z, src);
	case ZAR_SYMLINK:
		if (zar_link_inside(z, path, e->link, &why) == -1)
			return refuse(z, e->name, "is a", why);
		if (add(z, path, ZAR_SYMLINK, 0777, &e->mtime,
		    e->link) == NULL)
			return fail(z, ENOMEM, "out of memory");
		z->st.symlinks++;
		if (z->dirfd != -1) {
			if ((pfd = parent(z, path, &base)) == -1 ||
			    symlinkat(e->link, pfd, base) == -1)
				return fail(z, errno, "cannot create %s", path);
		}
		return skip_data(z, src);
	case 'h':
		rc = zar_clean_path(e->link, z->o.strip, tpath, sizeof tpath,
		    &why);
		if (rc != 1)
			return refuse(z, e->name, "is a hard link whose target "
			    "is a", rc == 0 ? "stripped path" : why);
		tn = lookup(z, tpath);
		if (tn == NULL || tn->type != ZAR_FILE)
			return refuse(z, e->name, "is a hard link to a name "
			    "that is no file of the artifact:", tpath);
		/* Indexes, not pointers: add() may move the nodes. */
		ti = (size_t)(tn - z->nodes);
		mode = tn->mode;
		if ((nd = add(z, path, ZAR_FILE, mode, &e->mtime,
		    NULL)) == NULL)
			return fail(z, ENOMEM, "out of memory");
		ni = (size_t)(nd - z->nodes);
		nd->ring = z->nodes[ti].ring;
		z->nodes[ti].ring = ni;
		z->st.files++;
		if (e->size > 0)
			return link_data(z, ni, e, mode, src);
		if (z->dirfd != -1) {
			if ((tfd = walk(z->dirfd, tpath, 0, &tbase)) == -1)
				return fail(z, errno, "cannot link %s", path);
			pfd = parent(z, path, &base);
			rc = pfd == -1 ||
			    linkat(tfd, tbase, pfd, base, 0) == -1;
			close(tfd);
			if (rc)
				return fail(z, errno, "cannot link %s", path);
		}
		return skip_data(z, src);
	case ZAR_FILE:
		if (add(z, path, ZAR_FILE, e->mode & 0777, &e->mtime,
		    NULL) == NULL)
			return fail(z, ENOMEM, "out of memory");
		z->st.files++;
		return write_file(z, path, e, src);
	default:
		return refuse(z, e->name, "is a", type_name((mode_t)e->type));
	}
}

/* The input of an archive: a file descriptor hashed as it is read. */
struct input {
	struct zar *z;
	int	 fd;
	struct zdigest *sha;
	int	 hashed;	/* the digest was taken beforehand */
	size_t	 pending;	/* bytes of buf read ahead, not yet given */
	char	 buf[128 * 1024];
	int	 eno;
};

static la_ssize_t
input_read(struct archive *a, void *arg, const void **buf)
{
	struct input *in = arg;
	ssize_t n;

	(void)a;
	if (in->z->o.stop != NULL && *in->z->o.stop) {
		in->eno = EINTR;
		return -1;
	}
	if (in->pending > 0) {
		n = (ssize_t)in->pending;
		in->pending = 0;
		*buf = in->buf;
		return n;
	}
	do
		n = read(in->fd, in->buf, sizeof in->buf);
	while (n == -1 && errno == EINTR && !(in->z->o.stop && *in->z->o.stop));
	if (n == -1) {
		in->eno = errno;
		archive_set_error(a, errno, "read error");
		return -1;
	}
	if (!in->hashed)
		(void)zdigest_update(in->sha, in->buf, (size_t)n);
	*buf = in->buf;
	return n;
}

static la_int64_t
input_seek(struct archive *a, void *arg, la_int64_t off, int whence)
{
	struct input *in = arg;
	off_t o = lseek(in->fd, (off_t)off, whence);

	if (o == -1) {
		in->eno = errno;
		archive_set_error(a, errno, "seek error");
		return ARCHIVE_FATAL;
	}
	return (la_int64_t)o;
}

/*
 * Whether the file of size bytes ends in a zip's end of central directory
 * record: its signature, then a comment that runs exactly to the end, and
 * a directory that lies before it.  That is how a zip with something in
 * front of it is known: a Spring Boot "fully executable" jar, whose
 * launch script precedes the zip, or a self-extracting archive.
 */
static int
ends_as_zip(int fd, off_t size)
{
	unsigned char t[22 + 65535];
	size_t n, i;
	uint32_t cdsize, cdoff;

	n = size < (off_t)sizeof t ? (size_t)size : sizeof t;
	if (n < 22 || pread(fd, t, n, size - (off_t)n) != (ssize_t)n)
		return 0;
	for (i = n - 22 + 1; i-- > 0;) {
		if (memcmp(t + i, "PK\5\6", 4) != 0 ||
		    i + 22 + (t[i + 20] | t[i + 21] << 8) != n)
			continue;
		cdsize = (uint32_t)t[i + 12] | (uint32_t)t[i + 13] << 8 |
		    (uint32_t)t[i + 14] << 16 | (uint32_t)t[i + 15] << 24;
		cdoff = (uint32_t)t[i + 16] | (uint32_t)t[i + 17] << 8 |
		    (uint32_t)t[i + 18] << 16 | (uint32_t)t[i + 19] << 24;
		/* Offsets may not count a prefix; never past the record. */
		return (uint64_t)cdoff + cdsize <= (uint64_t)(size - (off_t)n +
		    (off_t)i);
	}
	return 0;
}

/*
 * A zip file on disk is read through its central directory, which alone
 * holds the modes and tells symlinks from files; that needs seeks, so its
 * digest is taken in a pass of its own first.  A zip on a pipe can only
 * be read as a stream, from its local headers.
 */
static int
seekable_zip(struct input *in)
{
	unsigned char magic[4];
	struct stat sb;
	ssize_t n;
	off_t o = 0;

	if (fstat(in->fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    pread(in->fd, magic, 4, 0) != 4)
		return 0;
	if (memcmp(magic, "PK\3\4", 4) != 0 && !ends_as_zip(in->fd, sb.st_size))
		return 0;
	while ((n = pread(in->fd, in->buf, sizeof in->buf, o)) > 0) {
		(void)zdigest_update(in->sha, in->buf, (size_t)n);
		o += n;
	}
	if (n == -1) {
		in->eno = errno;
		return -1;
	}
	in->hashed = 1;
	return 1;
}

static int
extract(struct zar *z, struct archive *a, struct input *in)
{
	struct archive_entry *ae;
	struct source src = { a, -1, NULL, 0, 0, NULL };
	struct ent e;
	int rc;

	for (;;) {
		rc = archive_read_next_header(a, &ae);
		if (rc == ARCHIVE_EOF)
			return 0;
		if (in != NULL && in->eno != 0)
			return fail(z, in->eno, in->eno == EINTR ?
			    "interrupted" : "cannot read the artifact");
		if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
			z->notarchive = z->last[0] == '\0';
			return fail(z, 0, "%s%s%s: %s", z->last[0] ?
			    "corrupt or truncated archive after entry '" :
			    "not an archive zdd reads, or corrupt",
			    z->last, z->last[0] ? "'" : "",
			    archive_error_string(a) ?
			    archive_error_string(a) : "unreadable");
		}
		memset(&e, 0, sizeof e);
		e.name = archive_entry_pathname(ae);
		if (e.name == NULL)
			e.name = archive_entry_pathname_utf8(ae);
		if (e.name == NULL)
			return fail(z, 0, "entry after '%s': unreadable name",
			    z->last);
		e.mode = archive_entry_perm(ae);
		e.mtime.tv_nsec = UTIME_OMIT;
		if (archive_entry_mtime_is_set(ae)) {
			e.mtime.tv_sec = archive_entry_mtime(ae);
			e.mtime.tv_nsec = archive_entry_mtime_nsec(ae);
		}
		e.size = archive_entry_size_is_set(ae) ?
		    archive_entry_size(ae) : -1;
		e.sparse = archive_entry_sparse_count(ae) > 0;
		if ((e.link = archive_entry_hardlink(ae)) != NULL)
			e.type = 'h';
		else
			switch (archive_entry_filetype(ae)) {
			case AE_IFREG:
				e.type = ZAR_FILE;
				break;
			case AE_IFDIR:
				e.type = ZAR_DIR;
				break;
			case AE_IFLNK:
				e.type = ZAR_SYMLINK;
				e.link = archive_entry_symlink(ae);
				if (e.link == NULL)
					e.link = "";
				break;
			default:
				/* AE_IFCHR and the like: never ZAR_*. */
				e.type = (int)archive_entry_filetype(ae);
			}
		if (entry(z, &e, &src) == -1) {
			if (in != NULL && in->eno != 0 && z->eno == 0)
				fail(z, in->eno, "cannot read the artifact");
			return -1;
		}
	}
}

/*
 * The one compression filter the data starts with, by its magic number,
 * or ARCHIVE_FILTER_NONE.  zdd names the filter itself rather than let
 * libarchive bid, because libarchive's bidding goes on into the output,
 * up to 25 filters deep: a few hundred bytes of gzip in gzip in gzip,
 * corrupt, kept it busy for minutes.  One layer is read, no more.
 */
static int
sniff_filter(const unsigned char *p, size_t n)
{
	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return ARCHIVE_FILTER_GZIP;
	if (n >= 3 && memcmp(p, "BZh", 3) == 0)
		return ARCHIVE_FILTER_BZIP2;
	if (n >= 6 && memcmp(p, "\xfd" "7zXZ\0", 6) == 0)
		return ARCHIVE_FILTER_XZ;
	if (n >= 4 && memcmp(p, "\x28\xb5\x2f\xfd", 4) == 0)
		return ARCHIVE_FILTER_ZSTD;
	return ARCHIVE_FILTER_NONE;
}

static struct archive *
reader(int zip, int filter)
{
	struct archive *a = archive_read_new();

	if (a == NULL)
		return NULL;
	if (zip) {
		archive_read_support_format_zip_seekable(a);
		return a;
	}
	/* Only these; libarchive's other formats are attack surface. */
	archive_read_support_format_tar(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_zip_streamable(a);
	switch (filter) {
	case ARCHIVE_FILTER_GZIP:
		archive_read_support_filter_gzip(a);
		break;
	case ARCHIVE_FILTER_BZIP2:
		archive_read_support_filter_bzip2(a);
		break;
	case ARCHIVE_FILTER_XZ:
		archive_read_support_filter_xz(a);
		break;
	case ARCHIVE_FILTER_ZSTD:
		archive_read_support_filter_zstd(a);
		break;
	default:
		return a;
	}
	/* Appending a filter turns libarchive's filter bidding off. */
	if (archive_read_append_filter(a, filter) != ARCHIVE_OK) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* The first bytes of fd, enough to know the filter, kept for libarchive. */
static int
read_ahead(struct input *in)
{
	ssize_t n;

	while (in->pending < 8) {
		n = read(in->fd, in->buf + in->pending,
		    sizeof in->buf - in->pending);
		if (n == -1 && errno == EINTR &&
		    !(in->z->o.stop && *in->z->o.stop))
			continue;
		if (n == -1) {
			in->eno = errno;
			return -1;
		}
		if (n == 0)
			break;
		(void)zdigest_update(in->sha, in->buf + in->pending,
		    (size_t)n);
		in->pending += (size_t)n;
	}
	return 0;
}

/* Why archive_read_open1() failed, in z. */
static int
open_failed(struct zar *z, struct archive *a, int eno, int filter)
{
	const char *s = archive_error_string(a);

	if (eno != 0)
		return fail(z, eno, "cannot read the artifact");
	z->notarchive = filter == ARCHIVE_FILTER_NONE;
	if (filter != ARCHIVE_FILTER_NONE)
		return fail(z, 0, "compressed data that holds no archive zdd "
		    "reads, or a corrupt one (one layer of compression is "
		    "read): %s", s ? s : "unknown format");
	return fail(z, 0, "not an archive zdd reads, or a corrupt one: %s",
	    s ? s : "unknown format");
}

int
zar_read_fd(struct zar *z, int fd, char hex[65])
{
	struct archive *a;
	struct input *in;
	ssize_t n;
	int rc, zip, filter = ARCHIVE_FILTER_NONE;

	if ((in = calloc(1, sizeof *in)) == NULL)
		return fail(z, ENOMEM, "out of memory");
	in->z = z;
	in->fd = fd;
	if ((in->sha = zdigest_new(ZDIGEST_SHA256)) == NULL) {
		free(in);
		return fail(z, errno, "cannot start SHA-256");
	}
	if ((zip = seekable_zip(in)) == -1 || (!zip && read_ahead(in) == -1)) {
		rc = fail(z, in->eno, in->eno == EINTR ? "interrupted" :
		    "cannot read the artifact");
		zdigest_free(in->sha);
		free(in);
		return rc;
	}
	if (!zip)
		filter = sniff_filter((unsigned char *)in->buf, in->pending);
	if ((a = reader(zip, filter)) == NULL) {
		zdigest_free(in->sha);
		free(in);
		return fail(z, ENOMEM, "out of memory");
	}
	archive_read_set_callback_data(a, in);
	archive_read_set_read_callback(a, input_read);
	if (zip) {
		archive_read_set_seek_callback(a, input_seek);
		lseek(fd, 0, SEEK_SET);
	}
	if (archive_read_open1(a) != ARCHIVE_OK)
		rc = open_failed(z, a, in->eno, filter);
	else
		rc = extract(z, a, in);
	/* What follows the archive's end (padding, zip's directory) is
	 * part of the artifact, and of its digest. */
	while (rc == 0 && !in->hashed &&
	    (n = read(fd, in->buf, sizeof in->buf)) != 0) {
		if (n == -1) {
			if (errno == EINTR && !(z->o.stop && *z->o.stop))
				continue;
			rc = fail(z, errno, "cannot read the artifact");
			break;
		}
		(void)zdigest_update(in->sha, in->buf, (size_t)n);
	}
	if (rc == 0 && hex != NULL) {
		unsigned char md[ZDIGEST_MAX];

		if (zdigest_final(in->sha, md) != 32)
			rc = fail(z, errno, "cannot finish SHA-256");
		else
			zhex(md, 32, hex);
	}
	archive_read_free(a);
	zdigest_free(in->sha);
	free(in);
	return rc;
}

int
zar_put_fd(struct zar *z, int fd, const char *name, char hex[65])
{
	struct source src = { NULL, fd, NULL, 128 * 1024, 0, NULL };
	unsigned char md[ZDIGEST_MAX];
	struct stat sb;
	struct ent e;
	int rc;

	if (fstat(fd, &sb) == -1)
		return fail(z, errno, "cannot read the artifact");
	memset(&e, 0, sizeof e);
	e.name = name;
	e.type = ZAR_FILE;
	/* A pipe has no mode or time worth keeping. */
	e.mode = S_ISREG(sb.st_mode) ? sb.st_mode & 0777 : 0644;
	e.mtime.tv_nsec = UTIME_OMIT;
	if (S_ISREG(sb.st_mode))
		e.mtime = sb.st_mtim;
	e.size = S_ISREG(sb.st_mode) ? sb.st_size : -1;
	if ((src.buf = malloc(src.bufsize)) == NULL)
		return fail(z, ENOMEM, "out of memory");
	if ((src.sha = zdigest_new(ZDIGEST_SHA256)) == NULL) {
		free(src.buf);
		return fail(z, errno, "cannot start SHA-256");
	}
	rc = entry(z, &e, &src);
	if (rc == 0 && hex != NULL) {
		if (zdigest_final(src.sha, md) != 32)
			rc = fail(z, errno, "cannot finish SHA-256");
		else
			zhex(md, 32, hex);
	}
	zdigest_free(src.sha);
	free(src.buf);
	return rc;
}

int
zar_read_mem(struct zar *z, const void *buf, size_t len)
{
	struct archive *a;
	int rc, filter = sniff_filter(buf, len);

	if ((a = reader(0, filter)) == NULL)
		return fail(z, ENOMEM, "out of memory");
	if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK)
		rc = open_failed(z, a, 0, filter);
	else
		rc = extract(z, a, NULL);
	archive_read_free(a);
	return rc;
}

static int
copy_tree(struct zar *z, int dfd, const char *rel, struct source *src)
{
	char path[PATH_MAX], target[PATH_MAX];
	struct dirent *de;
	struct stat sb;
	struct ent e;
	DIR *d;
	int fd, rc = 0;
	ssize_t n;

	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return fail(z, errno, "cannot read %s", rel[0] ? rel : ".");
	}
	while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(path, sizeof path, "%s%s%s", rel,
		    rel[0] ? "/" : "", de->d_name) >= sizeof path) {
			rc = refuse(z, path, "name longer than PATH_MAX",
			    NULL);
			break;
		}
		if (fstatat(dirfd(d), de->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			rc = fail(z, errno, "cannot read %s", path);
			break;
		}
		memset(&e, 0, sizeof e);
		e.name = path;
		e.mode = sb.st_mode & 07777;
		e.mtime = sb.st_mtim;
		e.size = sb.st_size;
		if (S_ISDIR(sb.st_mode)) {
			e.type = ZAR_DIR;
			if ((rc = entry(z, &e, src)) == 0) {
				fd = openat(dirfd(d), de->d_name, DIRFLAGS);
				if (fd == -1)
					rc = fail(z, errno, "cannot read %s",
					    path);
				else
					rc = copy_tree(z, fd, path, src);
			}
		} else if (S_ISREG(sb.st_mode)) {
			e.type = ZAR_FILE;
			src->off = 0;
			src->fd = openat(dirfd(d), de->d_name,
			    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			if (src->fd == -1) {
				rc = fail(z, errno, "cannot read %s", path);
				break;
			}
			rc = entry(z, &e, src);
			close(src->fd);
			src->fd = -1;
		} else if (S_ISLNK(sb.st_mode)) {
			n = readlinkat(dirfd(d), de->d_name, target,
			    sizeof target - 1);
			if (n == -1) {
				rc = fail(z, errno, "cannot read %s", path);
				break;
			}
			target[n] = '\0';
			e.type = ZAR_SYMLINK;
			e.link = target;
			rc = entry(z, &e, src);
		} else {
			e.type = (int)(sb.st_mode & S_IFMT);
			rc = entry(z, &e, src);
		}
	}
	if (rc == 0 && errno != 0)
		rc = fail(z, errno, "cannot read %s", rel[0] ? rel : ".");
	closedir(d);
	return rc;
}

int
zar_copy_dir(struct zar *z, int srcfd)
{
	struct source src = { NULL, -1, NULL, 128 * 1024, 0, NULL };
	int fd, rc;

	if ((src.buf = malloc(src.bufsize)) == NULL)
		return fail(z, ENOMEM, "out of memory");
	if ((fd = dup(srcfd)) == -1)
		rc = fail(z, errno, "cannot read the directory");
	else {
		lseek(fd, 0, SEEK_SET);
		rc = copy_tree(z, fd, "", &src);
	}
	free(src.buf);
	return rc;
}

int
zar_end(struct zar *z)
{
	const char *why;
	size_t i;

	for (i = 0; i < z->nnodes; i++) {
		struct node *nd = &z->nodes[i];

		if (nd->type != ZAR_SYMLINK)
			continue;
		if (zar_link_inside(z, nd->path, nd->target, &why) == -1)
			return refuse(z, nd->path, "is a", why);
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
		if ((pfd = parent(z, nd->path, &base)) == -1 ||
		    (fd = openat(pfd, base, DIRFLAGS)) == -1)
			return fail(z, errno, "cannot open %s", nd->path);
		rc = fchmod(fd, nd->mode & 0777) == -1 ||
		    (nd->mtime.tv_nsec != UTIME_OMIT && futimens(fd, ts) == -1);
		e = errno;
		close(fd);
		if (rc)
			return fail(z, e, "cannot set the mode of %s",
			    nd->path);
	}
	return 0;
}
