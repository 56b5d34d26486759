/*
 * HAProxy's runtime API on a unix socket, as zdd-switch uses it: one
 * command per connection, and the two answers it reads, "show servers
 * state" and "show stat".  The parsers take the answer as a buffer so a
 * fuzzer can call them; the columns are found by the header line, not by
 * position, since HAProxy adds columns between versions.
 */
#ifndef ZDD_HAPROXY_H
#define ZDD_HAPROXY_H

#include <stddef.h>

/*
 * srv_admin_state bits (HAProxy's SRV_ADMF_*).  The "config" bit (0x04,
 * "disabled" in the configuration) stays set after "state ready" puts
 * the server in service, so it does not count as maintenance.
 */
#define ZHAP_MAINT	0x63	/* forced, inherited, resolution, health */
#define ZHAP_DRAIN	0x18	/* forced or inherited drain */

struct zhap_server {
	char	name[65];
	int	op_state;	/* 0 stopped, 1 starting, 2 running, 3 stops */
	int	admin_state;	/* ZHAP_MAINT and ZHAP_DRAIN bits */
	char	addr[64];	/* srv_addr, "" when the answer has none */
	int	port;		/* srv_port, -1 when the answer has none */
	int	weight;		/* srv_uweight, -1 when the answer has none */
};

/*
 * Send cmd (a newline is added) to the socket at path and read the whole
 * answer, waiting at most timeout seconds.  malloc'd; NULL with errno on
 * failure.
 */
char	*zhap_cmd(const char *path, const char *cmd, double timeout);

/*
 * Whether an answer to a "set" command says it worked: HAProxy answers
 * those with an empty line, and with a sentence when it refuses.
 */
int	zhap_ok(const char *answer);

/*
 * The servers of backend in an answer to "show servers state BACKEND",
 * at most max; -1 with errno EINVAL when the answer is not one.
 */
int	zhap_parse_state(const char *text, const char *backend,
	    struct zhap_server *v, size_t max);

/*
 * Whether server s is at hostport (HOST:PORT or [V6]:PORT, as a target's
 * ADDR is written): 1 yes, 0 no, -1 when it cannot be told (HOST is a
 * name, not an address, or the answer gave no address or port).
 */
int	zhap_addr_is(const struct zhap_server *s, const char *hostport);

/*
 * The sessions (current plus queued) of backend/server in an answer to
 * "show stat"; -1 with errno ENOENT when no row is theirs, EINVAL when
 * the answer is not CSV with a header.
 */
long	zhap_parse_sessions(const char *csv, const char *backend,
	    const char *server);

/*
 * The answers backend/server gave, in an answer to "show stat": in all
 * (every hrsp_* counter) and 5xx; 0, or -1 with errno as above.
 */
int	zhap_parse_answers(const char *csv, const char *backend,
	    const char *server, long *total, long *c5xx);

/*
 * A client of one backend: the socket, the backend and how long one
 * command may take.  The functions below say on stderr (through diag)
 * what HAProxy refused, and return -1 with errno for the caller to exit.
 */
struct zhap {
	const char *socket;
	const char *backend;
	double	 timeout;
};

/* zhap_cmd() on h's socket. */
char	*zhap_ask(const struct zhap *h, const char *cmd);

/*
 * The servers of h's backend, malloc'd into *v (free it): how many; 0
 * when the answer holds none (its first line, cleaned, in first); -1
 * with errno when HAProxy could not be asked.
 */
int	zhap_servers(const struct zhap *h, struct zhap_server **v,
	    char *first, size_t size);

/* The state word ("ready", "drain", "maint") that admin_state says. */
const char *zhap_state_word(int admin_state);

/*
 * Set server's "state" or "weight" (kind) to value: 0 when HAProxy took
 * it; else -1, HAProxy's answer (or why there is none) said on stderr
 * after "verb BACKEND/SERVER VALUE".
 */
int	zhap_set(const struct zhap *h, const char *server, const char *kind,
	    const char *value, const char *verb);

/*
 * A change of several servers, all or nothing: each step is recorded
 * with the value it replaced, so that zhap_undo() puts them back, last
 * first.
 */
#define ZHAP_STEPS_MAX	64
struct zhap_plan {
	struct {
		char	 server[65];
		const char *kind;
		char	 was[16];
	} steps[ZHAP_STEPS_MAX];
	int	 n;
};

/* zhap_set() as one step of pl: -1 when refused (nothing recorded). */
int	zhap_step(const struct zhap *h, struct zhap_plan *pl,
	    const char *server, const char *kind, const char *value,
	    const char *was);
/* Undo pl's steps: 0, or -1 when HAProxy refused one back (said). */
int	zhap_undo(const struct zhap *h, struct zhap_plan *pl);

#define ZHAP_FIELDS_MAX	16
/*
 * The named numeric fields of backend/server's row of "show stat", an
 * empty field being 0: 0, or -1 with errno ENOENT (no such row), EINVAL
 * (not CSV with a header naming them all, or a field not a number).
 */
int	zhap_stat_fields(const char *csv, const char *backend,
	    const char *server, const char *const *names, int n, long *vals);

#endif
