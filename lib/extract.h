/*
 * Extraction of untrusted build artifacts into a fresh directory: the
 * entry policy (which names, types, link targets and sizes are allowed)
 * and the writer that applies it.  (It is extract.h because archive.h is
 * libarchive's.)  Every entry is checked here before
 * anything is written, against an in-memory picture of the tree built so
 * far, because libarchive's own SECURE flags do not look at where a
 * symlink points, at device nodes or at sizes.  With dirfd -1 nothing is
 * written at all, which serves --dry-run and a fuzzing harness alike:
 * zar_new(-1, &o), zar_read_mem(z, data, size), zar_end(z), zar_free(z).
 */
#ifndef ZDD_EXTRACT_H
#define ZDD_EXTRACT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct zar_stats;

struct zar_opts {
	uint64_t max_bytes;	/* data bytes the artifact may expand to */
	uint64_t max_files;	/* entries of any kind, directories made on
				   an entry's way included */
	unsigned max_depth;	/* names in an entry's path */
	unsigned strip;		/* leading path components dropped */
	int	 dedupe_fd;	/* release to share equal files with, or -1 */
	char *const *keep;	/* paths exempt from dedupe */
	size_t	 nkeep;
	volatile sig_atomic_t *stop;	/* set by a signal: give up */
	/*
	 * Called with the stats so far at every entry and every block of
	 * data written, when not NULL; the callee decides how often to
	 * show them.
	 */
	void	(*progress)(const struct zar_stats *st, void *arg);
	void	*progress_arg;
};

struct zar_stats {
	uint64_t entries;	/* every entry made, of any kind */
	uint64_t files;		/* regular files, hard links included */
	uint64_t dirs;
	uint64_t symlinks;
	uint64_t bytes;		/* data bytes expanded, not as declared */
	uint64_t deduped;	/* files reflinked to the dedupe release's */
	uint64_t deduped_bytes;
};

struct zar;

/* Types of zar_lookup(). */
#define ZAR_NONE	0
#define ZAR_DIR		'd'
#define ZAR_FILE	'f'
#define ZAR_SYMLINK	'l'

/* An extraction into the empty directory dirfd (-1: check only). */
struct zar *zar_new(int dirfd, const struct zar_opts *o);
void	zar_free(struct zar *z);

/*
 * Read a whole archive (tar, cpio, zip; plain, gzip, bzip2, xz, zstd) from
 * fd to its end, extracting as it goes; hex receives the SHA-256 of every
 * byte read when not NULL.  zar_read_mem() does the same from memory.
 */
int	zar_read_fd(struct zar *z, int fd, char hex[65]);
int	zar_read_mem(struct zar *z, const void *buf, size_t len);
/*
 * The artifact whole, as the one file name (a clean relative path): a
 * jar, a war, a binary.  Same policy, limits and --dedupe as an entry of
 * an archive; hex receives the SHA-256 of its bytes when not NULL.
 */
int	zar_put_fd(struct zar *z, int fd, const char *name, char hex[65]);
/* Copy the tree under the directory srcfd: files, dirs, symlinks. */
int	zar_copy_dir(struct zar *z, int srcfd);
/*
 * After the last entry: check again that every symlink resolves inside
 * the tree, now that all of it is known (a later entry can change where
 * an earlier link leads).
 */
int	zar_end(struct zar *z);
/* Give directories their modes and times, once nothing more is added. */
int	zar_finish_dirs(struct zar *z);

/* What the tree holds at path (a clean relative path). */
int	zar_lookup(struct zar *z, const char *path);
/* Forget path and everything under it (the caller removed them). */
void	zar_forget(struct zar *z, const char *path);
const struct zar_stats *zar_stats(const struct zar *z);
/* Whether --dedupe found that the file system has no reflinks. */
int	zar_no_reflinks(const struct zar *z);

/*
 * Why the last call failed: a one-line reason naming the entry.  errno
 * value 0 from zar_errno() means the artifact was refused (bad data);
 * anything else is the system error that stopped the work.
 */
const char *zar_error(const struct zar *z);
int	zar_errno(const struct zar *z);
/* Whether the last failure was that the input is no archive at all. */
int	zar_not_archive(const struct zar *z);

/*
 * The policy on names, callable alone: in cleaned of "." and empty
 * components and of strip leading ones, into out.  1 when it names
 * something, 0 when stripping left nothing, -1 (why set) when it is
 * absolute, has a ".." component, or is too long.
 */
int	zar_clean_path(const char *in, unsigned strip, char *out,
	    size_t size, const char **why);
/*
 * Whether a symlink at path with target stays inside the tree after
 * resolving every symlink z knows of: 0 if so, -1 with why if not.
 */
int	zar_link_inside(struct zar *z, const char *path, const char *target,
	    const char **why);

#endif
