/*
 * Unit tests of command-line value parsing and URL redaction: the small
 * pure functions every tool relies on to turn bad input into exit 64 and
 * to keep webhook secrets out of its output.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diag.h"
#include "opt.h"
#include "url.h"

static void
test_uint(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(zparse_uint("5", 0, 10, &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(zparse_uint("0", 0, 10, &v), 0);
	assert_int_equal(zparse_uint("11", 0, 10, &v), -1);
	assert_int_equal(zparse_uint("0", 1, 10, &v), -1);
	assert_int_equal(zparse_uint("-1", 0, 10, &v), -1);
	assert_int_equal(zparse_uint(" 1", 0, 10, &v), -1);
	assert_int_equal(zparse_uint("1x", 0, 10, &v), -1);
	assert_int_equal(zparse_uint("", 0, 10, &v), -1);
	assert_int_equal(zparse_uint("99999999999999999999999", 0, UINT64_MAX,
	    &v), -1);
}

static void
test_size(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(zparse_size("8G", &v), 0);
	assert_true(v == 8ULL << 30);
	assert_int_equal(zparse_size("10KiB", &v), 0);
	assert_true(v == 10240);
	assert_int_equal(zparse_size("3MB", &v), 0);
	assert_true(v == 3ULL << 20);
	assert_int_equal(zparse_size("123", &v), 0);
	assert_true(v == 123);
	assert_int_equal(zparse_size("1Q", &v), -1);
	assert_int_equal(zparse_size("G", &v), -1);
	assert_int_equal(zparse_size("99999999999T", &v), -1);
}

static void
test_seconds(void **state)
{
	double v;

	(void)state;
	assert_int_equal(zparse_seconds("0.5", &v), 0);
	assert_true(v == 0.5);
	assert_int_equal(zparse_seconds(".25", &v), 0);
	assert_true(v == 0.25);
	assert_int_equal(zparse_seconds("60", &v), 0);
	assert_int_equal(zparse_seconds("-1", &v), -1);
	assert_int_equal(zparse_seconds("nan", &v), -1);
	assert_int_equal(zparse_seconds("inf", &v), -1);
	assert_int_equal(zparse_seconds("1e9", &v), -1);
	assert_int_equal(zparse_seconds("2s", &v), -1);
	assert_int_equal(zparse_seconds("", &v), -1);
}

static void
test_common(void **state)
{
	struct zcommon c = ZCOMMON_INIT;

	(void)state;
	assert_int_equal(zopt_common('n', NULL, &c), 1);
	assert_int_equal(zopt.dry_run, 1);
	assert_int_equal(zopt_common(ZOPT_JSON, NULL, &c), 1);
	assert_int_equal(zopt.json, 1);
	assert_int_equal(zopt_common('q', NULL, &c), 1);
	assert_int_equal(zquiet, 1);
	assert_int_equal(zopt_common('v', NULL, &c), 1);
	assert_int_equal(zverbose, 1);
	assert_int_equal(zopt_common('r', "/srv/app", &c), 1);
	assert_string_equal(c.root, "/srv/app");
	assert_true(c.lock_wait == -1);
	assert_int_equal(zopt_common(ZOPT_LOCK_WAIT, "2.5", &c), 1);
	assert_true(c.lock_wait == 2.5);
	assert_null(c.bad);
	assert_int_equal(zopt_common(ZOPT_LOCK_WAIT, "soon", &c), -1);
	assert_string_equal(c.bad, "--lock-wait");
	assert_string_equal(c.why, "not a number of seconds");
	assert_true(c.lock_wait == 2.5);
	/* -h and the tool's own options are the tool's. */
	assert_int_equal(zopt_common('h', NULL, &c), 0);
	assert_int_equal(zopt_common(ZOPT_TOOL, "x", &c), 0);
	assert_int_equal(zopt_common('?', NULL, &c), 0);
}

static void
test_redact(void **state)
{
	char *s;

	(void)state;
	s = zurl_redact("https://hooks.slack.com/services/T0/B0/SECRET");
	assert_string_equal(s, "https://hooks.slack.com/…");
	free(s);
	s = zurl_redact("HTTP://user:pw@example.com:8080/x?token=SECRET#f");
	assert_string_equal(s, "http://example.com:8080/…");
	free(s);
	s = zurl_redact("https://example.com?key=SECRET");
	assert_string_equal(s, "https://example.com/…");
	free(s);
	s = zurl_redact("not a url SECRET");
	assert_string_equal(s, "…");
	free(s);
	s = zurl_host("https://u:p@Discord.COM:443/api/webhooks/1/SECRET");
	assert_string_equal(s, "discord.com");
	free(s);
	s = zurl_host("http://[::1]:9/x");
	assert_string_equal(s, "[::1]");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_seconds),
		cmocka_unit_test(test_common),
		cmocka_unit_test(test_redact),
	};

	return cmocka_run_group_tests_name("opt", tests, NULL, NULL);
}
