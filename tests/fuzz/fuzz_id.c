/*
 * Release ids, link names and archive entry names: the checks that decide
 * which names zdd will create under a deploy root.  Each is compared with
 * an independent reading of the rule it promises (SPEC.md: ids are
 * [A-Za-z0-9._-], 1 to 64 characters, not starting with '.'), and every
 * name zar_clean_path() accepts is checked to be relative, free of ".."
 * and of empty components.
 */
#include <string.h>

#include "extract.h"
#include "fuzz.h"
#include "layout.h"

static int
id_rule(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 1 || n > 64 || s[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

static void
check_clean(const char *in, unsigned strip)
{
	char out[4096];
	const char *why = NULL, *p, *c;
	int rc;

	rc = zar_clean_path(in, strip, out, sizeof out, &why);
	FUZZ_CHECK(rc >= -1 && rc <= 1);
	if (rc == -1) {
		FUZZ_CHECK(why != NULL && *why != '\0');
		return;
	}
	if (rc == 0)
		return;
	FUZZ_CHECK(out[0] != '\0' && out[0] != '/');
	FUZZ_CHECK(out[strlen(out) - 1] != '/');
	FUZZ_CHECK(strlen(out) <= strlen(in));
	for (p = out; ; p = c + 1) {
		c = strchr(p, '/');
		size_t n = c != NULL ? (size_t)(c - p) : strlen(p);
		FUZZ_CHECK(n > 0);
		FUZZ_CHECK(!(n == 1 && p[0] == '.'));
		FUZZ_CHECK(!(n == 2 && p[0] == '.' && p[1] == '.'));
		if (c == NULL)
			break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	int v;

	v = zid_valid(s);
	FUZZ_CHECK(v == id_rule(s));
	if (zid_is_stamp(s)) {
		FUZZ_CHECK(v && strlen(s) == 14);
		FUZZ_CHECK(strspn(s, "0123456789") == 14);
	}
	if (zlink_name_valid(s)) {
		FUZZ_CHECK(v);
		FUZZ_CHECK(strcmp(s, "releases") != 0 &&
		    strcmp(s, "shared") != 0 && strcmp(s, ".zdd") != 0);
	}
	check_clean(s, 0);
	check_clean(s, size > 0 ? data[0] % 4 : 0);
	free(s);
	return 0;
}
