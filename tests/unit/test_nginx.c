/*
 * Unit tests of the parsers zdd-switch feeds with bytes anyone may have
 * written: the nginx include file (both shapes, and what must be
 * refused), and HAProxy's "show servers state" and "show stat" answers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "haproxy.h"
#include "nginx.h"

static int
parse(const char *s, struct zngx_inc *inc)
{
	return zngx_parse(s, strlen(s), inc);
}

static void
test_set(void **state)
{
	struct zngx_inc inc;

	(void)state;
	assert_int_equal(parse("set $service_url http://127.0.0.1:8081;\n",
	    &inc), 0);
	assert_int_equal(inc.format, ZNGX_SET);
	assert_string_equal(inc.name, "service_url");
	assert_string_equal(inc.addr, "127.0.0.1:8081");
	assert_int_equal(parse("# hi\n  set\t$v \"http://green\" ; # x\n",
	    &inc), 0);
	assert_string_equal(inc.addr, "green");
	assert_int_equal(parse("set $v http://[::1]:80;", &inc), 0);
	assert_string_equal(inc.addr, "[::1]:80");
	/* A comment starts only where a token may; quotes; unix: sockets. */
	assert_int_equal(parse("set $v http://a:1;# c", &inc), 0);
	assert_int_equal(parse("set $v 'http://a:2' ;", &inc), 0);
	assert_string_equal(inc.addr, "a:2");
	assert_int_equal(parse("set \"$v\" http://a:3;", &inc), 0);
	assert_string_equal(inc.name, "v");
	assert_int_equal(parse("set $v http://unix:/run/a.sock;", &inc), 0);
	assert_string_equal(inc.addr, "unix:/run/a.sock");
	assert_int_equal(parse("", &inc), 1);
	assert_int_equal(parse("  # only a comment\n\n", &inc), 1);
}

static void
test_upstream(void **state)
{
	struct zngx_inc inc;

	(void)state;
	assert_int_equal(parse("upstream backend {\n\tserver 127.0.0.1:8082;"
	    "\n\tkeepalive 32;\n}\n", &inc), 0);
	assert_int_equal(inc.format, ZNGX_UPSTREAM);
	assert_string_equal(inc.name, "backend");
	assert_string_equal(inc.addr, "127.0.0.1:8082");
	assert_int_equal(inc.keepalive, 32);
	assert_int_equal(parse("upstream b{keepalive 2;server unix:/run/a.sock;}",
	    &inc), 0);
	assert_string_equal(inc.addr, "unix:/run/a.sock");
	assert_int_equal(parse("upstream b { server x:1; }", &inc), 0);
	assert_int_equal(inc.keepalive, 0);
}

static void
test_refused(void **state)
{
	static const char *bad[] = {
		"set $v http://127.0.0.1:1; set $w http://a;",
		"set $v http://127.0.0.1:1",
		"set $v https://127.0.0.1:1;",
		"set v http://127.0.0.1:1;",
		"set $v http://a;b;",
		"set $v \"http://a;",
		"set $v http://a\\;;",
		"proxy_pass http://127.0.0.1:1;",
		"upstream b { server a:1; server c:2; }",
		"upstream b { server a:1 weight=2; }",
		"upstream b { server a:1; keepalive 0; }",
		"upstream b { server a:1; keepalive x; }",
		"upstream b { server a:1; ",
		"upstream b { keepalive 3; }",
		"upstream b { server a:1; } extra;",
		"upstream b { server a:1; keepalive 3; keepalive 4; }",
		"upstream { server a:1; }",
		"upstream b { server \"a b\"; }",
		"upstream b { server $x; }",
		"{}",
		";",
		/* nginx's lexer: '#' inside a word is part of it. */
		"set $v http://a:1#;set $v http://b:2;",
		"set $v \"http://a:1\"x;",
		"set $v http://a:1\";",
		"set $v http://a:8\\1;",
		"upstream b { server a:1}",
		"upstream b \"{\" server a:1; }",
		"set $v 'http://a:1;",
		"set $v http://a:1; }",
	};
	struct zngx_inc inc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (parse(bad[i], &inc) != -1)
			fail_msg("accepted: %s", bad[i]);
	}
	assert_int_equal(zngx_parse("set $v http://a;\0", 17, &inc), -1);
}

static void
test_render(void **state)
{
	struct zngx_inc inc = { ZNGX_UPSTREAM, "backend", "127.0.0.1:9", 32 };
	struct zngx_inc back;
	char *s;

	(void)state;
	s = zngx_render(&inc, "green");
	assert_non_null(s);
	assert_int_equal(zngx_parse(s, strlen(s), &back), 0);
	assert_string_equal(back.addr, "127.0.0.1:9");
	assert_int_equal(back.keepalive, 32);
	free(s);
	inc.format = ZNGX_SET;
	strcpy(inc.name, "service_url");
	s = zngx_render(&inc, "green");
	assert_non_null(s);
	assert_int_equal(zngx_parse(s, strlen(s), &back), 0);
	assert_int_equal(back.format, ZNGX_SET);
	free(s);
	strcpy(inc.addr, "a;b");
	assert_null(zngx_render(&inc, "x"));
	assert_false(zngx_addr_valid("1.2.3.4:80 backup"));
	assert_false(zngx_addr_valid("unix:relative"));
	assert_false(zngx_addr_valid(""));
	assert_true(zngx_addr_valid("app.internal:8080"));
}

static void
test_log_answer(void **state)
{
	char l1[] = "127.0.0.1:8082 200", l2[] = "127.0.0.1:1, 127.0.0.1:2 502, 503";
	char l3[] = "a:1 : b:2 404 : 500", l4[] = "- -", l5[] = "x:1",
	    l6[] = "unix:/run/a.sock 204", l7[] = "a:1 200 b:2",
	    l8[] = "set 44444444444444444444444", l9[] = "a:1 2000";
	const char *addr;
	int st;

	(void)state;
	assert_int_equal(zngx_log_answer(l1, &addr, &st), 0);
	assert_string_equal(addr, "127.0.0.1:8082");
	assert_int_equal(st, 200);
	assert_int_equal(zngx_log_answer(l2, &addr, &st), 0);
	assert_string_equal(addr, "127.0.0.1:2");
	assert_int_equal(st, 503);
	assert_int_equal(zngx_log_answer(l3, &addr, &st), 0);
	assert_string_equal(addr, "b:2");
	assert_int_equal(st, 500);
	assert_int_equal(zngx_log_answer(l6, &addr, &st), 0);
	assert_string_equal(addr, "unix:/run/a.sock");
	assert_int_equal(zngx_log_answer(l4, &addr, &st), -1);
	assert_int_equal(zngx_log_answer(l5, &addr, &st), -1);
	assert_int_equal(zngx_log_answer(l7, &addr, &st), -1);
	assert_int_equal(zngx_log_answer(l8, &addr, &st), -1);
	assert_int_equal(zngx_log_answer(l9, &addr, &st), -1);
}

static void
test_haproxy_state(void **state)
{
	static const char ans[] = "1\n# be_id be_name srv_id srv_name srv_addr "
	    "srv_op_state srv_admin_state srv_uweight\n"
	    "3 app 1 blue 127.0.0.1 2 8 1\n"
	    "3 app 2 green 127.0.0.1 2 4 1\n"
	    "4 other 1 blue 127.0.0.1 2 0 1\n\n";
	struct zhap_server v[4];

	(void)state;
	assert_int_equal(zhap_parse_state(ans, "app", v, 4), 2);
	assert_string_equal(v[0].name, "blue");
	assert_int_equal(v[0].admin_state & ZHAP_DRAIN, 8);
	assert_int_equal(v[1].admin_state & (ZHAP_MAINT | ZHAP_DRAIN), 0);
	assert_string_equal(v[0].addr, "127.0.0.1");
	assert_int_equal(v[0].port, -1);
	assert_int_equal(zhap_addr_is(&v[0], "127.0.0.1:8081"), -1);
	assert_int_equal(zhap_parse_state(ans, "app", v, 1), -1);
	assert_int_equal(zhap_parse_state("Can't find backend.\n", "app", v,
	    4), -1);
	assert_int_equal(zhap_parse_state("1\n3 app 1 blue\n", "app", v, 4),
	    -1);
	assert_int_equal(zhap_parse_state("1\n# be_name srv_name\n", "app", v,
	    4), -1);
	assert_int_equal(zhap_parse_state("1\n# be_name srv_name srv_op_state "
	    "srv_admin_state\napp blue 2\n", "app", v, 4), -1);
	assert_int_equal(zhap_parse_state("1\n# be_name srv_name srv_op_state "
	    "srv_admin_state\napp blue 2 -1\n", "app", v, 4), -1);
}

static void
test_haproxy_addr(void **state)
{
	static const char ans[] = "1\n# be_name srv_name srv_addr "
	    "srv_op_state srv_admin_state srv_port\n"
	    "app blue 127.0.0.1 2 0 8081\n"
	    "app green ::1 2 4 8082\n"
	    "app red - 2 4 8083\n";
	struct zhap_server v[4];

	(void)state;
	assert_int_equal(zhap_parse_state(ans, "app", v, 4), 3);
	assert_int_equal(v[0].port, 8081);
	assert_int_equal(zhap_addr_is(&v[0], "127.0.0.1:8081"), 1);
	assert_int_equal(zhap_addr_is(&v[0], "127.0.0.1:8082"), 0);
	assert_int_equal(zhap_addr_is(&v[0], "127.0.0.2:8081"), 0);
	assert_int_equal(zhap_addr_is(&v[0], "[::1]:8081"), 0);
	assert_int_equal(zhap_addr_is(&v[0], "localhost:8081"), -1);
	assert_int_equal(zhap_addr_is(&v[0], "127.0.0.1"), -1);
	assert_int_equal(zhap_addr_is(&v[1], "[::1]:8082"), 1);
	assert_int_equal(zhap_addr_is(&v[1], "[0:0::1]:8082"), 1);
	assert_int_equal(zhap_addr_is(&v[2], "127.0.0.1:8083"), -1);
}

static void
test_haproxy_stat(void **state)
{
	static const char csv[] = "# pxname,svname,qcur,qmax,scur,smax\n"
	    "fe,FRONTEND,,,7,9\n"
	    "app,blue,1,0,3,5\n"
	    "app,green,,,0,1\n";

	(void)state;
	assert_int_equal(zhap_parse_sessions(csv, "app", "blue"), 4);
	assert_int_equal(zhap_parse_sessions(csv, "app", "green"), 0);
	assert_int_equal(zhap_parse_sessions(csv, "app", "red"), -1);
	assert_int_equal(zhap_parse_sessions("garbage\n", "app", "blue"), -1);
	assert_int_equal(zhap_parse_sessions("# pxname,svname,qcur,scur\n"
	    "app,blue,x,1\n", "app", "blue"), -1);
	assert_true(zhap_ok("\n"));
	assert_true(zhap_ok(""));
	assert_false(zhap_ok("No such server.\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_upstream),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_log_answer),
		cmocka_unit_test(test_haproxy_state),
		cmocka_unit_test(test_haproxy_addr),
		cmocka_unit_test(test_haproxy_stat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
