/*
 * What a health check expects of a JSON body ("status=UP",
 * "components.db.status!=DOWN", "items[0].id"), parsed from the command
 * line and evaluated against what a server sent, so both sides are
 * untrusted input; these functions never exit, never print, and report
 * a parse error with the position of the bad character.  Accepted
 * statuses are status.h's.
 */
#ifndef ZDD_EXPECT_H
#define ZDD_EXPECT_H

#include <jansson.h>
#include <stddef.h>

#define ZPATH_MAX	64	/* steps in one expectation's path */

enum zexpect_op { ZEXPECT_EXISTS, ZEXPECT_EQ, ZEXPECT_NE };

/* One step of a path: an object key or an array index. */
struct zstep {
	char	*key;		/* NULL for an index */
	size_t	 index;
	size_t	 end;		/* where the step ends in the path */
};

struct zexpect {
	enum zexpect_op op;
	size_t	 nstep;
	struct zstep step[ZPATH_MAX];
	char	*path;		/* the path as written */
	char	*value;		/* NULL for ZEXPECT_EXISTS */
};

/*
 * Parse one expectation: PATH, PATH=VALUE or PATH!=VALUE, where PATH is
 * keys separated by dots, each optionally followed by [N] indexes (a
 * path may also start with an index).  A backslash makes the next
 * character part of a key, so "a\.b" is the one key "a.b".  On failure
 * -1 with *pos set to the offset of the offending character and why
 * to a short reason.  Free with
 * zexpect_free().
 */
int	zexpect_parse(const char *s, struct zexpect *e, size_t *pos,
	    const char **why);
void	zexpect_free(struct zexpect *e);

/*
 * Evaluate e against a parsed body.  Returns 1 when it holds; 0 when it
 * does not, with a reason such as `components.db.status is "DOWN", want
 * "UP"` written into why (truncated to size).  A string member compares
 * as text, a number numerically (VALUE spelled as a JSON number: "16",
 * "1.6e1", never "0x10"), true, false and null by name, and an object or
 * array as the JSON value VALUE parses to.
 */
int	zexpect_eval(const struct zexpect *e, json_t *root, char *why,
	    size_t size);

/*
 * A response body parsed for zexpect_eval(): any JSON text, NULs in
 * strings included, and numbers past what a double or a long long holds
 * (18446744073709551615, 1e400) read as the nearest double (±DBL_MAX past
 * the range), for they are valid JSON.  NULL with err set if it is not
 * JSON.
 */
json_t	*zexpect_load(const char *body, size_t len, json_error_t *err);

#endif
