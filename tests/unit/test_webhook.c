/*
 * Unit tests of the webhook and reply modules: the readers of what chat
 * services answer (untrusted bytes from the network), the refs that
 * --update takes, the UTF-8 clipping that keeps payloads inside each
 * service's limits, and the guesses and shapes that depend on nothing but
 * their input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "reply.h"
#include "webhook.h"

#define S(x) x, sizeof(x) - 1

static void
test_retry_body(void **state)
{
	(void)state;
	assert_true(zwh_retry_body(S("{\"retry_after\": 0.3}")) == 0.3);
	assert_true(zwh_retry_body(S("{\"retry_after\": 2, \"global\": true}"))
	    == 2);
	assert_true(zwh_retry_body(S("{\"retry_after\": -1}")) == -1);
	assert_true(zwh_retry_body(S("{\"retry_after\": \"5\"}")) == -1);
	assert_true(zwh_retry_body(S("[0.3]")) == -1);
	assert_true(zwh_retry_body(S("{\"retry_after\": 0.3")) == -1);
	assert_true(zwh_retry_body(S("")) == -1);
	assert_true(zwh_retry_body(NULL, 0) == -1);
}

static void
test_slack_ok(void **state)
{
	(void)state;
	assert_int_equal(zwh_slack_ok(S("ok")), 1);
	assert_int_equal(zwh_slack_ok(S("ok\r\n")), 1);
	assert_int_equal(zwh_slack_ok(S("okay")), 0);
	assert_int_equal(zwh_slack_ok(S("o")), 0);
	assert_int_equal(zwh_slack_ok(S("")), 0);
	assert_int_equal(zwh_slack_ok(S("invalid_token")), 0);
}

static void
test_slack_api(void **state)
{
	struct zwh_ref r;
	char why[64];

	(void)state;
	assert_int_equal(zwh_slack_api(S("{\"ok\":true,"
	    "\"channel\":\"C024BE91L\",\"ts\":\"1401383885.000061\"}"), &r,
	    why, sizeof why), 0);
	assert_int_equal(r.kind, ZWH_SLACK);
	assert_string_equal(r.channel, "C024BE91L");
	assert_string_equal(r.id, "1401383885.000061");
	assert_int_equal(zwh_slack_api(S("{\"ok\":false,\"error\":"
	    "\"channel_not_found\"}"), &r, why, sizeof why), -1);
	assert_string_equal(why, "channel_not_found");
	assert_int_equal(zwh_slack_api(S("{\"ok\":false,\"error\":"
	    "\"\\u001b[2Jbad\\nline\"}"), &r, why, sizeof why), -1);
	assert_string_equal(why, "?[2Jbad line");
	assert_int_equal(zwh_slack_api(S("{\"ok\":\"true\"}"), &r, why,
	    sizeof why), -1);
	assert_int_equal(zwh_slack_api(S("{\"ok\":true,\"channel\":\"C1;rm\","
	    "\"ts\":\"1.2\"}"), &r, why, sizeof why), -1);
	assert_int_equal(zwh_slack_api(S("{\"ok\":true,\"channel\":\"C1\","
	    "\"ts\":\"1.2x\"}"), &r, why, sizeof why), -1);
	assert_int_equal(zwh_slack_api(S("{\"ok\":true}"), &r, why,
	    sizeof why), -1);
	assert_int_equal(zwh_slack_api(S("ok"), &r, why, sizeof why), -1);
	assert_string_equal(why, "not a Slack API answer");
}

static void
test_discord_id(void **state)
{
	struct zwh_ref r;

	(void)state;
	assert_int_equal(zwh_discord_id(S("{\"id\":\"1100000000000000001\","
	    "\"content\":\"x\"}"), &r), 0);
	assert_int_equal(r.kind, ZWH_DISCORD);
	assert_string_equal(r.id, "1100000000000000001");
	assert_int_equal(zwh_discord_id(S("{\"id\":1100}"), &r), -1);
	assert_int_equal(zwh_discord_id(S("{\"id\":\"12a\"}"), &r), -1);
	assert_int_equal(zwh_discord_id(S("{\"id\":\"\"}"), &r), -1);
	assert_int_equal(zwh_discord_id(S("{\"id\":\"123456789012345678901\"}"),
	    &r), -1);
	assert_int_equal(zwh_discord_id(S(""), &r), -1);
}

static void
test_reason(void **state)
{
	char out[32], tiny[1];

	(void)state;
	zwh_reason(S("{\"message\":\"Unknown Webhook\",\"code\":10015}"), out,
	    sizeof out);
	assert_string_equal(out, "Unknown Webhook");
	zwh_reason(S("{\"error\":{\"code\":\"Bad\",\"message\":\"card too "
	    "big\"}}"), out, sizeof out);
	assert_string_equal(out, "card too big");
	zwh_reason(S("{\"ok\":false,\"error\":\"invalid_auth\"}"), out,
	    sizeof out);
	assert_string_equal(out, "invalid_auth");
	zwh_reason(S("  no_service\r\n"), out, sizeof out);
	assert_string_equal(out, "no_service");
	zwh_reason(S("\x1b]0;x\x07\x9b" "31mred"), out, sizeof out);
	assert_string_equal(out, "?]0;x??31mred");
	/* UTF-8 reads as it is; bidi controls do not. */
	zwh_reason(S("caf\xc3\xa9 \xe2\x80\xae" "evil"), out, sizeof out);
	assert_string_equal(out, "caf\xc3\xa9 ?evil");
	zwh_reason(S(""), out, sizeof out);
	assert_string_equal(out, "(empty answer)");
	zwh_reason(S("0123456789012345678901234567890123456789"), out,
	    sizeof out);
	assert_int_equal(strlen(out), sizeof out - 1);
	zwh_reason(S("abc"), tiny, sizeof tiny);
	assert_int_equal(tiny[0], '\0');
}

static void
test_ref(void **state)
{
	struct zwh_ref r;
	char buf[160];

	(void)state;
	assert_int_equal(zwh_ref_parse("slack:C024BE91L:1401383885.000061",
	    &r), 0);
	assert_int_equal(zwh_ref_format(&r, buf, sizeof buf), 0);
	assert_string_equal(buf, "slack:C024BE91L:1401383885.000061");
	assert_int_equal(zwh_ref_parse("discord:1100000000000000001", &r), 0);
	assert_int_equal(zwh_ref_format(&r, buf, sizeof buf), 0);
	assert_string_equal(buf, "discord:1100000000000000001");
	assert_int_equal(zwh_ref_format(&r, buf, 5), -1);
	assert_int_equal(zwh_ref_parse("slack:C1", &r), -1);
	assert_int_equal(zwh_ref_parse("slack::1.2", &r), -1);
	assert_int_equal(zwh_ref_parse("slack:C1:", &r), -1);
	assert_int_equal(zwh_ref_parse("slack:C1:1.2x", &r), -1);
	assert_int_equal(zwh_ref_parse("slack:C/1:1.2", &r), -1);
	assert_int_equal(zwh_ref_parse("discord:", &r), -1);
	assert_int_equal(zwh_ref_parse("discord:12a", &r), -1);
	assert_int_equal(zwh_ref_parse("discord:../1", &r), -1);
	assert_int_equal(zwh_ref_parse("teams:1", &r), -1);
}

static void
test_ref_time(void **state)
{
	struct zwh_ref r;
	char buf[32];

	(void)state;
	zwh_ref_parse("slack:C1:1795444625.000100", &r);
	assert_true(zwh_ref_time(&r) > 1795444625 &&
	    zwh_ref_time(&r) < 1795444626);
	/* Discord's own example: 175928847299117063 is 2016-04-30 11:18:25. */
	zwh_ref_parse("discord:175928847299117063", &r);
	assert_true(zwh_ref_time(&r) > 1462015105 &&
	    zwh_ref_time(&r) < 1462015106);
	zwh_ref_parse("slack:C1:1.2.3", &r);
	assert_true(zwh_ref_time(&r) == -1);
	r.kind = ZWH_TEAMS;
	assert_true(zwh_ref_time(&r) == -1);
	zwh_duration(42.4, buf, sizeof buf);
	assert_string_equal(buf, "42s");
	zwh_duration(192, buf, sizeof buf);
	assert_string_equal(buf, "3m 12s");
	zwh_duration(3600 + 120 + 5, buf, sizeof buf);
	assert_string_equal(buf, "1h 02m");
	zwh_duration(-3, buf, sizeof buf);
	assert_string_equal(buf, "0s");
}

static void
test_clip(void **state)
{
	char *s;

	(void)state;
	s = zwh_clip(S("plain"), 0);
	assert_string_equal(s, "plain");
	free(s);
	/* Invalid lead, lone continuation, overlong, surrogate, NUL. */
	s = zwh_clip(S("a\xff" "b\x80" "c\xc0\xaf" "d\xed\xa0\x80" "e\0f"), 0);
	assert_string_equal(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd"
	    "\xef\xbf\xbd" "d\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "e"
	    "\xef\xbf\xbd" "f");
	free(s);
	s = zwh_clip(S("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"), 17);
	/* 17 bytes: one é (2) is all that fits before the 14-byte marker. */
	assert_string_equal(s, "\xc3\xa9" ZWH_MARK);
	free(s);
	s = zwh_clip(S("0123456789abcdefghijklmnopqrstuvwxyz"), 20);
	assert_true(strlen(s) <= 20);
	assert_string_equal(s, "012345" ZWH_MARK);
	free(s);
	s = zwh_clip(S("short"), 20);
	assert_string_equal(s, "short");
	free(s);
}

static void
test_escape(void **state)
{
	char *s = zwh_slack_escape("<@here> & <!channel>");

	(void)state;
	assert_string_equal(s, "&lt;@here&gt; &amp; &lt;!channel&gt;");
	free(s);
}

static void
test_kind(void **state)
{
	(void)state;
	assert_int_equal(zwh_kind_guess("hooks.slack.com"), ZWH_SLACK);
	assert_int_equal(zwh_kind_guess("evilhooks.slack.com"), ZWH_WEBHOOK);
	assert_int_equal(zwh_kind_guess("discord.com"), ZWH_DISCORD);
	assert_int_equal(zwh_kind_guess("discordapp.com"), ZWH_DISCORD);
	assert_int_equal(zwh_kind_guess("acme.webhook.office.com"), ZWH_TEAMS);
	assert_int_equal(zwh_kind_guess("webhook.office.com.evil.net"),
	    ZWH_WEBHOOK);
	assert_int_equal(zwh_kind_guess("evilwebhook.office.com"),
	    ZWH_WEBHOOK);
	assert_int_equal(zwh_kind_guess("prod-1.westus.logic.azure.com"),
	    ZWH_TEAMS);
	assert_int_equal(zwh_kind_guess("x.environment.api.powerplatform.com"),
	    ZWH_TEAMS);
	assert_int_equal(zwh_kind_guess("chat.googleapis.com"), ZWH_GCHAT);
	assert_int_equal(zwh_kind_guess("mm.example.com"), ZWH_WEBHOOK);
	assert_int_equal(zwh_kind_guess(NULL), ZWH_WEBHOOK);
	assert_int_equal(zwh_kind("google-chat"), ZWH_GCHAT);
	assert_int_equal(zwh_kind("Slack"), -1);
	assert_string_equal(zwh_kind_name(ZWH_MATTERMOST), "mattermost");
}

static void
test_status(void **state)
{
	(void)state;
	assert_string_equal(zwh_status("0"), "success");
	assert_string_equal(zwh_status("1"), "failure");
	assert_string_equal(zwh_status("255"), "failure");
	assert_string_equal(zwh_status("rollback"), "rollback");
	assert_null(zwh_status("256"));
	assert_null(zwh_status("-1"));
	assert_null(zwh_status("0x1"));
	assert_null(zwh_status("Success"));
	assert_null(zwh_status(""));
	assert_null(zwh_status(NULL));
}

static void
test_payload(void **state)
{
	json_t *ev = json_pack("{s:s s:s s:s s:s}", "status", "failure",
	    "app", "shop", "env", "prod", "message", "<@here> & go");
	json_t *p, *e;
	char *h;

	(void)state;
	h = zwh_headline(ev);
	assert_string_equal(h, "Deploy of shop to prod failed");
	free(h);
	p = zwh_payload(ZWH_DISCORD, ev);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(p, "embeds"), 0), "color")), 0xe01e5a);
	assert_int_equal(json_array_size(json_object_get(json_object_get(p,
	    "allowed_mentions"), "parse")), 0);
	json_decref(p);
	p = zwh_payload(ZWH_SLACK, ev);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(p, "attachments"), 0), "text")),
	    "&lt;@here&gt; &amp; go");
	json_decref(p);
	p = zwh_payload(ZWH_WEBHOOK, ev);
	assert_true(json_equal(p, ev));
	json_decref(p);
	json_decref(ev);

	/* A link or a time a service would refuse the message over. */
	ev = json_pack("{s:s s:s s:s}", "link", "current", "time", "soon",
	    "build_url", "javascript:alert(1)");
	p = zwh_payload(ZWH_DISCORD, ev);
	e = json_array_get(json_object_get(p, "embeds"), 0);
	assert_null(json_object_get(e, "url"));
	assert_null(json_object_get(e, "timestamp"));
	json_decref(p);
	p = zwh_payload(ZWH_SLACK, ev);
	e = json_array_get(json_object_get(p, "attachments"), 0);
	assert_null(json_object_get(e, "title_link"));
	assert_null(json_object_get(e, "ts"));
	json_decref(p);
	json_object_set_new(ev, "build_url",
	    json_string("https://ci.example.com/job/1/"));
	json_object_set_new(ev, "time", json_string("2026-11-23T08:40:13Z"));
	p = zwh_payload(ZWH_DISCORD, ev);
	e = json_array_get(json_object_get(p, "embeds"), 0);
	assert_string_equal(json_string_value(json_object_get(e, "url")),
	    "https://ci.example.com/job/1/");
	assert_string_equal(json_string_value(json_object_get(e,
	    "timestamp")), "2026-11-23T08:40:13Z");
	json_decref(p);
	json_decref(ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_body),
		cmocka_unit_test(test_slack_ok),
		cmocka_unit_test(test_slack_api),
		cmocka_unit_test(test_discord_id),
		cmocka_unit_test(test_reason),
		cmocka_unit_test(test_ref),
		cmocka_unit_test(test_ref_time),
		cmocka_unit_test(test_clip),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_kind),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_payload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
