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
		cmocka_unit_test(test_redact),
	};

	return cmocka_run_group_tests_name("opt", tests, NULL, NULL);
}
