/*
 * The deploy root's two logs.  The event log, ROOT/.zdd/events.jsonl: one
 * JSON object a line for every
 * change a tool makes to a deploy root (a release made, a link moved or
 * rolled back, a release marked bad or good, a release pruned).  It is
 * the record that rollback, prune and --list decide from, so that the
 * order of releases and their state never depend on how ids sort.
 *
 * revisions.log keeps Capistrano's lines beside it, for the people and
 * scripts that read Capistrano's.  Writers hold the deploy lock.  Readers
 * take no lock: a line still being written is an unterminated last line,
 * which a reader ignores.
 */
#ifndef ZDD_EVENTS_H
#define ZDD_EVENTS_H

#include <jansson.h>
#include <stddef.h>

#include "layout.h"

/* The log is read from its last ZEVENTS_MAX bytes at most. */
#define ZEVENTS_MAX	(64L * 1024 * 1024)

/*
 * Append one event: time, event, then the members of fields (release,
 * link, previous ... ; fields is consumed, NULL allowed), then user, host
 * and the CI run when there is one.  One write(2) on an O_APPEND
 * descriptor, then fsync.  A torn last line that a crashed writer left is
 * cut off first, so that it never swallows this one.  The caller holds
 * the deploy lock.  0, or -1 with errno and the log as it was.
 */
int	zevent_append(struct zroot *r, const char *event, json_t *fields);

/*
 * Append line (len bytes, its newline included) to dirfd/name, creating
 * it 0644, with one write(2) and an fsync, after cutting a torn last line
 * (see zevent_append()).  The caller holds the lock of the log.
 */
int	zlog_append(int dirfd, const char *name, const char *line,
	    size_t len);

/*
 * Append one line to revisions.log (newline added) in Capistrano's words,
 * with zlog_append().
 */
int	zrevlog(struct zroot *r, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* One change of one link, from the event log or revisions.log. */
struct zhchange {
	long	 seq;			/* position in the log */
	int	 rollback;		/* a rollback, not a deploy */
	char	 time[32];		/* ISO 8601 UTC, or "" */
	char	 link[ZID_MAX + 1];
	char	 release[ZID_MAX + 1];
	char	 previous[ZID_MAX + 1];	/* "" when unknown */
};

/* What the logs say about one release. */
struct zhrel {
	char	 id[ZID_MAX + 1];
	long	 first;		/* seq of its first release event, or -1 */
	long	 made;		/* seq of its release event, or -1 */
	int	 live;		/* a link pointed at it (event log) */
	int	 bad;		/* -1 unknown, 0 good, 1 bad (event log) */
	int	 rv_live;	/* deployed or rolled back to (revisions.log) */
	int	 rv_bad;	/* rolled back from (revisions.log) */
};

struct zhist {
	struct zhrel	*rel;		/* in order of first mention */
	size_t		 nrel, relcap;
	struct zhchange	*chg;		/* event log changes, oldest first */
	size_t		 nchg, chgcap;
	struct zhchange	*rvchg;		/* revisions.log, oldest first */
	size_t		 nrvchg, rvchgcap;
	json_t		*index;		/* id -> index in rel */
	long		 events;	/* valid events read */
	long		 skipped;	/* lines that were not events */
	int		 have_events;	/* events.jsonl exists */
	int		 have_revlog;	/* revisions.log exists */
};

/*
 * Read ROOT/.zdd/events.jsonl and ROOT/revisions.log.  Bad content never
 * fails: a line that is not an event is skipped (with a warning when
 * warn is set), an unterminated last line is ignored.  -1 with errno only
 * when a file exists but cannot be read.
 */
int	zhist_load(struct zroot *r, struct zhist *h, int warn);
/* The parsers behind zhist_load(): no I/O, the buffer need not end in NUL. */
void	zhist_parse_events(struct zhist *h, const char *buf, size_t len,
	    int warn);
void	zhist_parse_revlog(struct zhist *h, const char *buf, size_t len);
void	zhist_init(struct zhist *h);
void	zhist_free(struct zhist *h);

/* The record of release id, or NULL when neither log names it. */
const struct zhrel *zhist_rel(const struct zhist *h, const char *id);

/*
 * The history of link name, oldest first, into a malloc'd array of
 * pointers: from the event log when it records any change of the link,
 * else from revisions.log for current (which that log describes), else
 * empty (*n is 0).  cur (NULL allowed) is the release the link points at
 * now: for current, revisions.log is taken when its newest line names cur
 * and the event log's does not (Capistrano moved current since).  -1
 * with errno ENOMEM.
 */
int	zhist_link(const struct zhist *h, const char *name, const char *cur,
	    const struct zhchange ***out, size_t *n);

/*
 * Whether release id is bad: as the event log says, else as revisions.log
 * says (rolled back from), else manifest_bad (the mark zdd kept in the
 * manifest before there was a log).
 */
int	zhist_bad(const struct zhist *h, const char *id, int manifest_bad);

/*
 * Give each release of v its state and sort v by creation order, oldest
 * first: the event log's order, releases it never names before those it
 * does, by id (numbers in ids compared as numbers).  v[i].state becomes
 * live, bad, was-live or staged (see layout.h).
 */
void	zhist_annotate(const struct zhist *h, struct zrel *v, size_t n);

/* "live", "bad", "was-live", "staged". */
const char *zstate_name(int state);

#endif
