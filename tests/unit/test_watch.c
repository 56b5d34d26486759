/*
 * Unit tests of what the watch after a switch judges by: the access
 * log's lines counted for one backend, lines cut short left for later,
 * and the 5xx share judged early only past ZWATCH_MIN answers; and of
 * what a failed nginx -t is taken to mean.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nginxctl.h"
#include "watch.h"

static size_t
count(struct zwatch *w, const char *s)
{
	char buf[512];

	snprintf(buf, sizeof buf, "%s", s);
	return zwatch_count(w, buf, strlen(buf));
}

static void
test_count(void **state)
{
	struct zwatch w = { .name = "green", .addr = "127.0.0.1:8082" };

	(void)state;
	/* Only the watched backend's answers, by the last address. */
	assert_int_equal(count(&w, "127.0.0.1:8082 200\n"
	    "127.0.0.1:8081 502\n127.0.0.1:8082 502\n"), 57);
	assert_int_equal(w.total, 2);
	assert_int_equal(w.c5xx, 1);
	/* A retry: the last address and status are the answer. */
	count(&w, "127.0.0.1:8081, 127.0.0.1:8082 502, 200\n");
	assert_int_equal(w.total, 3);
	assert_int_equal(w.c5xx, 1);
	/* No upstream answer, garbage: not counted. */
	count(&w, "- -\n\nnot a line at all\n127.0.0.1:8082 -\n");
	assert_int_equal(w.total, 3);
	/* A line cut short is left for the next read. */
	assert_int_equal(count(&w, "127.0.0.1:8082 200\n127.0.0.1:80"), 19);
	assert_int_equal(w.total, 4);
	assert_int_equal(count(&w, "127.0.0.1:8082 5"), 0);
	assert_int_equal(w.total, 4);
}

static void
test_over(void **state)
{
	struct zwatch w = { .name = "green", .max5xx = 1 };

	(void)state;
	/* Nothing counted: nothing to judge, even at the end. */
	assert_int_equal(zwatch_over(&w, 0), 0);
	assert_int_equal(zwatch_over(&w, 1), 0);
	/* One 502 out of one answer: judged at the end only. */
	w.total = 1;
	w.c5xx = 1;
	assert_int_equal(zwatch_over(&w, 0), 0);
	assert_int_equal(zwatch_over(&w, 1), 1);
	assert_string_equal(w.why, "1 of 1 answers from green were 5xx "
	    "(100.0%, more than 1%)");
	/* Half of ZWATCH_MIN: judged as it comes. */
	w.total = ZWATCH_MIN;
	w.c5xx = ZWATCH_MIN / 2;
	assert_int_equal(zwatch_over(&w, 0), 1);
	w.total = ZWATCH_MIN - 1;
	assert_int_equal(zwatch_over(&w, 0), 0);
	/* At the limit is not past it. */
	w.max5xx = 50;
	w.total = 100;
	w.c5xx = 50;
	assert_int_equal(zwatch_over(&w, 1), 0);
	w.c5xx = 51;
	assert_int_equal(zwatch_over(&w, 0), 1);
	w.max5xx = 100;
	w.c5xx = 100;
	assert_int_equal(zwatch_over(&w, 1), 0);
}

static void
test_test_verdict(void **state)
{
	(void)state;
	assert_int_equal(zngx_test_verdict(-1, ETIMEDOUT, ""),
	    ZNGX_T_TIMEOUT);
	assert_int_equal(zngx_test_verdict(-1, ENOMEM, ""), ZNGX_T_NORUN);
	assert_int_equal(zngx_test_verdict(127, 0, "sudo: nginx: command "
	    "not found\n"), ZNGX_T_EXEC);
	assert_int_equal(zngx_test_verdict(137, 0, ""), ZNGX_T_EXEC);
	assert_int_equal(zngx_test_verdict(1, 0, "nginx: [emerg] open() "
	    "\"/run/nginx.pid\" failed (13: Permission denied)\n"),
	    ZNGX_T_NOPERM);
	assert_int_equal(zngx_test_verdict(1, 0, "sudo: a password is "
	    "required\n"), ZNGX_T_NOPERM);
	assert_int_equal(zngx_test_verdict(1, 0, "x\nsudo: a terminal is "
	    "required\n"), ZNGX_T_NOPERM);
	assert_int_equal(zngx_test_verdict(1, 0, "nginx: [emerg] unknown "
	    "directive \"sett\" in /etc/nginx/conf.d/x.inc:1\n"),
	    ZNGX_T_REFUSED);
	assert_int_equal(zngx_test_verdict(1, 0, NULL), ZNGX_T_REFUSED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_over),
		cmocka_unit_test(test_test_verdict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
