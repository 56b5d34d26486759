/*
 * Unit tests of the one bounded read: a pipe, a file and a socket that
 * send more than the caller holds, a read error that must not pass for
 * the end of the stream, and a deadline on a peer that never answers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "io.h"

/* A pipe holding len bytes of 'x', its write end closed. */
static int
filled_pipe(size_t len)
{
	char buf[1024];
	int p[2];

	assert_int_equal(pipe(p), 0);
	memset(buf, 'x', sizeof buf);
	while (len > 0) {
		size_t n = len < sizeof buf ? len : sizeof buf;

		assert_int_equal(write(p[1], buf, n), (ssize_t)n);
		len -= n;
	}
	close(p[1]);
	return p[0];
}

static void
test_whole(void **state)
{
	size_t len;
	char *s;
	int fd;

	(void)state;
	fd = filled_pipe(10000);
	s = zread_all(fd, 10000, 0, 0, &len);
	assert_non_null(s);
	assert_int_equal(len, 10000);
	assert_int_equal(s[len], '\0');
	free(s);
	close(fd);

	fd = filled_pipe(0);
	s = zread_all(fd, 100, 0, 0, &len);
	assert_non_null(s);
	assert_int_equal(len, 0);
	assert_string_equal(s, "");
	free(s);
	close(fd);
}

static void
test_too_long(void **state)
{
	size_t len = 7;
	char *s;
	int fd;

	(void)state;
	fd = filled_pipe(10001);
	errno = 0;
	assert_null(zread_all(fd, 10000, 0, 0, &len));
	assert_int_equal(errno, EFBIG);
	assert_int_equal(len, 7);
	close(fd);

	/* Truncated: the head is kept, the rest drained to the end. */
	fd = filled_pipe(50000);
	s = zread_all(fd, 100, 0, ZREAD_TRUNCATE, &len);
	assert_non_null(s);
	assert_int_equal(len, 100);
	assert_int_equal(strlen(s), 100);
	assert_int_equal(read(fd, &len, 1), 0);
	free(s);
	close(fd);
}

static void
test_read_error(void **state)
{
	int fd;

	(void)state;
	/* A directory reads as EISDIR: an error, not an empty file. */
	fd = open(".", O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	errno = 0;
	assert_null(zread_all(fd, 100, 0, 0, NULL));
	assert_int_equal(errno, EISDIR);
	close(fd);
}

static void
test_deadline(void **state)
{
	double t0;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], "partial", 7), 7);
	t0 = znow();
	errno = 0;
	assert_null(zread_all(sv[0], 100, t0 + 0.2, 0, NULL));
	assert_int_equal(errno, ETIMEDOUT);
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_read_error),
		cmocka_unit_test(test_deadline),
	};

	return cmocka_run_group_tests_name("io", tests, NULL, NULL);
}
