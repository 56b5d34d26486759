/*
 * zdd-switch's include file parser: the bytes of a file anyone with write
 * access to /etc/nginx may have edited, given without a terminating NUL.
 * Whatever parses with a valid name and address (a canary's second server,
 * weights and hash key included) must render again and read back as the
 * same thing (what zdd-switch writes it can read), and
 * the rendered file may hold no second statement: an address that passes
 * zngx_addr_valid() carries no ';', brace, quote, '$' or blank.  The same
 * bytes as a C string go through the name and address checks that
 * --target NAME=ADDR and --var use.
 */
#include "fuzz.h"
#include "nginx.h"

static int
count(const char *s, int c)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == c;
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zngx_inc inc, again;
	char *exact = fuzz_exact(data, size);
	char *s = fuzz_str(data, size);
	char *out;
	int rc;

	memset(&inc, 0, sizeof inc);
	rc = zngx_parse(exact, size, &inc);
	FUZZ_CHECK(rc == -1 || rc == 0 || rc == 1);
	if (rc == 0) {
		FUZZ_CHECK(inc.format == ZNGX_SET ||
		    inc.format == ZNGX_UPSTREAM);
		FUZZ_CHECK(memchr(inc.name, '\0', sizeof inc.name) != NULL);
		FUZZ_CHECK(memchr(inc.addr, '\0', sizeof inc.addr) != NULL);
	}
	if (rc == 0 && zngx_name_valid(inc.name) &&
	    zngx_addr_valid(inc.addr)) {
		out = zngx_render(&inc, "blue");
		FUZZ_CHECK(out != NULL);
		memset(&again, 0, sizeof again);
		FUZZ_CHECK(zngx_parse(out, strlen(out), &again) == 0);
		FUZZ_CHECK(again.format == inc.format);
		FUZZ_CHECK(strcmp(again.name, inc.name) == 0);
		FUZZ_CHECK(strcmp(again.addr, inc.addr) == 0);
		if (inc.format == ZNGX_UPSTREAM) {
			FUZZ_CHECK(again.keepalive == inc.keepalive);
			FUZZ_CHECK(strcmp(again.canary, inc.canary) == 0);
			FUZZ_CHECK(strcmp(again.key, inc.key) == 0);
			FUZZ_CHECK(again.weight == inc.weight);
			FUZZ_CHECK(again.canary_weight == inc.canary_weight);
		}
		/* A canary is a hash line and a second server: two more. */
		FUZZ_CHECK(count(out, ';') ==
		    (inc.format == ZNGX_UPSTREAM && inc.keepalive ? 2 : 1) +
		    (inc.canary[0] != '\0' ? 2 : 0));
		FUZZ_CHECK(count(out, '{') ==
		    (inc.format == ZNGX_UPSTREAM ? 1 : 0));
		free(out);
	}
	if (zngx_addr_valid(s)) {
		FUZZ_CHECK(strpbrk(s, ";{}\"'$ \t\r\n#") == NULL);
		FUZZ_CHECK(strlen(s) <= ZNGX_ADDR_MAX);
	}
	/* The same bytes as a line of the access log --watch reads. */
	{
		char *line = strdup(s);
		const char *addr;
		int st;

		if (line != NULL && zngx_log_answer(line, &addr, &st) == 0)
			FUZZ_CHECK(addr >= line && addr < line + strlen(s) &&
			    st >= 100 && st <= 599);
		free(line);
	}
	if (zngx_name_valid(s))
		FUZZ_CHECK(strlen(s) >= 1 && strlen(s) <= ZNGX_NAME_MAX);
	free(exact);
	free(s);
	return 0;
}
