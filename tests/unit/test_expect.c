/*
 * Unit tests of the parsers zdd-health feeds with untrusted input: status
 * lists, JSON body expectations and targets.  Each case is an input and
 * what the parser must make of it, the bad ones with the position it must
 * point at, so that the later fuzz harness has a known-good base.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "expect.h"
#include "status.h"
#include "target.h"
#include "url.h"

static void
status_good(void **state)
{
	struct zstatus st;
	size_t pos;
	const char *why;

	(void)state;
	assert_int_equal(zstatus_parse("200,204,300-399", &st, &pos, &why), 0);
	assert_int_equal(st.n, 3);
	assert_true(zstatus_match(&st, 200));
	assert_true(zstatus_match(&st, 204));
	assert_false(zstatus_match(&st, 201));
	assert_true(zstatus_match(&st, 399));
	assert_false(zstatus_match(&st, 400));
	assert_int_equal(zstatus_parse("2xx,5XX", &st, &pos, &why), 0);
	assert_true(zstatus_match(&st, 299));
	assert_true(zstatus_match(&st, 503));
	assert_false(zstatus_match(&st, 404));
	assert_false(zstatus_match(&st, 0));
}

static void
status_bad(void **state)
{
	static const struct {
		const char *s;
		size_t pos;
	} bad[] = {
		{ "", 0 }, { "20", 0 }, { "2000", 0 }, { "099", 0 },
		{ "600", 0 }, { "200,", 4 }, { "200-", 4 }, { "300-200", 4 },
		{ "200-600", 4 }, { "200 ", 3 }, { "200;204", 3 }, { "6xx", 0 },
		{ "2x9", 0 }, { "-200", 0 }, { "200,,204", 4 },
	};
	struct zstatus st;
	size_t i, pos;
	const char *why;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		pos = 999;
		assert_int_equal(zstatus_parse(bad[i].s, &st, &pos, &why), -1);
		assert_int_equal(pos, bad[i].pos);
		assert_non_null(why);
	}
}

static void
expect_parse_good(void **state)
{
	struct zexpect e;
	size_t pos;
	const char *why;

	(void)state;
	assert_int_equal(zexpect_parse("components.db.status=UP", &e, &pos,
	    &why), 0);
	assert_int_equal(e.op, ZEXPECT_EQ);
	assert_int_equal(e.nstep, 3);
	assert_string_equal(e.step[1].key, "db");
	assert_string_equal(e.path, "components.db.status");
	assert_string_equal(e.value, "UP");
	zexpect_free(&e);

	assert_int_equal(zexpect_parse("[0].items[2][3]!=x=y", &e, &pos,
	    &why), 0);
	assert_int_equal(e.op, ZEXPECT_NE);
	assert_int_equal(e.nstep, 4);
	assert_null(e.step[0].key);
	assert_int_equal(e.step[0].index, 0);
	assert_string_equal(e.step[1].key, "items");
	assert_int_equal(e.step[3].index, 3);
	assert_string_equal(e.value, "x=y");
	zexpect_free(&e);

	assert_int_equal(zexpect_parse("a\\.b\\=c", &e, &pos, &why), 0);
	assert_int_equal(e.op, ZEXPECT_EXISTS);
	assert_int_equal(e.nstep, 1);
	assert_string_equal(e.step[0].key, "a.b=c");
	zexpect_free(&e);

	assert_int_equal(zexpect_parse("status=", &e, &pos, &why), 0);
	assert_string_equal(e.value, "");
	zexpect_free(&e);
}

static void
expect_parse_bad(void **state)
{
	static const struct {
		const char *s;
		size_t pos;
	} bad[] = {
		{ "", 0 }, { "=UP", 0 }, { "a..b", 2 }, { "a.", 2 },
		{ ".a", 0 }, { "a[", 2 }, { "a[x]", 2 }, { "a[1", 3 },
		{ "a[-1]", 2 }, { "a]", 1 }, { "a.[0]", 2 }, { "a\\", 2 },
		{ "a[99999999999]", 11 },
	};
	struct zexpect e;
	size_t i, pos;
	const char *why;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		pos = 999;
		why = NULL;
		assert_int_equal(zexpect_parse(bad[i].s, &e, &pos, &why), -1);
		if (pos != bad[i].pos)
			fail_msg("%s: pos %zu, want %zu", bad[i].s, pos,
			    bad[i].pos);
		assert_non_null(why);
	}
}

/* Evaluate expr against json; the result and, on failure, the reason. */
static int
eval(const char *expr, const char *json, char *why, size_t size)
{
	struct zexpect e;
	json_error_t jerr;
	json_t *root;
	size_t pos;
	const char *w;
	int rc;

	assert_int_equal(zexpect_parse(expr, &e, &pos, &w), 0);
	root = json_loads(json, JSON_DECODE_ANY, &jerr);
	assert_non_null(root);
	why[0] = '\0';
	rc = zexpect_eval(&e, root, why, size);
	json_decref(root);
	zexpect_free(&e);
	return rc;
}

static void
expect_eval(void **state)
{
	const char *spring = "{\"status\":\"UP\",\"components\":{\"db\":"
	    "{\"status\":\"DOWN\",\"details\":{\"n\":3,\"r\":0.5,\"ok\":true,"
	    "\"none\":null,\"big\":9007199254740993}}},\"groups\":"
	    "[\"liveness\",\"readiness\"]}";
	char why[256];

	(void)state;
	assert_true(eval("status=UP", spring, why, sizeof why));
	assert_false(eval("status=DOWN", spring, why, sizeof why));
	assert_string_equal(why, "status is \"UP\", want \"DOWN\"");
	assert_false(eval("components.db.status=UP", spring, why, sizeof why));
	assert_string_equal(why,
	    "components.db.status is \"DOWN\", want \"UP\"");
	assert_true(eval("components.db.status!=UP", spring, why, sizeof why));
	assert_true(eval("components.cache.status!=UP", spring, why,
	    sizeof why));
	assert_false(eval("status!=UP", spring, why, sizeof why));
	assert_true(eval("components.db.details.n=3", spring, why, sizeof why));
	assert_true(eval("components.db.details.n=3.0", spring, why,
	    sizeof why));
	assert_false(eval("components.db.details.n=3x", spring, why,
	    sizeof why));
	assert_false(eval("components.db.details.n=", spring, why, sizeof why));
	assert_true(eval("components.db.details.r=0.5", spring, why,
	    sizeof why));
	assert_true(eval("components.db.details.ok=true", spring, why,
	    sizeof why));
	assert_false(eval("components.db.details.ok=1", spring, why,
	    sizeof why));
	assert_true(eval("components.db.details.none", spring, why,
	    sizeof why));
	assert_true(eval("components.db.details.none=null", spring, why,
	    sizeof why));
	assert_true(eval("components.db.details.big=9007199254740993",
	    spring, why, sizeof why));
	assert_false(eval("components.db.details.big=9007199254740992",
	    spring, why, sizeof why));
	assert_true(eval("groups[1]=readiness", spring, why, sizeof why));
	assert_true(eval("groups=[\"liveness\",\"readiness\"]", spring, why,
	    sizeof why));
	assert_false(eval("groups[2]", spring, why, sizeof why));
	assert_string_equal(why, "groups[2] missing (groups has 2 elements)");
	assert_false(eval("components.redis.status=UP", spring, why,
	    sizeof why));
	assert_string_equal(why, "components.redis.status missing "
	    "(components has no \"redis\")");
	assert_false(eval("status.code", spring, why, sizeof why));
	assert_string_equal(why,
	    "status.code missing (status is \"UP\", not an object)");
	assert_false(eval("nope", spring, why, sizeof why));
	assert_string_equal(why, "nope missing (the body has no \"nope\")");
	assert_true(eval("[1].id=2", "[{\"id\":1},{\"id\":2}]", why,
	    sizeof why));
	assert_false(eval("status=UP", "\"UP\"", why, sizeof why));
	/* A reason never runs past its buffer. */
	assert_false(eval("components.db.status=UP", spring, why, 8));
	assert_int_equal(strlen(why), 7);
}

static void
targets(void **state)
{
	struct ztarget t;
	size_t pos;
	const char *why;
	char *s;

	(void)state;
	assert_int_equal(ztarget_parse("tcp://127.0.0.1:5432", &t, &pos, &why),
	    0);
	assert_int_equal(t.kind, ZTARGET_TCP);
	assert_string_equal(t.url, "http://127.0.0.1:5432/");
	assert_string_equal(t.show, "tcp://127.0.0.1:5432");
	ztarget_free(&t);
	assert_int_equal(ztarget_parse("tcp://[::1]:80", &t, &pos, &why), 0);
	ztarget_free(&t);
	assert_int_equal(ztarget_parse(
	    "HTTPS://u:p@Host.example:8443/health?token=x#f", &t, &pos, &why),
	    0);
	assert_int_equal(t.kind, ZTARGET_HTTP);
	assert_string_equal(t.show, "https://Host.example:8443/health?…");
	ztarget_free(&t);

	assert_int_equal(ztarget_parse("tcp://host", &t, &pos, &why), -1);
	assert_int_equal(pos, 10);
	assert_int_equal(ztarget_parse("tcp://host:0", &t, &pos, &why), -1);
	assert_int_equal(ztarget_parse("tcp://host:65536", &t, &pos, &why),
	    -1);
	assert_int_equal(ztarget_parse("tcp://u@host:1", &t, &pos, &why), -1);
	assert_int_equal(ztarget_parse("tcp://host:1/x", &t, &pos, &why), -1);
	assert_int_equal(ztarget_parse("http://", &t, &pos, &why), -1);
	assert_int_equal(ztarget_parse("http://a b/", &t, &pos, &why), -1);
	assert_int_equal(pos, 8);
	assert_int_equal(ztarget_parse("http://h/a b", &t, &pos, &why), -1);
	assert_int_equal(ztarget_parse("http://[::1/", &t, &pos, &why), -1);
	assert_int_equal(ztarget_parse("gopher://h/", &t, &pos, &why), -1);

	s = zurl_show("http://user:pw@h:1/p?q=secret");
	assert_string_equal(s, "http://h:1/p?…");
	free(s);
	/* libcurl refuses it: only the scheme is shown. */
	s = zurl_show("http://a@b@h/");
	assert_string_equal(s, "http://…");
	free(s);
}

static void
resolve_header(void **state)
{
	size_t pos;
	const char *why;

	(void)state;
	assert_int_equal(zresolve_check("h:80:127.0.0.1", &pos, &why), 0);
	assert_int_equal(zresolve_check("h:80:::1", &pos, &why), 0);
	assert_int_equal(zresolve_check("[::1]:80:127.0.0.1", &pos, &why), 0);
	assert_int_equal(zresolve_check("h:80", &pos, &why), -1);
	assert_int_equal(zresolve_check(":80:1.2.3.4", &pos, &why), -1);
	assert_int_equal(zresolve_check("h:0:1.2.3.4", &pos, &why), -1);
	assert_int_equal(zresolve_check("h:99999:1.2.3.4", &pos, &why), -1);
	assert_int_equal(zresolve_check("h:80:", &pos, &why), -1);
	assert_int_equal(zheader_check("X-A: b c", &pos, &why), 0);
	assert_int_equal(zheader_check("X-A:", &pos, &why), 0);
	assert_int_equal(zheader_check(": b", &pos, &why), -1);
	assert_int_equal(zheader_check("X A: b", &pos, &why), -1);
	assert_int_equal(zheader_check("X-A: b\r\nEvil: 1", &pos, &why), -1);
	assert_int_equal(pos, 6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(status_good),
		cmocka_unit_test(status_bad),
		cmocka_unit_test(expect_parse_good),
		cmocka_unit_test(expect_parse_bad),
		cmocka_unit_test(expect_eval),
		cmocka_unit_test(targets),
		cmocka_unit_test(resolve_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
