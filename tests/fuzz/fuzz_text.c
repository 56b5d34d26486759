/*
 * lib/text's sanitiser, which every text from outside passes before it
 * reaches a terminal.  The promises checked: the result fits its buffer,
 * is valid UTF-8, and holds no byte or character a terminal acts on (C0
 * and C1 controls, DEL, bidi embeddings, overrides and isolates, line
 * and paragraph separators), no leading or trailing space and no two
 * spaces in a row; cleaning it again changes nothing.
 */
#include "fuzz.h"
#include "text.h"

/* The code point at s, its length in *n; -1 if not UTF-8. */
static long
next(const unsigned char *s, size_t *n)
{
	long cp;
	size_t i;

	if (s[0] < 0x80) {
		*n = 1;
		return s[0];
	}
	*n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return -1;
	cp = s[0] & (0x7f >> *n);
	for (i = 1; i < *n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	return cp;
}

static void
check(const char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)out;
	size_t len = strlen(out), n, i;
	char *again;
	long cp;

	FUZZ_CHECK(len < size);
	FUZZ_CHECK(len == 0 || (out[0] != ' ' && out[len - 1] != ' '));
	FUZZ_CHECK(strstr(out, "  ") == NULL);
	for (i = 0; i < len; i += n) {
		cp = next(p + i, &n);
		FUZZ_CHECK(cp >= 0x20 && i + n <= len);
		FUZZ_CHECK(!(cp >= 0x7f && cp <= 0x9f));
		FUZZ_CHECK(!(cp >= 0x202a && cp <= 0x202e));
		FUZZ_CHECK(!(cp >= 0x2066 && cp <= 0x2069));
		FUZZ_CHECK(cp != 0x2028 && cp != 0x2029);
	}
	again = malloc(len + 1);
	FUZZ_CHECK(again != NULL);
	FUZZ_CHECK(strcmp(ztext_clean(out, len, again, len + 1), out) == 0);
	free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_exact(data, size), small[16], *big, *s;

	check(ztext_clean(in, size, small, sizeof small), sizeof small);
	big = malloc(size * 2 + 1);
	FUZZ_CHECK(big != NULL);
	check(ztext_clean(in, size, big, size * 2 + 1), size * 2 + 1);
	free(big);
	s = fuzz_str(data, size);
	check(ztext_fix(s), strlen(s) + 1);
	free(s);
	free(in);
	return 0;
}
