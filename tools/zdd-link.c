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

#include "diag.h"
#include "ident.h"
#include "json.h"
#include "layout.h"
#include "lock.h"
#include "opt.h"

enum { OPT_JSON = 256, OPT_LIST, OPT_LOCK_WAIT, OPT_NAME, OPT_ROLLBACK,
    OPT_SHOW, OPT_STEPS };

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
	    "       zdd-link [-qv] [-r root] [--json] [--name link] --show\n"
	    "       zdd-link [-qv] [-r root] [--json] --list\n");
	exit(code);
}

static void
lock_root(struct zroot *r, double wait)
{
	if (zroot_lock(r, wait) == -1)
		exit(zroot_lock_report(r));
}

static void
result(struct zroot *r, const char *action, const char *link,
    const char *id, const char *prev, int changed)
{
	char *path = zrelease_path(r, id);

	if (path == NULL)
		zdie(EX_OSERR, "out of memory");
	if (zopt.json)
		zjson_print(json_pack("{s:s s:s s:s s:s s:s? s:b s:b}",
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
		zdiex(EX_NO, "%s: no such link in %s", link, r->path);
	if (rc == -1)
		zdiex(EX_DATAERR, "%s: not a link to a release under %s/releases",
		    link, r->path);
	if (rc == 1)
		zdiex(EX_NO, "%s points at releases/%s, which does not exist",
		    link, id);
	result(r, "show", link, id, NULL, 0);
	return 0;
}

static int
list(struct zroot *r)
{
	struct zrel *v;
	json_t *a = NULL;
	size_t n, i;

	if (zroot_releases(r, &v, &n, 1) == -1)
		zdie(zexit_errno(errno), "cannot read %s/releases", r->path);
	if (zopt.json)
		a = json_array();
	for (i = 0; i < n; i++) {
		if (a != NULL) {
			json_t *links = json_array();
			char *p, *s = v[i].links, *tok, *path;

			for (tok = strtok_r(s, " ", &p); tok != NULL;
			    tok = strtok_r(NULL, " ", &p))
				json_array_append_new(links, json_string(tok));
			path = zrelease_path(r, v[i].id);
			json_array_append_new(a, json_pack("{s:s s:s s:o s:b}",
			    "id", v[i].id, "path", path, "links", links,
			    "bad", v[i].bad));
			free(path);
		} else
			printf("%s%s%s%s\n", v[i].id, *v[i].links ? " " : "",
			    v[i].links, v[i].bad ? " bad" : "");
	}
	free(v);
	if (a != NULL)
		zjson_print(a);
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
		zerr("cannot write %s/revisions.log", r->path);
	json_decref(m);
}

static int
link_release(struct zroot *r, const char *link, const char *spec)
{
	char id[ZID_MAX + 1], prev[ZID_MAX + 1];
	json_t *m;
	int bad, have_prev, rc;

	if (zroot_resolve(r, spec, id, sizeof id) == -1) {
		if (errno == EINVAL)
			zdiex(EX_NOINPUT, "%s: not a release under %s/releases",
			    spec, r->path);
		zdie(EX_NOINPUT, "cannot link %s: %s%s", link,
		    strchr(spec, '/') ? "" : "releases/", spec);
	}
	if ((rc = zrelease_complete(r, id)) == -1)
		zdie(zexit_errno(errno), "cannot read releases/%s", id);
	if (rc == 0)
		zdiex(EX_NOINPUT, "cannot link %s: releases/%s is incomplete",
		    link, id);
	have_prev = zroot_link_target(r, link, prev, sizeof prev) >= 0;
	if (!have_prev && errno != ENOENT && errno != EINVAL)
		zdie(zexit_errno(errno), "cannot read %s/%s", r->path, link);
	if (!have_prev && errno != ENOENT)
		zdiex(EX_DATAERR, "%s: not a link to a release, left alone",
		    link);
	m = zmanifest_load(r, id);
	bad = json_is_true(json_object_get(m, "bad"));
	json_decref(m);

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
	if (bad && zrelease_mark_bad(r, id, 0) == -1)
		zdie(zexit_errno(errno), "cannot clear the bad mark of %s", id);
	if ((rc = zroot_set_link(r, link, id)) == -1)
		zdie(zexit_errno(errno), "cannot link %s to releases/%s", link,
		    id);
	if (rc == 1)
		zerr("%s -> releases/%s is in place but not synced to disk",
		    link, id);
	zdebug("%s -> releases/%s", link, id);
	log_deploy(r, id);
	result(r, "link", link, id, have_prev ? prev : NULL, 1);
	return 0;
}

static int
rollback(struct zroot *r, const char *link, uint64_t steps)
{
	char prev[ZID_MAX + 1];
	const char *target = NULL;
	struct zrel *v;
	size_t n, i;
	uint64_t left = steps;
	int rc;

	rc = zroot_link_target(r, link, prev, sizeof prev);
	if (rc == -1 && errno == ENOENT)
		zdiex(EX_NOINPUT, "cannot roll back %s: no such link", link);
	if (rc == -1 && errno != EINVAL)
		zdie(zexit_errno(errno), "cannot read %s/%s", r->path, link);
	if (rc == -1)
		zdiex(EX_DATAERR, "%s: not a link to a release, left alone",
		    link);
	if (zroot_releases(r, &v, &n, 0) == -1)
		zdie(zexit_errno(errno), "cannot read %s/releases", r->path);
	/* Walk back from the live release by name, over bad ones. */
	for (i = n; i-- > 0;) {
		if (strcmp(v[i].id, prev) >= 0 || v[i].bad)
			continue;
		if ((rc = zrelease_complete(r, v[i].id)) == -1)
			zdie(zexit_errno(errno), "cannot read releases/%s",
			    v[i].id);
		if (rc == 0)
			continue;
		if (--left == 0) {
			target = v[i].id;
			break;
		}
	}
	if (target == NULL) {
		free(v);
		zdiex(EX_NOINPUT, "cannot roll back %s from releases/%s: "
		    "no %s good release before it", link, prev,
		    steps == 1 ? "earlier" : "such");
	}
	if (zopt.dry_run) {
		zinfo("would point %s at releases/%s and mark releases/%s bad",
		    link, target, prev);
	} else {
		/*
		 * Mark first: if the swap fails the mark is taken back, and a
		 * crash in between leaves a bad mark on the live release,
		 * which the next link by name clears.
		 */
		if (zrelease_mark_bad(r, prev, 1) == -1)
			zdie(zexit_errno(errno), "cannot mark releases/%s bad",
			    prev);
		if ((rc = zroot_set_link(r, link, target)) == -1) {
			int e = errno;

			zrelease_mark_bad(r, prev, 0);
			errno = e;
			zdie(zexit_errno(errno), "cannot link %s to releases/%s",
			    link, target);
		}
		if (rc == 1)
			zerr("%s -> releases/%s is in place but not synced to "
			    "disk", link, target);
		zdebug("%s -> releases/%s, releases/%s marked bad", link,
		    target, prev);
		if (zrevlog(r, "%s rolled back to release %s", zuser(),
		    target) == -1)
			zerr("cannot write %s/revisions.log", r->path);
	}
	result(r, "rollback", link, target, prev, 1);
	free(v);
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "dry-run",	no_argument,		NULL, 'n' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "json",	no_argument,		NULL, OPT_JSON },
		{ "list",	no_argument,		NULL, OPT_LIST },
		{ "lock-wait",	required_argument,	NULL, OPT_LOCK_WAIT },
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
	struct zroot r;
	const char *rootarg = NULL, *root, *link = "current";
	uint64_t steps = 1;
	double wait;
	int c, mode = 0, stepsset = 0, rc;

	zinit(argv[0]);
	if (zlock_wait_env(&wait) == -1)
		zdiex(EX_USAGE, "ZDD_LOCK_WAIT: not a number of seconds");
	while ((c = getopt_long(argc, argv, "hnqr:vV", longopts, NULL)) != -1)
		switch (c) {
		case 'h':
			usage(0);
			break;
		case 'n':
			zopt.dry_run = 1;
			break;
		case 'q':
			zquiet = 1;
			break;
		case 'r':
			rootarg = optarg;
			break;
		case 'v':
			zverbose = 1;
			break;
		case 'V':
			zversion();
			break;
		case OPT_JSON:
			zopt.json = 1;
			break;
		case OPT_LIST:
		case OPT_ROLLBACK:
		case OPT_SHOW:
			if (mode != 0 && mode != c)
				zdiex(EX_USAGE, "--list, --rollback and --show "
				    "exclude each other");
			mode = c;
			break;
		case OPT_LOCK_WAIT:
			if (zparse_seconds(optarg, &wait) == -1)
				zdiex(EX_USAGE, "--lock-wait %s: not a number "
				    "of seconds", optarg);
			break;
		case OPT_NAME:
			link = optarg;
			break;
		case OPT_STEPS:
			if (zparse_uint(optarg, 1, 100000, &steps) == -1)
				zdiex(EX_USAGE, "--steps %s: not a positive "
				    "number", optarg);
			stepsset = 1;
			break;
		default:
			usage(EX_USAGE);
		}
	argc -= optind;
	argv += optind;

	if (mode == 0 ? argc != 1 : argc != 0)
		usage(EX_USAGE);
	if (stepsset && mode != OPT_ROLLBACK)
		zdiex(EX_USAGE, "--steps goes with --rollback");
	if (!zlink_name_valid(link))
		zdiex(EX_USAGE, "--name %s: not a link name (one name in the "
		    "deploy root, not releases, shared or .zdd)", link);
	if ((root = zroot_arg(rootarg)) == NULL)
		zdiex(EX_USAGE, "no deploy root: give -r ROOT or set ZDD_ROOT");
	/*
	 * Read "-" before looking at the root: in "zdd-release ... |
	 * zdd-link -" the release holds the lock, and may be creating the
	 * root itself, until it prints.
	 */
	if (mode == 0 && (operand = zoperand(argv[0])) == NULL)
		zdie(EX_USAGE, "cannot read a release from stdin");
	if (zroot_open(&r, root, 0) == -1)
		zdie(zexit_errno(errno), "cannot open deploy root %s", root);

	switch (mode) {
	case OPT_SHOW:
		rc = show(&r, link);
		break;
	case OPT_LIST:
		rc = list(&r);
		break;
	case OPT_ROLLBACK:
		if (!zopt.dry_run)
			lock_root(&r, wait);
		rc = rollback(&r, link, steps);
		break;
	default:
		if (!zopt.dry_run)
			lock_root(&r, wait);
		rc = link_release(&r, link, operand);
		break;
	}
	zroot_close(&r);
	free(operand);
	if (fflush(stdout) == EOF)
		zdie(EX_IOERR, "stdout");
	return rc;
}
