/*
 * zdd-release: make a new, complete release directory from a build
 * artifact (any tar, cpio or zip that libarchive reads, compressed or
 * not), from stdin, or from a build directory.  The release is built in a
 * private staging directory under ROOT/.zdd/tmp, checked entry by entry,
 * given its shared links, synced, described by a manifest and only then
 * renamed into ROOT/releases/ID, so that a crash at any moment leaves no
 * half release where zdd-link or a rollback could find it.  It prints the
 * release's absolute path; moving `current' is zdd-link's job.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ci.h"
#include "clock.h"
#include "diag.h"
#include "events.h"
#include "extract.h"
#include "fetch.h"
#include "fsatom.h"
#include "ident.h"
#include "io.h"
#include "json.h"
#include "layout.h"
#include "lock.h"
#include "opt.h"
#include "sig.h"
#include "text.h"
#include "url.h"

enum { OPT_BRANCH = ZOPT_TOOL, OPT_CACERT, OPT_DEDUPE, OPT_FILE, OPT_ID,
    OPT_INSECURE, OPT_LINK_DIR, OPT_LINK_FILE, OPT_MAX_BYTES, OPT_MAX_DEPTH,
    OPT_MAX_FILES, OPT_PUBKEY, OPT_RETRIES, OPT_REVISION, OPT_SHA256,
    OPT_SIGNATURE, OPT_STRIP, OPT_TIMEOUT };

#define MAXLINKS	64

/*
 * What the artifact must match (--sha256, --pubkey, --signature), how a
 * URL is fetched, and what the check found, for the manifest.
 */
struct check {
	const char *sha256, *pubkey, *signature;
	struct zfetch_opts fetch;
	const char *url;	/* the operand, when it is a URL */
	char	*shown;		/* the URL as it may be printed */
	char	*sigpath;	/* the default signature's path or URL */
	struct zsig_key key;
	struct zsig sig;
	int	 verified;
	char	 hex[65];	/* the SHA-256 that was verified */
};

struct link {
	char	*path;		/* clean, relative to the release */
	int	 dir;		/* --link-dir, else --link-file */
	int	 seeded;	/* shared/PATH was made from the release */
	int	 created;	/* shared/PATH was made empty */
};

/*
 * One run: the options, the artifact, and everything made so far that
 * undo() must take back when the run fails or is interrupted.  Helpers
 * get it passed down; nothing of it lives at file scope but the pointer
 * the atexit(3) handler needs.
 */
struct job {
	/* From the command line. */
	struct zcommon co;	/* -r, --lock-wait */
	const char *idarg, *branch, *revision, *operand;
	struct zar_opts zo;
	int	 dedupe;
	int	 file;		/* --file: the artifact goes in whole */
	const char *filearg;	/* its NAME, or NULL for the base name */
	char	 fname[PATH_MAX];	/* NAME, clean */
	struct link links[MAXLINKS];
	char	*keep[MAXLINKS];	/* the links' paths, for zar_opts */
	size_t	 nlinks;
	/* The artifact. */
	int	 srcfd;
	int	 isdir;
	struct check ck;
	struct stat sb;
	const char *name;	/* for messages: as given, or "stdin" */
	char	*abssrc;	/* for the manifest: its absolute path */
	char	 hex[65];	/* its SHA-256 */
	/* The release, and what undo() takes back until it is published. */
	struct zroot r;
	int	 tmpfd;		/* ROOT/.zdd/tmp */
	int	 stagefd;
	int	 sharedfd;
	int	 dedupefd;	/* the release --dedupe shares with */
	char	 stage[NAME_MAX + 1];	/* staging directory */
	char	 id[ZID_MAX + 1];
	int	 manifest;	/* written, not yet renamed into place */
	int	 published;	/* renamed into releases/: kept from now on */
	struct zar *z;
	json_t	*m;
	/* The progress line on a terminal. */
	double	 pstart;	/* when unpacking began */
	double	 pshown;	/* when the line was last drawn */
	int	 pdrawn;	/* a line is on the terminal */
};

/*
 * The run atexit(3) undoes: every exit, a zdie() in a helper and an
 * x-wrapper's "out of memory" included, leaves the deploy root as it was.
 */
static struct job *live;
static volatile sig_atomic_t stop;

static void
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: zdd-release [-nqv] [-r root] [--branch name] "
	    "[--cacert file] [--dedupe]\n"
	    "                   [--file[=name]] [--id id] [--insecure] "
	    "[--json]\n"
	    "                   [--link-dir path] [--link-file path] "
	    "[--lock-wait sec]\n"
	    "                   [--max-bytes n] [--max-depth n] "
	    "[--max-files n]\n"
	    "                   [--pubkey file] [--retries n] [--revision sha] "
	    "[--sha256 hex]\n"
	    "                   [--signature file] [--strip n] "
	    "[--timeout sec]\n"
	    "                   artifact | url | dir | -\n");
	exit(code);
}

static void
onsignal(int sig)
{
	stop = sig;
}

/*
 * Undo everything this run made, unless it was published, and let go of
 * what it holds; the deploy root is as it was.  Safe to call twice.
 */
static void
undo(struct job *j)
{
	struct zrm_stats st;
	size_t i;

	for (i = j->nlinks; !j->published && i-- > 0;) {
		struct link *l = &j->links[i];

		/*
		 * A seeded directory goes back where it came from, in place
		 * of the symlink to it, and goes with the staging directory.
		 */
		memset(&st, 0, sizeof st);
		if (l->seeded) {
			unlinkat(j->stagefd, l->path, 0);
			if (renameat(j->sharedfd, l->path, j->stagefd,
			    l->path) == -1 &&
			    zrmtree_at(j->sharedfd, l->path, &st) == -1)
				zwarnx("cannot remove %s/shared/%s: %s: %s",
				    zroot_path(&j->r), l->path, st.first_path,
				    strerror(st.first_errno));
		} else if (l->created &&
		    unlinkat(j->sharedfd, l->path, AT_REMOVEDIR) == -1)
			zerr("cannot remove %s/shared/%s", zroot_path(&j->r),
			    l->path);
		l->seeded = l->created = 0;
	}
	if (!j->published && j->manifest &&
	    zmanifest_remove(&j->r, j->id) == -1 && errno != ENOENT)
		zerr("cannot remove the manifest of %s", j->id);
	j->manifest = 0;
	if (!j->published && j->stage[0] != '\0' && j->tmpfd != -1) {
		memset(&st, 0, sizeof st);
		if (zrmtree_at(j->tmpfd, j->stage, &st) == -1)
			zwarnx("cannot remove .zdd/tmp/%s: %s: %s", j->stage,
			    st.first_path, strerror(st.first_errno));
		zfsync_dir(j->tmpfd);
	}
	j->stage[0] = '\0';
	zar_free(j->z);
	j->z = NULL;
	json_decref(j->m);
	j->m = NULL;
	for (i = 0; i < j->nlinks; i++)
		free(j->links[i].path);
	j->nlinks = 0;
	free(j->abssrc);
	j->abssrc = NULL;
	if (j->dedupefd != -1)
		close(j->dedupefd);
	if (j->sharedfd != -1)
		close(j->sharedfd);
	if (j->stagefd != -1)
		close(j->stagefd);
	if (j->tmpfd != -1)
		close(j->tmpfd);
	if (j->srcfd > STDIN_FILENO)
		close(j->srcfd);
	j->dedupefd = j->sharedfd = j->stagefd = j->tmpfd = j->srcfd = -1;
	zroot_close(&j->r);
}

static void
undo_at_exit(void)
{
	if (live != NULL)
		undo(live);
}

/* Fail with code after undoing the run; a signal is re-raised. */
static void
bail(struct job *j, int code)
{
	undo(j);
	if (stop) {
		signal(stop, SIG_DFL);
		raise(stop);
	}
	exit(code);
}

static void
checkstop(struct job *j)
{
	if (stop) {
		zerrx("interrupted, nothing made");
		bail(j, EX_TEMPFAIL);
	}
}

/* The staging directory: .zdd/tmp/.ID.zdd-XXXXXX, mode 0700. */
static void
make_stage(struct job *j)
{
	int i;

	if ((j->tmpfd = zroot_tmpdir(&j->r)) == -1)
		zdie(zexit_errno(errno), "cannot open %s/.zdd/tmp",
		    zroot_path(&j->r));
	for (i = 0; i < 100; i++) {
		if (ztmpname(j->stage, sizeof j->stage, j->id) == -1)
			zdie(EX_SOFTWARE, "cannot name a staging directory");
		if (mkdirat(j->tmpfd, j->stage, 0700) == 0)
			break;
		if (errno != EEXIST) {
			j->stage[0] = '\0';
			zdie(zexit_errno(errno), "cannot create a staging "
			    "directory in %s/.zdd/tmp", zroot_path(&j->r));
		}
	}
	j->stagefd = openat(j->tmpfd, j->stage,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (j->stagefd == -1) {
		zerr("cannot open %s/.zdd/tmp/%s", zroot_path(&j->r), j->stage);
		bail(j, zexit_errno(errno));
	}
}

/* Whether one of two clean paths is the other or lies under it. */
static int
nested(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b), n = na < nb ? na : nb;

	return strncmp(a, b, n) == 0 &&
	    ((na == nb) || (na < nb ? b[n] == '/' : a[n] == '/'));
}

/*
 * Whether the directory fd lies inside (or is) the directory src: copying
 * a build directory that holds the deploy root would copy the staging
 * directory into itself.
 */
static int
inside(int fd, const struct stat *src)
{
	struct stat sb, up;
	int cur, next, depth, hit = 0;

	if ((cur = dup(fd)) == -1)
		return 0;
	for (depth = 0; depth < 4096; depth++) {
		if (fstat(cur, &sb) == -1)
			break;
		if (sb.st_dev == src->st_dev && sb.st_ino == src->st_ino) {
			hit = 1;
			break;
		}
		next = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (next == -1 || fstat(next, &up) == -1 ||
		    (up.st_dev == sb.st_dev && up.st_ino == sb.st_ino)) {
			if (next != -1)
				close(next);
			break;	/* the file system's root */
		}
		close(cur);
		cur = next;
	}
	close(cur);
	return hit;
}

/* "../../shared/PATH" from the directory that holds PATH in a release. */
static void
shared_target(char *buf, size_t size, const char *path)
{
	const char *p;
	size_t n = 0;

	/* Up out of PATH's own directories, then out of ID and releases. */
	for (p = strchr(path, '/'); p != NULL; p = strchr(p + 1, '/'))
		n += snprintf(buf + n, size - n, "../");
	snprintf(buf + n, size - n, "../../shared/%s", path);
}

/* The --link-dir and --link-file paths must lie on real directories. */
static void
check_link_parents(struct job *j, const struct link *l)
{
	char buf[PATH_MAX];
	char *s;
	int t;

	snprintf(buf, sizeof buf, "%s", l->path);
	for (s = strchr(buf, '/'); s != NULL; s = strchr(s + 1, '/')) {
		*s = '\0';
		t = zar_lookup(j->z, buf);
		if (t != ZAR_NONE && t != ZAR_DIR) {
			zerrx("--link-%s %s: %s is not a directory in the "
			    "artifact", l->dir ? "dir" : "file", l->path, buf);
			bail(j, EX_DATAERR);
		}
		*s = '/';
	}
	t = zar_lookup(j->z, l->path);
	if (l->dir ? (t != ZAR_NONE && t != ZAR_DIR) : t == ZAR_DIR) {
		zerrx("--link-%s %s: the artifact has a %s there",
		    l->dir ? "dir" : "file", l->path,
		    t == ZAR_DIR ? "directory" : t == ZAR_SYMLINK ? "symlink" :
		    "file");
		bail(j, EX_DATAERR);
	}
}

/*
 * Replace PATH in the staging tree by a symlink to shared/PATH, seeding
 * shared/PATH from the release's copy (or empty) the first time a
 * --link-dir is used.
 */
static void
make_link(struct job *j, struct link *l)
{
	char target[PATH_MAX], parentbuf[PATH_MAX], *s;
	const char *base;
	struct zrm_stats st;
	struct stat sb;
	int t = zar_lookup(j->z, l->path), pfd, have;

	have = fstatat(j->sharedfd, l->path, &sb, 0) == 0;
	if (have && l->dir && !S_ISDIR(sb.st_mode)) {
		zerrx("--link-dir %s: %s/shared/%s is not a directory",
		    l->path, zroot_path(&j->r), l->path);
		bail(j, EX_DATAERR);
	}
	snprintf(parentbuf, sizeof parentbuf, "%s", l->path);
	s = strrchr(parentbuf, '/');
	base = s ? s + 1 : l->path;
	if (s != NULL)
		*s = '\0';
	if (!zopt.dry_run && l->dir && !have) {
		if (s != NULL &&
		    zmkdirs_at(j->sharedfd, parentbuf, 0755) == -1) {
			zerr("cannot create %s/shared/%s", zroot_path(&j->r),
			    parentbuf);
			bail(j, zexit_errno(errno));
		}
		if (t == ZAR_DIR) {
			if (renameat2(j->stagefd, l->path, j->sharedfd,
			    l->path, RENAME_NOREPLACE) == -1) {
				zerr("cannot seed %s/shared/%s",
				    zroot_path(&j->r), l->path);
				bail(j, zexit_errno(errno));
			}
			l->seeded = 1;
			zar_forget(j->z, l->path);
			t = ZAR_NONE;
		} else {
			if (mkdirat(j->sharedfd, l->path, 0755) == -1) {
				zerr("cannot create %s/shared/%s",
				    zroot_path(&j->r), l->path);
				bail(j, zexit_errno(errno));
			}
			l->created = 1;
		}
	}
	if (zopt.dry_run) {
		zinfo("would link %s to shared/%s%s", l->path, l->path,
		    !l->dir || have ? "" : t == ZAR_DIR ?
		    ", seeding it from the release" : ", created empty");
		return;
	}
	if (s != NULL && zmkdirs_at(j->stagefd, parentbuf, 0755) == -1) {
		zerr("cannot create %s in the release", parentbuf);
		bail(j, zexit_errno(errno));
	}
	pfd = s ? openat(j->stagefd, parentbuf,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : dup(j->stagefd);
	if (pfd == -1) {
		zerr("cannot open %s in the release", parentbuf);
		bail(j, zexit_errno(errno));
	}
	if (t != ZAR_NONE) {
		memset(&st, 0, sizeof st);
		if (zrmtree_at(pfd, base, &st) == -1) {
			errno = st.first_errno;
			zerr("cannot replace %s in the release", l->path);
			close(pfd);
			bail(j, zexit_errno(errno));
		}
		zar_forget(j->z, l->path);
	}
	shared_target(target, sizeof target, l->path);
	if (symlinkat(target, pfd, base) == -1) {
		zerr("cannot link %s in the release", l->path);
		close(pfd);
		bail(j, zexit_errno(errno));
	}
	close(pfd);
	zdebug("%s -> %s%s", l->path, target, l->seeded ? " (seeded)" :
	    l->created ? " (created)" : "");
}

/* A --link-dir or --link-file PATH, cleaned and checked against the rest. */
static void
add_link(struct job *j, const char *arg, int dir)
{
	char clean[PATH_MAX];
	const char *why;
	size_t i;

	if (j->nlinks == MAXLINKS)
		zdiex(EX_USAGE, "more than %d shared links", MAXLINKS);
	if (zar_clean_path(arg, 0, clean, sizeof clean, &why) != 1)
		zdiex(EX_USAGE, "%s %s: not a path inside the release",
		    dir ? "--link-dir" : "--link-file", arg);
	for (i = 0; i < j->nlinks; i++)
		if (nested(j->links[i].path, clean))
			zdiex(EX_USAGE, "%s and %s: one shared link inside "
			    "another", clean, j->links[i].path);
	j->links[j->nlinks].dir = dir;
	j->links[j->nlinks].path = xstrdup(clean);
	j->keep[j->nlinks] = j->links[j->nlinks].path;
	j->nlinks++;
}

/* --file's NAME: given, or the artifact's base name. */
static void
file_name(struct job *j)
{
	const char *name = j->filearg, *why, *s;
	char *path = NULL;

	if (j->zo.strip)
		zdiex(EX_USAGE, "--strip goes with an archive, not --file");
	if (name == NULL && strcmp(j->operand, "-") == 0)
		zdiex(EX_USAGE, "--file: name the file read from stdin, as "
		    "in --file=app.jar");
	/* Of a URL, the base name of its path: never its query (a token). */
	if (name == NULL && zfetch_is_url(j->operand)) {
		path = xnonnull(zurl_show(j->operand));
		path[strcspn(path, "?")] = '\0';
		name = strrchr(path, '/') + 1;
	}
	if (name == NULL)
		name = (s = strrchr(j->operand, '/')) ? s + 1 : j->operand;
	if (zar_clean_path(name, 0, j->fname, sizeof j->fname, &why) != 1)
		zdiex(EX_USAGE, "--file=%s: not a path inside the release",
		    name);
	free(path);
}

/* What the release is called and recorded as: --branch, --id, --revision. */
static int
name_option(struct job *j, int c, const char *arg)
{
	switch (c) {
	case OPT_BRANCH:
		/* It becomes a line of revisions.log: never two. */
		if (ztext_has_control(arg))
			zdiex(EX_USAGE, "--branch: a line break or "
			    "control character in the value");
		j->branch = arg;
		return 1;
	case OPT_ID:
		if (!zid_valid(arg))
			zdiex(EX_USAGE, "--id %s: not an id (1 to 64 "
			    "of A-Z a-z 0-9 . _ -, not starting with "
			    "a dot)", arg);
		j->idarg = arg;
		return 1;
	case OPT_REVISION:
		if (ztext_has_control(arg))
			zdiex(EX_USAGE, "--revision: a line break or "
			    "control character in the value");
		j->revision = arg;
		return 1;
	}
	return 0;
}

/*
 * How the artifact is fetched and what it must match: --cacert,
 * --insecure, --pubkey, --retries, --sha256, --signature, --timeout.
 */
static int
check_option(struct job *j, int c, const char *arg)
{
	uint64_t u;

	switch (c) {
	case OPT_CACERT:
		j->ck.fetch.cacert = arg;
		return 1;
	case OPT_INSECURE:
		j->ck.fetch.insecure = 1;
		return 1;
	case OPT_PUBKEY:
		/* A key from where the artifact comes vouches for nothing. */
		if (zfetch_is_url(arg))
			zdiex(EX_USAGE, "--pubkey: a file on this "
			    "host, not a URL");
		j->ck.pubkey = arg;
		return 1;
	case OPT_RETRIES:
		if (zparse_uint(arg, 0, 100, &u) == -1)
			zdiex(EX_USAGE, "--retries %s: not a number "
			    "from 0 to 100", arg);
		j->ck.fetch.retries = (unsigned)u;
		return 1;
	case OPT_SHA256:
		if (strlen(arg) != 64 ||
		    strspn(arg, "0123456789abcdefABCDEF") != 64)
			zdiex(EX_USAGE, "--sha256 %s: not 64 hex "
			    "digits", arg);
		j->ck.sha256 = arg;
		return 1;
	case OPT_SIGNATURE:
		j->ck.signature = arg;
		return 1;
	case OPT_TIMEOUT:
		if (zparse_seconds(arg, &j->ck.fetch.timeout) == -1 ||
		    j->ck.fetch.timeout <= 0)
			zdiex(EX_USAGE, "--timeout %s: not a number "
			    "of seconds", arg);
		return 1;
	}
	return 0;
}

/*
 * What goes into the release and how: --dedupe, --file, --link-dir,
 * --link-file, --max-bytes, --max-depth, --max-files, --strip.
 */
static int
tree_option(struct job *j, int c, const char *arg)
{
	uint64_t u;

	switch (c) {
	case OPT_DEDUPE:
		j->dedupe = 1;
		return 1;
	case OPT_FILE:
		j->file = 1;
		j->filearg = arg;
		return 1;
	case OPT_LINK_DIR:
	case OPT_LINK_FILE:
		add_link(j, arg, c == OPT_LINK_DIR);
		return 1;
	case OPT_MAX_BYTES:
		if (zparse_size(arg, &j->zo.max_bytes) == -1 ||
		    j->zo.max_bytes == 0)
			zdiex(EX_USAGE, "--max-bytes %s: not a size", arg);
		return 1;
	case OPT_MAX_DEPTH:
		/* A path of 2,048 names already fills PATH_MAX. */
		if (zparse_uint(arg, 1, 2048, &u) == -1)
			zdiex(EX_USAGE, "--max-depth %s: not a number "
			    "from 1 to 2048", arg);
		j->zo.max_depth = (unsigned)u;
		return 1;
	case OPT_MAX_FILES:
		if (zparse_uint(arg, 1, UINT64_MAX / 2,
		    &j->zo.max_files) == -1)
			zdiex(EX_USAGE, "--max-files %s: not a "
			    "positive number", arg);
		return 1;
	case OPT_STRIP:
		if (zparse_uint(arg, 0, 1024, &u) == -1)
			zdiex(EX_USAGE, "--strip %s: not a number from "
			    "0 to 1024", arg);
		j->zo.strip = (unsigned)u;
		return 1;
	}
	return 0;
}

/* The operand and the options that go together, before any work. */
static void
check_usage(struct job *j, int argc, char *argv[])
{
	if (argc != 1)
		usage(EX_USAGE);
	j->operand = argv[0];
	if (j->file)
		file_name(j);
	if (j->ck.signature != NULL && j->ck.pubkey == NULL)
		zdiex(EX_USAGE, "--signature needs --pubkey");
	if (j->ck.pubkey != NULL && j->ck.signature == NULL &&
	    strcmp(j->operand, "-") == 0)
		zdiex(EX_USAGE, "stdin has no signature file next to it: give "
		    "--signature");
	if (j->branch == NULL && (j->branch = zci_branch()) == NULL)
		j->branch = "unknown";
	if (j->revision == NULL && (j->revision = zci_revision()) == NULL)
		j->revision = "unknown";
}

static void
parse_options(struct job *j, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "branch",	required_argument,	NULL, OPT_BRANCH },
		{ "cacert",	required_argument,	NULL, OPT_CACERT },
		{ "dedupe",	no_argument,		NULL, OPT_DEDUPE },
		{ "dry-run",	no_argument,		NULL, 'n' },
		{ "file",	optional_argument,	NULL, OPT_FILE },
		{ "help",	no_argument,		NULL, 'h' },
		{ "id",		required_argument,	NULL, OPT_ID },
		{ "insecure",	no_argument,		NULL, OPT_INSECURE },
		{ "json",	no_argument,		NULL, ZOPT_JSON },
		{ "link-dir",	required_argument,	NULL, OPT_LINK_DIR },
		{ "link-file",	required_argument,	NULL, OPT_LINK_FILE },
		{ "lock-wait",	required_argument,	NULL, ZOPT_LOCK_WAIT },
		{ "max-bytes",	required_argument,	NULL, OPT_MAX_BYTES },
		{ "max-depth",	required_argument,	NULL, OPT_MAX_DEPTH },
		{ "max-files",	required_argument,	NULL, OPT_MAX_FILES },
		{ "pubkey",	required_argument,	NULL, OPT_PUBKEY },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "retries",	required_argument,	NULL, OPT_RETRIES },
		{ "revision",	required_argument,	NULL, OPT_REVISION },
		{ "root",	required_argument,	NULL, 'r' },
		{ "sha256",	required_argument,	NULL, OPT_SHA256 },
		{ "signature",	required_argument,	NULL, OPT_SIGNATURE },
		{ "strip",	required_argument,	NULL, OPT_STRIP },
		{ "timeout",	required_argument,	NULL, OPT_TIMEOUT },
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
		default:
			if (name_option(j, c, optarg) ||
			    check_option(j, c, optarg) ||
			    tree_option(j, c, optarg))
				break;
			if ((rc = zopt_common(c, optarg, &j->co)) == -1)
				zdiex(EX_USAGE, "%s %s: %s", j->co.bad, optarg,
				    j->co.why);
			if (rc == 0)
				usage(EX_USAGE);
		}
	check_usage(j, argc - optind, argv + optind);
}

/*
 * An http(s) URL is fetched once the deploy root is open and locked
 * (spool()); here it is only checked, and named as it may be printed.
 */
static int
open_url(struct job *j)
{
	struct check *c = &j->ck;
	const char *why;

	if (!zfetch_is_url(j->operand))
		return 0;
	c->shown = xnonnull(zurl_show(j->operand));
	if (zurl_check(j->operand, "http,https", &why) == -1)
		zdiex(EX_USAGE, "%s: %s", c->shown, why);
	c->url = j->operand;
	j->name = c->shown;
	return 1;
}

/*
 * The artifact first: a missing one changes nothing at all.  So does a
 * stdout that cannot be written (zinit() put a read-only placeholder in
 * the place of a closed one), where the result could never be printed.
 */
static void
open_artifact(struct job *j)
{
	int fl = fcntl(STDOUT_FILENO, F_GETFL);

	if (fl == -1 || (fl & O_ACCMODE) == O_RDONLY) {
		errno = EBADF;
		zdie(EX_IOERR, "stdout");
	}
	if (open_url(j))
		return;
	if (strcmp(j->operand, "-") == 0) {
		j->srcfd = STDIN_FILENO;
		j->name = "stdin";
	} else {
		j->srcfd = open(j->operand, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (j->srcfd == -1)
			zdie(zexit_errno(errno), "cannot read %s", j->operand);
		/* Blocking reads again, also from a FIFO. */
		fcntl(j->srcfd, F_SETFL,
		    fcntl(j->srcfd, F_GETFL) & ~O_NONBLOCK);
		j->name = j->operand;
		j->abssrc = realpath(j->operand, NULL);
	}
	if (fstat(j->srcfd, &j->sb) == -1)
		zdie(EX_IOERR, "cannot read %s", j->operand);
	j->isdir = S_ISDIR(j->sb.st_mode);
	if (j->isdir && j->file)
		zdiex(EX_USAGE, "--file %s: a directory is copied, not put "
		    "whole", j->operand);
	if (j->isdir && (j->ck.sha256 != NULL || j->ck.pubkey != NULL))
		zdiex(EX_USAGE, "%s: a directory cannot be verified; give an "
		    "artifact", j->operand);
}

/* No SA_RESTART: a signal makes a blocked read return, and is seen. */
static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = onsignal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Open (or create) the deploy root and take its lock. */
static void
open_root(struct job *j)
{
	const char *root;

	if ((root = zroot_arg(j->co.root)) == NULL)
		zdiex(EX_USAGE, "no deploy root: give -r ROOT or set ZDD_ROOT");
	if (zroot_open(&j->r, root, zopt.dry_run ? 0 : ZROOT_CREATE) == -1) {
		if (errno == EPERM && zroot_holder(&j->r)[0] != '\0')
			zdiex(EX_NOPERM, "%s", zroot_holder(&j->r));
		if (!zopt.dry_run || errno != ENOENT)
			zdie(zexit_errno(errno), "cannot open deploy root %s",
			    root);
		/* A dry run on a root not made yet: what would be made. */
		if (zroot_unmade(&j->r, root) == -1 && errno == ENOMEM)
			zdiex(EX_OSERR, "out of memory");
		if (zroot_path(&j->r) == NULL)
			zdie(EX_IOERR, "cannot find the working directory");
	}
	if (!zopt.dry_run && zlock_wait(&j->co.lock_wait) == -1)
		zdiex(EX_USAGE, "ZDD_LOCK_WAIT: not a number of seconds");
	if (!zopt.dry_run && zroot_lock(&j->r, j->co.lock_wait) == -1)
		exit(zroot_lock_report(&j->r));
	checkstop(j);
	if (j->isdir && zroot_fd(&j->r) != -1 &&
	    inside(zroot_fd(&j->r), &j->sb))
		zdiex(EX_USAGE, "%s: the deploy root %s lies inside it",
		    j->operand, zroot_path(&j->r));
}

static void
choose_id(struct job *j)
{
	if (j->idarg != NULL) {
		if (zid_taken(&j->r, j->idarg))
			zdiex(EX_CANTCREAT, "--id %s: %s/releases/%s exists "
			    "already (or its manifest does)", j->idarg,
			    zroot_path(&j->r), j->idarg);
		snprintf(j->id, sizeof j->id, "%s", j->idarg);
	} else if (zid_new(&j->r, j->id, sizeof j->id) == -1)
		zdie(EX_CANTCREAT, "cannot find a free release id");
}

/* Shared files must be there before anything is made. */
static void
check_shared(struct job *j)
{
	struct stat sb;
	size_t i;

	j->sharedfd = openat(zroot_fd(&j->r), "shared",
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (i = 0; i < j->nlinks; i++) {
		if (j->links[i].dir)
			continue;
		if (j->sharedfd == -1 ||
		    fstatat(j->sharedfd, j->links[i].path, &sb, 0) == -1)
			zdiex(EX_NOINPUT, "--link-file %s: %s/shared/%s: %s",
			    j->links[i].path, zroot_path(&j->r),
			    j->links[i].path, strerror(j->sharedfd == -1 ?
			    ENOENT : errno));
		if (S_ISDIR(sb.st_mode))
			zdiex(EX_DATAERR, "--link-file %s: %s/shared/%s is a "
			    "directory", j->links[i].path, zroot_path(&j->r),
			    j->links[i].path);
	}
	j->zo.keep = j->keep;
	j->zo.nkeep = j->nlinks;
}

static void
find_dedupe(struct job *j)
{
	char cur[ZID_MAX + 1];

	if (!j->dedupe)
		return;
	if (zroot_link_target(&j->r, "current", cur, sizeof cur) == 0)
		j->dedupefd = openat(zroot_relfd(&j->r), cur,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	j->zo.dedupe_fd = j->dedupefd;
	if (j->dedupefd == -1)
		zdebug("--dedupe: no current release to share with");
	else
		zdebug("--dedupe: sharing with releases/%s", cur);
}

/*
 * Verified artifacts.  libarchive must not see a byte that was not
 * verified, so the bytes that are checked must be the bytes unpacked:
 * stdin, a FIFO, a URL, and a file that another user could rewrite
 * between the check and the unpack are first copied into an unnamed file
 * under .zdd/tmp (zspool_open()), which no one else can open, and which
 * is gone however the run ends.
 */

/* The exit code for a fetch that failed with errno e. */
static int
fetch_code(int e)
{
	switch (e) {
	case EFBIG:
		return EX_DATAERR;
	case EHOSTUNREACH:
	case EPROTO:
		return EX_UNAVAILABLE;
	default:
		return zexit_errno(e);
	}
}

static void
spool(struct job *j)
{
	struct check *c = &j->ck;
	const char *tmp;
	char why[256];
	int dirfd, fd, rc;

	/* A signature may be fetched even when the artifact is not. */
	c->fetch.agent = "zdd-release";
	c->fetch.max = j->zo.max_bytes;
	c->fetch.shown = c->shown;
	c->fetch.stop = &stop;
	c->fetch.progress = !zquiet && isatty(STDERR_FILENO);
	if (j->isdir || (c->url == NULL && ((c->sha256 == NULL &&
	    c->pubkey == NULL) || (S_ISREG(j->sb.st_mode) &&
	    j->sb.st_uid == geteuid() && (j->sb.st_mode & 022) == 0))))
		return;
	/* A dry run makes nothing in the root, not even .zdd/tmp. */
	if (zopt.dry_run || zroot_fd(&j->r) == -1) {
		tmp = getenv("TMPDIR");
		dirfd = open(tmp && *tmp ? tmp : "/tmp",
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else
		dirfd = zroot_tmpdir(&j->r);
	if (dirfd == -1 || (fd = zspool_open(dirfd)) == -1) {
		zerr("cannot make a spool file in %s/.zdd/tmp",
		    zroot_path(&j->r));
		bail(j, zexit_errno(errno));
	}
	close(dirfd);
	zdebug("spooling %s", j->name);
	if (c->url != NULL) {
		if (zfetch_url(c->url, fd, &c->fetch, why, sizeof why) == -1) {
			rc = errno;
			checkstop(j);
			zerrx("cannot fetch %s: %s", c->shown, why);
			bail(j, fetch_code(rc));
		}
	} else if (zspool_copy(j->srcfd, fd, &c->fetch) == -1) {
		rc = errno;
		checkstop(j);
		if (rc == EFBIG)
			zerrx("%s: larger than %llu bytes", j->name,
			    (unsigned long long)c->fetch.max);
		else
			zerrx("cannot spool %s: %s", j->name, strerror(rc));
		bail(j, rc == EFBIG ? EX_DATAERR : zexit_errno(rc));
	}
	if (j->srcfd > STDERR_FILENO)
		close(j->srcfd);
	j->srcfd = fd;
}

/* A key or a signature file, or a signature at a URL: at most 4 KiB. */
static char *
read_small(struct job *j, const char *what, const char *arg, size_t *len)
{
	struct zfetch_opts o = j->ck.fetch;
	char why[256], *s, *shown;
	int fd, e;

	if (zfetch_is_url(arg)) {
		o.shown = shown = xnonnull(zurl_show(arg));
		s = zfetch_small(arg, ZSIG_FILE_MAX + 1, &o, len, why,
		    sizeof why);
		e = errno;
		if (s == NULL) {
			checkstop(j);
			zerrx("cannot fetch %s%s: %s", what, shown, why);
		}
		free(shown);
		if (s == NULL)
			bail(j, fetch_code(e));
		return s;
	}
	/* One byte more than any real file: a longer one is refused. */
	if ((fd = open(arg, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (s = zread_all(fd, ZSIG_FILE_MAX + 1, 0, ZREAD_TRUNCATE,
	    len)) == NULL) {
		zerr("cannot read %s%s", what, arg);
		bail(j, zexit_errno(errno));
	}
	close(fd);
	return s;
}

/* The public key, and the signature its kind names by default. */
static void
load_signature(struct job *j)
{
	struct check *c = &j->ck;
	const char *why, *path = c->signature;
	char *buf, *shown;
	size_t len;
	int rc;

	buf = read_small(j, "", c->pubkey, &len);
	rc = zsig_key_parse(buf, len, &c->key, &why);
	free(buf);
	if (rc == -1) {
		zerrx("%s: %s", c->pubkey, why);
		bail(j, EX_DATAERR);
	}
	if (path == NULL)
		path = c->sigpath = c->url != NULL ?
		    xnonnull(zurl_edit(c->url, zsig_suffix(c->key.kind),
		    NULL)) :
		    xasprintf("%s%s", j->operand, zsig_suffix(c->key.kind));
	buf = read_small(j, "signature ", path, &len);
	rc = zsig_parse(buf, len, c->key.kind, &c->sig, &why);
	free(buf);
	if (rc == -1) {
		shown = zfetch_is_url(path) ? xnonnull(zurl_show(path)) :
		    xstrdup(path);
		zerrx("%s: %s", shown, why);
		free(shown);
		bail(j, EX_DATAERR);
	}
}

static void
verify(struct job *j)
{
	struct check *c = &j->ck;
	struct zsig_want w = { c->sha256, NULL, NULL };
	const char *why = "";
	char a[17], b[17];

	if (c->sha256 == NULL && c->pubkey == NULL)
		return;
	if (c->pubkey != NULL) {
		load_signature(j);
		w.key = &c->key;
		w.sig = &c->sig;
	}
	if (zsig_check_fd(j->srcfd, &w, c->hex, &why) == 0) {
		c->verified = 1;
		zsig_id_hex(c->key.id, a);
		zdebug("%s: SHA-256 %s%s%s%s", j->name, c->hex,
		    c->pubkey ? ", signed by key " : "", c->pubkey ? a : "",
		    c->sha256 ? ", as pinned" : "");
		/* Printable, one line: zsig_parse() saw to that. */
		if (c->pubkey && c->key.kind == ZSIG_MINISIGN)
			zdebug("trusted comment: %s", c->sig.trusted);
		return;
	}
	if (errno != EBADMSG) {
		zerr("cannot read %s", j->name);
		bail(j, zexit_errno(errno));
	}
	zsig_id_hex(c->sig.id, a);
	zsig_id_hex(c->key.id, b);
	if (c->sha256 != NULL && strcasecmp(c->sha256, c->hex) != 0)
		zerrx("%s: not verified: %s (it is %s)", j->name, why, c->hex);
	else if (memcmp(c->sig.id, c->key.id, sizeof c->key.id) != 0)
		zerrx("%s: not verified: %s (key id %s, not %s)", j->name,
		    why, a, b);
	else
		zerrx("%s: not verified: %s", j->name, why);
	bail(j, EX_DATAERR);
}

/*
 * The digest taken while unpacking must be the one verified: a file that
 * changed in between (on a file system that shares it) is refused.
 */
static void
recheck(struct job *j)
{
	if (j->ck.verified && strcmp(j->ck.hex, j->hex) != 0) {
		zerrx("%s: changed after it was verified", j->name);
		bail(j, EX_DATAERR);
	}
}

/* What was verified, into o: the manifest (and --json), the event. */
static int
describe_check(struct job *j, json_t *o)
{
	struct check *c = &j->ck;
	char id[17];

	if (c->sha256 != NULL &&
	    json_object_set_new(o, "sha256_pinned", json_true()) == -1)
		return -1;
	if (c->pubkey == NULL)
		return 0;
	zsig_id_hex(c->key.id, id);
	return json_object_set_new(o, "signature", json_pack(
	    "{s:s s:s s:s? s:b}", "type", zsig_kind_name(c->key.kind),
	    "key_id", id, "trusted_comment", c->key.kind == ZSIG_MINISIGN ?
	    c->sig.trusted : NULL, "prehashed", c->sig.prehashed));
}

/*
 * One stderr line, redrawn at most ten times a second: bytes, files and
 * the rate.  Only on a terminal, and not with -q or NO_COLOR (the line is
 * drawn with a carriage return and an erase sequence).
 */
static void
show_progress(const struct zar_stats *st, void *arg)
{
	struct job *j = arg;
	double t = znow(), mib = (double)st->bytes / (1024 * 1024);

	if (t - j->pshown < 0.1)
		return;
	j->pshown = t;
	fprintf(stderr, "\r\033[K%s: unpacking: %.1f MiB, %llu files, "
	    "%.1f MiB/s", zprogname, mib, (unsigned long long)st->files,
	    t > j->pstart ? mib / (t - j->pstart) : 0.0);
	j->pdrawn = 1;
}

static void
want_progress(struct job *j)
{
	const char *nc = getenv("NO_COLOR");

	if (zquiet || !isatty(STDERR_FILENO) || (nc != NULL && *nc != '\0'))
		return;
	j->pstart = j->pshown = znow();
	j->zo.progress = show_progress;
	j->zo.progress_arg = j;
}

/* Every entry of the artifact (or file of the directory), checked. */
static void
unpack(struct job *j)
{
	const struct zar_stats *zs;
	int rc, e;

	want_progress(j);
	if ((j->z = zar_new(j->stagefd, &j->zo)) == NULL) {
		zerrx("out of memory");
		bail(j, EX_OSERR);
	}
	zdebug("%s %s into releases/%s", j->isdir ? "copying" :
	    "extracting", j->abssrc ? j->abssrc : j->name, j->id);
	if (j->isdir)
		rc = zar_copy_dir(j->z, j->srcfd);
	else if (j->file)
		rc = zar_put_fd(j->z, j->srcfd, j->fname, j->hex);
	else
		rc = zar_read_fd(j->z, j->srcfd, j->hex);
	/* The line goes before anything else is said. */
	if (j->pdrawn)
		fprintf(stderr, "\r\033[K");
	j->pdrawn = 0;
	if (rc == 0)
		rc = zar_end(j->z);
	if (rc == 0 && !zopt.dry_run)
		rc = zar_finish_dirs(j->z);
	if (rc == -1) {
		e = zar_errno(j->z);
		checkstop(j);
		if (e == 0 && zar_not_archive(j->z))
			zerrx("%s: %s (to deploy a file whole, give --file)",
			    j->name, zar_error(j->z));
		else if (e == 0)
			zerrx("%s: %s", j->name, zar_error(j->z));
		else
			zerrx("%s: %s", zar_error(j->z), strerror(e));
		bail(j, e == 0 ? EX_DATAERR : zexit_errno(e));
	}
	zs = zar_stats(j->z);
	if (zar_no_reflinks(j->z))
		zinfo("--dedupe: the file system of %s has no reflinks, so "
		    "files were written, not shared", zroot_path(&j->r));
	/* An empty release is a broken build, and zdd-link refuses it. */
	if (zs->entries == 0) {
		zerrx("%s: the artifact holds nothing%s", j->name,
		    j->zo.strip ? " once stripped" : "");
		bail(j, EX_DATAERR);
	}
}

static void
link_shared(struct job *j)
{
	size_t i;

	for (i = 0; i < j->nlinks; i++)
		check_link_parents(j, &j->links[i]);
	for (i = 0; i < j->nlinks; i++) {
		checkstop(j);
		make_link(j, &j->links[i]);
	}
	checkstop(j);
}

/* The manifest: what the release is, where it came from, who made it. */
static void
describe(struct job *j)
{
	const struct zar_stats *zs = zar_stats(j->z);
	json_t *links;
	size_t i;

	if ((links = json_array()) == NULL)
		goto nomem;
	for (i = 0; i < j->nlinks; i++)
		if (json_array_append_new(links, json_pack("{s:s s:s s:b}",
		    "path", j->links[i].path,
		    "type", j->links[i].dir ? "dir" : "file",
		    "seeded", j->links[i].seeded || j->links[i].created)))
			goto nomem;
	j->m = json_pack(
	    "{s:s s:s s:s s:s? s:I s:I s:I s:s s:s s:s s:s s:o}",
	    "id", j->id,
	    "created", ziso8601((long long)time(NULL)),
	    "source", j->abssrc ? j->abssrc : j->name,
	    "sha256", j->isdir ? NULL : j->hex,
	    "bytes", (json_int_t)zs->bytes,
	    "files", (json_int_t)zs->files,
	    "entries", (json_int_t)zs->entries,
	    "branch", j->branch, "revision", j->revision,
	    "user", zuser(), "host", zhost(),
	    "links", links);
	if (j->m == NULL)
		goto nomem;
	if (j->file && json_object_set_new(j->m, "file",
	    json_string(j->fname)) == -1)
		goto nomem;
	if (j->dedupe && json_object_set_new(j->m, "deduped",
	    json_integer((json_int_t)zs->deduped)) == -1)
		goto nomem;
	if (describe_check(j, j->m) == -1)
		goto nomem;
	return;
nomem:
	zerrx("out of memory");
	bail(j, EX_OSERR);
}

/*
 * Sync, write the manifest and rename the staging directory into
 * releases/: from then on the release exists.
 */
static void
publish(struct job *j)
{
	const struct zar_stats *zs = zar_stats(j->z);
	json_t *ev;

	if (zopt.dry_run) {
		zinfo("would make releases/%s: %llu entries, %llu bytes",
		    j->id, (unsigned long long)zs->entries,
		    (unsigned long long)zs->bytes);
		return;
	}
	/* Whole on disk before it is visible: one syncfs(2) of the file
	 * system, the cost of `sync -f', not one fsync each. */
	if (fchmod(j->stagefd, 0755) == -1 || syncfs(j->stagefd) == -1) {
		zerr("cannot sync the release");
		bail(j, EX_IOERR);
	}
	checkstop(j);
	j->manifest = 1;
	if (zmanifest_save(&j->r, j->id, j->m) == -1) {
		zerr("cannot write the manifest of %s", j->id);
		bail(j, zexit_errno(errno));
	}
	checkstop(j);
	/*
	 * The event log's order of releases is their creation order.
	 * Recorded before the rename: a kill in between leaves an event
	 * for a release that is not there, which readers pass over, rather
	 * than a release the log never names.
	 */
	ev = json_pack("{s:s s:s? s:s s:s}",
	    "release", j->id, "sha256", j->isdir ? NULL : j->hex,
	    "branch", j->branch, "revision", j->revision);
	if (ev == NULL || describe_check(j, ev) == -1) {
		json_decref(ev);
		zerrx("out of memory");
		bail(j, EX_OSERR);
	}
	if (zevent_append(&j->r, "release", ev) == -1)
		zerr("cannot write %s/.zdd/events.jsonl", zroot_path(&j->r));
	if (renameat2(j->tmpfd, j->stage, zroot_relfd(&j->r), j->id,
	    RENAME_NOREPLACE) == -1) {
		zerr("cannot rename the release into %s/releases/%s",
		    zroot_path(&j->r), j->id);
		bail(j, zexit_errno(errno));
	}
	/* From here on the release exists; a signal changes nothing. */
	j->published = 1;
	j->stage[0] = '\0';
	j->manifest = 0;
	if (zfsync_dir(zroot_relfd(&j->r)) == -1)
		zerr("cannot sync %s/releases", zroot_path(&j->r));
	/*
	 * Unlock before printing: in "zdd-release ... | zdd-link -" the
	 * link takes the lock as soon as it has read the line.
	 */
	zroot_unlock(&j->r);
	zdebug("%llu files, %llu bytes, %llu deduplicated",
	    (unsigned long long)zs->files, (unsigned long long)zs->bytes,
	    (unsigned long long)zs->deduped);
}

/*
 * The path could not be printed, so nothing downstream (zdd-link -, a
 * script's $(...)) learned of the release: take it back, under the lock
 * again, and so that a retry with the same --id works.  A release that a
 * link points at by now is kept; shared directories it seeded stay, as
 * they would for the next release.  NULL when it is removed, else why it
 * is kept.
 */
static const char *
unpublish(struct job *j, char *why, size_t size)
{
	char name[NAME_MAX + 1];
	struct zrm_stats st;
	struct zrel *v;
	size_t n, i;
	int linked = 0;

	if (zroot_lock(&j->r, j->co.lock_wait) == -1) {
		snprintf(why, size, "cannot take the deploy lock again%s%s%s",
		    zroot_holder(&j->r)[0] ? " (" : "", zroot_holder(&j->r),
		    zroot_holder(&j->r)[0] ? ")" : "");
		return why;
	}
	if (zroot_releases(&j->r, &v, &n, 0) == -1) {
		snprintf(why, size, "cannot read %s/releases: %s",
		    zroot_path(&j->r), strerror(errno));
		return why;
	}
	for (i = 0; i < n; i++)
		if (strcmp(v[i].id, j->id) == 0 && v[i].links[0] != '\0')
			linked = 1;
	free(v);
	if (linked)
		return "a link points at it";
	/* Out of sight in one rename, then removed at leisure. */
	if (ztmpname(name, sizeof name, j->id) == -1 ||
	    renameat2(zroot_relfd(&j->r), j->id, j->tmpfd, name,
	    RENAME_NOREPLACE) == -1) {
		snprintf(why, size, "cannot move it away: %s",
		    strerror(errno));
		return why;
	}
	zfsync_dir(zroot_relfd(&j->r));
	if (zmanifest_remove(&j->r, j->id) == -1)
		zerr("cannot remove the manifest of %s", j->id);
	memset(&st, 0, sizeof st);
	if (zrmtree_at(j->tmpfd, name, &st) == -1)
		zwarnx("cannot remove .zdd/tmp/%s: %s: %s", name,
		    st.first_path, strerror(st.first_errno));
	zfsync_dir(j->tmpfd);
	return NULL;
}

/* The release's path, or with --json its manifest: the tool's result. */
static int
report(struct job *j)
{
	char *path = xnonnull(zrelease_path(&j->r, j->id)), why[512];
	const char *kept;
	json_t *m = j->m;
	int rc;

	j->m = NULL;
	if (zopt.json) {
		json_object_set_new(m, "path", json_string(path));
		json_object_set_new(m, "dry_run", json_boolean(zopt.dry_run));
		rc = zjson_print(m);
	} else {
		rc = printf("%s\n", path) < 0 || fflush(stdout) == EOF ? -1 : 0;
		json_decref(m);
	}
	free(path);
	if (rc == 0)
		return 0;
	if (zopt.dry_run)
		zdie(EX_IOERR, "stdout");
	zerr("stdout");
	if ((kept = unpublish(j, why, sizeof why)) != NULL)
		zdiex(EX_IOERR, "releases/%s kept: %s", j->id, kept);
	zdiex(EX_IOERR, "releases/%s removed: its path could not be printed",
	    j->id);
}

int
main(int argc, char *argv[])
{
	static struct job job = { .srcfd = -1, .tmpfd = -1, .stagefd = -1,
	    .sharedfd = -1, .dedupefd = -1, .co = ZCOMMON_INIT,
	    .r = ZROOT_INIT,
	    .zo = { .max_bytes = 8ULL << 30, .max_files = 1000000,
	    .max_depth = 256,
	    .dedupe_fd = -1, .stop = &stop },
	    .ck = { .fetch = { .retries = 3 } } };
	struct job *j = &job;

	zinit(argv[0]);
	live = j;
	atexit(undo_at_exit);
	parse_options(j, argc, argv);
	open_artifact(j);
	catch_signals();
	open_root(j);
	choose_id(j);
	check_shared(j);
	find_dedupe(j);
	spool(j);
	verify(j);
	if (!zopt.dry_run)
		make_stage(j);
	unpack(j);
	recheck(j);
	link_shared(j);
	describe(j);
	publish(j);
	return report(j);
}
