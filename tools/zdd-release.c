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
#include "extract.h"
#include "fsatom.h"
#include "ident.h"
#include "json.h"
#include "layout.h"
#include "lock.h"
#include "opt.h"

enum { OPT_BRANCH = 256, OPT_DEDUPE, OPT_ID, OPT_JSON, OPT_LINK_DIR,
    OPT_LINK_FILE, OPT_LOCK_WAIT, OPT_MAX_BYTES, OPT_MAX_FILES,
    OPT_REVISION, OPT_STRIP };

#define MAXLINKS	64

struct link {
	char	*path;		/* clean, relative to the release */
	int	 dir;		/* --link-dir, else --link-file */
	int	 seeded;	/* shared/PATH was made from the release */
	int	 created;	/* shared/PATH was made empty */
};

/* What cleanup() must undo when the run fails or is interrupted. */
static struct {
	struct zroot r;
	int	 tmpfd;		/* ROOT/.zdd/tmp */
	int	 stagefd;
	int	 sharedfd;
	char	 stage[NAME_MAX + 1];	/* staging directory */
	char	 id[ZID_MAX + 1];
	int	 manifest;	/* written, not yet renamed into place */
	struct link links[MAXLINKS];
	size_t	 nlinks;
	struct zar *z;
	json_t	*m;
} g = { .tmpfd = -1, .stagefd = -1, .sharedfd = -1 };

static volatile sig_atomic_t stop;

static void
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: zdd-release [-nqv] [-r root] [--branch name] [--dedupe] "
	    "[--id id] [--json]\n"
	    "                   [--link-dir path] [--link-file path] "
	    "[--lock-wait sec]\n"
	    "                   [--max-bytes n] [--max-files n] "
	    "[--revision sha] [--strip n]\n"
	    "                   artifact | dir | -\n");
	exit(code);
}

static void
onsignal(int sig)
{
	stop = sig;
}

/* Undo everything this run made; the deploy root is as it was. */
static void
cleanup(void)
{
	struct zrm_stats st;
	size_t i;

	for (i = g.nlinks; i-- > 0;) {
		struct link *l = &g.links[i];

		/* A seeded directory goes back where it came from. */
		if (l->seeded && g.stagefd != -1)
			renameat(g.sharedfd, l->path, g.stagefd, l->path);
		else if (l->created)
			unlinkat(g.sharedfd, l->path, AT_REMOVEDIR);
		l->seeded = l->created = 0;
	}
	if (g.manifest && zmanifest_remove(&g.r, g.id) == -1)
		zerr("cannot remove the manifest of %s", g.id);
	g.manifest = 0;
	if (g.stage[0] != '\0' && g.tmpfd != -1) {
		memset(&st, 0, sizeof st);
		if (zrmtree_at(g.tmpfd, g.stage, &st) == -1)
			zwarnx("cannot remove .zdd/tmp/%s: %s: %s", g.stage,
			    st.first_path, strerror(st.first_errno));
		zfsync_dir(g.tmpfd);
	}
	g.stage[0] = '\0';
	zar_free(g.z);
	g.z = NULL;
	json_decref(g.m);
	g.m = NULL;
	for (i = 0; i < g.nlinks; i++)
		free(g.links[i].path);
	g.nlinks = 0;
}

/* Fail with code after undoing the run; a signal is re-raised. */
static void
bail(int code)
{
	cleanup();
	if (stop) {
		signal(stop, SIG_DFL);
		raise(stop);
	}
	exit(code);
}

static void
checkstop(void)
{
	if (stop) {
		zerrx("interrupted, nothing made");
		bail(EX_TEMPFAIL);
	}
}

/* The staging directory: .zdd/tmp/.ID.zdd-XXXXXX, mode 0700. */
static void
make_stage(void)
{
	int i;

	if ((g.tmpfd = zroot_tmpdir(&g.r)) == -1)
		zdie(zexit_errno(errno), "cannot open %s/.zdd/tmp", g.r.path);
	for (i = 0; i < 100; i++) {
		if (ztmpname(g.stage, sizeof g.stage, g.id) == -1)
			zdie(EX_SOFTWARE, "cannot name a staging directory");
		if (mkdirat(g.tmpfd, g.stage, 0700) == 0)
			break;
		if (errno != EEXIST) {
			g.stage[0] = '\0';
			zdie(zexit_errno(errno), "cannot create a staging "
			    "directory in %s/.zdd/tmp", g.r.path);
		}
	}
	g.stagefd = openat(g.tmpfd, g.stage,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (g.stagefd == -1) {
		zerr("cannot open %s/.zdd/tmp/%s", g.r.path, g.stage);
		bail(zexit_errno(errno));
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
check_link_parents(struct zar *z, const struct link *l)
{
	char buf[PATH_MAX];
	char *s;
	int t;

	snprintf(buf, sizeof buf, "%s", l->path);
	for (s = strchr(buf, '/'); s != NULL; s = strchr(s + 1, '/')) {
		*s = '\0';
		t = zar_lookup(z, buf);
		if (t != ZAR_NONE && t != ZAR_DIR) {
			zerrx("--link-%s %s: %s is not a directory in the "
			    "artifact", l->dir ? "dir" : "file", l->path, buf);
			bail(EX_DATAERR);
		}
		*s = '/';
	}
	t = zar_lookup(z, l->path);
	if (l->dir ? (t != ZAR_NONE && t != ZAR_DIR) : t == ZAR_DIR) {
		zerrx("--link-%s %s: the artifact has a %s there",
		    l->dir ? "dir" : "file", l->path,
		    t == ZAR_DIR ? "directory" : t == ZAR_SYMLINK ? "symlink" :
		    "file");
		bail(EX_DATAERR);
	}
}

/*
 * Replace PATH in the staging tree by a symlink to shared/PATH, seeding
 * shared/PATH from the release's copy (or empty) the first time a
 * --link-dir is used.
 */
static void
make_link(struct zar *z, struct link *l)
{
	char target[PATH_MAX], parentbuf[PATH_MAX], *s;
	const char *base;
	struct zrm_stats st;
	struct stat sb;
	int t = zar_lookup(z, l->path), pfd, have;

	have = fstatat(g.sharedfd, l->path, &sb, 0) == 0;
	if (have && l->dir && !S_ISDIR(sb.st_mode)) {
		zerrx("--link-dir %s: %s/shared/%s is not a directory",
		    l->path, g.r.path, l->path);
		bail(EX_DATAERR);
	}
	snprintf(parentbuf, sizeof parentbuf, "%s", l->path);
	s = strrchr(parentbuf, '/');
	base = s ? s + 1 : l->path;
	if (s != NULL)
		*s = '\0';
	if (!zopt.dry_run && l->dir && !have) {
		if (s != NULL &&
		    zmkdirs_at(g.sharedfd, parentbuf, 0755) == -1) {
			zerr("cannot create %s/shared/%s", g.r.path,
			    parentbuf);
			bail(zexit_errno(errno));
		}
		if (t == ZAR_DIR) {
			if (renameat2(g.stagefd, l->path, g.sharedfd, l->path,
			    RENAME_NOREPLACE) == -1) {
				zerr("cannot seed %s/shared/%s", g.r.path,
				    l->path);
				bail(zexit_errno(errno));
			}
			l->seeded = 1;
			zar_forget(z, l->path);
			t = ZAR_NONE;
		} else {
			if (mkdirat(g.sharedfd, l->path, 0755) == -1) {
				zerr("cannot create %s/shared/%s", g.r.path,
				    l->path);
				bail(zexit_errno(errno));
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
	if (s != NULL && zmkdirs_at(g.stagefd, parentbuf, 0755) == -1) {
		zerr("cannot create %s in the release", parentbuf);
		bail(zexit_errno(errno));
	}
	pfd = s ? openat(g.stagefd, parentbuf,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : dup(g.stagefd);
	if (pfd == -1) {
		zerr("cannot open %s in the release", parentbuf);
		bail(zexit_errno(errno));
	}
	if (t != ZAR_NONE) {
		memset(&st, 0, sizeof st);
		if (zrmtree_at(pfd, base, &st) == -1) {
			errno = st.first_errno;
			zerr("cannot replace %s in the release", l->path);
			bail(zexit_errno(errno));
		}
		zar_forget(z, l->path);
	}
	shared_target(target, sizeof target, l->path);
	if (symlinkat(target, pfd, base) == -1) {
		zerr("cannot link %s in the release", l->path);
		bail(zexit_errno(errno));
	}
	close(pfd);
	zdebug("%s -> %s%s", l->path, target, l->seeded ? " (seeded)" :
	    l->created ? " (created)" : "");
}

static json_t *
links_json(void)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < g.nlinks; i++)
		json_array_append_new(a, json_pack("{s:s s:s s:b}",
		    "path", g.links[i].path,
		    "type", g.links[i].dir ? "dir" : "file",
		    "seeded", g.links[i].seeded || g.links[i].created));
	return a;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "branch",	required_argument,	NULL, OPT_BRANCH },
		{ "dedupe",	no_argument,		NULL, OPT_DEDUPE },
		{ "dry-run",	no_argument,		NULL, 'n' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "id",		required_argument,	NULL, OPT_ID },
		{ "json",	no_argument,		NULL, OPT_JSON },
		{ "link-dir",	required_argument,	NULL, OPT_LINK_DIR },
		{ "link-file",	required_argument,	NULL, OPT_LINK_FILE },
		{ "lock-wait",	required_argument,	NULL, OPT_LOCK_WAIT },
		{ "max-bytes",	required_argument,	NULL, OPT_MAX_BYTES },
		{ "max-files",	required_argument,	NULL, OPT_MAX_FILES },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "revision",	required_argument,	NULL, OPT_REVISION },
		{ "root",	required_argument,	NULL, 'r' },
		{ "strip",	required_argument,	NULL, OPT_STRIP },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	struct zar_opts zo = { 8ULL << 30, 1000000, 0, 0, -1, NULL, 0, &stop };
	const char *rootarg = NULL, *root, *idarg = NULL, *branch = NULL;
	const char *revision = NULL, *why, *source;
	char *keep[MAXLINKS], cur[ZID_MAX + 1], hex[65], clean[PATH_MAX];
	static char *abssrc;	/* static: reachable at any exit */
	char *path;
	struct sigaction sa;
	struct stat sb;
	struct zar *z;
	const struct zar_stats *zs;
	json_t *m;
	uint64_t u;
	double wait;
	int c, dedupe = 0, srcfd, isdir, rc, e;
	size_t i;

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
		case OPT_BRANCH:
			branch = optarg;
			break;
		case OPT_DEDUPE:
			dedupe = 1;
			break;
		case OPT_ID:
			if (!zid_valid(optarg))
				zdiex(EX_USAGE, "--id %s: not an id (1 to 64 "
				    "of A-Z a-z 0-9 . _ -, not starting with "
				    "a dot)", optarg);
			idarg = optarg;
			break;
		case OPT_JSON:
			zopt.json = 1;
			break;
		case OPT_LINK_DIR:
		case OPT_LINK_FILE:
			if (g.nlinks == MAXLINKS)
				zdiex(EX_USAGE, "more than %d shared links",
				    MAXLINKS);
			if (zar_clean_path(optarg, 0, clean, sizeof clean,
			    &why) != 1)
				zdiex(EX_USAGE, "%s %s: not a path inside the "
				    "release", c == OPT_LINK_DIR ?
				    "--link-dir" : "--link-file", optarg);
			for (i = 0; i < g.nlinks; i++)
				if (nested(g.links[i].path, clean))
					zdiex(EX_USAGE, "%s and %s: one shared "
					    "link inside another", clean,
					    g.links[i].path);
			g.links[g.nlinks].dir = c == OPT_LINK_DIR;
			if ((g.links[g.nlinks++].path = strdup(clean)) == NULL)
				zdie(EX_OSERR, "out of memory");
			break;
		case OPT_LOCK_WAIT:
			if (zparse_seconds(optarg, &wait) == -1)
				zdiex(EX_USAGE, "--lock-wait %s: not a number "
				    "of seconds", optarg);
			break;
		case OPT_MAX_BYTES:
			if (zparse_size(optarg, &zo.max_bytes) == -1 ||
			    zo.max_bytes == 0)
				zdiex(EX_USAGE, "--max-bytes %s: not a size",
				    optarg);
			break;
		case OPT_MAX_FILES:
			if (zparse_uint(optarg, 1, UINT64_MAX / 2,
			    &zo.max_files) == -1)
				zdiex(EX_USAGE, "--max-files %s: not a "
				    "positive number", optarg);
			break;
		case OPT_REVISION:
			revision = optarg;
			break;
		case OPT_STRIP:
			if (zparse_uint(optarg, 0, 1024, &u) == -1)
				zdiex(EX_USAGE, "--strip %s: not a number from "
				    "0 to 1024", optarg);
			zo.strip = (unsigned)u;
			break;
		default:
			usage(EX_USAGE);
		}
	argc -= optind;
	argv += optind;

	if (argc != 1)
		usage(EX_USAGE);
	if ((root = zroot_arg(rootarg)) == NULL)
		zdiex(EX_USAGE, "no deploy root: give -r ROOT or set ZDD_ROOT");
	if (branch == NULL && (branch = zci_branch()) == NULL)
		branch = "unknown";
	if (revision == NULL && (revision = zci_revision()) == NULL)
		revision = "unknown";

	/* The artifact first: a missing one changes nothing at all. */
	if (strcmp(argv[0], "-") == 0) {
		srcfd = STDIN_FILENO;
		source = "-";
	} else {
		srcfd = open(argv[0], O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (srcfd == -1)
			zdie(zexit_errno(errno), "cannot read %s", argv[0]);
		/* Blocking reads again, also from a FIFO. */
		fcntl(srcfd, F_SETFL, fcntl(srcfd, F_GETFL) & ~O_NONBLOCK);
		source = abssrc = realpath(argv[0], NULL);
		if (source == NULL)
			source = argv[0];
	}
	if (fstat(srcfd, &sb) == -1)
		zdie(EX_IOERR, "cannot read %s", argv[0]);
	isdir = S_ISDIR(sb.st_mode);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = onsignal;	/* no SA_RESTART: reads return */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (zroot_open(&g.r, root, zopt.dry_run ? 0 : ZROOT_CREATE) == -1) {
		if (errno == EPERM && g.r.holder[0] != '\0')
			zdiex(EX_NOPERM, "%s", g.r.holder);
		if (!zopt.dry_run || errno != ENOENT)
			zdie(zexit_errno(errno), "cannot open deploy root %s",
			    root);
		/* A dry run on a root not made yet: what would be made. */
		memset(&g.r, 0, sizeof g.r);
		g.r.fd = g.r.relfd = g.r.zddfd = g.r.lockfd = -1;
		if ((path = realpath(".", NULL)) == NULL)
			zdie(EX_IOERR, "cannot find the working directory");
		if (root[0] == '/')
			g.r.path = strdup(root);
		else if (asprintf(&g.r.path, "%s/%s", path, root) == -1)
			g.r.path = NULL;
		free(path);
		if (g.r.path == NULL)
			zdie(EX_OSERR, "out of memory");
	}
	if (!zopt.dry_run && zroot_lock(&g.r, wait) == -1)
		exit(zroot_lock_report(&g.r));
	checkstop();
	if (isdir && g.r.fd != -1 && inside(g.r.fd, &sb))
		zdiex(EX_USAGE, "%s: the deploy root %s lies inside it",
		    argv[0], g.r.path);
	if (idarg != NULL) {
		if (zid_taken(&g.r, idarg))
			zdiex(EX_CANTCREAT, "--id %s: %s/releases/%s exists "
			    "already (or its manifest does)", idarg, g.r.path,
			    idarg);
		snprintf(g.id, sizeof g.id, "%s", idarg);
	} else if (zid_new(&g.r, g.id, sizeof g.id) == -1)
		zdie(EX_CANTCREAT, "cannot find a free release id");

	/* Shared files must be there before anything is made. */
	g.sharedfd = openat(g.r.fd, "shared",
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (i = 0; i < g.nlinks; i++) {
		struct stat ss;

		keep[i] = g.links[i].path;
		if (g.links[i].dir)
			continue;
		if (g.sharedfd == -1 ||
		    fstatat(g.sharedfd, g.links[i].path, &ss, 0) == -1)
			zdiex(EX_NOINPUT, "--link-file %s: %s/shared/%s: %s",
			    g.links[i].path, g.r.path, g.links[i].path,
			    g.sharedfd == -1 ? strerror(ENOENT) :
			    strerror(errno));
		if (S_ISDIR(ss.st_mode))
			zdiex(EX_DATAERR, "--link-file %s: %s/shared/%s is a "
			    "directory", g.links[i].path, g.r.path,
			    g.links[i].path);
	}
	zo.keep = keep;
	zo.nkeep = g.nlinks;
	if (dedupe) {
		/* Read-only files: no one may edit an inode shared by two
		 * releases in place. */
		zo.readonly = 1;
		if (zroot_link_target(&g.r, "current", cur, sizeof cur) == 0)
			zo.dedupe_fd = openat(g.r.relfd, cur,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (zo.dedupe_fd == -1)
			zdebug("--dedupe: no current release to share with");
		else
			zdebug("--dedupe: sharing with releases/%s", cur);
	}

	if (!zopt.dry_run)
		make_stage();
	if ((z = g.z = zar_new(g.stagefd, &zo)) == NULL)
		zdie(EX_OSERR, "out of memory");
	zdebug("%s %s into releases/%s", isdir ? "copying" : "extracting",
	    source, g.id);
	rc = isdir ? zar_copy_dir(z, srcfd) :
	    zar_read_fd(z, srcfd, hex);
	if (rc == 0)
		rc = zar_end(z);
	if (rc == 0 && !zopt.dry_run)
		rc = zar_finish_dirs(z);
	if (rc == -1) {
		e = zar_errno(z);
		checkstop();
		if (e == 0)
			zerrx("%s: %s", strcmp(source, "-") ? argv[0] :
			    "stdin", zar_error(z));
		else
			zerrx("%s: %s", zar_error(z), strerror(e));
		bail(e == 0 ? EX_DATAERR : zexit_errno(e));
	}
	zs = zar_stats(z);
	/* An empty release is a broken build, and zdd-link refuses it. */
	if (zs->entries == 0) {
		zerrx("%s: the artifact holds nothing%s",
		    strcmp(source, "-") ? argv[0] : "stdin",
		    zo.strip ? " once stripped" : "");
		bail(EX_DATAERR);
	}
	for (i = 0; i < g.nlinks; i++)
		check_link_parents(z, &g.links[i]);
	for (i = 0; i < g.nlinks; i++) {
		checkstop();
		make_link(z, &g.links[i]);
	}
	checkstop();

	m = g.m = json_pack(
	    "{s:s s:s s:s s:s? s:I s:I s:I s:s s:s s:s s:s s:o}",
	    "id", g.id,
	    "created", ziso8601((long long)time(NULL)),
	    "source", strcmp(source, "-") ? source : "stdin",
	    "sha256", isdir ? NULL : hex,
	    "bytes", (json_int_t)zs->bytes,
	    "files", (json_int_t)zs->files,
	    "entries", (json_int_t)zs->entries,
	    "branch", branch, "revision", revision,
	    "user", zuser(), "host", zhost(),
	    "links", links_json());
	if (m == NULL)
		zdie(EX_OSERR, "out of memory");
	if (dedupe)
		json_object_set_new(m, "deduped", json_integer(
		    (json_int_t)zs->deduped));
	if (!zopt.dry_run) {
		/* Whole on disk before it is visible: one syncfs(2) of the
		 * file system, the cost of `sync -f', not one fsync each. */
		if (fchmod(g.stagefd, 0755) == -1 ||
		    syncfs(g.stagefd) == -1) {
			zerr("cannot sync the release");
			bail(EX_IOERR);
		}
		checkstop();
		g.manifest = 1;
		if (zmanifest_save(&g.r, g.id, m) == -1) {
			zerr("cannot write the manifest of %s", g.id);
			bail(zexit_errno(errno));
		}
		checkstop();
		if (renameat2(g.tmpfd, g.stage, g.r.relfd, g.id,
		    RENAME_NOREPLACE) == -1) {
			zerr("cannot rename the release into %s/releases/%s",
			    g.r.path, g.id);
			bail(zexit_errno(errno));
		}
		/* From here on the release exists; a signal changes nothing. */
		g.stage[0] = '\0';
		g.manifest = 0;
		if (zfsync_dir(g.r.relfd) == -1)
			zerr("cannot sync %s/releases", g.r.path);
		/*
		 * Unlock before printing: in "zdd-release ... | zdd-link -"
		 * the link takes the lock as soon as it has read the line.
		 */
		close(g.r.lockfd);
		g.r.lockfd = -1;
	} else
		zinfo("would make releases/%s: %llu entries, %llu bytes",
		    g.id, (unsigned long long)zs->entries,
		    (unsigned long long)zs->bytes);
	zdebug("%llu files, %llu bytes, %llu deduplicated",
	    (unsigned long long)zs->files, (unsigned long long)zs->bytes,
	    (unsigned long long)zs->deduped);
	zar_free(z);
	g.z = NULL;

	if ((path = zrelease_path(&g.r, g.id)) == NULL)
		zdie(EX_OSERR, "out of memory");
	if (zopt.json) {
		json_object_set_new(m, "path", json_string(path));
		json_object_set_new(m, "dry_run", json_boolean(zopt.dry_run));
		zjson_print(m);
	} else {
		printf("%s\n", path);
		json_decref(m);
	}
	g.m = NULL;
	free(path);
	free(abssrc);
	for (i = 0; i < g.nlinks; i++)
		free(g.links[i].path);
	g.nlinks = 0;
	if (zo.dedupe_fd != -1)
		close(zo.dedupe_fd);
	if (g.sharedfd != -1)
		close(g.sharedfd);
	if (g.stagefd != -1)
		close(g.stagefd);
	if (g.tmpfd != -1)
		close(g.tmpfd);
	if (srcfd != STDIN_FILENO)
		close(srcfd);
	zroot_close(&g.r);
	if (fflush(stdout) == EOF)
		zdie(EX_IOERR, "stdout");
	return 0;
}
