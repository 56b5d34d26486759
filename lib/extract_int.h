/*
 * The insides of lib/extract.c's extraction, shared by the modules it is
 * made of and by nothing else: the tree of paths made so far
 * (pathtab.c), the entry policy (entry.c), the writer (writer.c), the
 * dedupe tree (dedupe.c) and the reader of a zip on disk (zipread.c).
 * Tools use extract.h.
 */
#ifndef ZDD_EXTRACT_INT_H
#define ZDD_EXTRACT_INT_H

#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include <archive.h>
#include <archive_entry.h>

#include "digest.h"
#include "extract.h"

#define DIRFLAGS	(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define MAXLINKS	40	/* symlink expansions, as the kernel allows */

struct zq;

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
	struct zq *q;		/* a zip read on another thread (zipread.c) */
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

/* FNV-1a, which extends a prefix's hash one byte at a time. */
#define HASH_INIT	2166136261u
#define HASH_STEP(h, c)	(((h) ^ (unsigned char)(c)) * 16777619u)

/* extract.c: the reason of a failure, into z; returns -1. */
int	zx_fail(struct zar *z, int eno, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * extract.c: an archive entry's header as the policy sees it (-1 when its
 * name is unreadable); why a header, a name or the opening of an archive
 * failed, in z.
 */
int	zx_ent_of(struct archive_entry *ae, struct ent *e);
int	zx_bad_header(struct zar *z, const char *why);
int	zx_no_name(struct zar *z);
int	zx_open_failed(struct zar *z, const char *why, int eno, int filter);

/*
 * zipread.c: a zip file on disk, every entry extracted, the digest of
 * every byte of fd into sha.
 */
int	zx_read_zip(struct zar *z, int fd, struct zdigest *sha);
/* The next block of an entry's data from q: 1, 0 at its end, -1. */
int	zx_zip_block(struct zar *z, struct zq *q, const void **buf,
	    size_t *len, int64_t *off);

/* pathtab.c: every path made so far, by name. */
struct node *zx_lookup_h(struct zar *z, const char *path, size_t len,
	    uint32_t h);
struct node *zx_lookup(struct zar *z, const char *path);
struct node *zx_add(struct zar *z, const char *path, int type, mode_t mode,
	    const struct timespec *mtime, const char *target);

/* entry.c: one entry checked against the policy, then made. */
int	zx_refuse(struct zar *z, const char *name, const char *why,
	    const char *more);
int	zx_entry(struct zar *z, const struct ent *e, struct source *src);

/* writer.c: the staging tree, changed only under directory descriptors. */
void	zx_dircache_drop(struct dircache *c);
int	zx_walk(int base, const char *path, int create, const char **basep);
int	zx_cached_parent(struct dircache *c, int base, int create,
	    const char *path, const char **basep);
int	zx_parent(struct zar *z, const char *path, const char **basep);
int	zx_write_file(struct zar *z, const char *path, const struct ent *e,
	    struct source *src);
int	zx_skip_data(struct zar *z, struct source *src);
int	zx_link_data(struct zar *z, size_t ni, const struct ent *e,
	    mode_t mode, struct source *src);

/* dedupe.c: the release --dedupe shares blocks with. */
int	zx_dparent(struct zar *z, const char *path, const char **basep);
/*
 * The file at path in the dedupe release, open, when it may hold the same
 * content as the entry e (a regular file of its size), with its stat in
 * sb; else -1.
 */
int	zx_dedupe_open(struct zar *z, const char *path, const struct ent *e,
	    struct stat *sb);
/*
 * Whether the block of len bytes at off continues what old matched so far
 * (*matched bytes): 1 and *matched grown, 0, or -1 out of memory.
 */
int	zx_dedupe_same(struct zar *z, int old, const void *buf, size_t len,
	    int64_t off, uint64_t *matched);
int	zx_clone_old(struct zar *z, int old, int fd);

#endif
