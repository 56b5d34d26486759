/*
 * The deploy root: releases/ ordered by name, links such as current in
 * ROOT pointing at them, shared/, revisions.log in Capistrano's wording,
 * and zdd's own state under .zdd/ (the lock, one manifest per release,
 * work in progress).
 */
#ifndef ZDD_LAYOUT_H
#define ZDD_LAYOUT_H

#include <jansson.h>
#include <stddef.h>

#define ZID_MAX 64

/*
 * An open deploy root.  Its fields belong to the library: a tool declares
 * one and reads it through the zroot_* accessors below.
 */
struct zroot {
	char	*path;		/* absolute, as given or from $ZDD_ROOT */
	int	 fd;		/* ROOT */
	int	 relfd;		/* ROOT/releases, or -1 */
	int	 zddfd;		/* ROOT/.zdd, or -1 */
	int	 lockfd;	/* ROOT/.zdd/lock once locked, or -1 */
	int	 inherited;	/* locked by a descriptor we inherited */
	char	 holder[256];	/* who holds the lock, after EWOULDBLOCK */
};
/* A root not open yet, that zroot_close() and the accessors take. */
#define ZROOT_INIT	{ .fd = -1, .relfd = -1, .zddfd = -1, .lockfd = -1 }

/* The state of a release, from the event log (events.h). */
enum { ZREL_STAGED, ZREL_WAS_LIVE, ZREL_BAD, ZREL_LIVE };

struct zrel {
	char	 id[ZID_MAX + 1];
	int	 bad;		/* rolled back from, or marked bad */
	int	 manifest;	/* has a zdd manifest */
	char	 links[256];	/* "current blue": links pointing here */
	int	 state;		/* ZREL_*, set by zhist_annotate() */
	int	 went_live;	/* a link pointed at it, now or before */
	long	 order;		/* creation order, set by zhist_annotate() */
};

/* Flags of zroot_open(). */
#define ZROOT_CREATE	1	/* create ROOT, releases/, shared/, .zdd/ */

/*
 * The root named by arg, else $ZDD_ROOT; NULL when neither is set (a
 * usage error for the caller).
 */
const char *zroot_arg(const char *arg);
/*
 * With ZROOT_CREATE, a ROOT that another user can write (or that belongs
 * to one) is refused before anything is made in it: -1 with EPERM and
 * r->holder saying why, as zroot_lock() does.
 */
int	zroot_open(struct zroot *r, const char *path, int flags);
void	zroot_close(struct zroot *r);
/*
 * Take ROOT/.zdd/lock, waiting at most wait seconds; under a lock this
 * process inherited (zlock_inherited()), work under that one.  -1 with errno
 * EWOULDBLOCK and r->holder set when another deploy holds it; -1 with
 * EPERM and r->holder saying why when ROOT, releases/ or .zdd/ can be
 * written by another user (or belongs to one).
 */
int	zroot_lock(struct zroot *r, double wait);
/*
 * After zroot_lock() failed: say why on stderr and return the exit code
 * (75 locked, 77 an unsafe root, else from errno).
 */
int	zroot_lock_report(struct zroot *r);
/*
 * Give up the lock before the end, under a lock this process took itself
 * (not an inherited one): the next run may take it while this one ends.
 */
void	zroot_unlock(struct zroot *r);
/*
 * A dry run's root that does not exist yet: r names path, made absolute,
 * and has no directory open.  -1 with errno when the working directory
 * or memory is missing.
 */
int	zroot_unmade(struct zroot *r, const char *path);

/* ROOT's absolute path, without a trailing slash. */
const char *zroot_path(const struct zroot *r);
/* The directories open in the root: ROOT, releases/, .zdd/; -1 if not. */
int	zroot_fd(const struct zroot *r);
int	zroot_relfd(const struct zroot *r);
int	zroot_zddfd(const struct zroot *r);
/* The descriptor holding the lock, or -1 (none, or an inherited one). */
int	zroot_lockfd(const struct zroot *r);
/* Whether the lock is one this process inherited (zlock_inherited()). */
int	zroot_inherited(const struct zroot *r);
/*
 * After zroot_open() or zroot_lock() failed with EPERM or EWOULDBLOCK:
 * why, or who holds the lock; "" when they did not say.
 */
const char *zroot_holder(const struct zroot *r);

/* Release ids: [A-Za-z0-9._-]{1,64}, not starting with '.'. */
int	zid_valid(const char *id);
/* A timestamp id, YYYYmmddHHMMSS: 14 digits. */
int	zid_is_stamp(const char *id);
/* A new id: the UTC time now, bumped a second at a time past taken ones. */
int	zid_new(struct zroot *r, char *buf, size_t size);
/* Whether releases/ID, its manifest or work on it exists already. */
int	zid_taken(struct zroot *r, const char *id);

/* Names a link in ROOT may have: one component, not a reserved name. */
int	zlink_name_valid(const char *name);

/*
 * Every release, oldest first, with the links that point at each and its
 * bad mark.  Directories under releases/ that are not releases are
 * reported with a warning when warn is set and left out.
 */
int	zroot_releases(struct zroot *r, struct zrel **out, size_t *n, int warn);
/*
 * The release id that link name points at, into buf.  -1 with ENOENT when
 * there is no such link, EINVAL when it is not a symlink to a release
 * directory directly under releases/ (the release may be gone: then the
 * id is still returned, with the return value 1).
 */
int	zroot_link_target(struct zroot *r, const char *name, char *buf,
	    size_t size);
/*
 * The id of a release given as an id or a path under ROOT/releases;
 * -1 with ENOENT if it is not there, EINVAL if it is not a release.
 */
int	zroot_resolve(struct zroot *r, const char *arg, char *buf, size_t size);
/*
 * Whether releases/ID is a whole release directory: 1 or 0, or -1 (errno
 * set) when an error keeps it from telling.
 */
int	zrelease_complete(struct zroot *r, const char *id);
/* Point link name at releases/ID atomically (a relative symlink). */
int	zroot_set_link(struct zroot *r, const char *name, const char *id);

/* The manifest of release id, or NULL (errno ENOENT when there is none). */
json_t	*zmanifest_load(struct zroot *r, const char *id);
int	zmanifest_save(struct zroot *r, const char *id, json_t *m);
int	zmanifest_remove(struct zroot *r, const char *id);


/* The absolute path of releases/ID, malloc'd. */
char	*zrelease_path(struct zroot *r, const char *id);

/* .zdd/tmp: private work in progress, cleared by zdd-prune. */
int	zroot_tmpdir(struct zroot *r);

#endif
