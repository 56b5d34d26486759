/*
 * Unit tests of the spool and of the names lib/fetch derives: a spool has
 * no name in its directory at any time, holds exactly what was copied and
 * refuses more than its bound; a signature's URL (zurl_edit(), as
 * zdd-release makes it) keeps the artifact's query (a presigned token)
 * and drops its fragment.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fetch.h"
#include "fsatom.h"
#include "url.h"

static char dir[] = "/dev/shm/zdd-unit-fetch.XXXXXX";
static int dfd = -1;
static volatile sig_atomic_t stop;

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

/* How many names the directory holds. */
static int
names(void)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* A pipe holding s, its write end closed. */
static int
pipe_of(const char *s)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], s, strlen(s)), (ssize_t)strlen(s));
	close(p[1]);
	return p[0];
}

static void
test_spool(void **state)
{
	struct zfetch_opts o = { .max = 10, .stop = &stop };
	char buf[32];
	int fd, in;

	(void)state;
	fd = zspool_open(dfd);
	assert_true(fd >= 0);
	assert_int_equal(names(), 0);
	in = pipe_of("0123456789");
	assert_int_equal(zspool_copy(in, fd, &o), 0);
	close(in);
	/* Rewound, whole, and still nameless. */
	assert_int_equal(read(fd, buf, sizeof buf), 10);
	assert_memory_equal(buf, "0123456789", 10);
	assert_int_equal(names(), 0);

	/* Copied again: the old content goes, none of it stays. */
	in = pipe_of("abc");
	assert_int_equal(zspool_copy(in, fd, &o), 0);
	close(in);
	assert_int_equal(read(fd, buf, sizeof buf), 3);
	assert_memory_equal(buf, "abc", 3);

	/* One byte past the bound. */
	in = pipe_of("0123456789x");
	errno = 0;
	assert_int_equal(zspool_copy(in, fd, &o), -1);
	assert_int_equal(errno, EFBIG);
	close(in);

	/* A stop (a signal) is seen before the next read. */
	stop = SIGTERM;
	in = pipe_of("abc");
	errno = 0;
	assert_int_equal(zspool_copy(in, fd, &o), -1);
	assert_int_equal(errno, EINTR);
	stop = 0;
	close(in);
	close(fd);
	assert_int_equal(names(), 0);
}

static void
test_sibling(void **state)
{
	char *s;

	(void)state;
	s = zurl_edit("https://ci.example/b/app.tgz", ".minisig", NULL);
	assert_string_equal(s, "https://ci.example/b/app.tgz.minisig");
	free(s);
	/* The query is the presigned token: kept, after the new path. */
	s = zurl_edit("https://s3.example/app.tgz?X-Amz-Signature=ab&"
	    "X-Amz-Expires=300#frag", ".sig", NULL);
	assert_string_equal(s, "https://s3.example/app.tgz.sig?"
	    "X-Amz-Signature=ab&X-Amz-Expires=300");
	free(s);
	s = zurl_edit("http://u:p@h:8080/a%20b.tgz", ".minisig", NULL);
	assert_string_equal(s, "http://u:p@h:8080/a%20b.tgz.minisig");
	free(s);
	assert_null(zurl_edit("http://[::1", ".sig", NULL));

	assert_true(zfetch_is_url("https://h/"));
	assert_true(zfetch_is_url("HTTP://h/"));
	assert_false(zfetch_is_url("ftp://h/"));
	assert_false(zfetch_is_url("https:/h"));
	assert_false(zfetch_is_url("./https://h"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spool),
		cmocka_unit_test(test_sibling),
	};

	return cmocka_run_group_tests_name("fetch", tests, setup, teardown);
}
