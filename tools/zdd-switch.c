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
 *
 * Each of the three places is a mode, a table of what differs (where
 * the backend is read and how a switch is made); the steps around it
 * (the operand, the guard, the watch, the record) are written once.
 * nginx is driven through lib/nginxctl, HAProxy through lib/haproxy,
 * the watch is lib/watch.  No state is at file scope: signals are
 * recorded by lib/proc, everything else is in struct sw.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
#include "nginxctl.h"
#include "opt.h"
#include "proc.h"
#include "reach.h"
#include "watch.h"

enum { OPT_AVAILABLE = 256, OPT_BACKEND, OPT_DRAIN, OPT_FORCE, OPT_FORMAT,
    OPT_HAPROXY, OPT_JSON, OPT_LOCK_WAIT, OPT_MAINT, OPT_NGINX,
    OPT_NGINX_ARG, OPT_NO_RELOAD, OPT_PID_FILE, OPT_PROBE, OPT_RELOAD_CMD,
    OPT_STICKY, OPT_TIMEOUT, OPT_UPSTREAM, OPT_VAR, OPT_WATCH, OPT_WEIGHT,
    OPT_ACCESS_LOG, OPT_MAX_5XX };

/* What the operand asks. */
enum { OP_STATUS, OP_IDLE, OP_FLIP, OP_TARGET, OP_WEIGHT };

#define TARGETS_MAX	16
#define ARGS_MAX	32
#define INC_MAX		(1 << 20)
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

/* What the run did, for the result line, --json and the event log. */
struct result {
	const char *action;
	int	 live, previous;	/* target indexes, -1 for none */
	int	 changed;
	double	 t0;			/* when the switch began */
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
};

struct sw;

/*
 * A mode: where the live backend is named and how a switch is made.
 * read() says which target is live (-1: none), and for status and idle
 * dies when that cannot be told; nolive() says why none is; put() moves
 * the traffic from live to `to` (to a canary, for --weight).
 */
struct mode {
	const char *name;
	const char *(*path)(const struct sw *);
	int	(*read)(struct sw *);
	void	(*nolive)(const struct sw *, char *, size_t);
	void	(*put)(struct sw *, int live, int to);
};

/* What HAProxy said of each target's server. */
struct hap_seen {
	int	 present[TARGETS_MAX];
	int	 state[TARGETS_MAX];
	int	 weight[TARGETS_MAX];	/* -1: unknown */
	int	 canary;
};

struct sw {
	const struct mode *m;
	int	 op;			/* OP_* */
	const char *opname;		/* the operand, a target's name ... */
	char	*opbuf;			/* the operand read from stdin */
	struct target targets[TARGETS_MAX];
	size_t	 ntargets;
	/* nginx: the file or the link, and nginx itself. */
	const char *file, *linkpath, *available;
	int	 format, fileset, nginxset;
	const char *var, *upstream, *nginx;
	const char *nginx_args[ARGS_MAX];
	char	*nginx_words[ARGS_MAX], *nginx_copy;
	struct zngx_inc inc;		/* the file as read */
	int	 known;			/* the file or link is one of ours */
	int	 availfd;
	const char *access_log;
	int	 logfd;
	off_t	 log_off;
	struct zngx_ctl ngx;
	/* HAProxy. */
	struct zhap hap;
	struct hap_seen seen;
	int	 maint;
	/* Every mode. */
	int	 force, drain;
	double	 drain_sec, lock_wait, watch_sec, max5xx;
	const char *probe;		/* --probe URL, checked by zdd-health */
	int	 wt;			/* --weight NAME=PCT: NAME, or -1 */
	unsigned wt_pct;
	const char *wt_arg, *sticky;
	const char *rootarg;		/* -r ROOT: its event log hears of us */
	struct zroot root;
	int	 have_root;
	struct saved cur;		/* the file, link or socket's dir */
	int	 exit_code;		/* EX_NODRAIN after no drain ... */
	struct result res;
};

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

static int
readonly(const struct sw *s)
{
	return s->op == OP_STATUS || s->op == OP_IDLE;
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

static int
find_target(const struct sw *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->ntargets; i++)
		if (strcmp(s->targets[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The target an include file's address names: by address, else by name. */
static int
target_of_addr(const struct sw *s, const char *addr)
{
	size_t i;

	for (i = 0; i < s->ntargets; i++)
		if (strcmp(s->targets[i].addr, addr) == 0)
			return (int)i;
	return find_target(s, addr);
}

static const char *
tname(const struct sw *s, int t)
{
	return t >= 0 ? s->targets[t].name : "nothing";
}

static void
add_target(struct sw *s, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct target *t;

	if (s->ntargets == TARGETS_MAX)
		zdiex(EX_USAGE, "-t %s: at most %d targets", arg, TARGETS_MAX);
	t = &s->targets[s->ntargets];
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
	if (find_target(s, t->name) != -1)
		zdiex(EX_USAGE, "-t %s: target %s given twice", arg, t->name);
	s->ntargets++;
}

static double
seconds(const char *opt, const char *arg, int positive)
{
	double v;

	if (zparse_seconds(arg, &v) == -1 || (positive && v <= 0))
		zdiex(EX_USAGE, "%s %s: not a number of seconds", opt, arg);
	return v;
}

/* The options of nginx's modes; 0 for any other. */
static int
nginx_option(struct sw *s, int c, char *arg)
{
	switch (c) {
	case 'a':
		s->available = arg;
		break;
	case 'f':
		s->file = arg;
		s->fileset = 1;
		break;
	case 'l':
		s->linkpath = arg;
		break;
	case OPT_ACCESS_LOG:
		s->access_log = arg;
		break;
	case OPT_FORMAT:
		if (strcmp(arg, "set") == 0)
			s->format = ZNGX_SET;
		else if (strcmp(arg, "upstream") == 0)
			s->format = ZNGX_UPSTREAM;
		else
			zdiex(EX_USAGE, "--format %s: not set or upstream",
			    arg);
		break;
	case OPT_NGINX:
		s->nginx = arg;
		s->nginxset = 1;
		break;
	case OPT_NGINX_ARG:
		if (s->ngx.nargs == ARGS_MAX)
			zdiex(EX_USAGE, "--nginx-arg: at most %d", ARGS_MAX);
		s->nginx_args[s->ngx.nargs++] = arg;
		s->nginxset = 1;
		break;
	case OPT_NO_RELOAD:
		s->ngx.no_reload = 1;
		break;
	case OPT_PID_FILE:
		s->ngx.pid_file = arg;
		break;
	case OPT_RELOAD_CMD:
		s->ngx.reload_cmd = arg;
		break;
	case OPT_STICKY:
		if (!zngx_key_valid(arg))
			zdiex(EX_USAGE, "--sticky %s: not a variable "
			    "($remote_addr, $cookie_NAME ...)", arg);
		s->sticky = arg;
		break;
	case OPT_TIMEOUT:
		s->ngx.timeout = seconds("--timeout", arg, 1);
		break;
	case OPT_UPSTREAM:
		s->upstream = arg;
		break;
	case OPT_VAR:
		s->var = arg[0] == '$' ? arg + 1 : arg;
		break;
	default:
		return 0;
	}
	return 1;
}

/* Every other option; 0 for none of them. */
static int
option(struct sw *s, int c, char *arg)
{
	char *end;

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
		s->rootarg = arg;
		break;
	case 't':
		add_target(s, arg);
		break;
	case 'v':
		zverbose = 1;
		break;
	case 'V':
		zversion();
		break;
	case OPT_BACKEND:
		s->hap.backend = arg;
		break;
	case OPT_DRAIN:
		s->drain = 1;
		if (arg != NULL && zparse_seconds(arg, &s->drain_sec) == -1)
			zdiex(EX_USAGE, "--drain=%s: not a number of seconds",
			    arg);
		break;
	case OPT_FORCE:
		s->force = 1;
		break;
	case OPT_HAPROXY:
		s->hap.socket = arg;
		break;
	case OPT_JSON:
		zopt.json = 1;
		break;
	case OPT_LOCK_WAIT:
		s->lock_wait = seconds("--lock-wait", arg, 0);
		break;
	case OPT_MAINT:
		s->maint = 1;
		break;
	case OPT_MAX_5XX:
		errno = 0;
		s->max5xx = strtod(arg, &end);
		if (errno != 0 || end == arg || *end != '\0' ||
		    !(s->max5xx >= 0 && s->max5xx <= 100))
			zdiex(EX_USAGE, "--max-5xx %s: not a percentage from 0 "
			    "to 100", arg);
		break;
	case OPT_PROBE:
		s->probe = arg;
		break;
	case OPT_WATCH:
		s->watch_sec = seconds("--watch", arg, 1);
		break;
	case OPT_WEIGHT:
		s->wt_arg = arg;
		break;
	default:
		return nginx_option(s, c, arg);
	}
	return 1;
}

/* --nginx 'sudo -n nginx': words split on blanks, no quoting. */
static void
split_nginx(struct sw *s)
{
	char *w, *save = NULL;
	size_t n = 0;

	s->nginx_copy = xstrdup(s->nginx);
	for (w = strtok_r(s->nginx_copy, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save)) {
		if (n == ARGS_MAX)
			zdiex(EX_USAGE, "--nginx %s: too many words", s->nginx);
		s->nginx_words[n++] = w;
	}
	if (n == 0)
		zdiex(EX_USAGE, "--nginx: empty");
	s->ngx.words = s->nginx_words;
	s->ngx.nwords = n;
	s->ngx.args = s->nginx_args;
}

/* The operand: status, idle, flip, a target, "-" (stdin) or --weight. */
static void
operand(struct sw *s, int argc, char *argv[])
{
	const char *op = argc == 1 ? argv[0] : "status", *eq;
	char name[65];
	uint64_t pct;

	if (s->wt_arg != NULL && argc == 1)
		zdiex(EX_USAGE, "--weight takes no operand: it gives a share "
		    "to its target and keeps the live one");
	if (s->sticky != NULL && s->wt_arg == NULL)
		zdiex(EX_USAGE, "--sticky goes with --weight");
	/* "-" reads the operand from stdin: zdd-switch idle | zdd-switch -. */
	if (strcmp(op, "-") == 0) {
		if ((s->opbuf = zoperand(op)) == NULL)
			zdie(EX_USAGE, "cannot read a target from stdin");
		s->opbuf[strcspn(s->opbuf, " \t")] = '\0';
		op = s->opbuf;
	}
	if (s->ntargets == 0) {
		add_target(s, "blue=127.0.0.1:8081");
		add_target(s, "green=127.0.0.1:8082");
	}
	s->opname = op;
	s->op = strcmp(op, "status") == 0 ? OP_STATUS : strcmp(op, "idle") ==
	    0 ? OP_IDLE : strcmp(op, "flip") == 0 ? OP_FLIP : OP_TARGET;
	if (s->op == OP_TARGET && s->wt_arg == NULL &&
	    find_target(s, op) == -1)
		zdiex(EX_USAGE, "%s: not status, idle, flip or a target", op);
	if (s->wt_arg != NULL) {
		eq = strrchr(s->wt_arg, '=');
		if (eq == NULL || (size_t)(eq - s->wt_arg) >= sizeof name ||
		    zparse_uint(eq + 1, 0, 100, &pct) == -1)
			zdiex(EX_USAGE, "--weight %s: not NAME=PCT, PCT from 0 "
			    "to 100", s->wt_arg);
		snprintf(name, sizeof name, "%.*s", (int)(eq - s->wt_arg),
		    s->wt_arg);
		if ((s->wt = find_target(s, name)) == -1)
			zdiex(EX_USAGE, "--weight %s: %s is no target",
			    s->wt_arg, name);
		s->wt_pct = (unsigned)pct;
		s->op = OP_WEIGHT;
		s->opname = "--weight";
	}
	if ((s->op == OP_IDLE || s->op == OP_FLIP) && s->ntargets != 2)
		zdiex(EX_USAGE, "%s needs exactly two targets", op);
}

static const struct mode file_mode, link_mode, haproxy_mode;

/* The mode, and the options that do not go together. */
static void
check_mode(struct sw *s)
{
	int nginx = 1;

	if ((s->linkpath == NULL) != (s->available == NULL))
		zdiex(EX_USAGE, "--link and --available go together");
	if ((s->hap.socket == NULL) != (s->hap.backend == NULL))
		zdiex(EX_USAGE, "--haproxy and --backend go together");
	s->m = s->linkpath != NULL ? &link_mode : &file_mode;
	if (s->hap.socket != NULL) {
		if (s->m == &link_mode)
			zdiex(EX_USAGE, "--haproxy and --link exclude each "
			    "other");
		s->m = &haproxy_mode;
		nginx = 0;
	}
	if (s->fileset && s->m != &file_mode)
		zdiex(EX_USAGE,
		    "--file goes with neither --link nor --haproxy");
	if (!nginx && (s->nginxset || s->ngx.reload_cmd || s->ngx.no_reload))
		zdiex(EX_USAGE, "--haproxy needs no nginx and no reload");
	if (nginx && s->maint)
		zdiex(EX_USAGE, "--maint goes with --haproxy");
	if (s->ngx.reload_cmd != NULL && s->ngx.no_reload)
		zdiex(EX_USAGE, "--reload-cmd and --no-reload exclude each "
		    "other");
	if (s->drain && s->ngx.no_reload)
		zdiex(EX_USAGE, "--drain needs a reload");
	if (!zngx_name_valid(s->var))
		zdiex(EX_USAGE, "--var %s: not a variable name", s->var);
	if (!zngx_name_valid(s->upstream))
		zdiex(EX_USAGE, "--upstream %s: not an upstream name",
		    s->upstream);
	if (s->hap.backend != NULL && (strlen(s->hap.backend) > 64 ||
	    strcspn(s->hap.backend, " /\t\n;") != strlen(s->hap.backend) ||
	    !*s->hap.backend))
		zdiex(EX_USAGE, "--backend %s: not a backend name",
		    s->hap.backend);
	if (s->wt_arg != NULL && (s->m == &link_mode ||
	    (s->m == &file_mode && s->format != ZNGX_UPSTREAM)))
		zdiex(EX_USAGE,
		    "--weight needs --format upstream or --haproxy");
	if (s->m == &link_mode && !*s->available)
		zdiex(EX_USAGE, "--available: empty");
}

/* --watch and what it reads. */
static void
check_watch(struct sw *s)
{
	int nginx = s->m != &haproxy_mode;

	if (s->watch_sec > 0 && s->ngx.no_reload)
		zdiex(EX_USAGE, "--watch needs a reload");
	if (s->access_log != NULL && !nginx)
		zdiex(EX_USAGE, "--access-log goes with nginx, not --haproxy");
	if (s->watch_sec > 0 && nginx && s->access_log == NULL &&
	    s->probe == NULL)
		zdiex(EX_USAGE, "--watch with nginx needs --access-log or "
		    "--probe: nothing to watch");
	if (s->access_log != NULL && s->watch_sec <= 0)
		zdiex(EX_USAGE, "--access-log goes with --watch");
	if (s->access_log != NULL && (s->logfd = open(s->access_log,
	    O_RDONLY | O_CLOEXEC)) == -1)
		zdie(zexit_errno(errno), "cannot open %s", s->access_log);
}

static void
parse_options(struct sw *s, int argc, char *argv[])
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
	int c;

	if (zenv_seconds("ZDD_RELOAD_WAIT", &s->ngx.spawn_wait) == -1 ||
	    s->ngx.spawn_wait <= 0)
		zdiex(EX_USAGE, "ZDD_RELOAD_WAIT: not a number of seconds");
	while ((c = getopt_long(argc, argv, "a:f:hl:nqr:t:vV", longopts,
	    NULL)) != -1)
		if (!option(s, c, optarg))
			usage(EX_USAGE);
	argc -= optind;
	argv += optind;
	split_nginx(s);
	if (argc > 1)
		usage(EX_USAGE);
	operand(s, argc, argv);
	check_mode(s);
	check_watch(s);
}

/*
 * With a deploy root, a change is recorded in its event log, under its
 * lock (or the lock a whole deploy holds through zdd-lock): taken before
 * anything changes, so that 75 changes nothing.
 */
static void
open_root(struct sw *s)
{
	const char *rp = zroot_arg(s->rootarg);

	if (rp == NULL || readonly(s) || zopt.dry_run)
		return;
	if (zroot_open(&s->root, rp, 0) == -1)
		zdie(zexit_errno(errno), "cannot open deploy root %s", rp);
	if (zlock_wait(&s->lock_wait) == -1)
		zdiex(EX_USAGE, "ZDD_LOCK_WAIT: not a number of seconds");
	if (zroot_lock(&s->root, s->lock_wait) == -1)
		exit(zroot_lock_report(&s->root));
	s->have_root = 1;
}

static void
result(struct sw *s)
{
	const struct result *r = &s->res;
	const char *name = r->live >= 0 ? s->targets[r->live].name : NULL;
	const char *addr = r->live >= 0 ? s->targets[r->live].addr : NULL;
	json_t *o;

	if (!zopt.json) {
		if (name != NULL)
			printf("%s %s\n", name, addr);
		if (fflush(stdout) == EOF)
			zdie(EX_IOERR, "stdout");
		return;
	}
	o = json_pack("{s:s s:s s:s? s:s? s:s? s:b s:b}", "action", r->action,
	    "mode", s->m->name, "name", name, "addr", addr, "previous",
	    r->previous >= 0 ? s->targets[r->previous].name : NULL,
	    "changed", r->changed, "dry_run", zopt.dry_run);
	if (r->canary >= 0)
		json_object_set_new(o, "canary", xnonnull(json_pack(
		    "{s:s s:s s:i}", "name", s->targets[r->canary].name,
		    "addr", s->targets[r->canary].addr, "percent",
		    (int)r->percent)));
	if (r->watched)
		json_object_set_new(o, "watch", xnonnull(json_pack(
		    "{s:f s:I s:I s:b}", "seconds", s->watch_sec,
		    "answers", (json_int_t)r->w_total, "5xx",
		    (json_int_t)r->w_5xx, "rolled_back", r->rolled_back)));
	if (strcmp(r->action, "switch") == 0) {
		json_object_set_new(o, "seconds", json_real(r->seconds));
		if (r->drain_seconds >= 0) {
			json_object_set_new(o, "drain_seconds",
			    json_real(r->drain_seconds));
			json_object_set_new(o, "drained",
			    json_boolean(r->drained));
		}
	}
	if (zjson_print(o) == -1 || fflush(stdout) == EOF)
		zdie(EX_IOERR, "stdout");
}

/*
 * The event log of -r ROOT: "switch" (a backend took every client),
 * "canary" (a share) and "watch" (what a watch counted, and whether it
 * switched back).  A switch that happened but could not be recorded is
 * said, and exit 74.
 */
static void
record(struct sw *s)
{
	const struct result *r = &s->res;
	const struct target *t = s->targets;
	const char *m = s->m->name;
	int rc = 0;

	if (!s->have_root || (!r->changed && !r->watched))
		return;
	if (r->watched)
		rc = zevent_append(&s->root, "watch", json_pack("{s:s s:s s:I "
		    "s:I s:b s:s}", "backend", t[r->watched_target].name,
		    "addr", t[r->watched_target].addr, "answers",
		    (json_int_t)r->w_total, "5xx", (json_int_t)r->w_5xx,
		    "rolled_back", r->rolled_back, "mode", m));
	if (rc == 0 && r->changed && !r->rolled_back && r->canary >= 0)
		rc = zevent_append(&s->root, "canary", json_pack("{s:s s:s s:i "
		    "s:s s:s}", "backend", t[r->canary].name, "addr",
		    t[r->canary].addr, "percent", (int)r->percent,
		    "main", t[r->live].name, "mode", m));
	else if (rc == 0 && r->changed && !r->rolled_back && r->live >= 0)
		rc = zevent_append(&s->root, "switch", json_pack("{s:s s:s "
		    "s:s? s:s}", "backend", t[r->live].name, "addr",
		    t[r->live].addr, "from", r->previous >= 0 ?
		    t[r->previous].name : NULL, "mode", m));
	if (rc == -1) {
		zerr("cannot record the switch in %s/.zdd/events.jsonl",
		    s->root.path);
		if (s->exit_code == 0)
			s->exit_code = EX_IOERR;
	}
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
restore(struct saved *sv)
{
	int rc;

	if (!sv->exists)
		rc = unlinkat(sv->dirfd, sv->base, 0) == -1 &&
		    errno != ENOENT ? -1 : zfsync_dir(sv->dirfd);
	else if (sv->is_link)
		rc = zsymlink_replace(sv->dirfd, sv->base, sv->data);
	else
		rc = zfile_replace(sv->dirfd, sv->base, sv->data, sv->len,
		    sv->mode, sv->uid, sv->gid);
	if (rc == -1)
		zerr("cannot put the old %s back", sv->base);
	else
		zdebug("the old %s is back", sv->base);
}

/*
 * Open path's directory and the name within it into s->cur, locked when
 * the run may change it (reading the live backend needs no lock).
 */
static void
open_locked(struct sw *s, const char *path)
{
	struct saved *sv = &s->cur;
	char *c1 = xstrdup(path), *c2 = xstrdup(path);
	const char *dir = dirname(c1);

	snprintf(sv->base, sizeof sv->base, "%s", basename(c2));
	if (strcmp(sv->base, "/") == 0 || strcmp(sv->base, ".") == 0 ||
	    strcmp(sv->base, "..") == 0)
		zdiex(EX_USAGE, "%s: not a file name", path);
	sv->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sv->dirfd == -1)
		zdie(zexit_errno(errno), "cannot open %s", dir);
	/*
	 * The lock is on the directory itself, so nothing is ever created
	 * where nginx reads its configuration.  A dry run changes nothing
	 * and needs no lock.
	 */
	if (!readonly(s) && !zopt.dry_run) {
		if (zlock_wait(&s->lock_wait) == -1)
			zdiex(EX_USAGE, "ZDD_LOCK_WAIT: not a number of "
			    "seconds");
		if (zlock_fd(sv->dirfd, s->lock_wait) == -1) {
			if (errno == EWOULDBLOCK)
				zdiex(EX_TEMPFAIL, "%s: another switch holds "
				    "the lock on %s", path, dir);
			zdie(zexit_errno(errno), "cannot lock %s", dir);
		}
		/* A switch killed before its rename left its temporary. */
		(void)zsweep_tmp(sv->dirfd, sv->base);
		/*
		 * From here on a signal is recorded, and acted on at the
		 * next step: whatever was changed is put back first, then
		 * zdd-switch dies of it.  Before the lock, nothing had
		 * changed and it may kill us.
		 */
		zsig_catch();
	}
	free(c1);
	free(c2);
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
probe_once(const char *url, char *why, size_t size)
{
	char *h = health_path(), *last, *nl;
	const char *argv[] = { h, "--attempts", "1", "-t", "2", url, NULL };
	struct zrun r = { .timeout = 10, .out_max = 64 << 10 };
	int rc, e;

	rc = zrun((char *const *)argv, &r);
	e = errno;
	free(h);
	if (rc == 0) {
		free(r.out);
		return 0;
	}
	if (r.out == NULL)
		r.out = xstrdup("");
	/* Its last line, without its "zdd-health: " prefix. */
	while ((nl = strrchr(r.out, '\n')) != NULL && nl[1] == '\0')
		*nl = '\0';
	last = (nl = strrchr(r.out, '\n')) != NULL ? nl + 1 : r.out;
	if (strncmp(last, "zdd-health: ", 12) == 0)
		last += 12;
	if (rc == -1 && e == EINTR)
		snprintf(why, size, "interrupted");
	else if (*last == '\0')
		snprintf(why, size, "zdd-health exited %d", rc);
	else
		snprintf(why, size, "%s", last);
	free(r.out);
	return -1;
}

/*
 * The guard before every switch: the target about to take traffic must
 * answer now (a connection to its ADDR, or --probe), or nothing changes
 * and zdd-switch exits 1.  A failed deploy's "flip back" to a dead
 * colour is the case it exists for.
 */
static void
guard(const struct sw *s, int to)
{
	const struct target *t = &s->targets[to];
	const char *at = s->probe != NULL ? s->probe : t->addr;
	char why[512];
	int rc;

	if (s->force) {
		zdebug("%s not checked, as --force asks", t->name);
		return;
	}
	if (s->probe != NULL)
		rc = probe_once(s->probe, why, sizeof why);
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

/* The watch's probe: --probe, its failure said as the watch says it. */
static int
watch_probe(void *arg, char *why, size_t size)
{
	const struct sw *s = arg;
	char buf[512];

	if (probe_once(s->probe, buf, sizeof buf) == 0)
		return 0;
	snprintf(why, size, "--probe %s failed: %s", s->probe, buf);
	return -1;
}

/*
 * --watch: the new backend (t) under real traffic for watch_sec seconds,
 * the old one still running, counted from the access log (nginx) or
 * HAProxy's counters.  0 when it held; 1 when it did not (why says why);
 * -1 when a signal came.  The counts go to s->res for --json.
 */
static int
watch(struct sw *s, int t, char *why, size_t size)
{
	struct zwatch w = { .name = s->targets[t].name,
	    .addr = s->targets[t].addr, .seconds = s->watch_sec,
	    .max5xx = s->max5xx, .logfd = s->logfd, .off = s->log_off,
	    .hap = s->m == &haproxy_mode ? &s->hap : NULL,
	    .probe = s->probe != NULL ? watch_probe : NULL, .arg = s };
	int rc;

	s->res.watched_target = t;
	zinfo("watching %s for %g s (at most %g%% 5xx)", w.name, s->watch_sec,
	    s->max5xx);
	if ((rc = zwatch_run(&w)) == -1)
		return -1;
	s->res.watched = 1;
	s->res.w_total = w.total;
	s->res.w_5xx = w.c5xx;
	snprintf(why, size, "%s", w.why);
	if (rc == 0 && w.total == 0 && (w.hap != NULL || w.logfd != -1))
		zwarnx("watched %s for %g s: no answer from it came (no "
		    "traffic, or the access log is not in the format of "
		    "zdd-switch(1))", w.name, s->watch_sec);
	else if (rc == 0)
		zinfo("watched %s for %g s: %ld of %ld answers 5xx", w.name,
		    s->watch_sec, w.c5xx, w.total);
	return rc;
}

/* A recorded signal: put the old file or link back and die of it. */
static void
check_signal(struct sw *s, const char *what)
{
	if (zsig_pending()) {
		restore(&s->cur);
		die_restored(what);
	}
}

/*
 * nginx may have loaded the new file (a reload was asked for, or may
 * have been): the old one goes back and nginx reloads once more, so
 * that whichever it was, nginx ends serving what the disk says.  0 when
 * that second reload was asked for.
 */
static int
undo_reload(struct sw *s, const char *what)
{
	char *out;
	int rc;

	restore(&s->cur);
	rc = zngx_reload(&s->ngx, &out);
	if (rc != 0) {
		zerrx("cannot reload nginx again after putting the old %s "
		    "back%s", what, out != NULL && *out ? ":" : "");
		zrelay(out);
	}
	free(out);
	return rc;
}

/* Why nginx -t failed, and the exit code that says it; never returns. */
static _Noreturn void
test_failed(const struct sw *s, int rc, int e, char *out, const char *what)
{
	switch (zngx_test_verdict(rc, e, out)) {
	case ZNGX_T_TIMEOUT:
		zdiex(EX_UNAVAILABLE, "nginx -t did not finish within %g s and "
		    "was killed (--timeout), %s is as it was", s->ngx.timeout,
		    what);
	case ZNGX_T_NORUN:
		errno = e;
		zdie(EX_UNAVAILABLE, "cannot run %s, %s is as it was",
		    s->nginx, what);
	case ZNGX_T_EXEC:
		zrelay(out);
		zdiex(EX_UNAVAILABLE, "cannot run %s (%s %d), %s is as it was",
		    s->nginx, rc == 127 ? "exit" : "signal",
		    rc == 127 ? rc : rc - 128, what);
	case ZNGX_T_NOPERM:
		zerrx("nginx -t could not run as this user (not a refusal of "
		    "the configuration), %s is as it was:", what);
		zrelay(out);
		exit(EX_NOPERM);
	default:
		zerrx("nginx -t refused the new configuration, %s is as it "
		    "was:", what);
		zrelay(out);
		exit(EX_CONFIG);
	}
}

/* nginx -t on the new file or link; whatever fails puts the old back. */
static void
nginx_test(struct sw *s, const char *what)
{
	char *out;
	int rc, e;

	check_signal(s, what);
	s->ngx.syncfd = s->cur.dirfd;
	rc = zngx_test(&s->ngx, &out);
	if (rc != 0) {
		e = errno;
		restore(&s->cur);
		if (rc == -1 && e == EINTR)
			die_restored(what);
		test_failed(s, rc, e, out, what);
	}
	if (zverbose)
		zrelay(out);
	free(out);
	if (s->ngx.sync_errno != 0) {
		restore(&s->cur);
		zdiex(zexit_errno(s->ngx.sync_errno), "cannot sync the "
		    "directory of %s, it is as it was: %s", what,
		    strerror(s->ngx.sync_errno));
	}
	if (s->ngx.workers_errno != 0) {
		restore(&s->cur);
		zdiex(zexit_errno(s->ngx.workers_errno), "cannot list the "
		    "workers of nginx (pid %d), %s is as it was: %s",
		    (int)s->ngx.master, what, strerror(s->ngx.workers_errno));
	}
}

/* The reload; one killed half way is undone, one refused too. */
static void
nginx_reload(struct sw *s, const char *what)
{
	char *out;
	int rc, e;

	/* --watch reads the access log from here on. */
	if (s->logfd != -1)
		s->log_off = lseek(s->logfd, 0, SEEK_END);
	if ((rc = zngx_reload(&s->ngx, &out)) == 0) {
		free(out);
		return;
	}
	e = errno;
	if (rc == -1 && (e == EINTR || e == ETIMEDOUT)) {
		/* Killed half way: nginx may have the new file. */
		free(out);
		rc = undo_reload(s, what);
		if (e == EINTR)
			die_restored(what);
		zdiex(EX_UNAVAILABLE, "the reload did not finish within %g s "
		    "and was killed (--timeout), %s is as it was%s",
		    s->ngx.timeout, what, rc == 0 ?
		    " and nginx was told to reload it" : "");
	}
	restore(&s->cur);
	zerrx("cannot reload nginx%s, %s is as it was%s",
	    s->ngx.reload_cmd ? " with --reload-cmd" : "", what,
	    out != NULL && *out ? ":" : "");
	zrelay(out);
	free(out);
	exit(EX_UNAVAILABLE);
}

/*
 * --watch with nginx: when the new backend fails, the old file goes
 * back and nginx reloads it; -1 then, exit 1, the counts said.
 */
static int
watch_nginx(struct sw *s, const char *what)
{
	char why[1024];
	int rc;

	if (s->watch_sec <= 0)
		return 0;
	rc = watch(s, s->res.canary >= 0 ? s->res.canary : s->res.live, why,
	    sizeof why);
	if (rc == 0)
		return 0;
	if (rc == -1) {
		(void)undo_reload(s, what);
		die_restored(what);
	}
	rc = undo_reload(s, what);
	s->res.rolled_back = 1;
	s->res.live = s->res.previous;
	s->res.canary = -1;
	zerrx("watch: %s; %s is as it was%s", why, what, rc == 0 ?
	    " and nginx was told to reload it" : "");
	s->exit_code = EX_NO;
	return -1;
}

static void
drain_workers(struct sw *s)
{
	double t0 = znow();
	int left, nold = s->ngx.nold;

	left = zngx_drain(&s->ngx, t0 + s->drain_sec);
	s->res.drain_seconds = znow() - t0;
	if (left == -1 && errno == EINTR) {
		zerrx("interrupted by %s while draining: switched, but the old "
		    "nginx workers may still serve requests",
		    signame(zsig_pending()));
		zsig_die();
	}
	if (left == -1)
		zdie(EX_OSERR, "cannot wait for the old nginx workers");
	s->res.drained = left == 0;
	if (s->res.drained)
		zinfo("drained: the %d old nginx worker%s exited in %.3f s",
		    nold, nold == 1 ? "" : "s", s->res.drain_seconds);
	else {
		zerrx("drain timed out after %.3f s: %d old nginx worker%s "
		    "still running", s->res.drain_seconds, left,
		    left == 1 ? " is" : "s are");
		s->exit_code = EX_NODRAIN;
	}
}

/* No master to watch: the reload was asked for, no more can be said. */
static void
nginx_no_master(struct sw *s, const char *what)
{
	zinfo("%s in %.3f s", s->res.done, s->res.seconds);
	if (watch_nginx(s, what) != 0)
		return;
	if (s->drain) {
		zerrx("cannot drain: %s names no running nginx master, so its "
		    "old workers cannot be watched", s->ngx.pid_file);
		s->exit_code = EX_NODRAIN;
	} else
		zwarnx("%s names no running nginx master: cannot wait for its "
		    "new workers", s->ngx.pid_file);
}

/*
 * Validate, reload, wait for the new workers, watch and drain: the part
 * that nginx's two modes share.  The new file or link is in place;
 * s->cur holds the old one.
 */
static void
nginx_apply(struct sw *s, const char *what)
{
	int fresh, rc;

	nginx_test(s, what);
	if (s->ngx.no_reload) {
		s->res.seconds = znow() - s->res.t0;
		zinfo("%s in %.3f s", s->res.done, s->res.seconds);
		return;
	}
	check_signal(s, what);
	nginx_reload(s, what);
	s->res.seconds = znow() - s->res.t0;
	if (s->ngx.master == -1) {
		nginx_no_master(s, what);
		return;
	}
	fresh = zngx_new_workers(&s->ngx);
	s->res.seconds = znow() - s->res.t0;
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
		    "error log); %s is as it was%s", (int)s->ngx.master,
		    s->ngx.spawn_wait, what, rc == 0 ?
		    " and nginx was told to reload it" : "");
	}
	zdebug("nginx (pid %d) started %d new worker%s in %.3f s",
	    (int)s->ngx.master, fresh, fresh == 1 ? "" : "s", s->res.seconds);
	s->res.old_workers = s->ngx.nold;
	zinfo("%s in %.3f s", s->res.done, s->res.seconds);
	if (watch_nginx(s, what) == 0 && s->drain)
		drain_workers(s);
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

static void
refused(const struct sw *s, const char *path, const char *why)
{
	if (!s->force)
		zdiex(EX_DATAERR, "%s: %s; left alone (--force overwrites it)",
		    path, why);
	zwarnx("%s: %s; overwritten, as --force asks", path, why);
}

/* nginx's two modes: a dry run says what it would do, then stops. */
static int
dry_run(struct sw *s, const char *fmt, const char *path, const char *what)
{
	if (!zopt.dry_run)
		return 0;
	zinfo(fmt, path, what, s->ngx.no_reload ? "" : " and reload nginx");
	return 1;
}

/* --- the include file, "set $var" or an upstream block ------------- */

static const char *
file_path(const struct sw *s)
{
	return s->file;
}

static void
file_nolive(const struct sw *s, char *buf, size_t size)
{
	snprintf(buf, size, "%s names no live target", s->file);
}

/*
 * Read the include file into s->cur and say which target it names.
 * Returns the target or -1; s->known is set when zdd can read it.
 */
static int
file_load(struct sw *s)
{
	struct saved *sv = &s->cur;
	struct stat sb;
	int rc;

	s->known = 1;
	sv->mode = 0644;
	if (fstatat(sv->dirfd, sv->base, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno != ENOENT)
			zdie(zexit_errno(errno), "cannot read %s", s->file);
		return -1;
	}
	if (!S_ISREG(sb.st_mode))
		zdiex(EX_DATAERR, "%s: not a regular file, left alone",
		    s->file);
	sv->exists = 1;
	sv->mode = sb.st_mode & 07777;
	sv->uid = sb.st_uid;
	sv->gid = sb.st_gid;
	sv->data = zslurp_at(sv->dirfd, sv->base, INC_MAX, &sv->len);
	if (sv->data == NULL)
		zdie(zexit_errno(errno), "cannot read %s", s->file);
	rc = zngx_parse(sv->data, sv->len, &s->inc);
	if (rc == -1)
		s->known = 0;
	if (rc != 0)
		return -1;
	return target_of_addr(s, s->inc.addr);
}

static int
file_read(struct sw *s)
{
	int live = file_load(s);

	if (s->known && s->inc.canary[0] != '\0' &&
	    (s->res.canary = target_of_addr(s, s->inc.canary)) >= 0)
		s->res.percent = s->inc.canary_weight;
	if (!readonly(s))
		return live;
	if (!s->known)
		zdiex(EX_DATAERR, "%s: not a file zdd-switch can read",
		    s->file);
	if (!s->cur.exists)
		zdiex(EX_NO, "%s does not exist: no live backend", s->file);
	if (live == -1)
		zdiex(EX_NO, "%s names no known target%s%s", s->file,
		    *s->inc.addr ? ": " : "", s->inc.addr);
	return live;
}

/* What the file should say for a switch to `to`; res.done says it. */
static void
file_want(struct sw *s, int live, int to, struct zngx_inc *want)
{
	const struct zngx_inc *inc = &s->inc;
	struct result *r = &s->res;
	const char *f = s->file;

	memset(want, 0, sizeof *want);
	want->format = s->format;
	snprintf(want->name, sizeof want->name, "%s",
	    s->format == ZNGX_SET ? s->var : s->upstream);
	snprintf(want->addr, sizeof want->addr, "%s", s->targets[to].addr);
	want->keepalive = inc->keepalive ? inc->keepalive : 32;
	if (s->op == OP_WEIGHT && s->wt_pct > 0 && s->wt_pct < 100) {
		snprintf(want->canary, sizeof want->canary, "%s",
		    s->targets[s->wt].addr);
		want->canary_weight = s->wt_pct;
		want->weight = 100 - s->wt_pct;
		snprintf(want->key, sizeof want->key, "%s", s->sticky != NULL ?
		    s->sticky : inc->key[0] != '\0' ? inc->key :
		    "$remote_addr");
		r->canary = s->wt;
		r->percent = s->wt_pct;
		snprintf(r->done, sizeof r->done, "%s: %s takes %u%% of the "
		    "clients, %s the rest", f, tname(s, s->wt), s->wt_pct,
		    tname(s, to));
	} else if (r->canary >= 0 && to == live)
		snprintf(r->done, sizeof r->done, "%s: the canary %s is off, "
		    "%s takes every client", f, tname(s, r->canary),
		    tname(s, to));
	else
		snprintf(r->done, sizeof r->done, "switched %s from %s to %s",
		    f, tname(s, live), tname(s, to));
}

static void
file_put(struct sw *s, int live, int to)
{
	const struct zngx_inc *inc = &s->inc;
	struct zngx_inc want;
	char *data;

	if (!s->known)
		refused(s, s->file, "not a file zdd-switch wrote");
	else if (s->cur.exists && inc->format != 0 && inc->format != s->format)
		refused(s, s->file, s->format == ZNGX_SET ? "an upstream "
		    "block, not --format set" : "a set line, not --format "
		    "upstream");
	else if (s->cur.exists && inc->format != 0 && strcmp(inc->name,
	    s->format == ZNGX_SET ? s->var : s->upstream) != 0)
		refused(s, s->file, s->format == ZNGX_SET ? "sets another "
		    "variable than --var" : "names another upstream than "
		    "--upstream");
	file_want(s, live, to, &want);
	if (live == to && s->known && inc->format == s->format &&
	    strcmp(inc->name, want.name) == 0 &&
	    strcmp(inc->canary, want.canary) == 0 &&
	    inc->canary_weight == want.canary_weight &&
	    strcmp(inc->key, want.key) == 0) {
		zdebug("%s is live already, as asked", tname(s, to));
		return;
	}
	if (s->res.canary >= 0 && want.canary[0] == '\0')
		s->res.canary = -1;
	if ((data = zngx_render(&want, s->targets[to].name)) == NULL)
		zdie(EX_SOFTWARE, "cannot render %s", s->file);
	guard(s, want.canary[0] != '\0' ? s->wt : to);
	s->res.changed = 1;
	if (dry_run(s, "would write %s (%s), check it with nginx -t%s",
	    s->file, s->res.done)) {
		free(data);
		return;
	}
	if (zfile_put(s->cur.dirfd, s->cur.base, data, strlen(data),
	    s->cur.mode, s->cur.uid, s->cur.gid) == -1)
		write_failed(s->file);
	free(data);
	nginx_apply(s, s->file);
}

static const struct mode file_mode = {
	"file", file_path, file_read, file_nolive, file_put
};

/* --- the sites-enabled link --------------------------------------- */

static const char *
link_path(const struct sw *s)
{
	return s->linkpath;
}

static void
link_nolive(const struct sw *s, char *buf, size_t size)
{
	snprintf(buf, size, "%s names no live target", s->linkpath);
}

/*
 * Whether the link's target, buf (modified), is a name in the
 * --available directory (compared by device and inode, so relative and
 * absolute spellings agree); the name in *name.
 */
static int
in_available(struct sw *s, char *buf, char **name)
{
	struct stat ab, db;
	char *slash;
	int fd, ok;

	if ((slash = strrchr(buf, '/')) != NULL) {
		*slash = '\0';
		*name = slash + 1;
		fd = openat(s->cur.dirfd, *buf ? buf : "/",
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		*name = buf;
		fd = dup(s->cur.dirfd);
	}
	ok = fd != -1 && fstat(fd, &db) == 0 && fstat(s->availfd, &ab) == 0 &&
	    db.st_dev == ab.st_dev && db.st_ino == ab.st_ino;
	if (fd != -1)
		close(fd);
	return ok;
}

/*
 * Read the link into s->cur and say which target it names.  Returns the
 * target or -1; s->known is set when the link is one zdd-switch could
 * have made.
 */
static int
link_load(struct sw *s)
{
	struct saved *sv = &s->cur;
	struct stat sb;
	char buf[4096], *name;
	ssize_t n;
	int t;

	s->known = 1;
	if (fstatat(sv->dirfd, sv->base, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno != ENOENT)
			zdie(zexit_errno(errno), "cannot read %s", s->linkpath);
		return -1;
	}
	sv->exists = 1;
	if (!S_ISLNK(sb.st_mode)) {
		/* A plain file: --force may replace it, and restore it. */
		s->known = 0;
		if (!S_ISREG(sb.st_mode))
			zdiex(EX_DATAERR, "%s: not a symlink or file, left "
			    "alone", s->linkpath);
		sv->mode = sb.st_mode & 07777;
		sv->uid = sb.st_uid;
		sv->gid = sb.st_gid;
		sv->data = zslurp_at(sv->dirfd, sv->base, INC_MAX, &sv->len);
		if (sv->data == NULL)
			zdie(zexit_errno(errno), "cannot read %s", s->linkpath);
		return -1;
	}
	n = readlinkat(sv->dirfd, sv->base, buf, sizeof buf - 1);
	if (n == -1)
		zdie(zexit_errno(errno), "cannot read link %s", s->linkpath);
	buf[n] = '\0';
	sv->is_link = 1;
	sv->data = xstrdup(buf);
	sv->len = (size_t)n;
	/* The link's target must be NAME in the --available directory. */
	if (!in_available(s, buf, &name) || (t = find_target(s, name)) == -1) {
		s->known = 0;
		return -1;
	}
	return t;
}

static int
link_read(struct sw *s)
{
	int live;

	/* A relative --available is relative to the link, as ln -s reads. */
	s->availfd = openat(s->cur.dirfd, s->available, O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC);
	if (s->availfd == -1)
		zdie(zexit_errno(errno), "cannot open %s", s->available);
	live = link_load(s);
	if (!readonly(s))
		return live;
	if (!s->cur.exists)
		zdiex(EX_NO, "%s does not exist: no live backend",
		    s->linkpath);
	if (!s->cur.is_link)
		zdiex(EX_DATAERR, "%s: not a symlink", s->linkpath);
	if (live == -1)
		zdiex(EX_NO, "%s -> %s names no known target in %s",
		    s->linkpath, s->cur.data, s->available);
	return live;
}

static void
link_put(struct sw *s, int live, int to)
{
	const char *a = s->available;
	struct stat sb;
	char *target;

	if (s->cur.exists && !s->known)
		refused(s, s->linkpath, s->cur.is_link ? "points outside the "
		    "targets in --available" : "not a symlink");
	if (fstatat(s->availfd, s->targets[to].name, &sb, 0) == -1)
		zdie(EX_NOINPUT, "cannot switch to %s: %s/%s", tname(s, to), a,
		    tname(s, to));
	if (live == to) {
		zdebug("%s is live already", tname(s, to));
		return;
	}
	guard(s, to);
	s->res.changed = 1;
	target = xasprintf("%s%s%s", a, a[strlen(a) - 1] == '/' ? "" : "/",
	    s->targets[to].name);
	if (dry_run(s, "would point %s at %s, check it with nginx -t%s",
	    s->linkpath, target)) {
		free(target);
		return;
	}
	if (zsymlink_put(s->cur.dirfd, s->cur.base, target) == -1)
		write_failed(s->linkpath);
	free(target);
	snprintf(s->res.done, sizeof s->res.done, "switched %s from %s to %s",
	    s->linkpath, tname(s, live), tname(s, to));
	nginx_apply(s, s->linkpath);
}

static const struct mode link_mode = {
	"link", link_path, link_read, link_nolive, link_put
};

/* --- HAProxy's runtime API ---------------------------------------- */

static const char *
hap_path(const struct sw *s)
{
	/* The lock sits on the socket's directory: nothing is left behind. */
	return s->hap.socket;
}

static void
hap_nolive(const struct sw *s, char *buf, size_t size)
{
	snprintf(buf, size, "backend %s has not exactly one ready server "
	    "among the targets", s->hap.backend);
}

/*
 * The live target among the backend's servers: the one ready server, or
 * with a canary two ready ones, the main one being that of the larger
 * weight (the first on a tie); -1 for anything else.
 */
static int
hap_live(struct sw *s, const struct zhap_server *v, int n)
{
	struct hap_seen *h = &s->seen;
	int i, t, ready[2], nready = 0, *w = h->weight;

	h->canary = -1;
	for (i = 0; i < (int)s->ntargets; i++)
		w[i] = -1;
	for (i = 0; i < n; i++) {
		if ((t = find_target(s, v[i].name)) == -1)
			continue;
		h->present[t] = 1;
		h->state[t] = v[i].admin_state;
		w[t] = v[i].weight;
		if ((v[i].admin_state & (ZHAP_MAINT | ZHAP_DRAIN)) == 0 &&
		    nready++ < 2)
			ready[nready - 1] = t;
	}
	if (nready == 1)
		return ready[0];
	if (nready != 2 || w[ready[0]] < 0 || w[ready[1]] < 0 ||
	    w[ready[0]] + w[ready[1]] == 0)
		return -1;
	if (w[ready[1]] > w[ready[0]]) {
		t = ready[0];
		ready[0] = ready[1];
		ready[1] = t;
	}
	h->canary = s->res.canary = ready[1];
	s->res.percent = (unsigned)((w[ready[1]] * 100 + (w[ready[0]] +
	    w[ready[1]]) / 2) / (w[ready[0]] + w[ready[1]]));
	return ready[0];
}

/*
 * A server whose address is not its target's: idle would name a place
 * where HAProxy never sends anyone, and the health check would pass
 * there while the switch sent traffic elsewhere.
 */
static void
hap_check_addrs(const struct sw *s, const struct zhap_server *v, int n)
{
	const char *b = s->hap.backend;
	const struct target *t;
	int i, k;

	for (i = 0; i < n; i++) {
		if ((k = find_target(s, v[i].name)) == -1)
			continue;
		t = &s->targets[k];
		switch (zhap_addr_is(&v[i], t->addr)) {
		case 0:
			if (!s->force)
				zdiex(EX_DATAERR, "HAProxy server %s/%s is at "
				    "%s:%d, not at %s as target %s says; left "
				    "alone (--force goes on all the same)", b,
				    v[i].name, v[i].addr, v[i].port, t->addr,
				    t->name);
			zwarnx("HAProxy server %s/%s is at %s:%d, not at %s; "
			    "going on, as --force asks", b, v[i].name,
			    v[i].addr, v[i].port, t->addr);
			break;
		case -1:
			zdebug("cannot compare %s/%s's address with %s", b,
			    v[i].name, t->addr);
			break;
		}
	}
}

static int
hap_read(struct sw *s)
{
	struct zhap_server *v;
	char first[128];
	int n, live;

	if ((n = zhap_servers(&s->hap, &v, first, sizeof first)) == -1)
		zdie(EX_UNAVAILABLE, "cannot reach HAProxy at %s",
		    s->hap.socket);
	if (n == 0)
		zdiex(EX_DATAERR, "HAProxy at %s: no servers in backend %s%s%s",
		    s->hap.socket, s->hap.backend, *first ? ": " : "", first);
	hap_check_addrs(s, v, n);
	live = hap_live(s, v, n);
	free(v);
	if (readonly(s) && live == -1)
		zdiex(EX_NO, "backend %s has not exactly one ready server "
		    "among the targets (or two, for a canary)", s->hap.backend);
	return live;
}

/*
 * A HAProxy switch is all or nothing: the steps made so far are undone,
 * last first, and zdd-switch exits (or dies of the signal that came).
 * Only a state HAProxy refuses to take back leaves it half switched,
 * and that is said.
 */
static _Noreturn void
hap_abort(struct sw *s, struct zhap_plan *pl)
{
	if (zhap_undo(&s->hap, pl) == -1)
		zdiex(EX_UNAVAILABLE, "HAProxy backend %s is left half "
		    "switched: see the servers above", s->hap.backend);
	if (zsig_pending())
		die_restored("every HAProxy server");
	zdiex(EX_UNAVAILABLE, "no switch: every server of HAProxy backend %s "
	    "is as it was", s->hap.backend);
}

/* One step of a switch: the server of target t, or all undone. */
static void
hap_do(struct sw *s, struct zhap_plan *pl, int t, const char *kind,
    const char *value, const char *was)
{
	if (zsig_pending() || zhap_step(&s->hap, pl, s->targets[t].name, kind,
	    value, was) == -1)
		hap_abort(s, pl);
}

/*
 * --watch through HAProxy: when the watched server fails, the steps of
 * the switch are undone, as for a refused command; exit 1, the counts
 * said.
 */
static void
hap_watch(struct sw *s, struct zhap_plan *pl, int t)
{
	char why[1024];
	int rc;

	if (s->watch_sec <= 0 || (rc = watch(s, t, why, sizeof why)) == 0)
		return;
	if (rc == -1)
		hap_abort(s, pl);
	if (zhap_undo(&s->hap, pl) == -1)
		zdiex(EX_UNAVAILABLE, "watch: %s; and HAProxy backend %s is "
		    "left half switched back: see the servers above", why,
		    s->hap.backend);
	s->res.rolled_back = 1;
	s->res.live = s->res.previous;
	s->res.canary = -1;
	zerrx("watch: %s; every server of HAProxy backend %s is as it was",
	    why, s->hap.backend);
	s->exit_code = EX_NO;
}

static void
hap_drain(struct sw *s, int t)
{
	const char *b = s->hap.backend, *name = s->targets[t].name;
	double d0 = znow(), deadline = d0 + s->drain_sec;
	char *out;
	long sess;

	for (;;) {
		if ((out = zhap_ask(&s->hap, "show stat")) == NULL)
			zdie(EX_UNAVAILABLE, "cannot reach HAProxy at %s",
			    s->hap.socket);
		sess = zhap_parse_sessions(out, b, name);
		free(out);
		if (sess == -1)
			zdiex(EX_DATAERR, "HAProxy's show stat has no row for "
			    "%s/%s", b, name);
		if (sess == 0 || znow() >= deadline || zsig_pending())
			break;
		zsleep(0.005);
	}
	s->res.drain_seconds = znow() - d0;
	s->res.drained = sess == 0;
	if (zsig_pending()) {
		zerrx("interrupted by %s while draining: switched, but %s/%s "
		    "may still serve requests", signame(zsig_pending()), b,
		    name);
		zsig_die();
	}
	if (s->res.drained)
		zinfo("drained: %s/%s has no session left, after %.3f s", b,
		    name, s->res.drain_seconds);
	else {
		zerrx("drain timed out after %.3f s: %s/%s still has %ld "
		    "session%s", s->res.drain_seconds, b, name, sess,
		    sess == 1 ? "" : "s");
		s->exit_code = EX_NODRAIN;
	}
}

/* --weight NAME=PCT: both ready, weighed; HAProxy's hash sticks. */
static void
hap_canary(struct sw *s, int live)
{
	const struct hap_seen *h = &s->seen;
	struct zhap_plan pl = { .n = 0 };
	unsigned pct = s->wt_pct;
	int wt = s->wt;
	char w0[16], w1[16], was0[16], was1[16];

	if (h->canary == wt && s->res.percent == pct &&
	    h->weight[wt] + h->weight[live] == 100) {
		zdebug("%s has %u%% already", tname(s, wt), pct);
		return;
	}
	guard(s, wt);
	s->res.changed = 1;
	s->res.canary = wt;
	s->res.percent = pct;
	if (zopt.dry_run) {
		zinfo("would set %s/%s weight %u and %s/%s weight %u, both "
		    "ready", s->hap.backend, tname(s, wt), pct, s->hap.backend,
		    tname(s, live), 100 - pct);
		return;
	}
	/* An unknown weight goes back to HAProxy's default, 1. */
	snprintf(w0, sizeof w0, "%u", 100 - pct);
	snprintf(was0, sizeof was0, "%d", h->weight[live] < 0 ? 1 :
	    h->weight[live]);
	snprintf(w1, sizeof w1, "%u", pct);
	snprintf(was1, sizeof was1, "%d", h->weight[wt] < 0 ? 1 :
	    h->weight[wt]);
	hap_do(s, &pl, live, "weight", w0, was0);
	hap_do(s, &pl, wt, "weight", w1, was1);
	hap_do(s, &pl, wt, "state", "ready", zhap_state_word(h->state[wt]));
	if (zsig_pending())
		hap_abort(s, &pl);
	s->res.seconds = znow() - s->res.t0;
	zinfo("HAProxy backend %s: %s takes %u%% of the clients, %s the rest, "
	    "in %.3f s", s->hap.backend, tname(s, wt), pct, tname(s, live),
	    s->res.seconds);
	hap_watch(s, &pl, wt);
}

static void
hap_put(struct sw *s, int live, int to)
{
	const struct hap_seen *h = &s->seen;
	struct zhap_plan pl = { .n = 0 };
	int i;

	if (!h->present[to] || (s->wt >= 0 && !h->present[s->wt]))
		zdiex(EX_DATAERR, "HAProxy backend %s has no server %s",
		    s->hap.backend, tname(s, h->present[to] ? s->wt : to));
	if (s->op == OP_WEIGHT && s->wt_pct > 0 && s->wt_pct < 100) {
		hap_canary(s, live);
		return;
	}
	if (live == to && h->canary == -1) {
		zdebug("%s is live already", tname(s, to));
		return;
	}
	if (to != live)
		guard(s, to);
	s->res.changed = 1;
	s->res.canary = -1;
	if (zopt.dry_run) {
		zinfo("would set %s/%s ready and every other target %s",
		    s->hap.backend, tname(s, to), s->maint ? "maint" : "drain");
		return;
	}
	/* The new server takes traffic before the old one stops taking it. */
	hap_do(s, &pl, to, "state", "ready", zhap_state_word(h->state[to]));
	for (i = 0; i < (int)s->ntargets; i++)
		if (i != to && h->present[i])
			hap_do(s, &pl, i, "state", s->maint ? "maint" :
			    "drain", zhap_state_word(h->state[i]));
	if (zsig_pending())
		hap_abort(s, &pl);
	s->res.seconds = znow() - s->res.t0;
	if (live == to)
		zinfo("HAProxy backend %s: the canary %s is off, %s takes "
		    "every client, in %.3f s", s->hap.backend,
		    tname(s, h->canary), tname(s, to), s->res.seconds);
	else
		zinfo("switched HAProxy backend %s from %s to %s in %.3f s",
		    s->hap.backend, tname(s, live), tname(s, to),
		    s->res.seconds);
	hap_watch(s, &pl, to);
	if (!s->res.rolled_back && s->drain && live >= 0)
		hap_drain(s, live == to ? h->canary : live);
}

static const struct mode haproxy_mode = {
	"haproxy", hap_path, hap_read, hap_nolive, hap_put
};

/* --- the steps ---------------------------------------------------- */

/* The target that takes the traffic (the main one, for --weight). */
static int
choose(const struct sw *s, int live)
{
	char why[512];

	if (live == -1 && (s->op == OP_FLIP || s->op == OP_WEIGHT)) {
		s->m->nolive(s, why, sizeof why);
		if (s->op == OP_FLIP)
			zdiex(EX_NO, "cannot flip: %s", why);
		zdiex(EX_NO, "cannot give %s a share: %s", tname(s, s->wt),
		    why);
	}
	if (s->op == OP_FLIP)
		return live == 0 ? 1 : 0;
	if (s->op != OP_WEIGHT)
		return find_target(s, s->opname);
	if (s->wt == live)
		zdiex(EX_USAGE, "--weight %s=%u: %s is the live backend",
		    tname(s, s->wt), s->wt_pct, tname(s, s->wt));
	/* 0 aborts the canary, 100 promotes it. */
	return s->wt_pct == 100 ? s->wt : live;
}

/* Read the live backend; unless the operand only asks, switch. */
static void
run_mode(struct sw *s)
{
	int live, to;

	open_locked(s, s->m->path(s));
	s->res.t0 = znow();
	live = s->m->read(s);
	s->res.live = s->res.previous = live;
	if (s->op == OP_IDLE) {
		s->res.action = "idle";
		s->res.live = live == 0 ? 1 : 0;
	}
	if (readonly(s))
		return;
	to = choose(s, live);
	s->res.action = "switch";
	s->res.live = to;
	s->m->put(s, live, to);
}

int
main(int argc, char *argv[])
{
	struct sw s = { .file = "/etc/nginx/conf.d/service-url.inc",
	    .format = ZNGX_SET, .var = "service_url", .upstream = "backend",
	    .nginx = "nginx", .availfd = -1, .logfd = -1,
	    .hap = { .timeout = HAP_TIMEOUT }, .drain_sec = 60,
	    .lock_wait = -1, .max5xx = 1, .wt = -1,
	    .root = { .fd = -1, .relfd = -1, .zddfd = -1, .lockfd = -1 },
	    .cur = { .dirfd = -1, .uid = (uid_t)-1, .gid = (gid_t)-1 },
	    .res = { .action = "status", .live = -1, .previous = -1,
	    .drain_seconds = -1, .canary = -1 } };

	zinit(argv[0]);
	zngx_ctl_init(&s.ngx);
	parse_options(&s, argc, argv);
	open_root(&s);
	/* A dead reader of our stdout must not kill us between two steps. */
	signal(SIGPIPE, SIG_IGN);
	run_mode(&s);
	record(&s);
	result(&s);
	/* Locals die with main: what they hold is freed, not leaked. */
	zroot_close(&s.root);
	zngx_ctl_free(&s.ngx);
	free(s.cur.data);
	free(s.opbuf);
	free(s.nginx_copy);
	if (s.cur.dirfd != -1)
		close(s.cur.dirfd);
	if (s.availfd != -1)
		close(s.availfd);
	if (s.logfd != -1)
		close(s.logfd);
	return s.exit_code;
}
