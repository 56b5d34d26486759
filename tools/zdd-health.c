/*
 * zdd-health: wait until every target (an http:// or https:// URL, or
 * tcp://HOST:PORT) is healthy, or say why it is not by the deadline.  All
 * targets are probed at once through one libcurl multi handle and one
 * poll loop, so ten backends take no longer than one, and the process
 * sleeps in poll(2) between attempts instead of spinning.  The deadline
 * is a hard bound: every attempt's timeout is cut to what is left of it,
 * the poll never sleeps past it, and a body is read only as far as the
 * checks need (at most 1 MiB), so neither a silent server, a trickling
 * one nor an endless body can hold zdd-health past it.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "clock.h"
#include "diag.h"
#include "expect.h"
#include "http.h"
#include "json.h"
#include "opt.h"
#include "status.h"
#include "target.h"
#include "text.h"
#include "url.h"

enum { OPT_ATTEMPTS = ZOPT_TOOL, OPT_CACERT, OPT_RESOLVE, OPT_SUCCESSES };

struct probe {
	struct ztarget t;
	struct zhttp r;		/* the attempt in flight, if inflight */
	int	 inflight;
	double	 started;	/* when the attempt in flight started */
	double	 limit;		/* its timeout */
	double	 next;		/* when the next attempt may go */
	double	 time;		/* how long the last attempt took */
	long	 status;	/* of the last attempt, 0 if none */
	uint64_t attempts;
	uint64_t streak;	/* passes in a row */
	int	 passed;	/* done: healthy */
	int	 exhausted;	/* done: out of attempts */
	char	 reason[512];	/* why the last attempt failed */
	char	 cut[512];	/* why the attempt after passes was cut */
};

/* What passes, and how each attempt goes: the options. */
struct check {
	struct zstatus accept;
	const char *status_arg;
	struct zexpect *expects;
	size_t	 nexpect;
	const char *contains;
	struct zhttp_opts http;	/* headers, --resolve, TLS */
	double	 timeout, interval, deadline;
	uint64_t successes, attempts;
};

/* One run over every target. */
struct health {
	struct check c;
	struct probe *probes;
	size_t	 nprobe;
	CURLM	*multi;
};

static void
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: zdd-health [-kqv] [-c text] [-d sec] [-e expr] "
	    "[-H header] [-i sec]\n"
	    "                  [-s list] [-t sec] [--attempts n] "
	    "[--cacert file] [--json]\n"
	    "                  [--resolve host:port:addr] [--successes n] "
	    "target ...\n");
	exit(code);
}

/* A usage error that points at the bad part of an option's value. */
static void
bad_value(const char *opt, const char *arg, size_t pos, const char *why)
{
	size_t len = strlen(arg);

	if (pos >= len)
		zdiex(EX_USAGE, "%s '%s': %s at the end", opt, arg, why);
	zdiex(EX_USAGE, "%s '%s': %s at character %zu: '%.20s%s'", opt, arg,
	    why, pos + 1, arg + pos, len - pos > 20 ? "..." : "");
}

static void
fmt_time(char *buf, size_t size, double sec)
{
	if (sec < 1)
		snprintf(buf, size, "%.1f ms", sec * 1000);
	else
		snprintf(buf, size, "%.4g s", sec);
}

static void
start(struct health *h, struct probe *p, double now, double end)
{
	struct zhttp_opts o = h->c.http;

	o.connect_only = p->t.kind == ZTARGET_TCP;
	o.timeout = end - now < h->c.timeout ? end - now : h->c.timeout;
	p->started = now;
	p->limit = o.timeout;
	if (zhttp_setup(&p->r, p->t.url, &o) == -1)
		zdie(EX_OSERR, "cannot make a curl handle");
	p->r.priv = p;
	p->inflight = 1;
	if (curl_multi_add_handle(h->multi, p->r.h) != CURLM_OK)
		zdiex(EX_SOFTWARE, "cannot add a curl handle");
}

/* Judge a finished attempt: 1 if it passed, else 0 with why set. */
static int
judge(const struct check *c, struct probe *p, CURLcode code, char *why,
    size_t size)
{
	json_error_t jerr;
	json_t *body;
	size_t i;
	int ok;

	if (zhttp_failed(&p->r, code)) {
		char when[64];

		/* An attempt cut short by the deadline says so. */
		if (p->limit < c->timeout)
			snprintf(when, sizeof when, "by the deadline");
		else
			snprintf(when, sizeof when, "within %g s", c->timeout);
		zhttp_error(&p->r, code, when, why, size);
		return 0;
	}
	if (p->t.kind == ZTARGET_TCP)
		return 1;
	if (!zstatus_match(&c->accept, p->status)) {
		snprintf(why, size, "status %ld, want %s", p->status,
		    c->status_arg);
		return 0;
	}
	if (p->r.overflow) {
		snprintf(why, size, "body larger than 1 MiB");
		return 0;
	}
	if (code == CURLE_WRITE_ERROR && !p->r.skipped) {
		snprintf(why, size, "out of memory for the body");
		return 0;
	}
	if (c->contains != NULL && (p->r.len == 0 || memmem(p->r.body,
	    p->r.len, c->contains, strlen(c->contains)) == NULL)) {
		snprintf(why, size, "body does not contain \"%s\"",
		    c->contains);
		return 0;
	}
	if (c->nexpect == 0)
		return 1;
	body = zexpect_load(p->r.body ? p->r.body : "", p->r.len, &jerr);
	if (body == NULL) {
		snprintf(why, size, "body is not JSON: %s (line %d, column %d)",
		    jerr.text, jerr.line, jerr.column);
		return 0;
	}
	ok = 1;
	for (i = 0; ok && i < c->nexpect; i++)
		ok = zexpect_eval(&c->expects[i], body, why, size);
	json_decref(body);
	return ok;
}

static void
finish(struct health *h, struct probe *p, CURLcode code, double now)
{
	char why[sizeof p->reason], t[32];
	int ok;

	zhttp_done(&p->r);
	p->status = p->r.status;
	p->time = now - p->started;
	p->attempts++;
	why[0] = '\0';
	ok = judge(&h->c, p, code, why, sizeof why);
	ztext_fix(why);
	if (ok) {
		p->streak++;
		p->reason[0] = '\0';
		if (p->streak >= h->c.successes)
			p->passed = 1;
	} else {
		p->streak = 0;
		snprintf(p->reason, sizeof p->reason, "%s", why);
	}
	if (zverbose) {
		char st[32];

		fmt_time(t, sizeof t, p->time);
		if (p->t.kind == ZTARGET_TCP)
			snprintf(st, sizeof st, "%s", ok ? "connected" : "-");
		else if (p->status != 0)
			snprintf(st, sizeof st, "%ld", p->status);
		else
			snprintf(st, sizeof st, "-");
		zdebug("%s: attempt %llu: %s in %s: %s", p->t.show,
		    (unsigned long long)p->attempts, st, t, ok ? "ok" : why);
	}
	/* The handle is kept for the next attempt, which resets it. */
	curl_multi_remove_handle(h->multi, p->r.h);
	p->inflight = 0;
	p->next = now + h->c.interval;
	if (!p->passed && h->c.attempts != 0 && p->attempts >= h->c.attempts)
		p->exhausted = 1;
}

/* The deadline came with p's attempt in flight: say what it waited for. */
static void
cut(struct probe *p, double now)
{
	char why[sizeof p->reason], t[32];

	p->time = now - p->started;
	zhttp_error(&p->r, CURLE_OPERATION_TIMEDOUT, "by the deadline", why,
	    sizeof why);
	/*
	 * A finished attempt's failure ("status 503") says more than the
	 * "no response" of one cut short; passes before the cut are told
	 * in report().
	 */
	if (p->streak > 0)
		snprintf(p->cut, sizeof p->cut, "%s", why);
	else if (p->reason[0] == '\0')
		snprintf(p->reason, sizeof p->reason, "%s", why);
	fmt_time(t, sizeof t, p->time);
	zdebug("%s: attempt %llu: - in %s: %s", p->t.show,
	    (unsigned long long)p->attempts + 1, t, why);
	/*
	 * The handle is left in the multi handle on purpose: removing it
	 * can wait for a resolver thread, and the deadline is a promise.
	 */
}

static int
run(struct health *h)
{
	double t0 = znow(), end = h->c.deadline > 0 ? t0 + h->c.deadline :
	    INFINITY;
	double now, wake;
	struct probe *p;
	struct zhttp *r;
	CURLMsg *m;
	long cto;
	int left, running, ms, settled, done;
	size_t i;

	for (;;) {
		now = znow();
		settled = 1;
		for (i = 0; i < h->nprobe; i++)
			if (!h->probes[i].passed && !h->probes[i].exhausted)
				settled = 0;
		if (settled || now >= end)
			break;
		wake = end;
		for (i = 0; i < h->nprobe; i++) {
			p = &h->probes[i];
			if (p->passed || p->exhausted || p->inflight)
				continue;
			if (now >= p->next)
				start(h, p, now, end);
			else if (p->next < wake)
				wake = p->next;
		}
		curl_multi_perform(h->multi, &running);
		done = 0;
		while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
			    (char **)&r);
			p = r->priv;
			finish(h, p, m->data.result, znow());
			done = 1;
		}
		/* Something finished: look again before sleeping. */
		now = znow();
		if (done || wake <= now)
			continue;
		ms = wake - now > 3600 ? 3600000 :
		    (int)ceil((wake - now) * 1000);
		if (curl_multi_timeout(h->multi, &cto) == CURLM_OK &&
		    cto >= 0 && cto < ms)
			ms = (int)cto;
		curl_multi_poll(h->multi, NULL, 0, ms, NULL);
	}
	now = znow();
	for (i = 0; i < h->nprobe; i++)
		if (h->probes[i].inflight && !h->probes[i].passed)
			cut(&h->probes[i], now);
	return (int)round((now - t0) * 1000);
}

static int
report(struct health *h, int elapsed_ms)
{
	json_t *a = NULL, *o;
	struct probe *p;
	size_t i;
	int healthy = 1;

	for (i = 0; i < h->nprobe; i++) {
		p = &h->probes[i];
		if (!p->passed && p->reason[0] == '\0')
			snprintf(p->reason, sizeof p->reason,
			    "%llu of %llu passes in a row%s%.200s",
			    (unsigned long long)p->streak,
			    (unsigned long long)h->c.successes,
			    p->cut[0] ? ", then " : "", p->cut);
		if (!p->passed)
			healthy = 0;
	}
	if (zopt.json) {
		a = json_array();
		for (i = 0; i < h->nprobe; i++) {
			p = &h->probes[i];
			o = json_pack("{s:s s:b s:I s:I s:I}",
			    "target", p->t.show, "healthy", p->passed,
			    "attempts", (json_int_t)p->attempts,
			    "successes", (json_int_t)p->streak,
			    "time_ms", (json_int_t)round(p->time * 1000));
			json_object_set_new(o, "status", p->status != 0 ?
			    json_integer(p->status) : json_null());
			json_object_set_new(o, "reason", p->passed ?
			    json_null() : json_string(p->reason));
			json_array_append_new(a, o);
		}
		if (zjson_print(json_pack("{s:b s:i s:o}", "healthy", healthy,
		    "elapsed_ms", elapsed_ms, "targets", a)) == -1)
			zdie(EX_IOERR, "stdout");
	}
	for (i = 0; i < h->nprobe; i++) {
		p = &h->probes[i];
		if (p->passed)
			zdebug("%s: healthy after %llu attempt%s", p->t.show,
			    (unsigned long long)p->attempts,
			    p->attempts == 1 ? "" : "s");
		else if (!zquiet)
			zerrx("%s: %s", p->t.show, p->reason);
	}
	return healthy;
}

/* One --expect more. */
static void
add_expect(struct check *c, const char *arg)
{
	const char *why;
	size_t pos;

	c->expects = xreallocarray(c->expects, c->nexpect + 1,
	    sizeof *c->expects);
	if (zexpect_parse(arg, &c->expects[c->nexpect], &pos, &why) == -1)
		bad_value("--expect", arg, pos, why);
	c->nexpect++;
}

/* One --header or --resolve more: a line for libcurl, checked first. */
static void
add_line(struct curl_slist **list, const char *opt, const char *arg)
{
	const char *why;
	size_t pos;

	if (strcmp(opt, "--resolve") == 0) {
		if (zresolve_check(arg, &pos, &why) == -1)
			bad_value(opt, arg, pos, why);
	} else if (zheader_check(arg, &pos, &why) == -1) {
		/* A header may carry a token: never echo it. */
		if (pos >= strlen(arg))
			zdiex(EX_USAGE, "--header: %s at the end", why);
		zdiex(EX_USAGE, "--header: %s at character %zu", why, pos + 1);
	}
	*list = xnonnull(curl_slist_append(*list, arg));
}

/* A time option's value, in seconds; above 0 unless zero_ok. */
static double
seconds(const char *opt, const char *arg, int zero_ok)
{
	double v;

	if (zparse_seconds(arg, &v) == -1 || (!zero_ok && v <= 0))
		zdiex(EX_USAGE, "--%s %s: not a number of seconds%s", opt, arg,
		    zero_ok ? "" : " above 0");
	return v;
}

/*
 * The targets of the command line (one may be "-", read from stdin),
 * each parsed before any network work starts.
 */
static void
targets(struct health *h, int argc, char *argv[])
{
	struct probe *p;
	const char *why, *arg;
	char *from_stdin = NULL;
	size_t pos;
	int i;

	h->probes = xcalloc((size_t)argc, sizeof *h->probes);
	for (i = 0; i < argc; i++) {
		p = &h->probes[i];
		arg = argv[i];
		if (strcmp(arg, "-") == 0) {
			if (from_stdin != NULL)
				zdiex(EX_USAGE, "only one target can be '-'");
			if ((from_stdin = zoperand("-")) == NULL)
				zdie(EX_USAGE,
				    "cannot read a target from stdin");
			arg = from_stdin;
		}
		if (ztarget_parse(arg, &p->t, &pos, &why) == -1) {
			if (why == NULL)
				zdie(EX_OSERR, "out of memory");
			/*
			 * A URL may hold a secret: show what zurl_show()
			 * keeps of it.  Something that is no URL at all
			 * ("localhost:8080") is shown as it is, cleaned,
			 * unless it has a user in it.
			 */
			if (strstr(arg, "://") == NULL &&
			    strchr(arg, '@') == NULL)
				p->t.show = ztext_dup(arg, strlen(arg), 200);
			else
				p->t.show = zurl_show(arg);
			if (p->t.show == NULL)
				zdie(EX_OSERR, "out of memory");
			if (pos == ZTARGET_NOPOS || strstr(arg, "://") == NULL)
				zdiex(EX_USAGE, "%s: not a target: %s",
				    p->t.show, why);
			zdiex(EX_USAGE, "%s: not a target: %s at character %zu",
			    p->t.show, why, pos + 1);
		}
		h->nprobe++;
	}
	free(from_stdin);
}

/*
 * What is finished goes; attempts cut at the deadline stay, with what
 * they need (removing one can wait for a resolver thread).
 */
static void
cleanup(struct health *h)
{
	size_t i;
	int inflight = 0;

	for (i = 0; i < h->nprobe; i++) {
		if (h->probes[i].inflight) {
			inflight = 1;
			continue;
		}
		zhttp_free(&h->probes[i].r);
		ztarget_free(&h->probes[i].t);
	}
	for (i = 0; i < h->c.nexpect; i++)
		zexpect_free(&h->c.expects[i]);
	free(h->c.expects);
	if (!inflight) {
		curl_multi_cleanup(h->multi);
		curl_slist_free_all(h->c.http.headers);
		curl_slist_free_all(h->c.http.resolve);
		free(h->probes);
		curl_global_cleanup();
	}
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "attempts",	required_argument,	NULL, OPT_ATTEMPTS },
		{ "cacert",	required_argument,	NULL, OPT_CACERT },
		{ "contains",	required_argument,	NULL, 'c' },
		{ "deadline",	required_argument,	NULL, 'd' },
		{ "expect",	required_argument,	NULL, 'e' },
		{ "header",	required_argument,	NULL, 'H' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "insecure",	no_argument,		NULL, 'k' },
		{ "interval",	required_argument,	NULL, 'i' },
		{ "json",	no_argument,		NULL, ZOPT_JSON },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "resolve",	required_argument,	NULL, OPT_RESOLVE },
		{ "status",	required_argument,	NULL, 's' },
		{ "successes",	required_argument,	NULL, OPT_SUCCESSES },
		{ "timeout",	required_argument,	NULL, 't' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	/* Static: attempts cut at the deadline stay reachable at exit. */
	static struct health h = {
		.c = {
			.status_arg = "200-299", .timeout = 2,
			.interval = 0.5, .deadline = 60, .successes = 1,
			.http = { .agent = "zdd-health",
			    /* A new connection, as a new client makes. */
			    .fresh = 1 },
		},
	};
	struct check *c = &h.c;
	struct zcommon co = ZCOMMON_INIT;
	const char *why;
	size_t pos;
	int ch, deadline_set = 0, healthy, rc;

	zinit(argv[0]);
	zstatus_parse(c->status_arg, &c->accept, &pos, &why);
	while ((ch = getopt_long(argc, argv, "c:d:e:hH:i:kqs:t:vV", longopts,
	    NULL)) != -1)
		switch (ch) {
		case 'c':
			c->contains = optarg;
			break;
		case 'd':
			c->deadline = seconds("deadline", optarg, 0);
			deadline_set = 1;
			break;
		case 'e':
			add_expect(c, optarg);
			break;
		case 'h':
			usage(0);
			break;
		case 'H':
			add_line(&c->http.headers, "--header", optarg);
			break;
		case 'i':
			c->interval = seconds("interval", optarg, 1);
			break;
		case 'k':
			c->http.insecure = 1;
			break;
		case 's':
			if (zstatus_parse(optarg, &c->accept, &pos, &why) == -1)
				bad_value("--status", optarg, pos, why);
			c->status_arg = optarg;
			break;
		case 't':
			c->timeout = seconds("timeout", optarg, 0);
			break;
		case OPT_ATTEMPTS:
			if (zparse_uint(optarg, 1, 1000000000, &c->attempts) ==
			    -1)
				zdiex(EX_USAGE, "--attempts %s: not a positive "
				    "number", optarg);
			break;
		case OPT_CACERT:
			c->http.cacert = optarg;
			break;
		case OPT_RESOLVE:
			add_line(&c->http.resolve, "--resolve", optarg);
			break;
		case OPT_SUCCESSES:
			if (zparse_uint(optarg, 1, 1000000, &c->successes) ==
			    -1)
				zdiex(EX_USAGE, "--successes %s: not a "
				    "positive number", optarg);
			break;
		default:
			if ((rc = zopt_common(ch, optarg, &co)) == -1)
				zdiex(EX_USAGE, "%s %s: %s", co.bad, optarg,
				    co.why);
			if (rc == 0)
				usage(EX_USAGE);
		}
	argc -= optind;
	argv += optind;

	if (argc == 0)
		usage(EX_USAGE);
	/* --attempts alone bounds the run; with -d, the first to come. */
	if (c->attempts != 0 && !deadline_set)
		c->deadline = 0;
	if (c->attempts != 0 && c->attempts < c->successes)
		zdiex(EX_USAGE,
		    "--attempts %llu is fewer than --successes %llu",
		    (unsigned long long)c->attempts,
		    (unsigned long long)c->successes);
	targets(&h, argc, argv);
	if (c->http.cacert != NULL && access(c->http.cacert, R_OK) == -1)
		zdie(zexit_errno(errno), "--cacert %s", c->http.cacert);
	/* Without body checks the status is all that is needed. */
	c->http.bodymode = c->contains == NULL && c->nexpect == 0 ?
	    ZHTTP_SKIP : ZHTTP_KEEP;

	signal(SIGPIPE, SIG_IGN);
	if (zhttp_global() == -1 || (h.multi = curl_multi_init()) == NULL)
		zdiex(EX_SOFTWARE, "cannot initialise libcurl");
	healthy = report(&h, run(&h));
	cleanup(&h);
	if (fflush(stdout) == EOF)
		zdie(EX_IOERR, "stdout");
	return healthy ? 0 : EX_NO;
}
