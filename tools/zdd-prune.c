/*
 * zdd-prune: delete old releases safely.  It keeps the newest N good
 * releases and every release that a link in the deploy root points at,
 * and removes the rest with their manifests, plus whatever a crashed
 * zdd-release left in .zdd/tmp.  A release is first renamed out of
 * releases/ and only then deleted, so that no half-deleted release is ever
 * visible there for a rollback to land on.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "events.h"
#include "fsatom.h"
#include "json.h"
#include "layout.h"
#include "lock.h"
#include "opt.h"

enum { OPT_KEEP_BAD = ZOPT_TOOL };

static int first_errno;		/* of the first release not removed whole */

static void
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: zdd-prune [-nqv] [-k n] [-r root] [--json] "
	    "[--keep-bad n]\n"
	    "                 [--lock-wait sec]\n");
	exit(code);
}

static void
failed(int err)
{
	if (first_errno == 0)
		first_errno = err;
}

/*
 * Remove releases/ID: rename it into .zdd/tmp, then delete it there.
 * Returns 0 when it is gone whole.
 */
static int
remove_release(struct zroot *r, int tmpfd, const char *id, json_t *fails)
{
	struct zrm_stats st;
	struct stat sb;
	char aside[256], where[600];
	const char *inside;
	int relfd = zroot_relfd(r), fd, rc;

	/* Moving a directory needs write permission on it (for ".."). */
	if (fstatat(relfd, id, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(sb.st_mode) && sb.st_uid == geteuid() &&
	    (sb.st_mode & 0700) != 0700)
		(void)!fchmodat(relfd, id, (sb.st_mode & 07777) | 0700, 0);
	fd = relfd;
	snprintf(where, sizeof where, "releases/%s", id);
	if (tmpfd != -1 && ztmpname(aside, sizeof aside, id) == 0 &&
	    renameat(relfd, id, tmpfd, aside) == 0) {
		zfsync_dir(relfd);
		fd = tmpfd;
		snprintf(where, sizeof where, ".zdd/tmp/%s", aside);
	} else if (errno == EBUSY || errno == EXDEV) {
		/*
		 * A mount point (a volume mounted on a release): deleting in
		 * place would delete what is mounted there.  Keep it.
		 */
		zerr("cannot remove releases/%s: kept", id);
		failed(errno);
		json_array_append_new(fails, json_pack("{s:s s:s s:s}", "id",
		    id, "left", where, "error", strerror(errno)));
		return -1;
	} else
		snprintf(aside, sizeof aside, "%s", id);
	rc = zrmtree_at(fd, aside, &st);
	if (zmanifest_remove(r, id) == -1)
		zerr("cannot remove the manifest of %s", id);
	if (rc == 0) {
		zdebug("removed releases/%s: %llu files, %llu directories", id,
		    (unsigned long long)st.files, (unsigned long long)st.dirs);
		return 0;
	}
	/* Name the failure inside the release, not under its aside name. */
	inside = strchr(st.first_path, '/');
	errno = st.first_errno;
	zerr("cannot remove releases/%s whole, left in %s: %s", id, where,
	    inside != NULL ? inside + 1 : ".");
	failed(st.first_errno);
	json_array_append_new(fails, json_pack("{s:s s:s s:s}", "id", id,
	    "left", where, "error", strerror(st.first_errno)));
	return -1;
}

/*
 * Remove manifests whose release is gone: a kill between zdd-release's
 * manifest and its rename, or between a prune's delete and its manifest
 * removal, leaves one behind, and it would keep its id taken.
 */
static void
clear_orphans(struct zroot *r, int dry_run)
{
	char id[ZID_MAX + 1];
	struct dirent *de;
	struct stat sb;
	size_t len;
	DIR *d;
	int relfd = zroot_relfd(r), fd;

	if (zroot_zddfd(r) == -1 || (fd = openat(zroot_zddfd(r), "manifests",
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= 5 || len - 5 > ZID_MAX ||
		    strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		memcpy(id, de->d_name, len - 5);
		id[len - 5] = '\0';
		if (!zid_valid(id) || (relfd != -1 &&
		    fstatat(relfd, id, &sb, AT_SYMLINK_NOFOLLOW) == 0))
			continue;
		if (dry_run) {
			zinfo("would remove the manifest of %s, a release that "
			    "is gone", id);
			continue;
		}
		zinfo("removing the manifest of %s, a release that is gone",
		    id);
		if (zmanifest_remove(r, id) == -1)
			zerr("cannot remove .zdd/manifests/%s", de->d_name);
	}
	closedir(d);
}

/* Clear .zdd/tmp: work of crashed runs, and what a failed prune left. */
static int
clear_tmp(int tmpfd, int dry_run)
{
	struct zrm_stats st;
	struct dirent *de;
	int fd, count = 0;
	DIR *d;

	if ((fd = dup(tmpfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		count++;
		if (dry_run) {
			zinfo("would remove .zdd/tmp/%s, left by an "
			    "interrupted run", de->d_name);
			continue;
		}
		zinfo("removing .zdd/tmp/%s, left by an interrupted run",
		    de->d_name);
		if (zrmtree_at(tmpfd, de->d_name, &st) == -1) {
			errno = st.first_errno;
			zerr("cannot remove .zdd/tmp/%s whole: %s", de->d_name,
			    st.first_path);
			failed(st.first_errno);
		}
	}
	closedir(d);
	return count;
}

/* One run: the options, the root and what is decided about it. */
struct prune {
	struct zcommon	 co;		/* -r, --lock-wait */
	uint64_t	 keep, keep_bad;
	struct zroot	 r;
	struct zrel	*v;		/* the releases, in creation order */
	size_t		 n;
	char		*keepv;		/* keepv[i]: v[i] stays */
	int		 tmpfd;		/* .zdd/tmp, where removals go */
	int		 leftovers;	/* crashed runs' work cleared */
	json_t		*removed, *kept, *fails;
};

static void
parse_options(struct prune *p, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "dry-run",	no_argument,		NULL, 'n' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "json",	no_argument,		NULL, ZOPT_JSON },
		{ "keep",	required_argument,	NULL, 'k' },
		{ "keep-bad",	required_argument,	NULL, OPT_KEEP_BAD },
		{ "lock-wait",	required_argument,	NULL, ZOPT_LOCK_WAIT },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "root",	required_argument,	NULL, 'r' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	int c, rc;

	while ((c = getopt_long(argc, argv, "hk:nqr:vV", longopts, NULL)) != -1)
		switch (c) {
		case 'h':
			usage(0);
			break;
		case 'k':
			if (zparse_uint(optarg, 0, 1000000, &p->keep) == -1)
				zdiex(EX_USAGE, "--keep %s: not a number",
				    optarg);
			break;
		case OPT_KEEP_BAD:
			if (zparse_uint(optarg, 0, 1000000, &p->keep_bad) == -1)
				zdiex(EX_USAGE, "--keep-bad %s: not a number",
				    optarg);
			break;
		default:
			if ((rc = zopt_common(c, optarg, &p->co)) == -1)
				zdiex(EX_USAGE, "%s %s: %s", p->co.bad, optarg,
				    p->co.why);
			if (rc == 0)
				usage(EX_USAGE);
		}
	if (argc != optind)
		usage(EX_USAGE);
}

/* The root, locked unless this is a dry run, and its releases. */
static void
open_root(struct prune *p)
{
	const char *root;
	struct zhist h;

	if ((root = zroot_arg(p->co.root)) == NULL)
		zdiex(EX_USAGE, "no deploy root: give -r ROOT or set ZDD_ROOT");
	if (zroot_open(&p->r, root, 0) == -1)
		zdie(zexit_errno(errno), "cannot open deploy root %s", root);
	/*
	 * ZDD_LOCK_WAIT is read only when the lock is taken: a malformed
	 * value never breaks a dry run, and --lock-wait overrides it.
	 */
	if (!zopt.dry_run && zlock_wait(&p->co.lock_wait) == -1)
		zdiex(EX_USAGE, "ZDD_LOCK_WAIT: not a number of seconds");
	if (!zopt.dry_run && zroot_lock(&p->r, p->co.lock_wait) == -1)
		exit(zroot_lock_report(&p->r));
	if (zhist_load(&p->r, &h, !zquiet) == -1)
		zdie(zexit_errno(errno), "cannot read the history of %s",
		    zroot_path(&p->r));
	if (zroot_releases(&p->r, &p->v, &p->n, 1) == -1)
		zdie(zexit_errno(errno), "cannot read %s/releases",
		    zroot_path(&p->r));
	zhist_annotate(&h, p->v, p->n);
	zhist_free(&h);
}

/* What crashed runs left in .zdd/tmp, and manifests of gone releases. */
static void
clear_work(struct prune *p)
{
	struct zroot *r = &p->r;
	int fd;

	if (!zopt.dry_run) {
		p->tmpfd = zroot_tmpdir(r);
		if (p->tmpfd == -1)
			zerr("cannot open %s/.zdd/tmp", zroot_path(r));
		else
			p->leftovers = clear_tmp(p->tmpfd, 0);
	} else if (zroot_zddfd(r) != -1 && (fd = openat(zroot_zddfd(r), "tmp",
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) != -1) {
		p->leftovers = clear_tmp(fd, 1);
		close(fd);
	}
	clear_orphans(r, zopt.dry_run);
}

/*
 * Newest first, in creation order: a linked release is always kept, and
 * so is one made after every release that went live (a deploy in
 * progress); a good one (went live, never bad) while fewer than keep
 * good ones have been seen; a bad or never-live one while fewer than
 * keep_bad of those have.  So failed deploys never push the last good
 * releases out.
 */
static void
choose(struct prune *p)
{
	struct zrel *v = p->v;
	uint64_t good = 0, bad = 0;
	long lastlive = -1;
	size_t i;

	p->keepv = xcalloc(p->n + 1, 1);
	for (i = 0; i < p->n; i++)
		if (v[i].went_live || v[i].bad)
			lastlive = (long)i;
	for (i = p->n; i-- > 0;) {
		int linked = v[i].links[0] != '\0';
		int isgood = !v[i].bad && v[i].went_live;
		const char *why = NULL;

		if (linked)
			why = "linked from ";
		else if ((long)i > lastlive)
			why = "made after the live release";
		else if (isgood && good < p->keep)
			why = "good";
		else if (!isgood && bad < p->keep_bad)
			why = "kept as evidence";
		if (why == NULL)
			continue;
		if (isgood)
			good++;
		else if (!linked && (long)i <= lastlive)
			bad++;
		json_array_insert_new(p->kept, 0, json_string(v[i].id));
		zdebug("keeping releases/%s: %s%s", v[i].id, why,
		    linked ? v[i].links : "");
		p->keepv[i] = 1;
	}
}

/* Remove oldest first, so that an interrupted prune keeps the newest. */
static void
remove_old(struct prune *p)
{
	struct zrel *v = p->v;
	char *path;
	size_t i;

	for (i = 0; i < p->n; i++) {
		if (p->keepv[i])
			continue;
		path = xnonnull(zrelease_path(&p->r, v[i].id));
		if (!zopt.dry_run &&
		    remove_release(&p->r, p->tmpfd, v[i].id, p->fails) == -1) {
			free(path);
			continue;
		}
		if (zopt.dry_run)
			zinfo("would remove releases/%s (%s)", v[i].id,
			    zstate_name(v[i].state));
		else if (zevent_append(&p->r, "prune", json_pack("{s:s}",
		    "release", v[i].id)) == -1)
			zerr("cannot write %s/.zdd/events.jsonl",
			    zroot_path(&p->r));
		json_array_append_new(p->removed,
		    json_pack("{s:s s:s s:s s:b}", "id", v[i].id, "path", path,
		    "state", zstate_name(v[i].state), "bad", v[i].bad));
		if (!zopt.json)
			printf("%s\n", path);
		free(path);
	}
}

/* --json's one object; the exit code of a prune that left something. */
static int
report(struct prune *p)
{
	if (zopt.json)
		zjson_print(json_pack("{s:O s:O s:O s:i s:b}",
		    "removed", p->removed, "kept", p->kept, "failed", p->fails,
		    "leftovers", p->leftovers, "dry_run", zopt.dry_run));
	json_decref(p->removed);
	json_decref(p->kept);
	json_decref(p->fails);
	free(p->keepv);
	free(p->v);
	if (p->tmpfd != -1)
		close(p->tmpfd);
	zroot_close(&p->r);
	if (fflush(stdout) == EOF)
		zdie(EX_IOERR, "stdout");
	if (first_errno != 0)
		return first_errno == EACCES || first_errno == EPERM ?
		    EX_NOPERM : EX_IOERR;
	return 0;
}

int
main(int argc, char *argv[])
{
	struct prune p = { .co = ZCOMMON_INIT, .keep = 5, .tmpfd = -1 };

	zinit(argv[0]);
	parse_options(&p, argc, argv);
	p.removed = xnonnull(json_array());
	p.kept = xnonnull(json_array());
	p.fails = xnonnull(json_array());
	open_root(&p);
	clear_work(&p);
	choose(&p);
	remove_old(&p);
	return report(&p);
}
