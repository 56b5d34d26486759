/*
 * lib/http's words for libcurl's failures: never libcurl's raw sentence
 * with its capital ("URL using bad/illegal format" once came out as
 * "uRL using ..."), one line, and no part of the URL.  Transfers
 * themselves are tested against real servers in tests/40-health.t and
 * tests/60-notify.t.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"

static void
words(void **state)
{
	struct zhttp r = { 0 };
	struct zhttp_opts o = { .agent = "test", .timeout = 1 };
	char why[256];
	int c;

	(void)state;
	assert_int_equal(zhttp_global(), 0);
	assert_int_equal(zhttp_setup(&r, "http://user:SECRET@127.0.0.1:9/x"
	    "?token=SECRET", &o), 0);
	zhttp_error(&r, CURLE_URL_MALFORMAT, NULL, why, sizeof why);
	assert_string_equal(why, "not a URL libcurl can use");
	zhttp_error(&r, CURLE_COULDNT_RESOLVE_HOST, NULL, why, sizeof why);
	assert_string_equal(why, "cannot resolve the host name");
	zhttp_error(&r, CURLE_GOT_NOTHING, NULL, why, sizeof why);
	assert_string_equal(why, "connection closed without a response");
	/* Every code: one line, lower case first unless an acronym. */
	for (c = 1; c < CURL_LAST; c++) {
		zhttp_error(&r, (CURLcode)c, "within 1 s", why, sizeof why);
		assert_null(strpbrk(why, "\r\n"));
		assert_null(strstr(why, "SECRET"));
		assert_false(why[0] >= 'a' && why[0] <= 'z' &&
		    why[1] >= 'A' && why[1] <= 'Z');
	}
	zhttp_free(&r);
}

static void
refused(void **state)
{
	struct zhttp r = { 0 };
	struct zhttp_opts o = { .agent = "test", .timeout = 5,
	    .noproxy = 1 };
	char why[256];
	CURLcode rc;

	(void)state;
	/* Port 1 on loopback: nothing listens there. */
	assert_int_equal(zhttp_setup(&r, "http://127.0.0.1:1/", &o), 0);
	rc = zhttp_perform(&r);
	assert_true(zhttp_failed(&r, rc));
	zhttp_error(&r, rc, NULL, why, sizeof why);
	assert_string_equal(why, "cannot connect: Connection refused");
	assert_int_equal(r.status, 0);
	assert_true(r.retry_after == -1);
	zhttp_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(words),
		cmocka_unit_test(refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
