/*
 * Webhook payloads.  Each service wants the same deploy event in its own
 * shape and within its own size limits: Slack an attachment, Discord an
 * embed, Teams an Adaptive Card, Google Chat one text in a thread.  They
 * are built with jansson so that no text a user or a commit supplies can
 * break the JSON, and mentions are defused where a service would obey
 * them.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "webhook.h"

static const char *const kinds[ZWH_NKINDS] = {
	"webhook", "slack", "mattermost", "discord", "teams", "google-chat"
};

int
zwh_kind(const char *s)
{
	int i;

	for (i = 0; i < ZWH_NKINDS; i++)
		if (strcmp(s, kinds[i]) == 0)
			return i;
	return -1;
}

const char *
zwh_kind_name(int kind)
{
	return kind >= 0 && kind < ZWH_NKINDS ? kinds[kind] : "webhook";
}

/* Whether host is domain or a name under it. */
static int
under(const char *host, const char *domain)
{
	size_t h = strlen(host), d = strlen(domain);

	if (h == d)
		return strcmp(host, domain) == 0;
	return h > d && host[h - d - 1] == '.' &&
	    strcmp(host + h - d, domain) == 0;
}

int
zwh_kind_guess(const char *host)
{
	if (host == NULL)
		return ZWH_WEBHOOK;
	if (strcmp(host, "hooks.slack.com") == 0)
		return ZWH_SLACK;
	if (strcmp(host, "discord.com") == 0 ||
	    strcmp(host, "discordapp.com") == 0 ||
	    strcmp(host, "canary.discord.com") == 0 ||
	    strcmp(host, "ptb.discord.com") == 0)
		return ZWH_DISCORD;
	/* Teams Workflows post through Power Automate and Logic Apps. */
	if (under(host, "webhook.office.com") ||
	    under(host, "logic.azure.com") ||
	    under(host, "powerplatform.com"))
		return ZWH_TEAMS;
	if (strcmp(host, "chat.googleapis.com") == 0)
		return ZWH_GCHAT;
	return ZWH_WEBHOOK;
}

const char *
zwh_status(const char *s)
{
	static const char *const words[] = {
		"started", "success", "failure", "rollback"
	};
	unsigned long v;
	size_t i;
	char *end;

	if (s == NULL)
		return NULL;
	for (i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcmp(s, words[i]) == 0)
			return words[i];
	if (!isdigit((unsigned char)*s) || strlen(s) > 3)
		return NULL;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > 255)
		return NULL;
	return v == 0 ? "success" : "failure";
}

/*
 * The length of the valid UTF-8 sequence at s (at most n bytes), or 0 if
 * it is not one: overlong forms, surrogates and code points past U+10FFFF
 * are refused, as jansson refuses them.
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t need, i;
	unsigned long c;

	if (s[0] < 0x80)
		return s[0] != 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		c = s[0] & 0x07;
	} else
		return 0;
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((need == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (need == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return need;
}

/*
 * Cuts the valid UTF-8 string s (slen bytes) to at most max bytes with the
 * marker, never inside a character and, when entities is set, never inside
 * one of Slack's &amp; &lt; &gt;.
 */
static void
cut(char *s, size_t slen, size_t max, int entities)
{
	size_t mlen = strlen(ZWH_MARK), p, i;

	if (max == 0 || slen <= max)
		return;
	if (max <= mlen)
		max = mlen + 1;
	p = max > mlen ? max - mlen : 0;
	while (p > 0 && ((unsigned char)s[p] & 0xc0) == 0x80)
		p--;
	if (entities) {
		for (i = p; i > 0 && p - i < 5; i--) {
			if (s[i - 1] == ';')
				break;
			if (s[i - 1] == '&') {
				p = i - 1;
				break;
			}
		}
	}
	memcpy(s + p, ZWH_MARK, mlen + 1);
}

char *
zwh_clip(const char *s, size_t len, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0, k;
	char *out;

	if (len > (SIZE_MAX - 32) / 3)
		return NULL;
	/* U+FFFD is three bytes; the marker needs room too. */
	out = malloc(len * 3 + strlen(ZWH_MARK) + 1);
	if (out == NULL)
		return NULL;
	while (i < len) {
		if ((k = utf8_len(u + i, len - i)) == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, s + i, k);
		o += k;
		i += k;
	}
	out[o] = '\0';
	cut(out, o, max, 0);
	return out;
}

char *
zwh_slack_escape(const char *s)
{
	size_t n = 0, o = 0;
	const char *p;
	char *out;

	for (p = s; *p != '\0'; p++)
		n += *p == '&' ? 5 : (*p == '<' || *p == '>') ? 4 : 1;
	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	for (p = s; *p != '\0'; p++) {
		const char *e = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" :
		    *p == '>' ? "&gt;" : NULL;

		if (e != NULL) {
			memcpy(out + o, e, strlen(e));
			o += strlen(e);
		} else
			out[o++] = *p;
	}
	out[o] = '\0';
	return out;
}

/* ---- The event ---- */

/* Members that are not shown as facts: they have a place of their own. */
static const char *const hidden[] = {
	"status", "title", "message", "link", "build_url", "ci", "time", NULL
};

static const struct {
	const char *key, *label;
} labels[] = {
	{ "app", "App" },
	{ "application", "Application" },
	{ "branch", "Branch" },
	{ "build", "Build" },
	{ "deployment_group", "Deployment group" },
	{ "deployment_id", "Deployment" },
	{ "duration", "Duration" },
	{ "env", "Environment" },
	{ "host", "Host" },
	{ "job", "Job" },
	{ "lifecycle_event", "Lifecycle event" },
	{ "release", "Release" },
	{ "repository", "Repository" },
	{ "revision", "Revision" },
	{ "user", "User" },
};

static const char *
label(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof labels / sizeof labels[0]; i++)
		if (strcmp(labels[i].key, key) == 0)
			return labels[i].label;
	return key;
}

static int
is_hidden(const char *key)
{
	size_t i;

	for (i = 0; hidden[i] != NULL; i++)
		if (strcmp(hidden[i], key) == 0)
			return 1;
	return 0;
}

/* A scalar member as text, malloc'd; NULL for objects, arrays and null. */
static char *
scalar(json_t *v)
{
	char buf[64];

	if (json_is_string(v))
		return zwh_clip(json_string_value(v), json_string_length(v), 0);
	if (json_is_integer(v))
		snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, sizeof buf, "%g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, sizeof buf, "%s", json_is_true(v) ? "true" :
		    "false");
	else
		return NULL;
	return strdup(buf);
}

static const char *
str(json_t *ev, const char *key)
{
	const char *s = json_string_value(json_object_get(ev, key));

	return s != NULL && *s != '\0' ? s : NULL;
}

char *
zwh_headline(json_t *ev)
{
	const char *st = zwh_status(str(ev, "status")), *app, *rel, *env;
	const char *prev = str(ev, "previous");
	char subj[512], where[300], *out;
	int n;

	if ((app = str(ev, "app")) == NULL &&
	    (app = str(ev, "application")) == NULL &&
	    (app = str(ev, "repository")) == NULL)
		app = str(ev, "job");
	rel = str(ev, "release");
	if ((env = str(ev, "env")) == NULL)
		env = str(ev, "deployment_group");
	snprintf(subj, sizeof subj, "%s%s%s", app ? app : "",
	    app && rel ? " " : "", rel ? rel : "");
	if (st != NULL && strcmp(st, "rollback") == 0) {
		/*
		 * zdd-link --rollback --json names both: the release left
		 * and the one now live.  Without it, only where it went.
		 */
		if (prev != NULL && rel != NULL && strcmp(prev, rel) != 0)
			snprintf(subj, sizeof subj, "%s%sfrom %s to %s",
			    app ? app : "", app ? " " : "", prev, rel);
		else
			snprintf(subj, sizeof subj, "%s%s%s", app ? app : "",
			    rel ? (app ? " to " : "to ") : "", rel ? rel : "");
		snprintf(where, sizeof where, "%s%s", env ? " on " : "",
		    env ? env : "");
	} else
		snprintf(where, sizeof where, "%s%s", env ? " to " : "",
		    env ? env : "");
	if (st == NULL)
		n = asprintf(&out, "Deploy%s%s%s", *subj ? " of " : "", subj,
		    where);
	else if (strcmp(st, "started") == 0)
		n = asprintf(&out, "Deploying%s%s%s", *subj ? " " : "", subj,
		    where);
	else if (strcmp(st, "success") == 0)
		n = asprintf(&out, "Deployed%s%s%s", *subj ? " " : "", subj,
		    where);
	else if (strcmp(st, "rollback") == 0)
		n = asprintf(&out, "Rolled back%s%s%s", *subj ? " " : "", subj,
		    where);
	else
		n = asprintf(&out, "Deploy%s%s%s failed", *subj ? " of " : "",
		    subj, where);
	return n < 0 ? NULL : out;
}

/* ---- Payloads ---- */

/*
 * The event's time in seconds since the epoch, or -1: services refuse a
 * whole message over a malformed timestamp, so only our own form passes.
 */
static long long
event_time(json_t *ev)
{
	const char *t = str(ev, "time"), *end;
	struct tm tm;

	if (t == NULL)
		return -1;
	memset(&tm, 0, sizeof tm);
	end = strptime(t, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	return (long long)timegm(&tm);
}

/* Whether s is a link a service will take: Discord refuses anything else. */
static int
is_url(const char *s)
{
	size_t n;

	if (strncasecmp(s, "https://", 8) == 0)
		n = 8;
	else if (strncasecmp(s, "http://", 7) == 0)
		n = 7;
	else
		return 0;
	return s[n] != '\0' && s[n] != '/' && strpbrk(s, " \t\r\n<>\"") == NULL;
}

/* What each service accepts, with room to spare. */
struct limits {
	size_t	title, message, name, value, facts;
};

static const struct limits lim[ZWH_NKINDS] = {
	[ZWH_WEBHOOK]	 = { 0, 0, 0, 0, 0 },
	/* Slack truncates text past 40,000 characters; keep well inside. */
	[ZWH_SLACK]	 = { 1000, 3000, 100, 500, 20 },
	/* Mattermost posts hold 16,383 characters. */
	[ZWH_MATTERMOST] = { 1000, 3000, 100, 500, 20 },
	/*
	 * Discord: content 2,000, description 4,096, field names 256 and
	 * values 1,024, 25 fields, all of an embed 6,000 characters.
	 */
	[ZWH_DISCORD]	 = { 2000, 2000, 64, 150, 16 },
	/* Teams cards must stay under 28 KB. */
	[ZWH_TEAMS]	 = { 1000, 3000, 100, 500, 20 },
	/* Google Chat: the whole text is clipped to 4,000 bytes below. */
	[ZWH_GCHAT]	 = { 300, 2000, 64, 150, 16 },
};

#define GCHAT_TEXT 4000

static const struct {
	const char *status, *slack, *teams;
	json_int_t rgb;
} colours[] = {
	{ "started",	"#439FE0",	"Accent",	0x439fe0 },
	{ "success",	"good",		"Good",		0x2eb67d },
	{ "failure",	"danger",	"Attention",	0xe01e5a },
	{ "rollback",	"warning",	"Warning",	0xecb22e },
};

static int
colour(json_t *ev)
{
	const char *st = zwh_status(str(ev, "status"));
	size_t i;

	for (i = 0; st != NULL && i < sizeof colours / sizeof colours[0]; i++)
		if (strcmp(colours[i].status, st) == 0)
			return (int)i;
	return -1;
}

/*
 * Takes away the power of mentions from text for services that turn
 * words into pings: a zero-width space after an "@" that starts a word
 * (Mattermost's @channel, @here, @all and @name), and after the "<" of
 * the Slack-style special mentions that Mattermost also expands in
 * attachments (<!channel>, <!here>, <!all>, <@U123>, <#C123>) and of
 * Google Chat's <users/all> and <users/ID>.  The text reads the same.
 */
static int
pings(const char *s, const char *p)
{
	if (*p == '@')
		return (p == s || !isalnum((unsigned char)p[-1])) &&
		    isalnum((unsigned char)p[1]);
	return *p == '<' && (p[1] == '!' || p[1] == '@' || p[1] == '#' ||
	    strncasecmp(p + 1, "users/", 6) == 0);
}

static char *
defuse(const char *s)
{
	size_t n = 0, o = 0;
	const char *p;
	char *out;

	for (p = s; *p != '\0'; p++)
		n += (*p == '@' || *p == '<') ? 4 : 1;
	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	for (p = s; *p != '\0'; p++) {
		out[o++] = *p;
		if (pings(s, p)) {
			memcpy(out + o, "\xe2\x80\x8b", 3);
			o += 3;
		}
	}
	out[o] = '\0';
	return out;
}

/* Text as a service of this kind should see it, within max bytes. */
static json_t *
text(int kind, const char *s, size_t max)
{
	char *a, *b = NULL;
	json_t *j;

	if ((a = zwh_clip(s, strlen(s), 0)) == NULL)
		return NULL;
	switch (kind) {
	case ZWH_SLACK:
		b = zwh_slack_escape(a);
		if (b != NULL)
			cut(b, strlen(b), max, 1);
		break;
	case ZWH_MATTERMOST:
	case ZWH_GCHAT:
		b = defuse(a);
		if (b != NULL)
			cut(b, strlen(b), max, 0);
		break;
	default:
		cut(a, strlen(a), max, 0);
		b = a;
		a = NULL;
		break;
	}
	free(a);
	if (b == NULL)
		return NULL;
	j = json_string(b);
	free(b);
	return j;
}

/* Appends one fact to the array a in the shape of this kind. */
static void
add_fact(int kind, json_t *a, const char *name, const char *value)
{
	const struct limits *l = &lim[kind];
	json_t *n = text(kind, name, l->name), *v = text(kind, value, l->value);

	if (n == NULL || v == NULL) {
		json_decref(n);
		json_decref(v);
		return;
	}
	switch (kind) {
	case ZWH_SLACK:
	case ZWH_MATTERMOST:
		json_array_append_new(a, json_pack("{s:o s:o s:b}", "title", n,
		    "value", v, "short", strlen(value) <= 40));
		break;
	case ZWH_DISCORD:
		json_array_append_new(a, json_pack("{s:o s:o s:b}", "name", n,
		    "value", v, "inline", strlen(value) <= 40));
		break;
	case ZWH_TEAMS:
		json_array_append_new(a, json_pack("{s:o s:o}", "title", n,
		    "value", v));
		break;
	default:
		json_array_append_new(a, json_pack("[o o]", n, v));
		break;
	}
}

/* The event's facts as an array in the shape of this kind. */
static json_t *
facts(int kind, json_t *ev)
{
	json_t *a = json_array(), *v;
	const char *key;
	size_t n = 0;
	void *it;
	char *s;

	for (it = json_object_iter(ev); it != NULL;
	    it = json_object_iter_next(ev, it)) {
		key = json_object_iter_key(it);
		v = json_object_iter_value(it);
		if (is_hidden(key) || n >= lim[kind].facts)
			continue;
		if ((s = scalar(v)) == NULL)
			continue;
		if (*s != '\0') {
			add_fact(kind, a, label(key), s);
			n++;
		}
		free(s);
	}
	return a;
}

static json_t *
slack(int kind, json_t *ev, const char *title, const char *msg,
    const char *link)
{
	const struct limits *l = &lim[kind];
	json_t *att = json_object(), *p;
	int c = colour(ev);
	long long when;

	if (c >= 0)
		json_object_set_new(att, "color",
		    json_string(colours[c].slack));
	json_object_set_new(att, "fallback", text(kind, title, l->title));
	if (msg != NULL)
		json_object_set_new(att, "text", text(kind, msg, l->message));
	if (link != NULL) {
		json_object_set_new(att, "title", json_string("Details"));
		json_object_set_new(att, "title_link", text(ZWH_WEBHOOK, link,
		    2000));
	}
	json_object_set_new(att, "fields", facts(kind, ev));
	json_object_set_new(att, "footer", json_string("zdd-notify"));
	if ((when = event_time(ev)) != -1)
		json_object_set_new(att, "ts", json_integer((json_int_t)when));
	if (kind == ZWH_MATTERMOST)
		json_object_set_new(att, "mrkdwn_in", json_pack("[s]", "text"));
	p = json_pack("{s:o s:[o]}", "text", text(kind, title, l->title),
	    "attachments", att);
	return p;
}

static json_t *
discord(json_t *ev, const char *title, const char *msg, const char *link)
{
	const struct limits *l = &lim[ZWH_DISCORD];
	json_t *embed = json_object();
	int c = colour(ev);

	if (msg != NULL)
		json_object_set_new(embed, "description",
		    text(ZWH_DISCORD, msg, l->message));
	if (c >= 0)
		json_object_set_new(embed, "color",
		    json_integer(colours[c].rgb));
	if (link != NULL) {
		json_object_set_new(embed, "title", json_string("Details"));
		json_object_set_new(embed, "url", text(ZWH_WEBHOOK, link,
		    2000));
	}
	json_object_set_new(embed, "fields", facts(ZWH_DISCORD, ev));
	json_object_set_new(embed, "footer", json_pack("{s:s}", "text",
	    "zdd-notify"));
	if (event_time(ev) != -1)
		json_object_set_new(embed, "timestamp",
		    json_string(str(ev, "time")));
	/* An empty parse list: no commit message can ping anyone. */
	return json_pack("{s:o s:[o] s:{s:[]}}", "content",
	    text(ZWH_DISCORD, title, l->title), "embeds", embed,
	    "allowed_mentions", "parse");
}

static json_t *
teams(json_t *ev, const char *title, const char *msg, const char *link)
{
	const struct limits *l = &lim[ZWH_TEAMS];
	json_t *body = json_array(), *head, *card;
	int c = colour(ev);

	head = json_pack("{s:s s:o s:s s:s s:b}", "type", "TextBlock",
	    "text", text(ZWH_TEAMS, title, l->title), "weight", "Bolder",
	    "size", "Medium", "wrap", 1);
	if (c >= 0)
		json_object_set_new(head, "color",
		    json_string(colours[c].teams));
	json_array_append_new(body, head);
	if (msg != NULL)
		json_array_append_new(body, json_pack("{s:s s:o s:b}", "type",
		    "TextBlock", "text", text(ZWH_TEAMS, msg, l->message),
		    "wrap", 1));
	json_array_append_new(body, json_pack("{s:s s:o}", "type", "FactSet",
	    "facts", facts(ZWH_TEAMS, ev)));
	card = json_pack("{s:s s:s s:s s:o}",
	    "$schema", "http://adaptivecards.io/schemas/adaptive-card.json",
	    "type", "AdaptiveCard", "version", "1.4", "body", body);
	if (link != NULL)
		json_object_set_new(card, "actions",
		    json_pack("[{s:s s:s s:o}]", "type", "Action.OpenUrl",
		    "title", "Details", "url", text(ZWH_WEBHOOK, link, 2000)));
	return json_pack("{s:s s:[{s:s s:n s:o}]}", "type", "message",
	    "attachments",
	    "contentType", "application/vnd.microsoft.card.adaptive",
	    "contentUrl", "content", card);
}

static json_t *
gchat(json_t *ev, const char *title, const char *msg, const char *link)
{
	const struct limits *l = &lim[ZWH_GCHAT];
	json_t *f = facts(ZWH_GCHAT, ev), *pair, *p, *t;
	char *buf = NULL, *s;
	size_t len = 0, i;
	FILE *m;
	const char *rel;

	if ((m = open_memstream(&buf, &len)) == NULL) {
		json_decref(f);
		return NULL;
	}
	t = text(ZWH_GCHAT, title, l->title);
	fprintf(m, "*%s*", json_string_value(t));
	json_decref(t);
	if (msg != NULL) {
		t = text(ZWH_GCHAT, msg, l->message);
		fprintf(m, "\n%s", json_string_value(t));
		json_decref(t);
	}
	for (i = 0; i < json_array_size(f); i++) {
		pair = json_array_get(f, i);
		fprintf(m, "%s%s: %s", i == 0 ? "\n\n" : "\n",
		    json_string_value(json_array_get(pair, 0)),
		    json_string_value(json_array_get(pair, 1)));
	}
	if (link != NULL) {
		s = zwh_clip(link, strlen(link), 2000);
		fprintf(m, "\n%s", s ? s : "");
		free(s);
	}
	fclose(m);
	json_decref(f);
	if (buf == NULL)
		return NULL;
	cut(buf, strlen(buf), GCHAT_TEXT, 0);
	p = json_pack("{s:s}", "text", buf);
	free(buf);
	/* One thread per release: its start, end and rollback together. */
	if (p != NULL && (rel = str(ev, "release")) != NULL)
		json_object_set_new(p, "thread", json_pack("{s:o}",
		    "threadKey", text(ZWH_WEBHOOK, rel, 128)));
	return p;
}

json_t *
zwh_payload(int kind, json_t *ev)
{
	const char *msg = str(ev, "message"), *link = str(ev, "link");
	char *title = NULL;
	const char *tt;
	json_t *p;

	if (kind == ZWH_WEBHOOK || kind < 0 || kind >= ZWH_NKINDS)
		return json_deep_copy(ev);
	if (link == NULL || !is_url(link))
		link = str(ev, "build_url");
	if (link != NULL && !is_url(link))
		link = NULL;
	if ((tt = str(ev, "title")) == NULL) {
		if ((title = zwh_headline(ev)) == NULL)
			return NULL;
		tt = title;
	}
	switch (kind) {
	case ZWH_SLACK:
	case ZWH_MATTERMOST:
		p = slack(kind, ev, tt, msg, link);
		break;
	case ZWH_DISCORD:
		p = discord(ev, tt, msg, link);
		break;
	case ZWH_TEAMS:
		p = teams(ev, tt, msg, link);
		break;
	default:
		p = gchat(ev, tt, msg, link);
		break;
	}
	free(title);
	return p;
}
