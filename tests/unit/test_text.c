/*
 * lib/text: the sanitiser every text from outside goes through, and
 * lib/url: what may be printed of a URL, both read by libcurl's parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "text.h"
#include "url.h"

#define S(x) x, sizeof(x) - 1

static void
clean(void **state)
{
	char out[64];

	(void)state;
	assert_string_equal(ztext_clean(S("all good"), out, sizeof out),
	    "all good");
	/* Line breaks and runs of space fold; none lead or trail. */
	assert_string_equal(ztext_clean(S("\r\n a\r\n\tb  \n"), out,
	    sizeof out), "a b");
	/* A carriage return cannot put a forged line over the real one. */
	assert_string_equal(ztext_clean(S("bad\rzdd-switch: all good"), out,
	    sizeof out), "bad zdd-switch: all good");
	/* C0, DEL, ESC sequences, NUL. */
	assert_string_equal(ztext_clean(S("\033[2J\x07x\x7f\0y"), out,
	    sizeof out), "?[2J?x??y");
	/* C1 controls as UTF-8 (U+009B CSI, U+0085 NEL). */
	assert_string_equal(ztext_clean(S("a\xc2\x9b" "2Jb\xc2\x85" "c"), out,
	    sizeof out), "a?2Jb c");
	/* Bidi embeddings, overrides and isolates; U+2028 breaks a line. */
	assert_string_equal(ztext_clean(S("x\xe2\x80\xaey\xe2\x81\xa6z"
	    "\xe2\x80\xa8w\xe2\x80\xaa"), out, sizeof out), "x?y?z w?");
	/* Printable UTF-8 stays; bytes that are not UTF-8 do not. */
	assert_string_equal(ztext_clean(S("caf\xc3\xa9 \xe2\x9c\x93"), out,
	    sizeof out), "caf\xc3\xa9 \xe2\x9c\x93");
	assert_string_equal(ztext_clean(S("\xc0\xaf\xed\xa0\x80\xff\xc3"),
	    out, sizeof out), "???????");
}

static void
bounded(void **state)
{
	char out[8], big[4096];

	(void)state;
	assert_string_equal(ztext_clean(S("1234567"), out, sizeof out),
	    "1234567");
	assert_string_equal(ztext_clean(S("12345678"), out, sizeof out),
	    "1234...");
	/* Never half a character: é is two bytes. */
	assert_string_equal(ztext_clean(S("123\xc3\xa9\xc3\xa9" "90"), out,
	    sizeof out), "123...");
	assert_string_equal(ztext_clean(S("abc"), out, 1), "");
	assert_string_equal(ztext_clean(S("abcdef"), out, 3), "..");
	memset(big, 'x', sizeof big);
	assert_int_equal(strlen(ztext_clean(big, sizeof big, big, 100)), 99);
}

static void
in_place(void **state)
{
	char s[] = "a\r\n\033b\xe2\x80\xae" "c";
	char *d;

	(void)state;
	assert_string_equal(ztext_fix(s), "a ?b?c");
	d = ztext_dup(S("x\ny"), 2);
	assert_string_equal(d, "..");
	free(d);
}

static void
has_control(void **state)
{
	(void)state;
	assert_false(ztext_has_control(""));
	assert_false(ztext_has_control("feature/x y"));
	assert_false(ztext_has_control("f\xc3\xbcr \xe2\x9c\x93"));
	assert_true(ztext_has_control("a\nb"));
	assert_true(ztext_has_control("a\tb"));
	assert_true(ztext_has_control("a\rb"));
	assert_true(ztext_has_control("a\033[2Jb"));
	assert_true(ztext_has_control("a\x7f"));
	assert_true(ztext_has_control("a\xc2\x85"));		/* NEL */
	assert_true(ztext_has_control("a\xc2\x9b"));		/* CSI */
	assert_true(ztext_has_control("a\xe2\x80\xae"));	/* RLO */
	assert_true(ztext_has_control("a\xe2\x80\xa8"));	/* LS */
	assert_true(ztext_has_control("a\xff"));
	assert_true(ztext_has_control("a\xc3"));		/* cut short */
}

/* The redaction of webhook URLs and zurl_host(): tests/unit/test_opt.c. */
static void
urls(void **state)
{
	const char *why;
	char *s;

	(void)state;
	s = zurl_show("HTTPS://u:p@Host.example:8443/health?token=x#f");
	assert_string_equal(s, "https://Host.example:8443/health?…");
	free(s);
	/*
	 * A password with an unencoded '/': libcurl reads the host
	 * "admin", and the rest as a path, which is not shown.
	 */
	s = zurl_show("http://admin:8080/s3cret@127.0.0.1:18081/health");
	assert_string_equal(s, "http://admin:8080/…");
	free(s);
	assert_int_equal(zurl_check(
	    "http://admin:8080/s3cret@127.0.0.1:18081/health", "http,https",
	    &why), -1);
	assert_non_null(strstr(why, "'@' after the host"));
	/* libcurl refuses these: only a plain scheme is shown. */
	s = zurl_show("http://a@b@127.0.0.1:9/");
	assert_string_equal(s, "http://…");
	free(s);
	assert_int_equal(zurl_check("http://a@b@127.0.0.1:9/", "http", &why),
	    -1);
	s = zurl_show("http://u:pa#ss@h/");
	assert_string_equal(s, "http://…");
	free(s);
	assert_int_equal(zurl_check("ftp://h/", "http,https", &why), -1);
	assert_int_equal(zurl_check("http://h/ x", "http,https", &why), -1);
	assert_int_equal(zurl_check("https://h:8443/x?y#z", "http,https",
	    &why), 0);
	assert_int_equal(zurl_check("tcp://h:1", "tcp", &why), 0);

	assert_true(zurl_loopback("http://127.0.0.2:9/"));
	assert_true(zurl_loopback("http://LOCALHOST/"));
	assert_true(zurl_loopback("http://[::1]/"));
	assert_false(zurl_loopback("http://127.0.0.1.example.com/"));
	assert_false(zurl_loopback("http://10.0.0.1/"));

	s = zurl_edit("https://discord.com/api/webhooks/1/T?x=1#f",
	    "/messages/2", "wait=true");
	assert_string_equal(s,
	    "https://discord.com/api/webhooks/1/T/messages/2?x=1&wait=true");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clean),
		cmocka_unit_test(bounded),
		cmocka_unit_test(in_place),
		cmocka_unit_test(has_control),
		cmocka_unit_test(urls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
