/*
 * What chat services answer, read as the untrusted bytes it is: Slack's
 * "ok" or error word, its Web API's {"ok":..} object, Discord's message
 * and its retry_after, and the refs that name a posted message for
 * --update.  (A Retry-After header is libcurl's to read: lib/http.c.)
 * Every reader takes a buffer and a length, copies what it keeps, and is
 * safe on any input.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reply.h"
#include "text.h"

static int
chars_ok(const char *s, size_t n, const char *extra)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr(extra, s[i]) == NULL)
			return 0;
	return 1;
}

int
zwh_ref_parse(const char *s, struct zwh_ref *ref)
{
	const char *c;
	size_t n;

	memset(ref, 0, sizeof *ref);
	if (strncmp(s, "slack:", 6) == 0) {
		s += 6;
		if ((c = strchr(s, ':')) == NULL)
			return -1;
		n = (size_t)(c - s);
		if (n >= sizeof ref->channel || !chars_ok(s, n, "_-") ||
		    strlen(c + 1) >= sizeof ref->id ||
		    !chars_ok(c + 1, strlen(c + 1), ".") ||
		    strspn(c + 1, "0123456789.") != strlen(c + 1))
			return -1;
		ref->kind = ZWH_SLACK;
		memcpy(ref->channel, s, n);
		strcpy(ref->id, c + 1);
		return 0;
	}
	if (strncmp(s, "discord:", 8) == 0) {
		s += 8;
		n = strlen(s);
		if (n == 0 || n > 20 || strspn(s, "0123456789") != n)
			return -1;
		ref->kind = ZWH_DISCORD;
		strcpy(ref->id, s);
		return 0;
	}
	return -1;
}

double
zwh_ref_time(const struct zwh_ref *ref)
{
	unsigned long long id;
	char *end;
	double t;

	if (ref->kind == ZWH_SLACK) {
		t = strtod(ref->id, &end);
		return *end == '\0' && t > 0 && t < 1e11 ? t : -1;
	}
	if (ref->kind == ZWH_DISCORD) {
		id = strtoull(ref->id, &end, 10);
		if (*end != '\0' || id == 0)
			return -1;
		/* Milliseconds since 2015-01-01, Discord's epoch. */
		return (double)(id >> 22) / 1000 + 1420070400;
	}
	return -1;
}

void
zwh_duration(double sec, char *buf, size_t size)
{
	long long s;

	/* NaN and negatives are none; the bound keeps the cast defined. */
	if (!(sec >= 0))
		sec = 0;
	if (sec > 1e12)
		sec = 1e12;
	s = (long long)(sec + 0.5);

	if (s < 60)
		snprintf(buf, size, "%llds", s);
	else if (s < 3600)
		snprintf(buf, size, "%lldm %02llds", s / 60, s % 60);
	else
		snprintf(buf, size, "%lldh %02lldm", s / 3600, s % 3600 / 60);
}

int
zwh_ref_format(const struct zwh_ref *ref, char *buf, size_t size)
{
	int n;

	if (ref->kind == ZWH_SLACK)
		n = snprintf(buf, size, "slack:%s:%s", ref->channel, ref->id);
	else if (ref->kind == ZWH_DISCORD)
		n = snprintf(buf, size, "discord:%s", ref->id);
	else
		return -1;
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* ---- Answers ---- */

int
zwh_slack_ok(const char *body, size_t len)
{
	while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\r' ||
	    body[len - 1] == ' '))
		len--;
	return len == 2 && memcmp(body, "ok", 2) == 0;
}

/* The JSON object in body, or NULL. */
static json_t *
object(const char *body, size_t len)
{
	json_t *j;

	if (body == NULL || len == 0 || len > (1 << 20))
		return NULL;
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

void
zwh_reason(const char *body, size_t len, char *out, size_t size)
{
	json_t *j = object(body, len), *e;
	const char *s = NULL;

	if (size == 0)
		return;
	if (j != NULL) {
		e = json_object_get(j, "error");
		if (json_is_object(e))
			e = json_object_get(e, "message");
		if (!json_is_string(e))
			e = json_object_get(j, "message");
		if (!json_is_string(e))
			e = json_object_get(j, "text");
		if (json_is_string(e))
			s = json_string_value(e);
	}
	if (s != NULL)
		ztext_clean(s, strlen(s), out, size);
	else
		ztext_clean(body, len > 4096 ? 4096 : len, out, size);
	json_decref(j);
	if (out[0] == '\0')
		snprintf(out, size, "(empty answer)");
}

int
zwh_slack_api(const char *body, size_t len, struct zwh_ref *ref,
    char *reason, size_t size)
{
	json_t *j = object(body, len);
	const char *ch, *ts;

	memset(ref, 0, sizeof *ref);
	if (j == NULL) {
		if (size > 0)
			snprintf(reason, size, "not a Slack API answer");
		return -1;
	}
	if (!json_is_true(json_object_get(j, "ok"))) {
		const char *e = json_string_value(json_object_get(j, "error"));

		if (e != NULL)
			ztext_clean(e, strlen(e), reason, size);
		if (e == NULL || reason[0] == '\0')
			snprintf(reason, size, "not ok");
		json_decref(j);
		return -1;
	}
	ch = json_string_value(json_object_get(j, "channel"));
	ts = json_string_value(json_object_get(j, "ts"));
	if (ch == NULL || ts == NULL || strlen(ch) >= sizeof ref->channel ||
	    !chars_ok(ch, strlen(ch), "_-") || strlen(ts) >= sizeof ref->id ||
	    !chars_ok(ts, strlen(ts), ".") ||
	    strspn(ts, "0123456789.") != strlen(ts)) {
		snprintf(reason, size, "ok, but no channel and ts to update");
		json_decref(j);
		return -1;
	}
	ref->kind = ZWH_SLACK;
	strcpy(ref->channel, ch);
	strcpy(ref->id, ts);
	json_decref(j);
	return 0;
}

int
zwh_discord_id(const char *body, size_t len, struct zwh_ref *ref)
{
	json_t *j = object(body, len);
	const char *id = json_string_value(json_object_get(j, "id"));
	size_t n = id != NULL ? strlen(id) : 0;
	int rc = -1;

	memset(ref, 0, sizeof *ref);
	if (n > 0 && n <= 20 && strspn(id, "0123456789") == n) {
		ref->kind = ZWH_DISCORD;
		strcpy(ref->id, id);
		rc = 0;
	}
	json_decref(j);
	return rc;
}

double
zwh_retry_body(const char *body, size_t len)
{
	json_t *j = object(body, len), *r;
	double v = -1;

	r = json_object_get(j, "retry_after");
	if (json_is_number(r)) {
		v = json_number_value(r);
		if (!isfinite(v) || v < 0)
			v = -1;
	}
	json_decref(j);
	return v;
}
