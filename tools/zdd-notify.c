/*
 * zdd-notify: tell a chat service or a JSON webhook how a deploy went.
 * The facts come from options, from the CI's environment and from another
 * zdd tool's --json output; the payload is built with jansson for the
 * service at hand and sent with bounded, honest retries: a 429 waits as
 * long as the service asks, a 5xx or a broken connection backs off with
 * jitter, a 4xx fails at once with the service's reason, and the whole
 * call never outlives --timeout.  The webhook URL is a credential: only
 * its scheme and host are ever printed, in every mode and on every path.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "ci.h"
#include "clock.h"
#include "diag.h"
#include "http.h"
#include "ident.h"
#include "io.h"
#include "json.h"
#include "opt.h"
#include "reply.h"
#include "text.h"
#include "url.h"
#include "webhook.h"

enum { OPT_CHANNEL = ZOPT_TOOL, OPT_EVENT, OPT_LINK, OPT_RELEASE,
    OPT_RETRIES, OPT_REVISION, OPT_UPDATE, OPT_URL_FILE };

#define ANSWER_MAX	(64 * 1024)	/* bytes of an answer kept */
#define INPUT_MAX	(1024 * 1024)	/* bytes of --event or a message */
#define SLACK_API	"https://slack.com/api"

static void
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: zdd-notify [-nqv] [-a app] [-e env] [-f key=value] "
	    "[-k kind] [-s status]\n"
	    "                  [-t sec] [-u url] [--channel id] "
	    "[--event file | -] [--json]\n"
	    "                  [--link url] [--release id] [--retries n] "
	    "[--revision rev]\n"
	    "                  [--update ref] [--url-file file] "
	    "[message | -]\n");
	exit(code);
}

/* Where and how the payload goes. */
struct target {
	char	*url;		/* the request URL: secret */
	char	*shown;		/* what may be printed of it */
	const char *method;
	int	kind;
	int	api;		/* Slack's Web API rather than a webhook */
	char	*token;		/* Slack bot token: secret */
	int	credential;	/* a token or a password goes with it */
};

/* What happened, for stdout and the exit code. */
struct outcome {
	int	attempts;
	long	code;
	char	reason[256];
	char	ref[160];
};

/*
 * Reads a whole file (or stdin for "-"), at most INPUT_MAX bytes; NULL
 * with errno set on failure, EFBIG when it is too large.
 */
static char *
slurp(const char *path, size_t *len)
{
	char *buf;
	int fd, e;

	if (strcmp(path, "-") == 0)
		return zread_all(STDIN_FILENO, INPUT_MAX, 0, 0, len);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return NULL;
	buf = zread_all(fd, INPUT_MAX, 0, 0, len);
	e = errno;
	close(fd);
	errno = e;
	return buf;
}

/*
 * The URL in a file that only its owner may read or write, like ssh's
 * keys: a URL readable by others is a leaked URL.
 */
static char *
url_from_file(const char *path)
{
	char buf[8192], *p, *e;
	struct stat st;
	ssize_t n;
	int fd;

	/* O_NONBLOCK: a FIFO is refused below, not waited on. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1)
		zdie(zexit_errno(errno), "--url-file %s", path);
	if (fstat(fd, &st) == -1)
		zdie(EX_IOERR, "--url-file %s", path);
	if (!S_ISREG(st.st_mode))
		zdiex(EX_NOINPUT, "--url-file %s: not a regular file", path);
	if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH))
		zdiex(EX_NOPERM, "--url-file %s: open to other users (mode "
		    "%04o): chmod 600 it", path, (unsigned)st.st_mode & 07777);
	n = read(fd, buf, sizeof buf - 1);
	if (n < 0)
		zdie(EX_IOERR, "--url-file %s", path);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	for (p = buf; *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';
	    p++)
		;
	e = p + strcspn(p, "\r\n");
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*e = '\0';
	if (*p == '\0')
		zdiex(EX_USAGE, "--url-file %s: no url in it", path);
	p = strdup(p);
	explicit_bzero(buf, sizeof buf);
	return p;
}

/*
 * Refuses anything but an http or https URL that libcurl reads, the same
 * parser that shows it and connects to it.
 */
static void
check_url(const char *url, const char *what)
{
	const char *why;
	char *shown;

	if (zurl_check(url, "http,https", &why) == 0)
		return;
	shown = xnonnull(zurl_redact(url));
	zdiex(EX_USAGE, "%s: not an http or https url: %s: %s", what, shown,
	    why);
}

/*
 * Removes from s, in case a service echoes the request in its error, the
 * pieces of a secret that look like keys: the whole of it, and every
 * piece of it between delimiters that is long and holds a digit, or is
 * very long.  Words such as "services" or "no_service" stay, so that the
 * service's own reason still reads.
 */
static void
scrub_one(char *s, const char *tok)
{
	size_t n = strlen(tok);
	char *hit;

	if (n == 0)
		return;
	while ((hit = strstr(s, tok)) != NULL) {
		memcpy(hit, "...", 3);
		memmove(hit + 3, hit + n, strlen(hit + n) + 1);
	}
}

static void
scrub_tokens(char *s, const char *secret)
{
	const char *p;
	char tok[1024];
	size_t n, i;
	int digit;

	if (strlen(secret) >= 8 && strlen(secret) < sizeof tok)
		scrub_one(s, secret);
	for (p = secret; *p != '\0'; p += n + (p[n] != '\0')) {
		n = strcspn(p, "/?&=#:@");
		for (i = 0, digit = 0; i < n; i++)
			digit |= p[i] >= '0' && p[i] <= '9';
		if (n >= sizeof tok || n < 8 || (!digit && n < 20))
			continue;
		memcpy(tok, p, n);
		tok[n] = '\0';
		scrub_one(s, tok);
	}
}

/*
 * The secrets of t out of s: of the URL, as libcurl reads it, the path
 * and query, and a password as written and as a Basic-auth header
 * carries it (base64 of user:password, which some services echo); the
 * bot token.
 */
static void
scrub(char *s, const struct target *t)
{
	unsigned char b64[512];
	const char *why;
	struct zurl u;
	char *tail;
	size_t n;

	if (t->url != NULL && zurl_parse(t->url, "http,https", &u,
	    &why) == 0) {
		if (u.password != NULL && strlen(u.password) >= 4)
			scrub_one(s, u.password);
		if (u.user != NULL) {
			tail = xasprintf("%s:%s", u.user,
			    u.password ? u.password : "");
			n = strlen(tail);
			if (n <= (sizeof b64 - 1) / 4 * 3) {
				EVP_EncodeBlock(b64, (unsigned char *)tail,
				    (int)n);
				scrub_one(s, (char *)b64);
			}
			explicit_bzero(tail, n);
			free(tail);
		}
		tail = xasprintf("%s%s%s", u.path, u.query ? "?" : "",
		    u.query ? u.query : "");
		scrub_tokens(s, tail);
		free(tail);
		zurl_free(&u);
	}
	if (t->token != NULL)
		scrub_tokens(s, t->token);
}

/* snprintf for messages that may be cut short, and are fine cut. */
static void __attribute__((format(printf, 3, 4)))
say(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/* Exponential backoff with jitter: half the step fixed, half random. */
static double
backoff(int n)
{
	double step = 0.5 * (double)(1 << (n < 8 ? n - 1 : 7));

	return step / 2 + step / 2 * ((double)random() / RAND_MAX);
}

/*
 * Sends body to the target, retrying as the service asks, within timeout
 * seconds.  0 when accepted (the answer in a), EX_NO when rejected,
 * EX_UNAVAILABLE when unreachable, rate limited or out of time.
 */
static int
deliver(const struct target *t, const char *body, double timeout,
    uint64_t retries, struct zhttp *a, struct outcome *o)
{
	struct zhttp_opts opt = {
		.agent = "zdd-notify", .method = t->method, .body = body,
		.bodylen = strlen(body), .bodymode = ZHTTP_TRUNCATE,
		.max = ANSWER_MAX,
		/*
		 * A credential over plain http goes to this host only (see
		 * credential_check()): no proxy may stand in between.
		 */
		.noproxy = t->credential &&
		    strncasecmp(t->url, "http:", 5) == 0,
	};
	double deadline = znow() + timeout, left, wait;
	char *auth = NULL, why[200] = "";
	CURLcode rc;
	int ret = EX_UNAVAILABLE;

	opt.headers = curl_slist_append(NULL, "Content-Type: "
	    "application/json; charset=utf-8");
	/* No "Expect: 100-continue" pause on larger payloads. */
	opt.headers = curl_slist_append(opt.headers, "Expect:");
	if (t->token != NULL) {
		auth = xasprintf("Authorization: Bearer %s", t->token);
		opt.headers = curl_slist_append(opt.headers, auth);
	}
	if (opt.headers == NULL)
		zdie(EX_OSERR, "out of memory");
	for (o->attempts = 1;; o->attempts++) {
		if ((left = deadline - znow()) <= 0.01) {
			say(o->reason, sizeof o->reason, "no answer "
			    "within the %g s timeout%s%s", timeout,
			    *why ? ": " : "", why);
			break;
		}
		zdebug("%s %s (%s), attempt %d, %.1f s left", t->method,
		    t->shown, zwh_kind_name(t->kind), o->attempts, left);
		opt.timeout = left;
		if (zhttp_setup(a, t->url, &opt) == -1)
			zdie(EX_OSERR, "cannot start libcurl");
		rc = zhttp_perform(a);
		o->code = rc == CURLE_OK ? a->status : 0;
		if (rc == CURLE_OPERATION_TIMEDOUT && deadline - znow() < 0.1) {
			say(o->reason, sizeof o->reason, "no answer "
			    "within the %g s timeout", timeout);
			break;
		} else if (rc != CURLE_OK) {
			zhttp_error(a, rc, NULL, why, sizeof why);
			wait = backoff(o->attempts);
		} else if (a->status >= 200 && a->status <= 299) {
			ret = 0;
			break;
		} else if (a->status == 429) {
			wait = a->retry_after;
			if (wait < 0)
				wait = zwh_retry_body(a->body, a->len);
			if (wait < 0)
				wait = backoff(o->attempts);
			say(why, sizeof why, "429 rate limited");
		} else if (a->status >= 500) {
			char r[160];

			zwh_reason(a->body, a->len, r, sizeof r);
			say(why, sizeof why, "%ld %s", a->status, r);
			/* A 503 may say when to come back, as a 429 does. */
			wait = a->retry_after;
			if (wait < 0)
				wait = backoff(o->attempts);
		} else {
			char r[160];

			zwh_reason(a->body, a->len, r, sizeof r);
			if (a->status >= 300 && a->status <= 399)
				say(r, sizeof r, "redirect not followed");
			say(o->reason, sizeof o->reason, "rejected: %ld "
			    "%s", a->status, r);
			ret = EX_NO;
			break;
		}
		scrub(why, t);
		if (wait > 1e7)
			wait = 1e7;
		if ((uint64_t)o->attempts > retries) {
			say(o->reason, sizeof o->reason, "%s, given up "
			    "after %d attempt%s", why, o->attempts,
			    o->attempts == 1 ? "" : "s");
			break;
		}
		if (wait >= deadline - znow()) {
			say(o->reason, sizeof o->reason, "%s, and a retry "
			    "in %.1f s would pass the %g s timeout", why, wait,
			    timeout);
			break;
		}
		zinfo("%s: %s, retrying in %.1f s", t->shown, why, wait);
		zsleep(wait);
	}
	scrub(o->reason, t);
	curl_slist_free_all(opt.headers);
	if (auth != NULL) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	return ret;
}

/*
 * A credential (the bot token, a password in the URL) crosses no network
 * in clear text: over https, or over http to this host only, and then
 * past no proxy (deliver() turns proxies off for it), since a proxy on
 * another host would read it.
 */
static void
credential_check(struct target *t)
{
	struct zurl u;
	const char *why;

	if (t->url == NULL || zurl_parse(t->url, "http,https", &u, &why) == -1)
		return;
	t->credential = t->token != NULL || u.user != NULL;
	if (t->credential && strcmp(u.scheme, "http") == 0 &&
	    !zurl_loopback(t->url))
		zdiex(EX_USAGE, "%s: the %s goes over https only, or to this "
		    "host", t->api ? "ZDD_SLACK_API" : t->shown,
		    t->token != NULL ? "bot token" : "password");
	zurl_free(&u);
}

/*
 * Reads what a service said on a 2xx: Slack's webhook says "ok", its Web
 * API may still say {"ok":false}, and Discord's ?wait=true returns the
 * message, whose id is the ref for --update.
 */
static int
accepted(const struct target *t, const struct zhttp *a, struct outcome *o)
{
	struct zwh_ref ref;
	char r[160];

	if (t->api) {
		if (zwh_slack_api(a->body, a->len, &ref, r, sizeof r) == -1) {
			scrub(r, t);
			snprintf(o->reason, sizeof o->reason, "rejected: %s",
			    r);
			return EX_NO;
		}
		zwh_ref_format(&ref, o->ref, sizeof o->ref);
	} else if (t->kind == ZWH_SLACK && !zwh_slack_ok(a->body, a->len)) {
		zwh_reason(a->body, a->len, r, sizeof r);
		scrub(r, t);
		snprintf(o->reason, sizeof o->reason, "rejected: %ld %s",
		    a->status, r);
		return EX_NO;
	} else if (t->kind == ZWH_DISCORD &&
	    zwh_discord_id(a->body, a->len, &ref) == 0)
		zwh_ref_format(&ref, o->ref, sizeof o->ref);
	return 0;
}

static void
set(json_t *ev, const char *key, const char *val)
{
	char *k, *s;

	if (val == NULL)
		return;
	k = zwh_clip(key, strlen(key), 0);
	s = zwh_clip(val, strlen(val), 0);
	if (k == NULL || s == NULL)
		zdie(EX_OSERR, "out of memory");
	json_object_set_new(ev, k, json_string(s));
	free(k);
	free(s);
}

/* Merges another tool's --json object into the event. */
static void
merge_event(json_t *ev, const char *path)
{
	json_error_t jerr;
	const char *key;
	json_t *j, *v;
	size_t len;
	void *it;
	char *buf;

	if ((buf = slurp(path, &len)) == NULL) {
		if (errno == EFBIG)
			zdiex(EX_DATAERR, "--event %s: larger than 1 MiB",
			    path);
		zdie(zexit_errno(errno), "--event %s", path);
	}
	j = json_loadb(buf, len, 0, &jerr);
	free(buf);
	if (j == NULL)
		zdiex(EX_DATAERR, "--event %s: not JSON: line %d: %s", path,
		    jerr.line, jerr.text);
	if (!json_is_object(j))
		zdiex(EX_DATAERR, "--event %s: not a JSON object", path);
	for (it = json_object_iter(j); it != NULL;
	    it = json_object_iter_next(j, it)) {
		key = json_object_iter_key(it);
		v = json_object_iter_value(it);
		/* A status that is not one of ours stays a plain fact. */
		if (strcmp(key, "status") == 0 && (!json_is_string(v) ||
		    zwh_status(json_string_value(v)) == NULL))
			json_object_set(ev, "event_status", v);
		else if (strcmp(key, "status") == 0)
			set(ev, key, zwh_status(json_string_value(v)));
		else if (strcmp(key, "title") == 0 ||
		    strcmp(key, "message") == 0 || strcmp(key, "link") == 0 ||
		    strcmp(key, "time") == 0) {
			/* zdd-link's "link" is a link's name, not a URL. */
			char k[16];

			snprintf(k, sizeof k, "event_%s", key);
			json_object_set(ev, k, v);
		} else
			json_object_set(ev, key, v);
	}
	/* zdd-link --rollback --json says what it did; -s still rules. */
	v = json_object_get(j, "action");
	if (json_is_string(v) && strcmp(json_string_value(v), "rollback") ==
	    0 && json_is_null(json_object_get(ev, "status")))
		set(ev, "status", "rollback");
	json_decref(j);
}

static void
result(const struct target *t, const struct outcome *o, int rc,
    json_t *payload, json_t *ev)
{
	json_t *j;

	if (!zopt.json) {
		/* A dry run's one line is the payload, printed already. */
		if (rc == 0 && *o->ref && !zopt.dry_run)
			printf("%s\n", o->ref);
		json_decref(payload);
		return;
	}
	j = json_pack("{s:s s:s? s:s s:s? s:b s:b}",
	    "kind", t->api ? "slack-api" : zwh_kind_name(t->kind),
	    "url", t->shown, "method", t->method,
	    "status", json_string_value(json_object_get(ev, "status")),
	    "sent", rc == 0 && !zopt.dry_run, "dry_run", zopt.dry_run);
	if (!zopt.dry_run) {
		json_object_set_new(j, "http_status", o->code > 0 ?
		    json_integer(o->code) : json_null());
		json_object_set_new(j, "attempts", json_integer(o->attempts));
	}
	json_object_set_new(j, "ref", *o->ref ? json_string(o->ref) :
	    json_null());
	if (rc != 0)
		json_object_set_new(j, "error", json_string(o->reason));
	if (zopt.dry_run)
		json_object_set_new(j, "payload", payload);
	else
		json_decref(payload);
	if (zjson_print(j) == -1)
		zdie(EX_IOERR, "stdout");
}

/* What the command line says. */
struct opts {
	const char *app, *env, *release, *revision, *link, *status;
	const char *event;	/* --event FILE or "-" */
	const char *url, *urlfile, *channel, *update;
	json_t	*fields;	/* --field KEY=VALUE */
	struct zwh_ref ref;	/* --update's, kind -1 if none */
	int	 kind;		/* --kind, -1 if none */
	uint64_t retries;
	double	 timeout;
};

/* One --field more. */
static void
add_field(json_t *fields, char *arg)
{
	char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg)
		zdiex(EX_USAGE, "--field %s: not KEY=VALUE", arg);
	*eq = '\0';
	set(fields, arg, eq + 1);
	*eq = '=';
}

/* The MESSAGE operand, "-" for all of stdin; NULL if none. */
static char *
message(int argc, char *argv[], const struct opts *op)
{
	size_t len;
	char *msg;

	if (argc == 0)
		return NULL;
	if (strcmp(argv[0], "-") != 0)
		return xstrdup(argv[0]);
	if (op->event != NULL && strcmp(op->event, "-") == 0)
		zdiex(EX_USAGE, "the message and --event cannot both be stdin");
	if ((msg = slurp("-", &len)) == NULL)
		zdie(EX_IOERR, "cannot read the message from stdin");
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
		msg[--len] = '\0';
	return msg;
}

/*
 * The event, weakest source first: this machine, the CI, another tool's
 * output, --field, then the named options.  The known keys are placed
 * first so that every service shows them in one order.  Its "title" is
 * the headline.
 */
static json_t *
event(const struct opts *op, char *msg)
{
	static const char *const order[] = {
		"status", "title", "message", "app", "application", "env",
		"release", "revision", "branch", "repository", "job", "build",
		"deployment_group", "deployment_id", "lifecycle_event",
		"duration", "link", NULL
	};
	json_t *ev = json_object(), *ci;
	const char *key;
	void *it, *next;
	char *title;
	size_t i;

	for (i = 0; order[i] != NULL; i++)
		json_object_set_new(ev, order[i], json_null());
	set(ev, "host", zhost());
	set(ev, "user", zuser());
	set(ev, "time", ziso8601((long long)time(NULL)));
	ci = zci_fields();
	json_object_update(ev, ci);
	json_decref(ci);
	if (op->event != NULL)
		merge_event(ev, op->event);
	json_object_update(ev, op->fields);
	set(ev, "status", op->status);
	set(ev, "app", op->app);
	set(ev, "env", op->env);
	set(ev, "release", op->release);
	set(ev, "revision", op->revision);
	set(ev, "link", op->link);
	set(ev, "message", msg);
	if (op->ref.kind != -1 &&
	    json_is_null(json_object_get(ev, "duration"))) {
		/* The time since the message we edit was posted. */
		struct timespec ts;
		double posted = zwh_ref_time(&op->ref), d;
		char buf[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		d = (double)ts.tv_sec + ts.tv_nsec / 1e9 - posted;
		if (posted > 0 && d > -60 && d < 7 * 86400) {
			zwh_duration(d, buf, sizeof buf);
			set(ev, "duration", buf);
		}
	}
	for (it = json_object_iter(ev); it != NULL; it = next) {
		next = json_object_iter_next(ev, it);
		key = json_object_iter_key(it);
		if (json_is_null(json_object_iter_value(it)) &&
		    strcmp(key, "title") != 0)
			json_object_del(ev, key);
	}
	title = xnonnull(zwh_headline(ev));
	/* The headline goes after status, as order[] placed it. */
	json_object_set_new(ev, "title", json_string(title));
	free(title);
	return ev;
}

/*
 * Slack's Web API: a bot token and a channel, the only way to get a
 * message Slack lets us edit later.
 */
static void
to_slack_api(struct target *t, const struct opts *op)
{
	const char *base = getenv("ZDD_SLACK_API"), *tok;

	if (t->kind != -1 && t->kind != ZWH_SLACK)
		zdiex(EX_USAGE, "--channel and a slack ref go with --kind "
		    "slack");
	t->kind = ZWH_SLACK;
	t->api = 1;
	if (base == NULL || *base == '\0')
		base = SLACK_API;
	check_url(base, "ZDD_SLACK_API");
	t->url = xasprintf("%s/%s", base, op->ref.kind == ZWH_SLACK ?
	    "chat.update" : "chat.postMessage");
	tok = getenv("ZDD_SLACK_TOKEN");
	if ((tok == NULL || *tok == '\0') && !zopt.dry_run)
		zdiex(EX_USAGE, "posting with --channel or updating a slack "
		    "message needs a bot token in ZDD_SLACK_TOKEN");
	if (tok != NULL && *tok != '\0')
		t->token = xstrdup(tok);
	if (op->ref.kind != ZWH_SLACK && op->channel == NULL)
		zdiex(EX_USAGE, "no --channel to post to");
}

/* A webhook: its URL from --url, --url-file or ZDD_NOTIFY_URL. */
static void
to_webhook(struct target *t, const struct opts *op, json_t *ev)
{
	const char *env = getenv("ZDD_NOTIFY_URL");
	char *url = NULL, *host, path[96];

	if (op->url != NULL)
		url = xstrdup(op->url);
	else if (op->urlfile != NULL)
		url = url_from_file(op->urlfile);
	else if (env != NULL && *env != '\0')
		url = xstrdup(env);
	if (url == NULL && !zopt.dry_run)
		zdiex(EX_USAGE, "no webhook url: set ZDD_NOTIFY_URL, or give "
		    "--url-file or --url");
	if (url != NULL) {
		check_url(url, op->url ? "--url" : op->urlfile ?
		    "--url-file" : "ZDD_NOTIFY_URL");
		if (t->kind == -1) {
			host = zurl_host(url);
			t->kind = zwh_kind_guess(host);
			free(host);
		}
	}
	if (t->kind == -1)
		t->kind = ZWH_WEBHOOK;
	if (op->ref.kind == ZWH_DISCORD && t->kind != ZWH_DISCORD)
		zdiex(EX_USAGE, "--update %s: a discord ref needs a discord "
		    "webhook", op->update);
	if (url == NULL)
		return;
	if (t->kind == ZWH_DISCORD && op->ref.kind == ZWH_DISCORD) {
		snprintf(path, sizeof path, "/messages/%s", op->ref.id);
		t->url = zurl_edit(url, path, NULL);
		t->method = "PATCH";
	} else if (t->kind == ZWH_DISCORD)
		/* ?wait=true: Discord answers with the message. */
		t->url = zurl_edit(url, NULL, "wait=true");
	else if (t->kind == ZWH_GCHAT && json_object_get(ev, "release"))
		t->url = zurl_edit(url, NULL, "messageReplyOption="
		    "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD");
	else
		t->url = xstrdup(url);
	free(url);
	if (t->url == NULL)
		zdie(EX_OSERR, "out of memory");
}

/* Where the payload goes, and what may be printed of it. */
static void
destination(struct target *t, const struct opts *op, json_t *ev)
{
	t->method = "POST";
	t->kind = op->kind;
	if (op->channel != NULL || op->ref.kind == ZWH_SLACK)
		to_slack_api(t, op);
	else
		to_webhook(t, op, ev);
	if (t->url != NULL)
		t->shown = xnonnull(zurl_redact(t->url));
	credential_check(t);
}

/* The body for the service, with what an edit of a message needs. */
static json_t *
payload(const struct target *t, const struct opts *op, json_t *ev)
{
	json_t *p = xnonnull(zwh_payload(t->kind, ev));

	if (t->api) {
		json_object_set_new(p, "channel", json_string(
		    op->ref.kind == ZWH_SLACK ? op->ref.channel :
		    op->channel));
		if (op->ref.kind == ZWH_SLACK)
			json_object_set_new(p, "ts", json_string(op->ref.id));
	}
	return p;
}

/*
 * Sends the payload (or, with -n, prints it), then says how it went;
 * the exit code.  p is consumed.
 */
static int
notify(const struct target *t, const struct opts *op, json_t *p,
    json_t *ev)
{
	struct outcome o = { 0 };
	struct zhttp a = { 0 };
	char *body;
	int rc;

	if (op->ref.kind != -1)
		zwh_ref_format(&op->ref, o.ref, sizeof o.ref);
	if (zopt.dry_run) {
		zinfo("would %s to %s (%s)", t->method, t->shown ? t->shown :
		    "nowhere: no url", t->api ? "slack api" :
		    zwh_kind_name(t->kind));
		if (!zopt.json && zjson_print(json_incref(p)) == -1)
			zdie(EX_IOERR, "stdout");
		result(t, &o, 0, p, ev);
		return 0;
	}
	body = xnonnull(json_dumps(p, JSON_COMPACT));
	rc = deliver(t, body, op->timeout, op->retries, &a, &o);
	if (rc == 0)
		rc = accepted(t, &a, &o);
	if (rc == 0)
		zdebug("%s accepted it: %ld after %d attempt%s", t->shown,
		    o.code, o.attempts, o.attempts == 1 ? "" : "s");
	else
		zerrx("%s: %s", t->shown, o.reason);
	result(t, &o, rc, p, ev);
	free(body);
	zhttp_free(&a);
	return rc;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "app",	required_argument,	NULL, 'a' },
		{ "channel",	required_argument,	NULL, OPT_CHANNEL },
		{ "dry-run",	no_argument,		NULL, 'n' },
		{ "env",	required_argument,	NULL, 'e' },
		{ "event",	required_argument,	NULL, OPT_EVENT },
		{ "field",	required_argument,	NULL, 'f' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "json",	no_argument,		NULL, ZOPT_JSON },
		{ "kind",	required_argument,	NULL, 'k' },
		{ "link",	required_argument,	NULL, OPT_LINK },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "release",	required_argument,	NULL, OPT_RELEASE },
		{ "retries",	required_argument,	NULL, OPT_RETRIES },
		{ "revision",	required_argument,	NULL, OPT_REVISION },
		{ "status",	required_argument,	NULL, 's' },
		{ "timeout",	required_argument,	NULL, 't' },
		{ "update",	required_argument,	NULL, OPT_UPDATE },
		{ "url",	required_argument,	NULL, 'u' },
		{ "url-file",	required_argument,	NULL, OPT_URL_FILE },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	struct opts op = { .kind = -1, .ref = { .kind = -1 }, .retries = 3,
	    .timeout = 10 };
	struct target t = { 0 };
	struct zcommon co = ZCOMMON_INIT;
	json_t *ev, *p;
	char *msg;
	int c, rc;

	zinit(argv[0]);
	op.fields = json_object();
	while ((c = getopt_long(argc, argv, "a:e:f:hk:nqs:t:u:vV", longopts,
	    NULL)) != -1)
		switch (c) {
		case 'a':
			op.app = optarg;
			break;
		case 'e':
			op.env = optarg;
			break;
		case 'f':
			add_field(op.fields, optarg);
			break;
		case 'h':
			usage(0);
			break;
		case 'k':
			if ((op.kind = zwh_kind(optarg)) == -1)
				zdiex(EX_USAGE, "--kind %s: not slack, "
				    "discord, teams, mattermost, google-chat "
				    "or webhook", optarg);
			break;
		case 's':
			if ((op.status = zwh_status(optarg)) == NULL)
				zdiex(EX_USAGE, "--status %s: not started, "
				    "success, failure, rollback or an exit "
				    "code", optarg);
			break;
		case 't':
			if (zparse_seconds(optarg, &op.timeout) == -1 ||
			    op.timeout <= 0)
				zdiex(EX_USAGE, "--timeout %s: not a number "
				    "of seconds", optarg);
			break;
		case 'u':
			op.url = optarg;
			break;
		case OPT_CHANNEL:
			op.channel = optarg;
			break;
		case OPT_EVENT:
			op.event = optarg;
			break;
		case OPT_LINK:
			op.link = optarg;
			break;
		case OPT_RELEASE:
			if (ztext_has_control(optarg))
				zdiex(EX_USAGE, "--release: a line break or "
				    "control character in the value");
			op.release = optarg;
			break;
		case OPT_RETRIES:
			if (zparse_uint(optarg, 0, 20, &op.retries) == -1)
				zdiex(EX_USAGE, "--retries %s: not a number "
				    "from 0 to 20", optarg);
			break;
		case OPT_REVISION:
			if (ztext_has_control(optarg))
				zdiex(EX_USAGE, "--revision: a line break or "
				    "control character in the value");
			op.revision = optarg;
			break;
		case OPT_UPDATE:
			op.update = optarg;
			if (zwh_ref_parse(optarg, &op.ref) == -1)
				zdiex(EX_USAGE, "--update %s: not a ref "
				    "(slack:CHANNEL:TS or discord:ID)", optarg);
			break;
		case OPT_URL_FILE:
			op.urlfile = optarg;
			break;
		default:
			if ((rc = zopt_common(c, optarg, &co)) == -1)
				zdiex(EX_USAGE, "%s %s: %s", co.bad, optarg,
				    co.why);
			if (rc == 0)
				usage(EX_USAGE);
		}
	argc -= optind;
	argv += optind;

	if (argc > 1)
		usage(EX_USAGE);
	msg = message(argc, argv, &op);
	if (zhttp_global() == -1)
		zdiex(EX_OSERR, "cannot start libcurl");
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());

	ev = event(&op, msg);
	destination(&t, &op, ev);
	p = payload(&t, &op, ev);
	rc = notify(&t, &op, p, ev);

	free(msg);
	json_decref(op.fields);
	json_decref(ev);
	if (t.token != NULL) {
		explicit_bzero(t.token, strlen(t.token));
		free(t.token);
	}
	free(t.url);
	free(t.shown);
	curl_global_cleanup();
	if (fflush(stdout) == EOF)
		zdie(EX_IOERR, "stdout");
	return rc;
}
