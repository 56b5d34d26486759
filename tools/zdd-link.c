/*
 * zdd-link: point a link in the deploy root (current, or blue, green ...)
 * at a release, atomically; roll it back to an earlier good release; show
 * where it points; list the releases.  The swap is a new symlink under a
 * temporary name renamed over the old one, so at no instant is the link
 * missing or pointing at half a release.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "events.h"
#include "ident.h"
#include "json.h"
#include "layout.h"
#include "lock.h"
#include "opt.h"

enum { OPT_BAD = ZOPT_TOOL, OPT_GOOD, OPT_HISTORY, OPT_LIST, OPT_NAME,
    OPT_ROLLBACK, OPT_SHOW, OPT_STEPS };

/*
 * The release named on the command line or read from stdin.  It lives
 * at file scope so that every early exit (a held lock, a missing
 * release) leaves it reachable: a leak checker never sees it as lost.
 */
static char *operand;

static void
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: zdd-link [-nqv] [-r root] [--json] [--lock-wait sec] "
	    "[--name link]\n"
	    "                release | -\n"
	    "       zdd-link [-nqv] [-r root] [--json] [--lock-wait sec] "
	    "[--name link]\n"
	    "                --rollback [--steps n]\n"
	    "       zdd-link [-nqv] [-r root] [--json] [--lock-wait sec]\n"
	    "                --bad release | --good release\n"
	    "       zdd-link [-qv] [-r root] [--json] [--name link] --show\n"
	    "       zdd-link [-qv] [-r root] [--json] [--name link] --history\n"
	    "       zdd-link [-qv] [-r root] [--json] --list\n");
	exit(code);
}

/*
 * Lock the root.  ZDD_LOCK_WAIT is read only here, so that a malformed
 * value never breaks --show, --list or a dry run, and a valid --lock-wait
 * (wait >= 0) overrides it.
 */
static void
lock_root(struct zroot *r, double wait)
{
	if (zlock_wait(&wait) == -1)
		zdiex(EX_USAGE, "ZDD_LOCK_WAIT: not a number of seconds");
	if (zroot_lock(r, wait) == -1)
		exit(zroot_lock_report(r));
}

static void
load_history(struct zroot *r, struct zhist *h)
{
	if (zhist_load(r, h, !zquiet) == -1)
		zdie(zexit_errno(errno), "cannot read the history of %s",
		    zroot_path(r));
}

static void
result(struct zroot *r, const char *action, const char *link,
    const char *id, const char *prev, int changed)
{
	char *path = zrelease_path(r, id);

	if (path == NULL)
		zdie(EX_OSERR, "out of memory");
	if (zopt.json)
		zjson_print(json_pack("{s:s s:s* s:s s:s s:s? s:b s:b}",
		    "action", action, "link", link, "release", id,
		    "path", path, "previous", prev, "changed", changed,
		    "dry_run", zopt.dry_run));
	else
		printf("%s\n", path);
	free(path);
}

static int
show(struct zroot *r, const char *link)
{
	char id[ZID_MAX + 1];
	int rc;

	rc = zroot_link_target(r, link, id, sizeof id);
	if (rc == -1 && errno == ENOENT)
		zdiex(EX_NO, "%s: no such link in %s", link, zroot_path(r));
	if (rc == -1)
		zdiex(EX_DATAERR,
		    "%s: not a link to a release under %s/releases",
		    link, zroot_path(r));
	if (rc == 1)
		zdiex(EX_NO, "%s points at releases/%s, which does not exist",
		    link, id);
	result(r, "show", link, id, NULL, 0);
	return 0;
}

/* Every release in creation order, with its state from the history. */
static struct zrel *
releases(struct zroot *r, struct zhist *h, size_t *n, int warn)
{
	struct zrel *v;

	if (zroot_releases(r, &v, n, warn) == -1)
		zdie(zexit_errno(errno), "cannot read %s/releases",
		    zroot_path(r));
	zhist_annotate(h, v, *n);
	return v;
}

static int
list(struct zroot *r)
{
	struct zhist h;
	struct zrel *v;
	json_t *a = NULL;
	size_t n, i;

	load_history(r, &h);
	v = releases(r, &h, &n, 1);
	if (zopt.json)
		a = json_array();
	for (i = 0; i < n; i++) {
		const char *state = zstate_name(v[i].state);

		if (a != NULL) {
			json_t *links = json_array();
			char *p, *s = v[i].links, *tok, *path;

			for (tok = strtok_r(s, " ", &p); tok != NULL;
			    tok = strtok_r(NULL, " ", &p))
				json_array_append_new(links, json_string(tok));
			path = zrelease_path(r, v[i].id);
			json_array_append_new(a, json_pack(
			    "{s:s s:s s:s s:o s:b}", "id", v[i].id,
			    "path", path, "state", state, "links", links,
			    "bad", v[i].bad));
			free(path);
		} else if (v[i].state == ZREL_LIVE)
			/* Live: the links name it; a hook may have failed. */
			printf("%s %s%s\n", v[i].id, v[i].links,
			    v[i].bad ? " bad" : "");
		else
			printf("%s %s\n", v[i].id, state);
	}
	free(v);
	zhist_free(&h);
	if (a != NULL)
		zjson_print(a);
	return 0;
}

static int
history(struct zroot *r, const char *link)
{
	const struct zhchange **v;
	char cur[ZID_MAX + 1];
	struct zhist h;
	json_t *a = NULL;
	size_t n, i;

	if (zroot_link_target(r, link, cur, sizeof cur) == -1)
		cur[0] = '\0';
	load_history(r, &h);
	if (zhist_link(&h, link, cur[0] ? cur : NULL, &v, &n) == -1)
		zdie(EX_OSERR, "out of memory");
	if (zopt.json)
		a = json_array();
	/* Newest first, as git log and a rollback read it. */
	for (i = n; i-- > 0;) {
		const struct zhchange *c = v[i];
		const char *action = c->rollback ? "rollback" : "deploy";

		if (a != NULL)
			json_array_append_new(a, json_pack(
			    "{s:s? s:s s:s s:s?}", "time",
			    *c->time ? c->time : NULL, "release", c->release,
			    "action", action, "previous",
			    *c->previous ? c->previous : NULL));
		else
			printf("%s %s %s %s\n", *c->time ? c->time : "-",
			    c->release, action, *c->previous ? c->previous :
			    "-");
	}
	if (a != NULL)
		zjson_print(json_pack("{s:s s:o}", "link", link,
		    "history", a));
	free(v);
	zhist_free(&h);
	return 0;
}

static void
log_deploy(struct zroot *r, const char *id)
{
	json_t *m = zmanifest_load(r, id);

	if (zrevlog(r, "Branch %s (at %s) deployed as release %s by %s",
	    zjson_str(m, "branch", "unknown"),
	    zjson_str(m, "revision", "unknown"), id,
	    zjson_str(m, "user", zuser())) == -1)
		zerr("cannot write %s/revisions.log", zroot_path(r));
	json_decref(m);
}

/* The id of a release named on the command line, or exit 66. */
static void
resolve(struct zroot *r, const char *what, const char *spec, char *id,
    size_t size)
{
	if (zroot_resolve(r, spec, id, size) == 0)
		return;
	if (errno == EINVAL)
		zdiex(EX_NOINPUT, "%s: not a release under %s/releases",
		    spec, zroot_path(r));
	zdie(EX_NOINPUT, "cannot %s: %s%s", what,
	    strchr(spec, '/') ? "" : "releases/", spec);
}

/*
 * The release link points at now, into prev: 1 when there is one, 0 when
 * there is no link yet.  A link that is not a link to a release is left
 * alone (65).
 */
static int
current_of(struct zroot *r, const char *link, char *prev, size_t size)
{
	if (zroot_link_target(r, link, prev, size) >= 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	if (errno != EINVAL)
		zdie(zexit_errno(errno), "cannot read %s/%s", zroot_path(r),
		    link);
	zdiex(EX_DATAERR, "%s: not a link to a release, left alone", link);
}

static int
link_release(struct zroot *r, const char *link, const char *spec)
{
	char id[ZID_MAX + 1], prev[ZID_MAX + 1], what[ZID_MAX + 16];
	struct zhist h;
	json_t *m;
	int bad, have_prev, rc, e;

	snprintf(what, sizeof what, "link %s", link);
	resolve(r, what, spec, id, sizeof id);
	if ((rc = zrelease_complete(r, id)) == -1)
		zdie(zexit_errno(errno), "cannot read releases/%s", id);
	if (rc == 0)
		zdiex(EX_NOINPUT, "cannot link %s: releases/%s is incomplete",
		    link, id);
	have_prev = current_of(r, link, prev, sizeof prev);
	load_history(r, &h);
	m = zmanifest_load(r, id);
	bad = zhist_bad(&h, id, json_is_true(json_object_get(m, "bad")));
	json_decref(m);
	zhist_free(&h);

	if (have_prev && strcmp(prev, id) == 0 && !bad) {
		zdebug("%s already points at releases/%s", link, id);
		result(r, "link", link, id, prev, 0);
		return 0;
	}
	if (zopt.dry_run) {
		zinfo("would point %s at releases/%s%s", link, id,
		    bad ? " and clear its bad mark" : "");
		result(r, "link", link, id, have_prev ? prev : NULL, 1);
		return 0;
	}
	/*
	 * Link, then record: the log never says that a release went live
	 * when it did not.  If the record cannot be written the link is
	 * put back, so that the log and the tree still agree.
	 */
	if ((rc = zroot_set_link(r, link, id)) == -1)
		zdie(zexit_errno(errno), "cannot link %s to releases/%s", link,
		    id);
	if (rc == 1)
		zerr("%s -> releases/%s is in place but not synced to disk",
		    link, id);
	if (zevent_append(r, "link", json_pack("{s:s s:s s:s*}",
	    "release", id, "link", link, "previous",
	    have_prev ? prev : NULL)) == -1) {
		e = errno;
		if (have_prev)
			(void)zroot_set_link(r, link, prev);
		else
			(void)unlinkat(zroot_fd(r), link, 0);
		errno = e;
		zdie(zexit_errno(errno), "cannot write %s/.zdd/events.jsonl: "
		    "%s left as it was", zroot_path(r), link);
	}
	zdebug("%s -> releases/%s", link, id);
	log_deploy(r, id);
	result(r, "link", link, id, have_prev ? prev : NULL, 1);
	return 0;
}

static int
idcmp(const void *a, const void *b)
{
	return strcmp((*(const struct zrel *const *)a)->id,
	    (*(const struct zrel *const *)b)->id);
}

/*
 * Whether a rollback may land on id: a whole release (byid: every
 * release, sorted by id), not bad.
 */
static int
landable(struct zroot *r, const struct zrel **byid, size_t n, const char *id)
{
	const struct zrel *const *hit;
	struct zrel key;
	const struct zrel *kp = &key;
	int rc;

	snprintf(key.id, sizeof key.id, "%s", id);
	hit = bsearch(&kp, byid, n, sizeof *byid, idcmp);
	if (hit == NULL || (*hit)->bad)
		return 0;		/* gone, not a release, or bad */
	if ((rc = zrelease_complete(r, id)) == -1)
		zdie(zexit_errno(errno), "cannot read releases/%s", id);
	return rc;
}

/*
 * Where a rollback of link from cur by steps lands, or NULL.  With a
 * history of the link, walk it back: the releases it pointed at, newest
 * first, each once, skipping cur, bad ones and gone ones.  Without one
 * (a tree older than the log), every release that went live counts, in
 * creation order.
 */
static const char *
rollback_target(struct zroot *r, struct zhist *h, struct zrel *v, size_t n,
    const char *link, const char *cur, uint64_t steps)
{
	const struct zhchange **hv;
	const struct zrel **byid;
	const char *target = NULL;
	json_t *seen;
	size_t hn, i, at;

	byid = xcalloc(n + 1, sizeof *byid);
	for (i = 0; i < n; i++)
		byid[i] = &v[i];
	qsort(byid, n, sizeof *byid, idcmp);
	if (zhist_link(h, link, cur, &hv, &hn) == -1)
		zdie(EX_OSERR, "out of memory");
	if (hn > 0) {
		/*
		 * Each change's release, and the one it replaced, each once
		 * (a jansson object as the set: a long history stays linear).
		 */
		seen = xnonnull(json_object());
		for (i = hn; i-- > 0 && target == NULL;) {
			const char *cand[2] = { hv[i]->release,
			    hv[i]->previous };
			int k;

			for (k = 0; k < 2 && target == NULL; k++) {
				const char *id = cand[k];

				if (*id == '\0' || strcmp(id, cur) == 0 ||
				    json_object_get(seen, id) != NULL)
					continue;
				json_object_set_new(seen, id, json_true());
				if (landable(r, byid, n, id) && --steps == 0)
					target = id;
			}
		}
		json_decref(seen);
	} else {
		for (at = 0; at < n && strcmp(v[at].id, cur) != 0; at++)
			;
		for (i = at; i-- > 0 && target == NULL;) {
			if (at == n && strverscmp(v[i].id, cur) > 0)
				continue;
			if (v[i].went_live && landable(r, byid, n,
			    v[i].id) && --steps == 0)
				target = v[i].id;
		}
	}
	free(hv);
	free(byid);
	return target;
}

static int
rollback(struct zroot *r, const char *link, uint64_t steps)
{
	char prev[ZID_MAX + 1], target[ZID_MAX + 1];
	const char *t;
	struct zhist h;
	struct zrel *v;
	size_t n;
	int rc;

	rc = zroot_link_target(r, link, prev, sizeof prev);
	if (rc == -1 && errno == ENOENT)
		zdiex(EX_NOINPUT, "cannot roll back %s: no such link", link);
	if (rc == -1 && errno != EINVAL)
		zdie(zexit_errno(errno), "cannot read %s/%s", zroot_path(r),
		    link);
	if (rc == -1)
		zdiex(EX_DATAERR, "%s: not a link to a release, left alone",
		    link);
	load_history(r, &h);
	v = releases(r, &h, &n, 0);
	t = rollback_target(r, &h, v, n, link, prev, steps);
	if (t == NULL) {
		free(v);
		zhist_free(&h);
		zdiex(EX_NOINPUT, "cannot roll back %s from releases/%s: "
		    "no %s good release before it", link, prev,
		    steps == 1 ? "earlier" : "such");
	}
	strcpy(target, t);
	free(v);
	zhist_free(&h);
	if (zopt.dry_run) {
		zinfo("would point %s at releases/%s and mark releases/%s bad",
		    link, target, prev);
		result(r, "rollback", link, target, prev, 1);
		return 0;
	}
	/*
	 * Record first: a crash before the swap leaves the log saying the
	 * link is back on target and prev is bad, so the next rollback
	 * lands on target again rather than on prev.  If the swap fails,
	 * the record is taken back by one that puts prev live again.
	 */
	if (zevent_append(r, "rollback", json_pack("{s:s s:s s:s}",
	    "release", target, "link", link, "previous", prev)) == -1)
		zdie(zexit_errno(errno), "cannot write %s/.zdd/events.jsonl",
		    zroot_path(r));
	if ((rc = zroot_set_link(r, link, target)) == -1) {
		int e = errno;

		if (zevent_append(r, "link", json_pack("{s:s s:s s:s}",
		    "release", prev, "link", link, "previous", target)) == -1)
			zerr("cannot write %s/.zdd/events.jsonl",
			    zroot_path(r));
		errno = e;
		zdie(zexit_errno(errno), "cannot link %s to releases/%s",
		    link, target);
	}
	if (rc == 1)
		zerr("%s -> releases/%s is in place but not synced to disk",
		    link, target);
	zdebug("%s -> releases/%s, releases/%s marked bad", link, target,
	    prev);
	if (zrevlog(r, "%s rolled back to release %s", zuser(), target) == -1)
		zerr("cannot write %s/revisions.log", zroot_path(r));
	result(r, "rollback", link, target, prev, 1);
	return 0;
}

/* --bad and --good: mark a release without moving any link. */
static int
mark(struct zroot *r, const char *spec, int bad)
{
	const char *action = bad ? "bad" : "good";
	char id[ZID_MAX + 1], what[32];
	struct zhist h;
	json_t *m;
	int was;

	snprintf(what, sizeof what, "mark it %s", action);
	resolve(r, what, spec, id, sizeof id);
	load_history(r, &h);
	m = zmanifest_load(r, id);
	was = zhist_bad(&h, id, json_is_true(json_object_get(m, "bad")));
	json_decref(m);
	zhist_free(&h);
	if (was == bad) {
		zdebug("releases/%s is %s already", id, action);
		result(r, action, NULL, id, NULL, 0);
		return 0;
	}
	if (zopt.dry_run)
		zinfo("would mark releases/%s %s", id, action);
	else if (zevent_append(r, action, json_pack("{s:s}", "release",
	    id)) == -1)
		zdie(zexit_errno(errno), "cannot write %s/.zdd/events.jsonl",
		    zroot_path(r));
	result(r, action, NULL, id, NULL, 1);
	return 0;
}

/* What the command line asks for. */
struct args {
	struct zcommon co;	/* -r, --lock-wait */
	const char *link;	/* --name */
	uint64_t steps;		/* --steps */
	int	 stepsset;
	int	 mode;		/* OPT_BAD ... OPT_SHOW, or 0: link a release */
};

/*
 * --bad, --good, --history, --list, --rollback and --show: one at most
 * (the same one twice is fine); --bad and --good name their release.
 */
static void
set_mode(struct args *a, int c, const char *arg)
{
	if (a->mode != 0 && a->mode != c)
		zdiex(EX_USAGE, "--bad, --good, --history, --list, --rollback "
		    "and --show exclude each other");
	a->mode = c;
	if (c == OPT_BAD || c == OPT_GOOD) {
		free(operand);
		operand = xstrdup(arg);
	}
}

/* The options; what is left is the operands (optind). */
static void
parse_options(struct args *a, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "bad",	required_argument,	NULL, OPT_BAD },
		{ "dry-run",	no_argument,		NULL, 'n' },
		{ "good",	required_argument,	NULL, OPT_GOOD },
		{ "help",	no_argument,		NULL, 'h' },
		{ "history",	no_argument,		NULL, OPT_HISTORY },
		{ "json",	no_argument,		NULL, ZOPT_JSON },
		{ "list",	no_argument,		NULL, OPT_LIST },
		{ "lock-wait",	required_argument,	NULL, ZOPT_LOCK_WAIT },
		{ "name",	required_argument,	NULL, OPT_NAME },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "rollback",	no_argument,		NULL, OPT_ROLLBACK },
		{ "root",	required_argument,	NULL, 'r' },
		{ "show",	no_argument,		NULL, OPT_SHOW },
		{ "steps",	required_argument,	NULL, OPT_STEPS },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	int c, rc;

	while ((c = getopt_long(argc, argv, "hnqr:vV", longopts, NULL)) != -1)
		switch (c) {
		case 'h':
			usage(0);
			break;
		case OPT_BAD:
		case OPT_GOOD:
		case OPT_HISTORY:
		case OPT_LIST:
		case OPT_ROLLBACK:
		case OPT_SHOW:
			set_mode(a, c, optarg);
			break;
		case OPT_NAME:
			a->link = optarg;
			break;
		case OPT_STEPS:
			if (zparse_uint(optarg, 1, 100000, &a->steps) == -1)
				zdiex(EX_USAGE, "--steps %s: not a positive "
				    "number", optarg);
			a->stepsset = 1;
			break;
		default:
			if ((rc = zopt_common(c, optarg, &a->co)) == -1)
				zdiex(EX_USAGE, "%s %s: %s", a->co.bad, optarg,
				    a->co.why);
			if (rc == 0)
				usage(EX_USAGE);
		}
}

/* The operands and the options that go together, before any work. */
static void
check_usage(const struct args *a, int nargs)
{
	if (a->mode == 0 ? nargs != 1 : nargs != 0)
		usage(EX_USAGE);
	if (a->stepsset && a->mode != OPT_ROLLBACK)
		zdiex(EX_USAGE, "--steps goes with --rollback");
	if (!zlink_name_valid(a->link))
		zdiex(EX_USAGE, "--name %s: not a link name (one name in the "
		    "deploy root, not releases, shared or .zdd)", a->link);
}

/* The job the mode names; only a change takes the lock. */
static int
run(struct zroot *r, const struct args *a)
{
	switch (a->mode) {
	case OPT_SHOW:
		return show(r, a->link);
	case OPT_LIST:
		return list(r);
	case OPT_HISTORY:
		return history(r, a->link);
	}
	if (!zopt.dry_run)
		lock_root(r, a->co.lock_wait);
	switch (a->mode) {
	case OPT_ROLLBACK:
		return rollback(r, a->link, a->steps);
	case OPT_BAD:
	case OPT_GOOD:
		return mark(r, operand, a->mode == OPT_BAD);
	default:
		return link_release(r, a->link, operand);
	}
}

int
main(int argc, char *argv[])
{
	struct args a = { .co = ZCOMMON_INIT, .link = "current", .steps = 1 };
	struct zroot r;
	const char *root;
	int rc;

	zinit(argv[0]);
	parse_options(&a, argc, argv);
	argc -= optind;
	argv += optind;
	check_usage(&a, argc);
	if ((root = zroot_arg(a.co.root)) == NULL)
		zdiex(EX_USAGE, "no deploy root: give -r ROOT or set ZDD_ROOT");
	/*
	 * Read "-" before looking at the root: in "zdd-release ... |
	 * zdd-link -" the release holds the lock, and may be creating the
	 * root itself, until it prints.
	 */
	if (a.mode == 0 && (operand = zoperand(argv[0])) == NULL)
		zdie(EX_USAGE, "cannot read a release from stdin");
	if (zroot_open(&r, root, 0) == -1)
		zdie(zexit_errno(errno), "cannot open deploy root %s", root);
	rc = run(&r, &a);
	zroot_close(&r);
	free(operand);
	if (fflush(stdout) == EOF)
		zdie(EX_IOERR, "stdout");
	return rc;
}
