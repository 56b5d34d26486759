/*
 * The archive entry policy of zdd-release, end to end: each input is a
 * whole archive, extracted from memory by lib/extract into a fresh
 * directory on disk, as zdd-release does into its staging directory.
 * The release directory sits three levels deep in a private tree that
 * also holds a sentinel file; after every run the harness checks that
 * nothing appeared or changed outside the release directory (no entry
 * beside it, the sentinel whole and not hard-linked), that inside it there
 * is nothing but regular files, directories and symlinks, no setuid or
 * setgid bit and no more bytes than the limit, and, when the archive was
 * accepted, that every symlink resolves inside the release.  Then the
 * release is deleted with zrmtree_at(), as zdd-release deletes a refused
 * one.  The shape follows libarchive's own write_disk fuzzer: a private
 * directory made once in LLVMFuzzerInitialize, emptied after each run.
 *
 * A cpio header may claim a 4 GiB symlink target, which libarchive
 * allocates in one piece before it finds the archive truncated (address
 * space only: zdd-release stays at 5 MiB of RSS and refuses the archive
 * with 65).  Here allocations above 1 GiB fail, as under a ulimit -v,
 * instead of stopping the fuzzer; the seed oom-cpio-4g-symlink keeps
 * that path refused cleanly.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extract.h"
#include "fsatom.h"
#include "fuzz.h"

#define MAX_BYTES	(1U << 20)
#define MAX_FILES	256
#define MAX_DEPTH	64	/* names in a path */
#define SENTINEL	"the sentinel outside the release\n"

static char base[PATH_MAX];	/* base/outer/{sentinel,mid/rel} */
static char relpath[PATH_MAX], relreal[PATH_MAX];
static int outerfd = -1, midfd = -1;
static struct stat sentinel_st;

int	LLVMFuzzerInitialize(int *argc, char ***argv);
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "allocator_may_return_null=1:max_allocation_size_mb=1024";
}

/* At exit (libFuzzer's -runs or -max_total_time), leave no tree behind. */
static void
cleanup(void)
{
	struct zrm_stats st;

	memset(&st, 0, sizeof st);
	(void)zrmtree_at(AT_FDCWD, base, &st);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	char p[PATH_MAX];
	int fd;

	(void)argc;
	(void)argv;
	snprintf(base, sizeof base, "%s/zdd-fuzz-extract.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(base) == NULL)
		abort();
	snprintf(p, sizeof p, "%s/outer", base);
	if (mkdir(p, 0700) == -1 ||
	    (outerfd = open(p, O_RDONLY | O_DIRECTORY)) == -1 ||
	    mkdirat(outerfd, "mid", 0700) == -1 ||
	    (midfd = openat(outerfd, "mid", O_RDONLY | O_DIRECTORY)) == -1)
		abort();
	fd = openat(outerfd, "sentinel", O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd == -1 || write(fd, SENTINEL, strlen(SENTINEL)) !=
	    (ssize_t)strlen(SENTINEL) || fstat(fd, &sentinel_st) == -1)
		abort();
	close(fd);
	snprintf(relpath, sizeof relpath, "%s/outer/mid/rel", base);
	atexit(cleanup);
	return 0;
}

/* The names in dirfd, sorted into one string "a b c". */
static void
names(int dirfd, char *buf, size_t size)
{
	DIR *d;
	struct dirent *e;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY);

	buf[0] = '\0';
	if (fd == -1 || (d = fdopendir(fd)) == NULL)
		abort();
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (buf[0] != '\0')
			strncat(buf, " ", size - strlen(buf) - 1);
		strncat(buf, e->d_name, size - strlen(buf) - 1);
	}
	closedir(d);
}

static void
outside_intact(void)
{
	char got[1024], data[128];
	struct stat sb;
	ssize_t n;
	int fd;

	names(outerfd, got, sizeof got);
	FUZZ_CHECK(strcmp(got, "sentinel mid") == 0 ||
	    strcmp(got, "mid sentinel") == 0);
	names(midfd, got, sizeof got);
	FUZZ_CHECK(strcmp(got, "rel") == 0 || strcmp(got, "") == 0);
	fd = openat(outerfd, "sentinel", O_RDONLY | O_NOFOLLOW);
	FUZZ_CHECK(fd != -1);
	FUZZ_CHECK(fstat(fd, &sb) == 0);
	FUZZ_CHECK(S_ISREG(sb.st_mode) && sb.st_nlink == 1);
	FUZZ_CHECK(sb.st_ino == sentinel_st.st_ino);
	FUZZ_CHECK((sb.st_mode & 07777) == 0644);
	n = read(fd, data, sizeof data);
	FUZZ_CHECK(n == (ssize_t)strlen(SENTINEL) &&
	    memcmp(data, SENTINEL, (size_t)n) == 0);
	close(fd);
}

/*
 * Walk the release: only files, directories and symlinks, no set-id
 * bits, and (when accepted) symlinks that resolve inside it.
 */
static void
walk(int dirfd, const char *rel, int accepted, uint64_t *bytes)
{
	DIR *d;
	struct dirent *e;
	struct stat sb;
	char path[PATH_MAX], real[PATH_MAX];
	int fd;

	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY)) == -1 ||
	    (d = fdopendir(fd)) == NULL)
		abort();
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", rel, e->d_name);
		/* No deeper than the limit: one '/' per name below rel. */
		if (accepted) {
			const char *p = path + strlen(relpath);
			size_t names = 0;

			while (*p != '\0')
				names += *p++ == '/';
			FUZZ_CHECK(names <= MAX_DEPTH);
		}
		FUZZ_CHECK(fstatat(dirfd, e->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) == 0);
		FUZZ_CHECK(S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode) ||
		    S_ISLNK(sb.st_mode));
		FUZZ_CHECK((sb.st_mode & (S_ISUID | S_ISGID)) == 0);
		if (S_ISREG(sb.st_mode)) {
			*bytes += (uint64_t)sb.st_size / sb.st_nlink;
		} else if (S_ISLNK(sb.st_mode)) {
			if (accepted && realpath(path, real) != NULL)
				FUZZ_CHECK(strcmp(real, relreal) == 0 ||
				    (strncmp(real, relreal,
				    strlen(relreal)) == 0 &&
				    real[strlen(relreal)] == '/'));
		} else {
			int sub = openat(dirfd, e->d_name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
			if (sub == -1) {
				/* A mode of 0 or 0100: make it readable. */
				FUZZ_CHECK(fchmodat(dirfd, e->d_name, 0700,
				    0) == 0);
				sub = openat(dirfd, e->d_name,
				    O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
			}
			FUZZ_CHECK(sub != -1);
			walk(sub, path, accepted, bytes);
			close(sub);
		}
	}
	closedir(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zar_opts o = { .max_bytes = MAX_BYTES, .max_files = MAX_FILES,
	    .max_depth = MAX_DEPTH, .dedupe_fd = -1 };
	struct zrm_stats st;
	struct zar *z;
	uint64_t bytes = 0;
	int relfd, rc;

	if (size > (1U << 20))
		return 0;
	if (mkdirat(midfd, "rel", 0700) == -1 ||
	    (relfd = openat(midfd, "rel", O_RDONLY | O_DIRECTORY)) == -1)
		abort();
	if (realpath(relpath, relreal) == NULL)
		abort();
	if ((z = zar_new(relfd, &o)) == NULL)
		abort();
	rc = zar_read_mem(z, data, size);
	if (rc == 0)
		rc = zar_end(z);
	if (rc == 0)
		rc = zar_finish_dirs(z);
	if (rc == -1)
		FUZZ_CHECK(zar_error(z) != NULL && *zar_error(z) != '\0');
	else {
		FUZZ_CHECK(zar_stats(z)->bytes <= MAX_BYTES);
		FUZZ_CHECK(zar_stats(z)->entries <= MAX_FILES);
	}
	zar_free(z);
	outside_intact();
	walk(relfd, relpath, rc == 0, &bytes);
	FUZZ_CHECK(bytes <= MAX_BYTES);
	close(relfd);
	memset(&st, 0, sizeof st);
	FUZZ_CHECK(zrmtree_at(midfd, "rel", &st) == 0);
	outside_intact();
	return 0;
}
