/*
 * nginx as zdd-switch sees it: the include file that names the live
 * backend (read and written in one of two shapes, a "set $var" line or an
 * upstream block), the addresses that may appear in it, and the master
 * process with its workers, found through /proc.  The parser takes bytes
 * from a file anyone may have edited, so it is a plain function of a
 * buffer that a fuzzer can call.
 */
#ifndef ZDD_NGINX_H
#define ZDD_NGINX_H

#include <stddef.h>
#include <sys/types.h>

#include "proc.h"

enum { ZNGX_SET = 1, ZNGX_UPSTREAM = 2 };

#define ZNGX_NAME_MAX	64
#define ZNGX_ADDR_MAX	256

/* What an include file says: its shape, variable or upstream, address. */
struct zngx_inc {
	int	format;				/* ZNGX_SET or ZNGX_UPSTREAM */
	/* The variable (without '$') or the upstream's name. */
	char	name[ZNGX_NAME_MAX + 1];
	/* host:port, unix:PATH or a name. */
	char	addr[ZNGX_ADDR_MAX + 1];
	unsigned keepalive;			/* upstream only, 0 if absent */
	/*
	 * A canary (upstream only): a second server, canary, that takes
	 * canary_weight percent of the clients and addr the rest (weight),
	 * each client sticking to one by "hash KEY consistent".  canary is
	 * "" and the weights 0 when there is none.
	 */
	char	canary[ZNGX_ADDR_MAX + 1];
	unsigned weight, canary_weight;
	char	key[ZNGX_NAME_MAX + 2];		/* "$remote_addr" */
};

/*
 * Read an include file's bytes.  Returns 0 and fills inc when they are one
 * "set $VAR http://ADDR;" statement or one "upstream NAME { server ADDR;
 * keepalive N; }" block (or, for a canary, "hash KEY consistent;" and two
 * servers with weights adding up to 100), with any comments and blanks;
 * 1 when they are only comments and blanks (an empty file); -1 with
 * errno EINVAL for anything else, which zdd-switch then refuses to
 * overwrite.
 */
int	zngx_parse(const char *buf, size_t len, struct zngx_inc *inc);

/*
 * The bytes zdd-switch writes for inc, with a comment naming target:
 * malloc'd and NUL-terminated, NULL on failure.
 */
char	*zngx_render(const struct zngx_inc *inc, const char *target);

/*
 * Whether s can stand in an nginx file as an address without quoting:
 * HOST:PORT, [V6]:PORT, a bare name (an upstream group) or unix:PATH.
 */
int	zngx_addr_valid(const char *s);
/* Whether s is a variable or upstream name: [A-Za-z0-9_], 1 to 64. */
int	zngx_name_valid(const char *s);
/* Whether s is a hash key: '$' and a variable name. */
int	zngx_key_valid(const char *s);

/*
 * A line of an access log written with log_format '$upstream_addr
 * $upstream_status' (zdd-switch --watch): each a list when nginx tried
 * more than one server ("a:1, b:2" and "502, 200", or " : " across
 * internal redirects).  The last address and the last status are the
 * answer the client got.  0 with them in *addr (pointing into line, which
 * is modified) and *status; -1 for a line without an upstream answer.
 */
int	zngx_log_answer(char *line, const char **addr, int *status);

/* The pid in an nginx pid file, or -1 (errno ENOENT, EINVAL). */
pid_t	zngx_read_pid(const char *path);
/*
 * A scan of /proc can skip the processes an earlier scan met (they cannot
 * have become children of the master since), which makes polling for new
 * workers cheap: seen, when not NULL, receives every pid met, sorted;
 * skip, when not NULL, is such a sorted list of pids not to read.
 */
struct zproc_scan {
	pid_t	*seen;
	size_t	 nseen, maxseen;
	const pid_t *skip;
	size_t	 nskip;
};

/*
 * The live children of pid (nginx's workers, cache manager and loader),
 * at most max of them; -1 on failure.  sc may be NULL.
 */
int	zngx_children(pid_t pid, struct zproc *v, size_t max,
	    struct zproc_scan *sc);
/*
 * Whether pid is an nginx master process, so that a stale or forged pid
 * file naming some other process is never signalled: its title says so,
 * it runs an executable named nginx* or the file nginx (a path, may be
 * NULL), and it has worker children running the same executable.  For
 * another user's process whose executable /proc hides, root's only.
 */
int	zngx_is_master(pid_t pid, const char *nginx);

#endif
