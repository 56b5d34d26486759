/*
 * Unit tests of the file-system atoms and the deploy-root names: temporary
 * names no glob can match, replacement that leaves no temporary file, and
 * a recursive delete that stays inside its tree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fsatom.h"
#include "layout.h"

static char dir[] = "/dev/shm/zdd-unit.XXXXXX";
static int dfd = -1;

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	return dfd == -1 ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	zrmtree_at(AT_FDCWD, dir, NULL);
	close(dfd);
	return 0;
}

static int
entries(void)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' || (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0))
			n++;
	closedir(d);
	return n;
}

static void
test_tmpname(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(ztmpname(buf, sizeof buf, "service-url.inc"), 0);
	assert_int_equal(buf[0], '.');
	assert_int_not_equal(fnmatch("*.inc", buf, FNM_PERIOD), 0);
	assert_int_not_equal(fnmatch("*", buf, FNM_PERIOD), 0);
	assert_int_not_equal(fnmatch("*.conf", buf, 0), 0);
	assert_int_equal(ztmpname(buf, 8, "service-url.inc"), -1);
}

static void
test_file_replace(void **state)
{
	char *s;
	size_t len;
	struct stat sb;

	(void)state;
	assert_int_equal(zfile_replace(dfd, "f.inc", "one\n", 4, 0640,
	    (uid_t)-1, (gid_t)-1), 0);
	assert_int_equal(zfile_replace(dfd, "f.inc", "two\n", 4, 0644,
	    (uid_t)-1, (gid_t)-1), 0);
	s = zslurp_at(dfd, "f.inc", 100, &len);
	assert_non_null(s);
	assert_string_equal(s, "two\n");
	free(s);
	assert_int_equal(fstatat(dfd, "f.inc", &sb, 0), 0);
	assert_int_equal(sb.st_mode & 07777, 0644);
	assert_int_equal(entries(), 1);
	assert_null(zslurp_at(dfd, "f.inc", 2, &len));
	unlinkat(dfd, "f.inc", 0);
}

static void
test_symlink_replace(void **state)
{
	char buf[64];
	ssize_t n;

	(void)state;
	assert_int_equal(zsymlink_replace(dfd, "current", "releases/a"), 0);
	assert_int_equal(zsymlink_replace(dfd, "current", "releases/b"), 0);
	n = readlinkat(dfd, "current", buf, sizeof buf - 1);
	assert_int_equal(n, 10);
	buf[n] = '\0';
	assert_string_equal(buf, "releases/b");
	assert_int_equal(entries(), 1);
	unlinkat(dfd, "current", 0);
}

static void
test_rmtree(void **state)
{
	struct zrm_stats st;
	int fd;

	(void)state;
	assert_int_equal(zmkdirs_at(dfd, "t/a/b/c", 0755), 0);
	assert_int_equal(zmkdirs_at(dfd, "outside", 0755), 0);
	fd = openat(dfd, "outside/keep", O_CREAT | O_WRONLY, 0644);
	close(fd);
	fd = openat(dfd, "t/a/b/c/f", O_CREAT | O_WRONLY, 0444);
	close(fd);
	assert_int_equal(symlinkat("../../outside", dfd, "t/a/out"), 0);
	assert_int_equal(fchmodat(dfd, "t/a/b", 0500, 0), 0);
	assert_int_equal(zrmtree_at(dfd, "t", &st), 0);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.dirs, 4);
	assert_int_equal(faccessat(dfd, "outside/keep", F_OK, 0), 0);
	assert_int_equal(zrmtree_at(dfd, "t", &st), 0);	/* already gone */
	assert_int_equal(zrmtree_at(dfd, "outside", &st), 0);
	assert_int_equal(entries(), 0);
}

/*
 * A chain of 3,000 directories, a file in each, deleted under a limit of
 * 32 open files: the walk holds a bounded number of directories open
 * whatever the depth, and goes back up through ".." past them.
 */
static void
test_rmtree_deep(void **state)
{
	struct zrm_stats st;
	struct rlimit old, low;
	int fd, nfd, i;

	(void)state;
	fd = dup(dfd);
	for (i = 0; i <= 3000; i++) {
		assert_int_equal(mkdirat(fd, i == 0 ? "deep" : "d", 0755), 0);
		nfd = openat(fd, i == 0 ? "deep" : "d", O_RDONLY | O_DIRECTORY);
		assert_true(nfd != -1);
		/* Read-only on the way, as a user's own tree may be. */
		if (i % 500 == 1)
			assert_int_equal(fchmod(fd, 0500), 0);
		close(fd);
		fd = nfd;
		close(openat(fd, "f", O_CREAT | O_WRONLY, 0644));
	}
	close(fd);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 32;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	i = zrmtree_at(dfd, "deep", &st);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(i, 0);
	assert_int_equal(st.first_errno, 0);
	assert_int_equal(st.dirs, 3001);
	assert_int_equal(st.files, 3001);
	assert_int_equal(entries(), 0);
}

static void
test_ids(void **state)
{
	char name[80];

	(void)state;
	assert_true(zid_valid("20261123084013"));
	assert_true(zid_valid("v1.2.3-rc_1"));
	assert_false(zid_valid(".hidden"));
	assert_false(zid_valid(""));
	assert_false(zid_valid("a/b"));
	assert_false(zid_valid(".."));
	assert_false(zid_valid("a b"));
	memset(name, 'a', 64);
	name[64] = '\0';
	assert_true(zid_valid(name));
	name[64] = 'a';
	name[65] = '\0';
	assert_false(zid_valid(name));
	assert_true(zid_is_stamp("20261123084013"));
	assert_false(zid_is_stamp("2026112308401"));
	assert_false(zid_is_stamp("202611230840134"));
	assert_false(zid_is_stamp("2026112308401x"));
	assert_true(zlink_name_valid("current"));
	assert_true(zlink_name_valid("blue"));
	assert_false(zlink_name_valid("releases"));
	assert_false(zlink_name_valid("shared"));
	assert_false(zlink_name_valid(".zdd"));
	assert_false(zlink_name_valid("a/b"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tmpname),
		cmocka_unit_test(test_file_replace),
		cmocka_unit_test(test_symlink_replace),
		cmocka_unit_test(test_rmtree),
		cmocka_unit_test(test_rmtree_deep),
		cmocka_unit_test(test_ids),
	};

	return cmocka_run_group_tests_name("fsatom", tests, setup, teardown);
}
