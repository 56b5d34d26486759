/*
 * zdd-switch: move live traffic between two (or more) backends, blue and
 * green, through nginx or HAProxy.  With nginx it rewrites the include
 * file that names the backend, or re-points a sites-enabled link, checks
 * the result with nginx -t, reloads, and with --drain waits until every
 * worker that served the old backend has exited, so that the caller may
 * stop that backend at once.  Whatever fails puts the old file or link
 * back byte for byte.  With HAProxy it asks the runtime API to make the
 * new server ready and the old one drain, with no reload at all.  The
 * live backend is always read from the file, the link or HAProxy, never
 * guessed over HTTP.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "events.h"
#include "fsatom.h"
#include "haproxy.h"
#include "io.h"
#include "json.h"
#include "layout.h"
#include "lock.h"
#include "nginx.h"
#include "opt.h"
#include "proc.h"
#include "reach.h"
#include "text.h"

enum { OPT_AVAILABLE = 256, OPT_BACKEND, OPT_DRAIN, OPT_FORCE, OPT_FORMAT,
    OPT_HAPROXY, OPT_JSON, OPT_LOCK_WAIT, OPT_MAINT, OPT_NGINX,
    OPT_NGINX_ARG, OPT_NO_RELOAD, OPT_PID_FILE, OPT_PROBE, OPT_RELOAD_CMD,
    OPT_STICKY, OPT_TIMEOUT, OPT_UPSTREAM, OPT_VAR, OPT_WATCH, OPT_WEIGHT,
    OPT_ACCESS_LOG, OPT_MAX_5XX };

enum { MODE_FILE, MODE_LINK, MODE_HAPROXY };

#define TARGETS_MAX	16
#define ARGS_MAX	32
#define WORKERS_MAX	1024
#define INC_MAX		(1 << 20)
#define OUT_MAX		(64 << 10)
/* How long nginx may take to start its new workers after a reload. */
#define SPAWN_WAIT	10.0	/* default of ZDD_RELOAD_WAIT */
#define HAP_TIMEOUT	5.0
/* How long the guard's connection may take to open. */
#define GUARD_TIMEOUT	2.0
/*
 * The switch was made but the old backend was not drained: a drain that
 * timed out or could not be watched.  Not 0, so that "zdd-switch --drain
 * && stop-old" never cuts requests in flight.
 */
#define EX_NODRAIN	3

struct target {
	char	 name[65];
	char	 addr[ZNGX_ADDR_MAX + 1];
};

static struct target targets[TARGETS_MAX];
static size_t ntargets;

static int mode = MODE_FILE;
static const char *file = "/etc/nginx/conf.d/service-url.inc";
static const char *linkpath, *available, *socketpath, *backend;
static int format = ZNGX_SET;
static const char *var = "service_url", *upstream = "backend";
static const char *nginx = "nginx", *nginx_args[ARGS_MAX];
static size_t nnginx_args;
/* --nginx split into words ("sudo -n nginx"); the last is nginx itself. */
static char *nginx_words[ARGS_MAX];
static size_t nnginx_words;
static const char *reload_cmd, *pid_file = "/run/nginx.pid";
static int no_reload, force, maint, drain;
static double drain_sec = 60, lock_wait = -1, spawn_wait = SPAWN_WAIT;
static double timeout = 30;	/* nginx -t and the reload, each */
static const char *probe;	/* --probe URL, checked by zdd-health */
static int exit_code;		/* EX_NODRAIN after a switch not drained */
/* --weight NAME=PCT: the target and its share; --sticky KEY. */
static int wt = -1;
static unsigned wt_pct;
static const char *wt_arg, *sticky;
/* --watch SEC, --max-5xx PCT, --access-log FILE (open, read from log_off). */
static double watch_sec, max5xx = 1;
static const char *access_log;
static int logfd = -1;
static off_t log_off;
/* -r ROOT (or $ZDD_ROOT): a deploy root whose event log hears of us. */
static const char *rootarg;
static struct zroot root = { .fd = -1, .relfd = -1, .zddfd = -1,
    .lockfd = -1 };
static int have_root;
/* The operand read from stdin; at file scope, reachable at every exit. */
static char *opbuf;

/* What the run did, for the result line and --json. */
static struct {
	const char *action;
	int	 live, previous;	/* target indexes, -1 for none */
	int	 changed;
	double	 seconds;		/* the switch, reload included */
	double	 drain_seconds;		/* -1 when not drained */
	int	 drained;
	int	 old_workers;
	int	 canary;		/* target index, -1 for none */
	unsigned percent;		/* the canary's share of clients */
	char	 done[512];		/* what the switch did, for stderr */
	int	 watched, rolled_back;	/* --watch */
	int	 watched_target;
	long	 w_total, w_5xx;
} res = { .action = "status", .live = -1, .previous = -1,
    .drain_seconds = -1, .canary = -1 };

static int	 probe_once(char *, size_t);
static char	*hap(const char *, const char *, const char *);

static void
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: zdd-switch [-nqv] [-r root] [-t name=addr ...] [--json]\n"
	    "                  [--lock-wait sec] [--force] [--probe url]\n"
	    "                  [-f file [--format set | upstream] "
	    "[--var name]\n"
	    "                   [--upstream name] | -l link -a dir]\n"
	    "                  [--nginx path] [--nginx-arg arg ...]\n"
	    "                  [--reload-cmd cmd | --no-reload]\n"
	    "                  [--drain[=sec]] [--pid-file path] "
	    "[--timeout sec]\n"
	    "                  [--watch sec [--max-5xx pct] "
	    "[--access-log file]]\n"
	    "                  [status | idle | flip | target | - |\n"
	    "                   --weight name=pct [--sticky key]]\n"
	    "       zdd-switch [-nqv] [-r root] [-t name=addr ...] [--json]\n"
	    "                  [--lock-wait sec] [--force] [--probe url]\n"
	    "                  --haproxy socket --backend name\n"
	    "                  [--maint] [--drain[=sec]] "
	    "[--watch sec [--max-5xx pct]]\n"
	    "                  [status | idle | flip | target | - | "
	    "--weight name=pct]\n");
	exit(code);
}

/* --nginx 'sudo -n nginx': words split on blanks, no quoting. */
static void
split_nginx(void)
{
	char *copy = xstrdup(nginx), *w, *save = NULL;

	for (w = strtok_r(copy, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save)) {
		if (nnginx_words == ARGS_MAX)
			zdiex(EX_USAGE, "--nginx %s: too many words", nginx);
		nginx_words[nnginx_words++] = w;
	}
	if (nnginx_words == 0)
		zdiex(EX_USAGE, "--nginx: empty");
}

static int
target_name_valid(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (!(s[n] >= 'a' && s[n] <= 'z') &&
		    !(s[n] >= 'A' && s[n] <= 'Z') &&
		    !(s[n] >= '0' && s[n] <= '9') && strchr("._-",
		    s[n]) == NULL)
			return 0;
	return n >= 1 && n <= 64 && s[0] != '.' && s[0] != '-' &&
	    strcmp(s, "status") != 0 && strcmp(s, "idle") != 0 &&
	    strcmp(s, "flip") != 0;
}

static void
add_target(const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct target *t;
	size_t i;

	if (ntargets == TARGETS_MAX)
		zdiex(EX_USAGE, "-t %s: at most %d targets", arg, TARGETS_MAX);
	t = &targets[ntargets];
	if (eq == NULL || (size_t)(eq - arg) >= sizeof t->name)
		zdiex(EX_USAGE, "-t %s: not NAME=ADDR", arg);
	memcpy(t->name, arg, (size_t)(eq - arg));
	t->name[eq - arg] = '\0';
	if (!target_name_valid(t->name))
		zdiex(EX_USAGE, "-t %s: not a target name ([A-Za-z0-9._-], "
		    "not status, idle or flip)", arg);
	if (!zngx_addr_valid(eq + 1))
		zdiex(EX_USAGE, "-t %s: not an address (HOST:PORT, [V6]:PORT, "
		    "an upstream name or unix:/PATH)", arg);
	snprintf(t->addr, sizeof t->addr, "%s", eq + 1);
	for (i = 0; i < ntargets; i++)
		if (strcmp(targets[i].name, t->name) == 0)
			zdiex(EX_USAGE, "-t %s: target %s given twice", arg,
			    t->name);
	ntargets++;
}

static int
find_target(const char *name)
{
	size_t i;

	for (i = 0; i < ntargets; i++)
		if (strcmp(targets[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The target an include file's address names: by address, else by name. */
static int
target_of_addr(const char *addr)
{
	size_t i;

	for (i = 0; i < ntargets; i++)
		if (strcmp(targets[i].addr, addr) == 0)
			return (int)i;
	return find_target(addr);
}

static const char *
mode_name(void)
{
	return mode == MODE_FILE ? "file" : mode == MODE_LINK ? "link" :
	    "haproxy";
}

static void
result(void)
{
	const char *name = res.live >= 0 ? targets[res.live].name : NULL;
	const char *addr = res.live >= 0 ? targets[res.live].addr : NULL;

	if (zopt.json) {
		json_t *o = json_pack("{s:s s:s s:s? s:s? s:s? s:b s:b}",
		    "action", res.action, "mode", mode_name(), "name", name,
		    "addr", addr, "previous",
		    res.previous >= 0 ? targets[res.previous].name : NULL,
		    "changed", res.changed, "dry_run", zopt.dry_run);

		if (res.canary >= 0)
			json_object_set_new(o, "canary", xnonnull(json_pack(
			    "{s:s s:s s:i}", "name", targets[res.canary].name,
			    "addr", targets[res.canary].addr, "percent",
			    (int)res.percent)));
		if (res.watched)
			json_object_set_new(o, "watch", xnonnull(json_pack(
			    "{s:f s:I s:I s:b}", "seconds", watch_sec,
			    "answers", (json_int_t)res.w_total, "5xx",
			    (json_int_t)res.w_5xx, "rolled_back",
			    res.rolled_back)));
		if (strcmp(res.action, "switch") == 0) {
			json_object_set_new(o, "seconds",
			    json_real(res.seconds));
			if (res.drain_seconds >= 0) {
				json_object_set_new(o, "drain_seconds",
				    json_real(res.drain_seconds));
				json_object_set_new(o, "drained",
				    json_boolean(res.drained));
			}
		}
		if (zjson_print(o) == -1)
			zdie(EX_IOERR, "stdout");
	} else if (name != NULL)
		printf("%s %s\n", name, addr);
	if (fflush(stdout) == EOF)
		zdie(EX_IOERR, "stdout");
}

/*
 * The event log of -r ROOT: "switch" (a backend took every client),
 * "canary" (a share) and "watch" (what a watch counted, and whether it
 * switched back).  A switch that happened but could not be recorded is
 * said, and exit 74.
 */
static void
record(void)
{
	const char *m = mode_name();
	int rc = 0;

	if (!have_root || (!res.changed && !res.watched))
		return;
	if (res.watched)
		rc = zevent_append(&root, "watch", json_pack("{s:s s:s s:I s:I "
		    "s:b s:s}", "backend", targets[res.watched_target].name,
		    "addr", targets[res.watched_target].addr, "answers",
		    (json_int_t)res.w_total, "5xx",
		    (json_int_t)res.w_5xx, "rolled_back", res.rolled_back,
		    "mode", m));
	if (rc == 0 && res.changed && !res.rolled_back && res.canary >= 0)
		rc = zevent_append(&root, "canary", json_pack("{s:s s:s s:i "
		    "s:s s:s}", "backend", targets[res.canary].name, "addr",
		    targets[res.canary].addr, "percent", (int)res.percent,
		    "main", targets[res.live].name, "mode", m));
	else if (rc == 0 && res.changed && !res.rolled_back && res.live >= 0)
		rc = zevent_append(&root, "switch", json_pack("{s:s s:s s:s? "
		    "s:s}", "backend", targets[res.live].name, "addr",
		    targets[res.live].addr, "from", res.previous >= 0 ?
		    targets[res.previous].name : NULL, "mode", m));
	if (rc == -1) {
		zerr("cannot record the switch in %s/.zdd/events.jsonl",
		    root.path);
		if (exit_code == 0)
			exit_code = EX_IOERR;
	}
}

/*
 * Run argv with stdout and stderr into *out (at most OUT_MAX bytes kept,
 * "" when it never ran), bounded by limit seconds (0: none); returns what
 * zrun() does.  during, if not NULL, runs while the command does.
 */
static int
run(char *const argv[], char **out, void (*during)(void *), double limit)
{
	struct zrun r = { .timeout = limit, .out_max = OUT_MAX,
	    .during = during };
	int rc, e;

	rc = zrun(argv, &r);
	e = errno;
	*out = r.out != NULL ? r.out : xstrdup("");
	errno = e;
	return rc;
}

/*
 * Words from nginx or HAProxy, one diagnostic line each, made printable
 * by ztext_clean(): a control byte would let the other end clear the
 * terminal or forge a line of ours after a carriage return.
 */
static void
relay(const char *out)
{
	const char *p = out, *nl;
	char line[512];
	int n = 0;

	while (*p != '\0' && n < 20) {
		nl = strchrnul(p, '\n');
		ztext_clean(p, (size_t)(nl - p), line, sizeof line);
		if (*line != '\0') {
			zerrx("%s", line);
			n++;
		}
		p = *nl ? nl + 1 : nl;
	}
}

static int
run_nginx(const char *a1, const char *a2, char **out, void (*during)(void *))
{
	const char *argv[2 * ARGS_MAX + 4];
	size_t i, n = 0;

	for (i = 0; i < nnginx_words; i++)
		argv[n++] = nginx_words[i];
	for (i = 0; i < nnginx_args; i++)
		argv[n++] = nginx_args[i];
	argv[n++] = a1;
	if (a2 != NULL)
		argv[n++] = a2;
	argv[n] = NULL;
	return run((char *const *)argv, out, during, timeout);
}

/*
 * The old state of the file or link, to be put back byte for byte when
 * nginx refuses the new one or cannot reload.
 */
struct saved {
	int	 dirfd;
	char	 base[256];
	int	 exists;
	int	 is_link;
	char	*data;		/* file content or link target */
	size_t	 len;
	mode_t	 mode;
	uid_t	 uid;		/* the file's owner, kept in a rewrite */
	gid_t	 gid;
};

/* The one file or link this run works on; released at the end of main. */
static struct saved cur = { .dirfd = -1 };

static void
restore(struct saved *s)
{
	int rc;

	if (!s->exists)
		rc = unlinkat(s->dirfd, s->base, 0) == -1 && errno != ENOENT ?
		    -1 : zfsync_dir(s->dirfd);
	else if (s->is_link)
		rc = zsymlink_replace(s->dirfd, s->base, s->data);
	else
		rc = zfile_replace(s->dirfd, s->base, s->data, s->len, s->mode,
		    s->uid, s->gid);
	if (rc == -1)
		zerr("cannot put the old %s back", s->base);
	else
		zdebug("the old %s is back", s->base);
}

/*
 * Open path's directory and the name within it into s, locked when the
 * run may change it (reading the live backend needs no lock).
 */
static void
open_locked(const char *path, struct saved *s, const char *op)
{
	char *c1, *c2;
	const char *dir;

	memset(s, 0, sizeof *s);
	s->uid = (uid_t)-1;
	s->gid = (gid_t)-1;
	if ((c1 = strdup(path)) == NULL || (c2 = strdup(path)) == NULL)
		zdie(EX_OSERR, "out of memory");
	dir = dirname(c1);
	snprintf(s->base, sizeof s->base, "%s", basename(c2));
	if (strcmp(s->base, "/") == 0 || strcmp(s->base, ".") == 0 ||
	    strcmp(s->base, "..") == 0)
		zdiex(EX_USAGE, "%s: not a file name", path);
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd == -1)
		zdie(zexit_errno(errno), "cannot open %s", dir);
	/*
	 * The lock is on the directory itself, so nothing is ever created
	 * where nginx reads its configuration.  A dry run changes nothing
	 * and needs no lock.
	 */
	if (strcmp(op, "status") == 0 || strcmp(op, "idle") == 0 ||
	    zopt.dry_run) {
		free(c1);
		free(c2);
		return;
	}
	if (zlock_wait(&lock_wait) == -1)
		zdiex(EX_USAGE, "ZDD_LOCK_WAIT: not a number of seconds");
	if (zlock_fd(s->dirfd, lock_wait) == -1) {
		if (errno == EWOULDBLOCK)
			zdiex(EX_TEMPFAIL, "%s: another switch holds the lock "
			    "on %s", path, dir);
		zdie(zexit_errno(errno), "cannot lock %s", dir);
	}
	/* A switch killed before its rename left its temporary file. */
	(void)zsweep_tmp(s->dirfd, s->base);
	/*
	 * From here on a signal is recorded, and acted on at the next step:
	 * whatever was changed is put back first, then zdd-switch dies of
	 * it.  Before the lock, nothing had changed and it may kill us.
	 */
	zsig_catch();
	free(c1);
	free(c2);
}

/*
 * Read the include file into s and say which target it names.  Returns
 * the target or -1; *known is set when zdd can read the content.
 */
static int
read_file(struct saved *s, struct zngx_inc *inc, int *known)
{
	struct stat sb;
	int rc;

	*known = 1;
	s->mode = 0644;
	if (fstatat(s->dirfd, s->base, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno != ENOENT)
			zdie(zexit_errno(errno), "cannot read %s", file);
		memset(inc, 0, sizeof *inc);
		return -1;
	}
	if (!S_ISREG(sb.st_mode))
		zdiex(EX_DATAERR, "%s: not a regular file, left alone", file);
	s->exists = 1;
	s->mode = sb.st_mode & 07777;
	s->uid = sb.st_uid;
	s->gid = sb.st_gid;
	s->data = zslurp_at(s->dirfd, s->base, INC_MAX, &s->len);
	if (s->data == NULL)
		zdie(zexit_errno(errno), "cannot read %s", file);
	rc = zngx_parse(s->data, s->len, inc);
	if (rc == -1) {
		*known = 0;
		return -1;
	}
	if (rc == 1)
		return -1;
	return target_of_addr(inc->addr);
}

/*
 * Read the link into s and say which target it names: NAME in the
 * --available directory (compared by device and inode, so relative and
 * absolute spellings agree).  Returns the target or -1; *known is set
 * when the link is one zdd-switch could have made.
 */
static int
read_link(struct saved *s, int availfd, int *known)
{
	struct stat sb, ab, db;
	char buf[4096], *slash, *name;
	ssize_t n;
	int t, fd;

	*known = 1;
	if (fstatat(s->dirfd, s->base, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno != ENOENT)
			zdie(zexit_errno(errno), "cannot read %s", linkpath);
		return -1;
	}
	s->exists = 1;
	if (!S_ISLNK(sb.st_mode)) {
		/* A plain file: --force may replace it, and restore it. */
		*known = 0;
		if (S_ISREG(sb.st_mode)) {
			s->mode = sb.st_mode & 07777;
			s->uid = sb.st_uid;
			s->gid = sb.st_gid;
			s->data = zslurp_at(s->dirfd, s->base, INC_MAX,
			    &s->len);
			if (s->data == NULL)
				zdie(zexit_errno(errno), "cannot read %s",
				    linkpath);
		} else
			zdiex(EX_DATAERR, "%s: not a symlink or file, left "
			    "alone", linkpath);
		return -1;
	}
	n = readlinkat(s->dirfd, s->base, buf, sizeof buf - 1);
	if (n == -1)
		zdie(zexit_errno(errno), "cannot read link %s", linkpath);
	buf[n] = '\0';
	s->is_link = 1;
	if ((s->data = strdup(buf)) == NULL)
		zdie(EX_OSERR, "out of memory");
	s->len = (size_t)n;
	/* The link's target must be NAME in the --available directory. */
	if ((slash = strrchr(buf, '/')) != NULL) {
		*slash = '\0';
		name = slash + 1;
		fd = openat(s->dirfd, *buf ? buf : "/",
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		name = buf;
		fd = dup(s->dirfd);
	}
	if (fd == -1 || fstat(fd, &db) == -1 || fstat(availfd, &ab) == -1 ||
	    db.st_dev != ab.st_dev || db.st_ino != ab.st_ino) {
		if (fd != -1)
			close(fd);
		*known = 0;
		return -1;
	}
	close(fd);
	if ((t = find_target(name)) == -1)
		*known = 0;
	return t;
}

/*
 * The master and its workers before the reload: the workers serve the
 * old backend and are what --drain waits for; every other process then
 * alive is skipped when looking for new workers.
 */
static pid_t master = -1;
static struct zproc old[WORKERS_MAX];
static int nold;
static pid_t before[1 << 16];
static struct zproc_scan scan = { before, 0, sizeof before / sizeof before[0],
    NULL, 0 };

/*
 * Runs while nginx -t does, so that the directory sync and the scan of
 * /proc cost no time.  A master that the pid file names gets SIGHUP
 * later; a pid file naming anything else is stale.
 */
static int dirsync_errno, workers_errno;

static void
while_testing(void *arg)
{
	(void)arg;
	/*
	 * The directory sync that makes the rename durable: a crash before
	 * it leaves the old file or the new one, both whole, so it can
	 * overlap nginx -t.
	 */
	if (zfsync_dir(cur.dirfd) == -1)
		dirsync_errno = errno;
	if (no_reload)
		return;
	master = zngx_read_pid(pid_file);
	if (master != -1 && !zngx_is_master(master,
	    nginx_words[nnginx_words - 1]))
		master = -1;
	/* Nothing is reloaded yet: a failure here puts the old file back. */
	if (master != -1 &&
	    (nold = zngx_children(master, old, WORKERS_MAX, &scan)) == -1)
		workers_errno = errno;
}

/*
 * Children of the master that were not there before: its new workers.
 * The quick scan reads only processes whose pid was not in use before;
 * but pids are reused (after a wrap, a pid freed a moment ago may be the
 * next one handed out), so a full scan, which tells processes apart by
 * pid and start time, comes every few polls.
 */
static int
new_children(int full)
{
	static struct zproc now[WORKERS_MAX];
	struct zproc_scan skip = { NULL, 0, 0, before, scan.nseen };
	int n, i, j, fresh = 0;

	if (!full)
		return zngx_children(master, now, WORKERS_MAX, &skip);
	if ((n = zngx_children(master, now, WORKERS_MAX, NULL)) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		for (j = 0; j < nold; j++)
			if (now[i].pid == old[j].pid &&
			    now[i].start == old[j].start)
				break;
		if (j == nold)
			fresh++;
	}
	return fresh;
}

static const char *
signame(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGHUP ? "SIGHUP" : "SIGTERM";
}

/*
 * A signal came while the old file or link is back in place (or was
 * never replaced): say so and die of the signal.
 */
static _Noreturn void
die_restored(const char *what)
{
	zerrx("interrupted by %s, %s is as it was", signame(zsig_pending()),
	    what);
	zsig_die();
}

static void
drain_workers(void)
{
	double t0 = znow();
	int left;

	left = zproc_wait_gone(old, nold, t0 + drain_sec);
	res.drain_seconds = znow() - t0;
	if (left == -1 && errno == EINTR) {
		zerrx("interrupted by %s while draining: switched, but the old "
		    "nginx workers may still serve requests",
		    signame(zsig_pending()));
		zsig_die();
	}
	if (left == -1)
		zdie(EX_OSERR, "cannot wait for the old nginx workers");
	res.drained = left == 0;
	if (res.drained)
		zinfo("drained: the %d old nginx worker%s exited in %.3f s",
		    nold, nold == 1 ? "" : "s", res.drain_seconds);
	else {
		zerrx("drain timed out after %.3f s: %d old nginx worker%s "
		    "still running", res.drain_seconds, left,
		    left == 1 ? " is" : "s are");
		exit_code = EX_NODRAIN;
	}
}

static void
switched(void)
{
	zinfo("%s in %.3f s", res.done, res.seconds);
}

/*
 * Reload nginx: --reload-cmd, else SIGHUP to the master the pid file
 * names (all that nginx -s reload does, after parsing the whole
 * configuration once more), else nginx -s reload.  0 when it was done;
 * -1 with errno ETIMEDOUT or EINTR as zrun() says; *out holds what the
 * command said, or why it could not be done.
 */
static int
reload(char **out)
{
	if (reload_cmd != NULL) {
		const char *argv[] = { "/bin/sh", "-c", reload_cmd, NULL };

		return run((char *const *)argv, out, NULL, timeout);
	}
	if (master == -1)
		return run_nginx("-s", "reload", out, NULL);
	*out = NULL;
	if (kill(master, SIGHUP) == 0)
		return 0;
	/*
	 * A deploy user may not signal root's master; nginx -s reload
	 * through --nginx 'sudo -n nginx' may.
	 */
	if (errno == EPERM)
		return run_nginx("-s", "reload", out, NULL);
	*out = xasprintf("kill -HUP %d: %s", (int)master, strerror(errno));
	return -1;
}

/*
 * nginx may have loaded the new file (a reload was asked for, or may
 * have been): the old one goes back and nginx reloads once more, so
 * that whichever it was, nginx ends serving what the disk says.  0 when
 * that second reload was asked for.
 */
static int
undo_reload(struct saved *s, const char *what)
{
	char *out;
	int rc;

	restore(s);
	rc = reload(&out);
	if (rc != 0) {
		zerrx("cannot reload nginx again after putting the old %s "
		    "back%s", what, out != NULL && *out ? ":" : "");
		if (out != NULL)
			relay(out);
	}
	free(out);
	return rc;
}

/* Why nginx -t failed, and the exit code that says it; never returns. */
static _Noreturn void
test_failed(int rc, int e, char *out, const char *what)
{
	if (rc == -1 && e == ETIMEDOUT)
		zdiex(EX_UNAVAILABLE, "nginx -t did not finish within %g s and "
		    "was killed (--timeout), %s is as it was", timeout, what);
	if (rc == -1) {
		errno = e;
		zdie(EX_UNAVAILABLE, "cannot run %s, %s is as it was", nginx,
		    what);
	}
	if (rc == 127 || rc >= 128) {
		relay(out);
		zdiex(EX_UNAVAILABLE, "cannot run %s (%s %d), %s is as it was",
		    nginx, rc == 127 ? "exit" : "signal",
		    rc == 127 ? rc : rc - 128, what);
	}
	/*
	 * nginx -t also opens the pid file and the logs.  A user who may
	 * not (a deploy user without sudo) makes it fail on a configuration
	 * that is fine: that is no refusal of the configuration.
	 */
	if (strstr(out, "(13: Permission denied)") != NULL ||
	    strstr(out, "(1: Operation not permitted)") != NULL) {
		zerrx("nginx -t could not run as this user (not a refusal of "
		    "the configuration), %s is as it was:", what);
		relay(out);
		exit(EX_NOPERM);
	}
	zerrx("nginx -t refused the new configuration, %s is as it was:",
	    what);
	relay(out);
	exit(EX_CONFIG);
}

/* What --watch counts: the new backend's answers, and its 5xx. */
struct watch {
	const char *name, *addr;	/* the backend watched */
	long	 total, c5xx;
	int	 logfd;
	off_t	 off;			/* the access log read so far */
	char	 why[1024];		/* why it failed */
};

/* The access log's new complete lines, counted for w. */
static void
watch_log(struct watch *w)
{
	char buf[65536], *p, *nl;
	const char *addr;
	ssize_t n;
	int status;

	while ((n = pread(w->logfd, buf, sizeof buf - 1, w->off)) > 0) {
		buf[n] = '\0';
		for (p = buf; (nl = memchr(p, '\n', (size_t)(buf + n - p))) !=
		    NULL; p = nl + 1) {
			*nl = '\0';
			if (zngx_log_answer(p, &addr, &status) == 0 &&
			    strcmp(addr, w->addr) == 0) {
				w->total++;
				w->c5xx += status >= 500;
			}
		}
		/*
		 * A line cut short waits for its end; one longer than the
		 * buffer is no line of the format, and is skipped.
		 */
		if (p == buf && n < (ssize_t)sizeof buf - 1)
			return;
		w->off += p == buf ? n : p - buf;
	}
}

/* HAProxy's counters for the watched server: 0, or -1 (why set). */
static int
watch_hap(struct watch *w, long *total, long *c5xx)
{
	char *out = hap("show stat%s%s", "", "");
	int rc = zhap_parse_answers(out, backend, w->name, total, c5xx);

	free(out);
	if (rc == -1)
		snprintf(w->why, sizeof w->why, "HAProxy's show stat has no "
		    "counters for %s/%s", backend, w->name);
	return rc;
}

/*
 * --watch: the new backend (t) under real traffic for watch_sec seconds,
 * the old one still running.  Its answers are counted from the access
 * log (nginx) or HAProxy's counters, and --probe runs every second.
 * 0 when it held; 1 when it did not (w->why says why); -1 when a
 * signal came.  The counts go to res for --json.
 */
static int
watch_backend(int t, struct watch *w)
{
	double deadline = znow() + watch_sec, next_probe = 0;
	long t0 = 0, f0 = 0, tn, fn;
	char why[256];
	int failed = 0;

	w->name = targets[t].name;
	w->addr = targets[t].addr;
	res.watched_target = t;
	w->total = w->c5xx = 0;
	if (mode == MODE_HAPROXY && watch_hap(w, &t0, &f0) == -1)
		return 1;
	zinfo("watching %s for %g s (at most %g%% 5xx)", w->name, watch_sec,
	    max5xx);
	while (znow() < deadline && !zsig_pending()) {
		if (probe != NULL && znow() >= next_probe) {
			next_probe = znow() + 1;
			if (probe_once(why, sizeof why) == -1 &&
			    !zsig_pending()) {
				snprintf(w->why, sizeof w->why, "--probe %s "
				    "failed: %s", probe, why);
				failed = 1;
				break;
			}
		}
		if (mode != MODE_HAPROXY)
			watch_log(w);
		poll(NULL, 0, 200);
	}
	if (zsig_pending())
		return -1;
	if (mode == MODE_HAPROXY) {
		if (watch_hap(w, &tn, &fn) == -1)
			return 1;
		w->total = tn - t0;
		w->c5xx = fn - f0;
	} else
		watch_log(w);
	res.watched = 1;
	res.w_total = w->total;
	res.w_5xx = w->c5xx;
	if (!failed && w->total > 0 &&
	    (double)w->c5xx * 100 > max5xx * (double)w->total) {
		snprintf(w->why, sizeof w->why, "%ld of %ld answers from %s "
		    "were 5xx (%.1f%%, more than %g%%)", w->c5xx, w->total,
		    w->name, (double)w->c5xx * 100 / (double)w->total, max5xx);
		failed = 1;
	}
	if (!failed && w->total == 0 &&
	    (mode == MODE_HAPROXY || access_log != NULL))
		zwarnx("watched %s for %g s: no answer from it came (no "
		    "traffic, or the access log is not in the format of "
		    "zdd-switch(1))", w->name, watch_sec);
	else if (!failed)
		zinfo("watched %s for %g s: %ld of %ld answers 5xx", w->name,
		    watch_sec, w->c5xx, w->total);
	return failed;
}

/*
 * --watch with nginx: the access log is read from where it ended before
 * the reload.  When the watch fails, the old file goes back and nginx
 * reloads it: -1, exit 1, the counts said.
 */
static int
watch_nginx(struct saved *s, const char *what)
{
	struct watch w;
	int rc;

	memset(&w, 0, sizeof w);
	w.logfd = logfd;
	w.off = log_off;
	rc = watch_backend(res.canary >= 0 ? res.canary : res.live, &w);
	if (rc == 0)
		return 0;
	if (rc == -1) {
		(void)undo_reload(s, what);
		die_restored(what);
	}
	rc = undo_reload(s, what);
	res.rolled_back = 1;
	res.live = res.previous;
	res.canary = -1;
	zerrx("watch: %s; %s is as it was%s", w.why, what, rc == 0 ?
	    " and nginx was told to reload it" : "");
	exit_code = EX_NO;
	return -1;
}

/*
 * Validate, reload and wait: the part that nginx's two modes share.  The
 * new file or link is in place; s holds the old one.
 */
static void
nginx_apply(struct saved *s, const char *what, double t0)
{
	char *out;
	int rc, e, fresh, last = 0, still = 0, polls;
	double deadline;

	if (zsig_pending()) {
		restore(s);
		die_restored(what);
	}
	rc = run_nginx("-t", NULL, &out, while_testing);
	if (rc != 0) {
		e = errno;
		restore(s);
		if (rc == -1 && e == EINTR)
			die_restored(what);
		test_failed(rc, e, out, what);
	}
	if (zverbose)
		relay(out);
	free(out);
	if (dirsync_errno != 0) {
		restore(s);
		errno = dirsync_errno;
		zdie(zexit_errno(errno), "cannot sync the directory of %s, it "
		    "is as it was", what);
	}
	if (workers_errno != 0) {
		restore(s);
		errno = workers_errno;
		zdie(zexit_errno(errno), "cannot list the workers of nginx "
		    "(pid %d), %s is as it was", (int)master, what);
	}
	if (no_reload) {
		res.seconds = znow() - t0;
		switched();
		return;
	}
	if (zsig_pending()) {
		restore(s);
		die_restored(what);
	}

	/* --watch reads the access log from here on. */
	if (logfd != -1)
		log_off = lseek(logfd, 0, SEEK_END);
	rc = reload(&out);
	if (rc != 0) {
		e = errno;
		if (rc == -1 && (e == EINTR || e == ETIMEDOUT)) {
			/* Killed half way: nginx may have the new file. */
			free(out);
			rc = undo_reload(s, what);
			if (e == EINTR)
				die_restored(what);
			zdiex(EX_UNAVAILABLE,
			    "the reload did not finish within "
			    "%g s and was killed (--timeout), %s is as it "
			    "was%s", timeout, what, rc == 0 ?
			    " and nginx was told to reload it" : "");
		}
		restore(s);
		zerrx("cannot reload nginx%s, %s is as it was%s",
		    reload_cmd ? " with --reload-cmd" : "", what,
		    out != NULL && *out ? ":" : "");
		if (out != NULL)
			relay(out);
		free(out);
		exit(EX_UNAVAILABLE);
	}
	free(out);
	if (master == -1) {
		res.seconds = znow() - t0;
		switched();
		if (watch_sec > 0 && watch_nginx(s, what) != 0)
			return;
		if (drain) {
			zerrx("cannot drain: %s names no running nginx master, "
			    "so its old workers cannot be watched", pid_file);
			exit_code = EX_NODRAIN;
		} else
			zwarnx("%s names no running nginx master: cannot wait "
			    "for its new workers", pid_file);
		return;
	}

	/*
	 * nginx forks its new workers one after the other, then waits 100
	 * ms before it tells the old ones to quit; --drain waits for that,
	 * a plain switch returns once the new workers are up: as many as
	 * there were, or (when an earlier reload's workers are still
	 * around) once their number has held still for a few polls.
	 */
	deadline = znow() + spawn_wait;
	for (polls = 1;; polls++) {
		fresh = new_children(polls % 8 == 0);
		if (fresh > 0 && fresh >= nold)
			break;
		if (fresh > 0 && fresh == last && ++still == 3)
			break;
		if (fresh != last)
			still = 0;
		last = fresh;
		if (znow() >= deadline || kill(master, 0) == -1 ||
		    zsig_pending())
			break;
		zsleep(0.002);
	}
	res.seconds = znow() - t0;
	if (zsig_pending()) {
		(void)undo_reload(s, what);
		die_restored(what);
	}
	if (fresh <= 0) {
		/*
		 * nginx keeps its old configuration when it cannot load the
		 * new one, but a configuration that takes longer to load
		 * than the wait may still go live.
		 */
		rc = undo_reload(s, what);
		zdiex(EX_UNAVAILABLE, "nginx (pid %d) started no new workers "
		    "within %g s: the reload failed or is slow (see nginx's "
		    "error log); %s is as it was%s", (int)master, spawn_wait,
		    what, rc == 0 ? " and nginx was told to reload it" : "");
	}
	zdebug("nginx (pid %d) started %d new worker%s in %.3f s", (int)master,
	    fresh, fresh == 1 ? "" : "s", res.seconds);
	res.old_workers = nold;
	switched();
	if (watch_sec > 0 && watch_nginx(s, what) != 0)
		return;
	if (drain)
		drain_workers();
}

/*
 * zdd-health beside this program (an installed suite, or the build
 * directory), else the one on PATH.
 */
static char *
health_path(void)
{
	char self[4096], *slash, *p;
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			p = xasprintf("%.*s/zdd-health", (int)(slash - self),
			    self);
			if (access(p, X_OK) == 0)
				return p;
			free(p);
		}
	}
	return xstrdup("zdd-health");
}

/*
 * --probe URL: zdd-health's checks, one attempt.  0 when it passed, else
 * -1 with zdd-health's last words in why.
 */
static int
probe_once(char *why, size_t size)
{
	char *h = health_path(), *out, *last, *nl;
	const char *argv[] = { h, "--attempts", "1", "-t", "2", probe, NULL };
	int rc, e;

	rc = run((char *const *)argv, &out, NULL, 10);
	e = errno;
	free(h);
	if (rc == 0) {
		free(out);
		return 0;
	}
	/* Its last line, without its "zdd-health: " prefix. */
	while ((nl = strrchr(out, '\n')) != NULL && nl[1] == '\0')
		*nl = '\0';
	last = (nl = strrchr(out, '\n')) != NULL ? nl + 1 : out;
	if (strncmp(last, "zdd-health: ", 12) == 0)
		last += 12;
	if (rc == -1 && e == EINTR)
		snprintf(why, size, "interrupted");
	else if (*last == '\0')
		snprintf(why, size, "zdd-health exited %d", rc);
	else
		snprintf(why, size, "%s", last);
	free(out);
	return -1;
}

/*
 * The guard before every switch: the target about to take traffic must
 * answer now (a connection to its ADDR, or --probe), or nothing changes
 * and zdd-switch exits 1.  A failed deploy's "flip back" to a dead
 * colour is the case it exists for.
 */
static void
guard(int to)
{
	const struct target *t = &targets[to];
	const char *at = probe != NULL ? probe : t->addr;
	char why[512];
	int rc;

	if (force) {
		zdebug("%s not checked, as --force asks", t->name);
		return;
	}
	if (probe != NULL)
		rc = probe_once(why, sizeof why);
	else if ((rc = zreach(t->addr, GUARD_TIMEOUT, why, sizeof why)) == 1) {
		zdebug("%s is an upstream name, no address to try; --probe "
		    "checks it", t->addr);
		return;
	}
	if (zsig_pending())
		die_restored("everything");
	if (rc != 0)
		zdiex(EX_NO, "refusing to switch to %s (%s): %s; nothing "
		    "changed (--force switches all the same)", t->name, at,
		    why);
	zdebug("%s answers at %s", t->name, at);
}

/*
 * A new file or link could not be put in place.  Without permission, say
 * what needs it: the directory, since the file is replaced through a new
 * one beside it; the file's own mode does not matter.
 */
static _Noreturn void
write_failed(const char *path)
{
	int e = errno;

	if (e == EACCES || e == EPERM)
		zdiex(EX_NOPERM, "cannot write %s: %s; zdd-switch replaces it "
		    "through a new file beside it, so this user needs write "
		    "permission on its directory (not on the file)", path,
		    strerror(e));
	errno = e;
	zdie(zexit_errno(e), "cannot write %s", path);
}

static int
refused(const char *path, const char *why)
{
	if (force) {
		zwarnx("%s: %s; overwritten, as --force asks", path, why);
		return 0;
	}
	zdiex(EX_DATAERR, "%s: %s; left alone (--force overwrites it)", path,
	    why);
}

static int
switch_file(const char *op)
{
	struct saved *sp = &cur;
	struct zngx_inc inc, want;
	char *data;
	int live, known, to;
	double t0 = znow();

	open_locked(file, sp, op);
	live = read_file(sp, &inc, &known);
	res.live = res.previous = live;
	if (known && inc.canary[0] != '\0' &&
	    (res.canary = target_of_addr(inc.canary)) >= 0)
		res.percent = inc.canary_weight;
	if (strcmp(op, "status") == 0 || strcmp(op, "idle") == 0) {
		if (!known)
			zdiex(EX_DATAERR, "%s: not a file zdd-switch can read",
			    file);
		if (!sp->exists)
			zdiex(EX_NO, "%s does not exist: no live backend",
			    file);
		if (live == -1)
			zdiex(EX_NO, "%s names no known target%s%s", file,
			    *inc.addr ? ": " : "", inc.addr);
		return live;
	}
	if (strcmp(op, "--weight") == 0) {
		/* --weight: a share of the clients for wt, the rest stay. */
		if (live == -1)
			zdiex(EX_NO, "cannot give %s a share: %s names no live "
			    "target", targets[wt].name, file);
		if (wt == live)
			zdiex(EX_USAGE,
			    "--weight %s=%u: %s is the live backend",
			    targets[wt].name, wt_pct, targets[wt].name);
		/* 0 aborts the canary, 100 promotes it. */
		to = wt_pct == 0 ? live : wt_pct == 100 ? wt : live;
	} else if ((to = strcmp(op, "flip") == 0 ? -2 : find_target(op)) ==
	    -2) {
		if (live == -1)
			zdiex(EX_NO, "cannot flip: %s names no live target",
			    file);
		to = live == 0 ? 1 : 0;
	}
	res.action = "switch";
	if (!known)
		refused(file, "not a file zdd-switch wrote");
	else if (sp->exists && inc.format != 0 && inc.format != format)
		refused(file, format == ZNGX_SET ? "an upstream block, not "
		    "--format set" : "a set line, not --format upstream");
	else if (sp->exists && inc.format != 0 &&
	    strcmp(inc.name, format == ZNGX_SET ? var : upstream) != 0)
		refused(file, format == ZNGX_SET ? "sets another variable "
		    "than --var" : "names another upstream than --upstream");
	memset(&want, 0, sizeof want);
	want.format = format;
	snprintf(want.name, sizeof want.name, "%s",
	    format == ZNGX_SET ? var : upstream);
	snprintf(want.addr, sizeof want.addr, "%s", targets[to].addr);
	want.keepalive = inc.keepalive ? inc.keepalive : 32;
	if (strcmp(op, "--weight") == 0 && wt_pct > 0 && wt_pct < 100) {
		snprintf(want.canary, sizeof want.canary, "%s",
		    targets[wt].addr);
		want.canary_weight = wt_pct;
		want.weight = 100 - wt_pct;
		snprintf(want.key, sizeof want.key, "%s", sticky != NULL ?
		    sticky : inc.key[0] != '\0' ? inc.key : "$remote_addr");
		res.canary = wt;
		res.percent = wt_pct;
		snprintf(res.done, sizeof res.done, "%s: %s takes %u%% of the "
		    "clients, %s the rest", file, targets[wt].name, wt_pct,
		    targets[to].name);
	} else if (res.canary >= 0 && to == live)
		snprintf(res.done, sizeof res.done, "%s: the canary %s is "
		    "off, %s takes every client", file,
		    targets[res.canary].name,
		    targets[to].name);
	else
		snprintf(res.done, sizeof res.done, "switched %s from %s to "
		    "%s", file, live >= 0 ? targets[live].name : "nothing",
		    targets[to].name);
	if (live == to && known && inc.format == format &&
	    strcmp(inc.name, want.name) == 0 &&
	    strcmp(inc.canary, want.canary) == 0 &&
	    inc.canary_weight == want.canary_weight &&
	    strcmp(inc.key, want.key) == 0) {
		zdebug("%s is live already, as asked", targets[to].name);
		res.live = to;
		return to;
	}
	if (res.canary >= 0 && want.canary[0] == '\0')
		res.canary = -1;
	if ((data = zngx_render(&want, targets[to].name)) == NULL)
		zdie(EX_SOFTWARE, "cannot render %s", file);
	guard(want.canary[0] != '\0' ? wt : to);
	res.live = to;
	res.changed = 1;
	if (zopt.dry_run) {
		zinfo("would write %s (%s), check it with nginx -t%s", file,
		    res.done, no_reload ? "" : " and reload nginx");
		free(data);
		return to;
	}
	if (zfile_put(sp->dirfd, sp->base, data, strlen(data), sp->mode,
	    sp->uid, sp->gid) == -1)
		write_failed(file);
	free(data);
	nginx_apply(sp, file, t0);
	return to;
}

static int
switch_link(const char *op)
{
	struct saved *sp = &cur;
	struct stat sb;
	char *target = NULL;
	int availfd, live, known, to;
	double t0 = znow();

	open_locked(linkpath, sp, op);
	/* A relative --available is relative to the link, as ln -s reads it. */
	availfd = openat(sp->dirfd, available, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
	if (availfd == -1)
		zdie(zexit_errno(errno), "cannot open %s", available);
	live = read_link(sp, availfd, &known);
	res.live = res.previous = live;
	if (strcmp(op, "status") == 0 || strcmp(op, "idle") == 0) {
		if (!sp->exists)
			zdiex(EX_NO, "%s does not exist: no live backend",
			    linkpath);
		if (!sp->is_link)
			zdiex(EX_DATAERR, "%s: not a symlink", linkpath);
		if (live == -1)
			zdiex(EX_NO, "%s -> %s names no known target in %s",
			    linkpath, sp->data, available);
		close(availfd);
		return live;
	}
	to = strcmp(op, "flip") == 0 ? -2 : find_target(op);
	if (to == -2) {
		if (live == -1)
			zdiex(EX_NO, "cannot flip: %s names no live target",
			    linkpath);
		to = live == 0 ? 1 : 0;
	}
	res.action = "switch";
	if (sp->exists && !known)
		refused(linkpath, sp->is_link ? "points outside the targets in "
		    "--available" : "not a symlink");
	if (fstatat(availfd, targets[to].name, &sb, 0) == -1)
		zdie(EX_NOINPUT, "cannot switch to %s: %s/%s", targets[to].name,
		    available, targets[to].name);
	if (live == to) {
		zdebug("%s is live already", targets[to].name);
		close(availfd);
		return to;
	}
	guard(to);
	res.live = to;
	res.changed = 1;
	if (asprintf(&target, "%s%s%s", available,
	    available[strlen(available) - 1] == '/' ? "" : "/",
	    targets[to].name) == -1)
		zdie(EX_OSERR, "out of memory");
	if (zopt.dry_run) {
		zinfo("would point %s at %s, check it with nginx -t%s",
		    linkpath, target, no_reload ? "" : " and reload nginx");
		free(target);
		close(availfd);
		return to;
	}
	if (zsymlink_put(sp->dirfd, sp->base, target) == -1)
		write_failed(linkpath);
	snprintf(res.done, sizeof res.done, "switched %s from %s to %s",
	    linkpath, live >= 0 ? targets[live].name : "nothing",
	    targets[to].name);
	nginx_apply(sp, linkpath, t0);
	free(target);
	close(availfd);
	return to;
}

static char *
hap(const char *fmt, const char *a, const char *b)
{
	char cmd[512], *out;

	snprintf(cmd, sizeof cmd, fmt, a, b);
	if ((out = zhap_cmd(socketpath, cmd, HAP_TIMEOUT)) == NULL)
		zdie(EX_UNAVAILABLE, "cannot reach HAProxy at %s", socketpath);
	return out;
}

/*
 * The live target among backend's servers: the one ready server, or with
 * a canary two ready ones, the main one being that of the larger weight
 * (the first on a tie); -1 for anything else.  *canary is the other one
 * or -1, weight[] each target's weight (-1 unknown).
 */
static int
hap_live(struct zhap_server *v, int n, int *present, int *weight,
    int *canary)
{
	int i, t, ready[2], nready = 0;

	*canary = -1;
	for (i = 0; i < (int)ntargets; i++) {
		present[i] = 0;
		weight[i] = -1;
	}
	for (i = 0; i < n; i++) {
		if ((t = find_target(v[i].name)) == -1)
			continue;
		present[t] = 1;
		weight[t] = v[i].weight;
		if ((v[i].admin_state & (ZHAP_MAINT | ZHAP_DRAIN)) == 0 &&
		    nready++ < 2)
			ready[nready - 1] = t;
	}
	if (nready == 1)
		return ready[0];
	if (nready != 2 || weight[ready[0]] < 0 || weight[ready[1]] < 0 ||
	    weight[ready[0]] + weight[ready[1]] == 0)
		return -1;
	if (weight[ready[1]] > weight[ready[0]]) {
		t = ready[0];
		ready[0] = ready[1];
		ready[1] = t;
	}
	*canary = ready[1];
	res.canary = ready[1];
	res.percent = (unsigned)((weight[ready[1]] * 100 +
	    (weight[ready[0]] + weight[ready[1]]) / 2) /
	    (weight[ready[0]] + weight[ready[1]]));
	return ready[0];
}

/*
 * A server whose address is not its target's: idle would name a place
 * where HAProxy never sends anyone, and the health check would pass
 * there while the switch sent traffic elsewhere.
 */
static void
hap_check_addrs(const struct zhap_server *v, int n)
{
	int i, t;

	for (i = 0; i < n; i++) {
		if ((t = find_target(v[i].name)) == -1)
			continue;
		switch (zhap_addr_is(&v[i], targets[t].addr)) {
		case 0:
			if (!force)
				zdiex(EX_DATAERR, "HAProxy server %s/%s is at "
				    "%s:%d, not at %s as target %s says; left "
				    "alone (--force goes on all the same)",
				    backend, v[i].name, v[i].addr, v[i].port,
				    targets[t].addr, targets[t].name);
			zwarnx("HAProxy server %s/%s is at %s:%d, not at %s; "
			    "going on, as --force asks", backend, v[i].name,
			    v[i].addr, v[i].port, targets[t].addr);
			break;
		case -1:
			zdebug("cannot compare %s/%s's address with %s",
			    backend, v[i].name, targets[t].addr);
			break;
		}
	}
}

/* The state word that puts a server back as admin_state says it was. */
static const char *
hap_state_word(int admin_state)
{
	if (admin_state & ZHAP_MAINT)
		return "maint";
	if (admin_state & ZHAP_DRAIN)
		return "drain";
	return "ready";
}

/*
 * One step of a HAProxy switch: a server, what was set ("state" or
 * "weight") and the value it had before.
 */
struct hap_step {
	int	 target;
	const char *kind;
	char	 was[16];
};

/*
 * Set target's server's state (or weight) to value; 0 when HAProxy took
 * it, else -1 with HAProxy's answer (or why there is none) said on
 * stderr after verb.
 */
static int
hap_set(int t, const char *kind, const char *value, const char *verb)
{
	char cmd[256], what[160], *out;
	int weight = strcmp(kind, "weight") == 0;

	snprintf(cmd, sizeof cmd, weight ? "set weight %s/%s %s" :
	    "set server %s/%s state %s", backend, targets[t].name, value);
	snprintf(what, sizeof what, "%s %s/%s %s%s", verb, backend,
	    targets[t].name, weight ? "weight " : "", value);
	if ((out = zhap_cmd(socketpath, cmd, HAP_TIMEOUT)) == NULL) {
		zerr("%s: cannot reach HAProxy at %s", what, socketpath);
		return -1;
	}
	if (!zhap_ok(out)) {
		zerrx("HAProxy refused to %s:", what);
		relay(out);
		free(out);
		return -1;
	}
	free(out);
	return 0;
}

/*
 * A HAProxy switch is all or nothing: the steps made so far are undone,
 * last first, and zdd-switch exits (or dies of the signal that came).
 * Only a state HAProxy refuses to take back leaves it half switched,
 * and that is said.
 */
static int
hap_undo(const struct hap_step *steps, int n)
{
	int ok = 1;

	while (n-- > 0)
		if (hap_set(steps[n].target, steps[n].kind, steps[n].was,
		    "put back") == -1)
			ok = 0;
	return ok ? 0 : -1;
}

static _Noreturn void
hap_abort(const struct hap_step *steps, int n)
{
	if (hap_undo(steps, n) == -1)
		zdiex(EX_UNAVAILABLE, "HAProxy backend %s is left half "
		    "switched: see the servers above", backend);
	if (zsig_pending())
		die_restored("every HAProxy server");
	zdiex(EX_UNAVAILABLE, "no switch: every server of HAProxy backend %s "
	    "is as it was", backend);
}

/* The steps of one switch, made one after the other, or all undone. */
struct hap_plan {
	struct hap_step steps[2 * TARGETS_MAX];
	int	 n;
};

static void
hap_do(struct hap_plan *pl, int t, const char *kind, const char *value,
    const char *was)
{
	if (zsig_pending() || hap_set(t, kind, value, "set") == -1)
		hap_abort(pl->steps, pl->n);
	pl->steps[pl->n].target = t;
	pl->steps[pl->n].kind = kind;
	snprintf(pl->steps[pl->n].was, sizeof pl->steps[pl->n].was, "%s",
	    was);
	pl->n++;
}

static void
hap_drain(int live)
{
	double d0 = znow(), deadline = d0 + drain_sec;
	long sess;
	char *out;

	for (;;) {
		out = hap("show stat%s%s", "", "");
		sess = zhap_parse_sessions(out, backend, targets[live].name);
		free(out);
		if (sess == -1)
			zdiex(EX_DATAERR, "HAProxy's show stat has no row for "
			    "%s/%s", backend, targets[live].name);
		if (sess == 0 || znow() >= deadline || zsig_pending())
			break;
		zsleep(0.005);
	}
	res.drain_seconds = znow() - d0;
	res.drained = sess == 0;
	if (zsig_pending()) {
		zerrx("interrupted by %s while draining: switched, but %s/%s "
		    "may still serve requests", signame(zsig_pending()),
		    backend, targets[live].name);
		zsig_die();
	}
	if (res.drained)
		zinfo("drained: %s/%s has no session left, after %.3f s",
		    backend, targets[live].name, res.drain_seconds);
	else {
		zerrx("drain timed out after %.3f s: %s/%s still has %ld "
		    "session%s", res.drain_seconds, backend,
		    targets[live].name, sess, sess == 1 ? "" : "s");
		exit_code = EX_NODRAIN;
	}
}

/*
 * --watch through HAProxy: when the watched server fails, the steps of
 * the switch are undone, as for a refused command; exit 1, the counts
 * said.
 */
static void
watch_haproxy(struct hap_plan *pl, int t)
{
	struct watch w;
	int rc;

	if (watch_sec <= 0)
		return;
	memset(&w, 0, sizeof w);
	if ((rc = watch_backend(t, &w)) == 0)
		return;
	if (rc == -1)
		hap_abort(pl->steps, pl->n);
	if (hap_undo(pl->steps, pl->n) == -1)
		zdiex(EX_UNAVAILABLE, "watch: %s; and HAProxy backend %s is "
		    "left half switched back: see the servers above", w.why,
		    backend);
	res.rolled_back = 1;
	res.live = res.previous;
	res.canary = -1;
	zerrx("watch: %s; every server of HAProxy backend %s is as it was",
	    w.why, backend);
	exit_code = EX_NO;
}

static int
switch_haproxy(const char *op)
{
	struct zhap_server *v;
	struct hap_plan pl = { .n = 0 };
	int present[TARGETS_MAX], state[TARGETS_MAX] = { 0 };
	int weight[TARGETS_MAX];
	char *out, first[128], w0[16], w1[16], was0[16], was1[16];
	const char *p;
	int n, i, live, to, canary;
	size_t lines = 1;
	double t0;
	struct saved *sp = &cur;

	/* The lock sits on the socket's directory: nothing is left behind. */
	open_locked(socketpath, sp, op);
	t0 = znow();
	out = hap("show servers state %s%s", backend, "");
	/* A backend may hold any number of servers: one a line at most. */
	for (p = out; *p != '\0'; p++)
		lines += *p == '\n';
	v = xcalloc(lines, sizeof *v);
	n = zhap_parse_state(out, backend, v, lines);
	if (n <= 0) {
		ztext_clean(out, strcspn(out, "\n"), first, sizeof first);
		free(out);
		zdiex(EX_DATAERR, "HAProxy at %s: no servers in backend %s%s%s",
		    socketpath, backend, *first ? ": " : "", first);
	}
	free(out);
	hap_check_addrs(v, n);
	live = hap_live(v, n, present, weight, &canary);
	for (i = 0; i < n; i++)
		if ((to = find_target(v[i].name)) != -1)
			state[to] = v[i].admin_state;
	free(v);
	res.live = res.previous = live;
	if (strcmp(op, "status") == 0 || strcmp(op, "idle") == 0) {
		if (live == -1)
			zdiex(EX_NO, "backend %s has not exactly one ready "
			    "server among the targets (or two, for a canary)",
			    backend);
		return live;
	}
	if (live == -1 && (strcmp(op, "flip") == 0 ||
	    strcmp(op, "--weight") == 0))
		zdiex(EX_NO, "cannot %s: backend %s has not exactly one ready "
		    "server among the targets", strcmp(op, "flip") == 0 ?
		    "flip" : "give a share", backend);
	if (strcmp(op, "--weight") == 0) {
		if (wt == live)
			zdiex(EX_USAGE,
			    "--weight %s=%u: %s is the live backend",
			    targets[wt].name, wt_pct, targets[wt].name);
		to = wt_pct == 100 ? wt : live;
	} else if (strcmp(op, "flip") == 0)
		to = live == 0 ? 1 : 0;
	else
		to = find_target(op);
	res.action = "switch";
	if (!present[to] || (wt >= 0 && !present[wt]))
		zdiex(EX_DATAERR, "HAProxy backend %s has no server %s",
		    backend, targets[present[to] ? wt : to].name);
	res.live = to;
	if (strcmp(op, "--weight") == 0 && wt_pct > 0 && wt_pct < 100) {
		/* The canary: both ready, weighed; HAProxy's hash sticks. */
		if (canary == wt && res.percent == wt_pct &&
		    weight[wt] + weight[live] == 100) {
			zdebug("%s has %u%% already", targets[wt].name, wt_pct);
			return to;
		}
		guard(wt);
		res.changed = 1;
		res.canary = wt;
		res.percent = wt_pct;
		if (zopt.dry_run) {
			zinfo("would set %s/%s weight %u and %s/%s weight %u, "
			    "both ready", backend, targets[wt].name, wt_pct,
			    backend, targets[live].name, 100 - wt_pct);
			return to;
		}
		/* An unknown weight goes back to HAProxy's default, 1. */
		snprintf(w0, sizeof w0, "%u", 100 - wt_pct);
		snprintf(was0, sizeof was0, "%d", weight[live] < 0 ? 1 :
		    weight[live]);
		snprintf(w1, sizeof w1, "%u", wt_pct);
		snprintf(was1, sizeof was1, "%d", weight[wt] < 0 ? 1 :
		    weight[wt]);
		hap_do(&pl, live, "weight", w0, was0);
		hap_do(&pl, wt, "weight", w1, was1);
		hap_do(&pl, wt, "state", "ready", hap_state_word(state[wt]));
		if (zsig_pending())
			hap_abort(pl.steps, pl.n);
		res.seconds = znow() - t0;
		zinfo("HAProxy backend %s: %s takes %u%% of the clients, "
		    "%s the rest, in %.3f s", backend, targets[wt].name, wt_pct,
		    targets[live].name, res.seconds);
		watch_haproxy(&pl, wt);
		return res.live;
	}
	if (live == to && canary == -1) {
		zdebug("%s is live already", targets[to].name);
		return to;
	}
	if (to != live)
		guard(to);
	res.changed = 1;
	res.canary = -1;
	if (zopt.dry_run) {
		zinfo("would set %s/%s ready and every other target %s",
		    backend, targets[to].name, maint ? "maint" : "drain");
		return to;
	}
	/* The new server takes traffic before the old one stops taking it. */
	hap_do(&pl, to, "state", "ready", hap_state_word(state[to]));
	for (i = 0; i < (int)ntargets; i++)
		if (i != to && present[i])
			hap_do(&pl, i, "state", maint ? "maint" : "drain",
			    hap_state_word(state[i]));
	if (zsig_pending())
		hap_abort(pl.steps, pl.n);
	res.seconds = znow() - t0;
	if (live == to)
		zinfo("HAProxy backend %s: the canary %s is off, %s takes "
		    "every client, in %.3f s", backend, targets[canary].name,
		    targets[to].name, res.seconds);
	else
		zinfo("switched HAProxy backend %s from %s to %s in %.3f s",
		    backend, live >= 0 ? targets[live].name : "nothing",
		    targets[to].name, res.seconds);
	watch_haproxy(&pl, to);
	if (res.rolled_back)
		return res.live;
	if (drain && live >= 0)
		hap_drain(live == to ? canary : live);
	return to;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "access-log",	required_argument,	NULL, OPT_ACCESS_LOG },
		{ "available",	required_argument,	NULL, 'a' },
		{ "backend",	required_argument,	NULL, OPT_BACKEND },
		{ "drain",	optional_argument,	NULL, OPT_DRAIN },
		{ "dry-run",	no_argument,		NULL, 'n' },
		{ "file",	required_argument,	NULL, 'f' },
		{ "force",	no_argument,		NULL, OPT_FORCE },
		{ "format",	required_argument,	NULL, OPT_FORMAT },
		{ "haproxy",	required_argument,	NULL, OPT_HAPROXY },
		{ "help",	no_argument,		NULL, 'h' },
		{ "json",	no_argument,		NULL, OPT_JSON },
		{ "link",	required_argument,	NULL, 'l' },
		{ "lock-wait",	required_argument,	NULL, OPT_LOCK_WAIT },
		{ "maint",	no_argument,		NULL, OPT_MAINT },
		{ "max-5xx",	required_argument,	NULL, OPT_MAX_5XX },
		{ "nginx",	required_argument,	NULL, OPT_NGINX },
		{ "nginx-arg",	required_argument,	NULL, OPT_NGINX_ARG },
		{ "no-reload",	no_argument,		NULL, OPT_NO_RELOAD },
		{ "pid-file",	required_argument,	NULL, OPT_PID_FILE },
		{ "probe",	required_argument,	NULL, OPT_PROBE },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "reload-cmd",	required_argument,	NULL, OPT_RELOAD_CMD },
		{ "root",	required_argument,	NULL, 'r' },
		{ "sticky",	required_argument,	NULL, OPT_STICKY },
		{ "target",	required_argument,	NULL, 't' },
		{ "timeout",	required_argument,	NULL, OPT_TIMEOUT },
		{ "upstream",	required_argument,	NULL, OPT_UPSTREAM },
		{ "var",	required_argument,	NULL, OPT_VAR },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "version",	no_argument,		NULL, 'V' },
		{ "watch",	required_argument,	NULL, OPT_WATCH },
		{ "weight",	required_argument,	NULL, OPT_WEIGHT },
		{ NULL,		0,			NULL, 0 }
	};
	const char *op = "status";
	int c, fileset = 0, nginxset = 0, live;

	zinit(argv[0]);
	if (zenv_seconds("ZDD_RELOAD_WAIT", &spawn_wait) == -1 ||
	    spawn_wait <= 0)
		zdiex(EX_USAGE, "ZDD_RELOAD_WAIT: not a number of seconds");
	while ((c = getopt_long(argc, argv, "a:f:hl:nqr:t:vV", longopts,
	    NULL)) != -1)
		switch (c) {
		case 'a':
			available = optarg;
			break;
		case 'f':
			file = optarg;
			fileset = 1;
			break;
		case 'h':
			usage(0);
			break;
		case 'l':
			linkpath = optarg;
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
		case 't':
			add_target(optarg);
			break;
		case 'v':
			zverbose = 1;
			break;
		case 'V':
			zversion();
			break;
		case OPT_BACKEND:
			backend = optarg;
			break;
		case OPT_DRAIN:
			drain = 1;
			if (optarg != NULL &&
			    zparse_seconds(optarg, &drain_sec) == -1)
				zdiex(EX_USAGE, "--drain=%s: not a number of "
				    "seconds", optarg);
			break;
		case OPT_FORCE:
			force = 1;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "set") == 0)
				format = ZNGX_SET;
			else if (strcmp(optarg, "upstream") == 0)
				format = ZNGX_UPSTREAM;
			else
				zdiex(EX_USAGE, "--format %s: not set or "
				    "upstream", optarg);
			break;
		case OPT_HAPROXY:
			socketpath = optarg;
			break;
		case OPT_JSON:
			zopt.json = 1;
			break;
		case OPT_LOCK_WAIT:
			if (zparse_seconds(optarg, &lock_wait) == -1)
				zdiex(EX_USAGE, "--lock-wait %s: not a number "
				    "of seconds", optarg);
			break;
		case OPT_MAINT:
			maint = 1;
			break;
		case OPT_NGINX:
			nginx = optarg;
			nginxset = 1;
			break;
		case OPT_NGINX_ARG:
			if (nnginx_args == ARGS_MAX)
				zdiex(EX_USAGE, "--nginx-arg: at most %d",
				    ARGS_MAX);
			nginx_args[nnginx_args++] = optarg;
			nginxset = 1;
			break;
		case OPT_NO_RELOAD:
			no_reload = 1;
			break;
		case OPT_PID_FILE:
			pid_file = optarg;
			break;
		case OPT_PROBE:
			probe = optarg;
			break;
		case OPT_RELOAD_CMD:
			reload_cmd = optarg;
			break;
		case OPT_STICKY:
			if (!zngx_key_valid(optarg))
				zdiex(EX_USAGE, "--sticky %s: not a variable "
				    "($remote_addr, $cookie_NAME ...)", optarg);
			sticky = optarg;
			break;
		case OPT_TIMEOUT:
			if (zparse_seconds(optarg, &timeout) == -1 ||
			    timeout <= 0)
				zdiex(EX_USAGE, "--timeout %s: not a number of "
				    "seconds", optarg);
			break;
		case OPT_UPSTREAM:
			upstream = optarg;
			break;
		case OPT_VAR:
			var = optarg[0] == '$' ? optarg + 1 : optarg;
			break;
		case OPT_ACCESS_LOG:
			access_log = optarg;
			break;
		case OPT_MAX_5XX: {
			char *end;

			errno = 0;
			max5xx = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(max5xx >= 0 && max5xx <= 100))
				zdiex(EX_USAGE,
				    "--max-5xx %s: not a percentage "
				    "from 0 to 100", optarg);
			break;
		}
		case OPT_WATCH:
			if (zparse_seconds(optarg, &watch_sec) == -1 ||
			    watch_sec <= 0)
				zdiex(EX_USAGE, "--watch %s: not a number of "
				    "seconds", optarg);
			break;
		case OPT_WEIGHT:
			wt_arg = optarg;
			break;
		default:
			usage(EX_USAGE);
		}
	argc -= optind;
	argv += optind;

	split_nginx();

	if (argc > 1)
		usage(EX_USAGE);
	if (argc == 1)
		op = argv[0];
	if (wt_arg != NULL && argc == 1)
		zdiex(EX_USAGE,
		    "--weight takes no operand: it gives a share to "
		    "its target and keeps the live one");
	if (sticky != NULL && wt_arg == NULL)
		zdiex(EX_USAGE, "--sticky goes with --weight");
	/* "-" reads the operand from stdin: zdd-switch idle | zdd-switch -. */
	if (strcmp(op, "-") == 0) {
		if ((opbuf = zoperand(op)) == NULL)
			zdie(EX_USAGE, "cannot read a target from stdin");
		opbuf[strcspn(opbuf, " \t")] = '\0';
		op = opbuf;
	}
	if (ntargets == 0) {
		add_target("blue=127.0.0.1:8081");
		add_target("green=127.0.0.1:8082");
	}
	if (strcmp(op, "status") != 0 && strcmp(op, "idle") != 0 &&
	    strcmp(op, "flip") != 0 && strcmp(op, "--weight") != 0 &&
	    find_target(op) == -1)
		zdiex(EX_USAGE, "%s: not status, idle, flip or a target", op);
	if (wt_arg != NULL) {
		const char *eq = strrchr(wt_arg, '=');
		char name[65];
		uint64_t pct;

		if (eq == NULL || (size_t)(eq - wt_arg) >= sizeof name ||
		    zparse_uint(eq + 1, 0, 100, &pct) == -1)
			zdiex(EX_USAGE, "--weight %s: not NAME=PCT, PCT from 0 "
			    "to 100", wt_arg);
		snprintf(name, sizeof name, "%.*s", (int)(eq - wt_arg), wt_arg);
		if ((wt = find_target(name)) == -1)
			zdiex(EX_USAGE, "--weight %s: %s is no target", wt_arg,
			    name);
		wt_pct = (unsigned)pct;
		op = "--weight";
	}
	if ((strcmp(op, "idle") == 0 || strcmp(op, "flip") == 0) &&
	    ntargets != 2)
		zdiex(EX_USAGE, "%s needs exactly two targets", op);
	if ((linkpath == NULL) != (available == NULL))
		zdiex(EX_USAGE, "--link and --available go together");
	if ((socketpath == NULL) != (backend == NULL))
		zdiex(EX_USAGE, "--haproxy and --backend go together");
	if (linkpath != NULL)
		mode = MODE_LINK;
	if (socketpath != NULL) {
		if (mode == MODE_LINK)
			zdiex(EX_USAGE, "--haproxy and --link exclude each "
			    "other");
		mode = MODE_HAPROXY;
	}
	if (fileset && mode != MODE_FILE)
		zdiex(EX_USAGE,
		    "--file goes with neither --link nor --haproxy");
	if (mode == MODE_HAPROXY && (nginxset || reload_cmd || no_reload))
		zdiex(EX_USAGE, "--haproxy needs no nginx and no reload");
	if (mode != MODE_HAPROXY && maint)
		zdiex(EX_USAGE, "--maint goes with --haproxy");
	if (reload_cmd != NULL && no_reload)
		zdiex(EX_USAGE, "--reload-cmd and --no-reload exclude each "
		    "other");
	if (drain && no_reload)
		zdiex(EX_USAGE, "--drain needs a reload");
	if (!zngx_name_valid(var))
		zdiex(EX_USAGE, "--var %s: not a variable name", var);
	if (!zngx_name_valid(upstream))
		zdiex(EX_USAGE, "--upstream %s: not an upstream name",
		    upstream);
	if (backend != NULL && (strlen(backend) > 64 ||
	    strcspn(backend, " /\t\n;") != strlen(backend) || !*backend))
		zdiex(EX_USAGE, "--backend %s: not a backend name", backend);
	if (wt_arg != NULL && (mode == MODE_LINK ||
	    (mode == MODE_FILE && format != ZNGX_UPSTREAM)))
		zdiex(EX_USAGE,
		    "--weight needs --format upstream or --haproxy");
	if (watch_sec > 0 && no_reload)
		zdiex(EX_USAGE, "--watch needs a reload");
	if (access_log != NULL && mode == MODE_HAPROXY)
		zdiex(EX_USAGE, "--access-log goes with nginx, not --haproxy");
	if (watch_sec > 0 && mode != MODE_HAPROXY && access_log == NULL &&
	    probe == NULL)
		zdiex(EX_USAGE, "--watch with nginx needs --access-log or "
		    "--probe: nothing to watch");
	if (access_log != NULL && watch_sec <= 0)
		zdiex(EX_USAGE, "--access-log goes with --watch");
	if (access_log != NULL &&
	    (logfd = open(access_log, O_RDONLY | O_CLOEXEC)) == -1)
		zdie(zexit_errno(errno), "cannot open %s", access_log);
	if (mode == MODE_LINK && !*available)
		zdiex(EX_USAGE, "--available: empty");

	/*
	 * With a deploy root, a change is recorded in its event log, under
	 * its lock (or the lock a whole deploy holds through zdd-lock):
	 * taken before anything changes, so that 75 changes nothing.
	 */
	if (zroot_arg(rootarg) != NULL && strcmp(op, "status") != 0 &&
	    strcmp(op, "idle") != 0 && !zopt.dry_run) {
		const char *rp = zroot_arg(rootarg);

		if (zroot_open(&root, rp, 0) == -1)
			zdie(zexit_errno(errno), "cannot open deploy root %s",
			    rp);
		if (zlock_wait(&lock_wait) == -1)
			zdiex(EX_USAGE, "ZDD_LOCK_WAIT: not a number of "
			    "seconds");
		if (zroot_lock(&root, lock_wait) == -1)
			exit(zroot_lock_report(&root));
		have_root = 1;
	}
	/* A dead reader of our stdout must not kill us between two steps. */
	signal(SIGPIPE, SIG_IGN);
	switch (mode) {
	case MODE_FILE:
		live = switch_file(op);
		break;
	case MODE_LINK:
		live = switch_link(op);
		break;
	default:
		live = switch_haproxy(op);
		break;
	}
	if (strcmp(op, "idle") == 0) {
		res.action = "idle";
		res.live = live == 0 ? 1 : 0;
	}
	record();
	result();
	free(cur.data);
	free(opbuf);
	if (cur.dirfd != -1)
		close(cur.dirfd);
	return exit_code;
}
