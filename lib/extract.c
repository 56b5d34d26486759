/*
 * Extraction of untrusted artifacts, its interface and its input: an
 * archive read from a descriptor (through lib/feed.c on the second core,
 * or lib/zipread.c for a zip on disk), from memory, a single file, or a
 * directory copied.  Each entry is
 * cleaned and checked against a table of every path made so far (its
 * type, and a symlink's target) before anything touches the disk
 * (entry.c, pathtab.c); the disk is then changed only with *at() calls
 * relative to the staging directory, one component at a time and never
 * following a symlink, so that even a policy bug cannot write outside it
 * (writer.c, dedupe.c).  Data bytes are counted as they are expanded, not
 * as headers declare them.
 */
#include <dirent.h>
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

#include <linux/fs.h>

#include <archive.h>
#include <archive_entry.h>

#include "extract_int.h"
#include "feed.h"


int
zx_fail(struct zar *z, int eno, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(z->err, sizeof z->err, fmt, ap);
	va_end(ap);
	z->eno = eno;
	return -1;
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
	zx_dircache_drop(&z->wr);
	zx_dircache_drop(&z->dd);
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

/* The first bytes of an artifact, read and hashed to know its filter. */
struct input {
	struct zar *z;
	int	 fd;
	struct zdigest *sha;
	size_t	 pending;	/* bytes of buf read ahead, not yet given */
	char	 buf[128 * 1024];
	int	 eno;
};

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
 * holds the modes and tells symlinks from files; that needs seeks
 * (zipread.c).  A zip on a pipe can only be read as a stream, from its
 * local headers.
 */
static int
seekable_zip(int fd)
{
	unsigned char magic[4];
	struct stat sb;

	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    pread(fd, magic, 4, 0) != 4)
		return 0;
	return memcmp(magic, "PK\3\4", 4) == 0 || ends_as_zip(fd, sb.st_size);
}

int
zx_ent_of(struct archive_entry *ae, struct ent *e)
{
	memset(e, 0, sizeof *e);
	e->name = archive_entry_pathname(ae);
	if (e->name == NULL)
		e->name = archive_entry_pathname_utf8(ae);
	e->mode = archive_entry_perm(ae);
	e->mtime.tv_nsec = UTIME_OMIT;
	if (archive_entry_mtime_is_set(ae)) {
		e->mtime.tv_sec = archive_entry_mtime(ae);
		e->mtime.tv_nsec = archive_entry_mtime_nsec(ae);
	}
	e->size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : -1;
	e->sparse = archive_entry_sparse_count(ae) > 0;
	if ((e->link = archive_entry_hardlink(ae)) != NULL)
		e->type = 'h';
	else
		switch (archive_entry_filetype(ae)) {
		case AE_IFREG:
			e->type = ZAR_FILE;
			break;
		case AE_IFDIR:
			e->type = ZAR_DIR;
			break;
		case AE_IFLNK:
			e->type = ZAR_SYMLINK;
			e->link = archive_entry_symlink(ae);
			if (e->link == NULL)
				e->link = "";
			break;
		default:
			/* AE_IFCHR and the like: never ZAR_*. */
			e->type = (int)archive_entry_filetype(ae);
		}
	return e->name != NULL ? 0 : -1;
}

int
zx_bad_header(struct zar *z, const char *why)
{
	z->notarchive = z->last[0] == '\0';
	return zx_fail(z, 0, "%s%s%s: %s", z->last[0] ?
	    "corrupt or truncated archive after entry '" :
	    "not an archive zdd reads, or corrupt",
	    z->last, z->last[0] ? "'" : "", why ? why : "unreadable");
}

int
zx_no_name(struct zar *z)
{
	return zx_fail(z, 0, "entry after '%s': unreadable name", z->last);
}

/* The system error that stopped the feed, if any. */
static int
feed_errno(struct zfeed *feed)
{
	return feed != NULL ? zfeed_errno(feed) : 0;
}

static int
extract(struct zar *z, struct archive *a, struct zfeed *feed)
{
	struct archive_entry *ae;
	struct source src = { a, -1, NULL, 0, 0, NULL, NULL };
	struct ent e;
	int rc, eno;

	for (;;) {
		rc = archive_read_next_header(a, &ae);
		if (rc == ARCHIVE_EOF)
			return 0;
		if ((eno = feed_errno(feed)) != 0)
			return zx_fail(z, eno, eno == EINTR ?
			    "interrupted" : "cannot read the artifact");
		if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
			return zx_bad_header(z, archive_error_string(a));
		if (zx_ent_of(ae, &e) == -1)
			return zx_no_name(z);
		if (zx_entry(z, &e, &src) == -1) {
			if ((eno = feed_errno(feed)) != 0 && z->eno == 0)
				zx_fail(z, eno, eno == EINTR ? "interrupted" :
				    "cannot read the artifact");
			return -1;
		}
	}
}

static struct archive *
reader(int filter)
{
	struct archive *a = archive_read_new();

	if (a == NULL)
		return NULL;
	/* Only these; libarchive's other formats are attack surface. */
	archive_read_support_format_tar(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_zip_streamable(a);
	if (filter == ARCHIVE_FILTER_NONE)
		return a;
	zfeed_support_filter(a, filter);
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

int
zx_open_failed(struct zar *z, const char *s, int eno, int filter)
{
	if (eno != 0)
		return zx_fail(z, eno, "cannot read the artifact");
	z->notarchive = filter == ARCHIVE_FILTER_NONE;
	if (filter != ARCHIVE_FILTER_NONE)
		return zx_fail(z, 0,
		    "compressed data that holds no archive zdd "
		    "reads, or a corrupt one (one layer of compression is "
		    "read): %s", s ? s : "unknown format");
	return zx_fail(z, 0, "not an archive zdd reads, or a corrupt one: %s",
	    s ? s : "unknown format");
}

int
zar_read_fd(struct zar *z, int fd, char hex[65])
{
	struct archive *a;
	struct input *in;
	struct zfeed *feed = NULL;
	char why[256];
	int rc, zip, eno, filter = ARCHIVE_FILTER_NONE;

	if ((in = calloc(1, sizeof *in)) == NULL)
		return zx_fail(z, ENOMEM, "out of memory");
	in->z = z;
	in->fd = fd;
	if ((in->sha = zdigest_new(ZDIGEST_SHA256)) == NULL) {
		free(in);
		return zx_fail(z, errno, "cannot start SHA-256");
	}
	/* A zip on disk is parsed and inflated on the second core, and
	 * hashed on a third (zipread.c), since it is read by seeks. */
	if ((zip = seekable_zip(fd)) != 0) {
		rc = zx_read_zip(z, fd, in->sha);
		goto digest;
	}
	if (read_ahead(in) == -1) {
		rc = zx_fail(z, in->eno, in->eno == EINTR ? "interrupted" :
		    "cannot read the artifact");
		goto out;
	}
	/*
	 * Anything else streams: read, hashed and decompressed on the other
	 * core while this one parses and writes.  The feed owns the digest
	 * until zfeed_end().
	 */
	filter = zfeed_filter((unsigned char *)in->buf, in->pending);
	feed = zfeed_start(fd, in->sha, filter, in->buf, in->pending,
	    z->o.stop);
	if (feed == NULL) {
		rc = zx_fail(z, errno, "cannot start reading the artifact");
		goto out;
	}
	if ((a = reader(ARCHIVE_FILTER_NONE)) == NULL) {
		rc = zx_fail(z, ENOMEM, "out of memory");
		goto end;
	}
	archive_read_set_callback_data(a, feed);
	archive_read_set_read_callback(a, zfeed_read);
	if (archive_read_open1(a) != ARCHIVE_OK)
		rc = zx_open_failed(z, archive_error_string(a),
		    feed_errno(feed), filter);
	else
		rc = extract(z, a, feed);
	archive_read_free(a);
end:
	/* What follows the archive's end (padding, trailing bytes) is part
	 * of the artifact, and of its digest: the feed reads it too. */
	if (feed != NULL && zfeed_end(feed, rc == 0, &eno, why,
	    sizeof why) == -1 && rc == 0)
		rc = eno != 0 ? zx_fail(z, eno, eno == EINTR ? "interrupted" :
		    "cannot read the artifact") :
		    zx_fail(z, 0, "corrupt compressed data: %s", why);
digest:
	if (rc == 0 && hex != NULL) {
		unsigned char md[ZDIGEST_MAX];

		if (zdigest_final(in->sha, md) != 32)
			rc = zx_fail(z, errno, "cannot finish SHA-256");
		else
			zhex(md, 32, hex);
	}
out:
	zdigest_free(in->sha);
	free(in);
	return rc;
}

int
zar_put_fd(struct zar *z, int fd, const char *name, char hex[65])
{
	struct source src = { NULL, fd, NULL, 128 * 1024, 0, NULL, NULL };
	unsigned char md[ZDIGEST_MAX];
	struct stat sb;
	struct ent e;
	int rc;

	if (fstat(fd, &sb) == -1)
		return zx_fail(z, errno, "cannot read the artifact");
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
		return zx_fail(z, ENOMEM, "out of memory");
	if ((src.sha = zdigest_new(ZDIGEST_SHA256)) == NULL) {
		free(src.buf);
		return zx_fail(z, errno, "cannot start SHA-256");
	}
	rc = zx_entry(z, &e, &src);
	if (rc == 0 && hex != NULL) {
		if (zdigest_final(src.sha, md) != 32)
			rc = zx_fail(z, errno, "cannot finish SHA-256");
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
	int rc, filter = zfeed_filter(buf, len);

	if ((a = reader(filter)) == NULL)
		return zx_fail(z, ENOMEM, "out of memory");
	if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK)
		rc = zx_open_failed(z, archive_error_string(a), 0, filter);
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
		return zx_fail(z, errno, "cannot read %s", rel[0] ? rel : ".");
	}
	while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(path, sizeof path, "%s%s%s", rel,
		    rel[0] ? "/" : "", de->d_name) >= sizeof path) {
			rc = zx_refuse(z, path, "name longer than PATH_MAX",
			    NULL);
			break;
		}
		if (fstatat(dirfd(d), de->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			rc = zx_fail(z, errno, "cannot read %s", path);
			break;
		}
		memset(&e, 0, sizeof e);
		e.name = path;
		e.mode = sb.st_mode & 07777;
		e.mtime = sb.st_mtim;
		e.size = sb.st_size;
		if (S_ISDIR(sb.st_mode)) {
			e.type = ZAR_DIR;
			if ((rc = zx_entry(z, &e, src)) == 0) {
				fd = openat(dirfd(d), de->d_name, DIRFLAGS);
				if (fd == -1)
					rc = zx_fail(z, errno, "cannot read %s",
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
				rc = zx_fail(z, errno, "cannot read %s", path);
				break;
			}
			rc = zx_entry(z, &e, src);
			close(src->fd);
			src->fd = -1;
		} else if (S_ISLNK(sb.st_mode)) {
			n = readlinkat(dirfd(d), de->d_name, target,
			    sizeof target - 1);
			if (n == -1) {
				rc = zx_fail(z, errno, "cannot read %s", path);
				break;
			}
			target[n] = '\0';
			e.type = ZAR_SYMLINK;
			e.link = target;
			rc = zx_entry(z, &e, src);
		} else {
			e.type = (int)(sb.st_mode & S_IFMT);
			rc = zx_entry(z, &e, src);
		}
	}
	if (rc == 0 && errno != 0)
		rc = zx_fail(z, errno, "cannot read %s", rel[0] ? rel : ".");
	closedir(d);
	return rc;
}

int
zar_copy_dir(struct zar *z, int srcfd)
{
	struct source src = { NULL, -1, NULL, 128 * 1024, 0, NULL, NULL };
	int fd, rc;

	if ((src.buf = malloc(src.bufsize)) == NULL)
		return zx_fail(z, ENOMEM, "out of memory");
	if ((fd = dup(srcfd)) == -1)
		rc = zx_fail(z, errno, "cannot read the directory");
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
			return zx_refuse(z, nd->path, "is a", why);
	}
	return 0;
}
