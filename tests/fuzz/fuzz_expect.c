/*
 * zdd-health's --expect: the expression parser and its evaluator against
 * an arbitrary body.  The input is an expression, a newline, and the
 * body a server sent (JSON or not), read as zdd-health reads it
 * (zexpect_load).  Every expression that parses is evaluated against the
 * body when it is JSON, and the reason written for
 * a failed expectation must be a NUL-terminated string within its buffer.
 * A parse failure must point inside the expression.
 */
#include <jansson.h>

#include "expect.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zexpect e;
	const uint8_t *body;
	size_t blen, pos = (size_t)-1;
	const char *why = NULL;
	char reason[128];
	char *expr = fuzz_split(data, size, '\n', &body, &blen);
	char *exact = fuzz_exact(body, blen);
	json_error_t jerr;
	json_t *root;
	int rc;

	memset(&e, 0, sizeof e);
	rc = zexpect_parse(expr, &e, &pos, &why);
	if (rc == -1) {
		FUZZ_CHECK(why != NULL);
		FUZZ_CHECK(pos <= strlen(expr));
		free(expr);
		free(exact);
		return 0;
	}
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(e.nstep <= ZPATH_MAX);
	FUZZ_CHECK(e.path != NULL);
	FUZZ_CHECK((e.op == ZEXPECT_EXISTS) == (e.value == NULL));
	/*
	 * zdd-health's reading of a body: whatever jansson takes, it takes
	 * too, and more (numbers past the range).
	 */
	root = json_loadb(exact, blen, JSON_DECODE_ANY | JSON_ALLOW_NUL,
	    &jerr);
	json_decref(root);
	root = zexpect_load(exact, blen, &jerr);
	if (root == NULL)
		FUZZ_CHECK(json_loadb(exact, blen, JSON_DECODE_ANY |
		    JSON_ALLOW_NUL, &jerr) == NULL);
	if (root != NULL) {
		memset(reason, 'x', sizeof reason);
		rc = zexpect_eval(&e, root, reason, sizeof reason);
		FUZZ_CHECK(rc == 0 || rc == 1);
		if (rc == 0)
			FUZZ_CHECK(memchr(reason, '\0', sizeof reason) != NULL);
		/* A tiny buffer must still be terminated, not overrun. */
		rc = zexpect_eval(&e, root, reason, 1);
		FUZZ_CHECK(rc == 0 || rc == 1);
		if (rc == 0)
			FUZZ_CHECK(reason[0] == '\0');
		json_decref(root);
	}
	zexpect_free(&e);
	free(expr);
	free(exact);
	return 0;
}
