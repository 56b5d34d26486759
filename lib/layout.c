/*
 * The deploy root.  This module is the only one that knows where things
 * live under ROOT; tools ask it for releases, links and manifests by id.
 * Releases are ordered by name, never by mtime (which a copy or a restore
 * from backup changes), as Capistrano's and Envoyer's names are meant to
 * be read.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "fsatom.h"
#include "json.h"
#include "layout.h"
#include "lock.h"

#define DIRFLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC)

const char *
zroot_arg(const char *arg)
{
	const char *e;

	if (arg != NULL && *arg != '\0')
		return arg;
	e = getenv("ZDD_ROOT");
	return (e != NULL && *e != '\0') ? e : NULL;
}

static int
opendir_at(int dirfd, const char *name, int create, mode_t mode)
{
	int fd;

	fd = openat(dirfd, name, DIRFLAGS | O_NOFOLLOW);
	if (fd == -1 && errno == ENOENT && create) {
		if (mkdirat(dirfd, name, mode) == -1 && errno != EEXIST)
			return -1;
		fd = openat(dirfd, name, DIRFLAGS | O_NOFOLLOW);
	}
	return fd;
}

/*
 * mkdir -p of ROOT itself, which the administrator names and which may
 * pass through symlinks (/var/www -> /srv/www): unlike zmkdirs_at(), this
 * follows them, and takes an absolute path.
 */
static int
mkdir_root(const char *path, mode_t mode)
{
	char *copy, *p;
	int rc = 0;

	if ((copy = strdup(path)) == NULL)
		return -1;
	for (p = strchr(copy + 1, '/'); rc == 0; p = strchr(p + 1, '/')) {
		if (p != NULL)
			*p = '\0';
		if (mkdir(copy, mode) == -1 && errno != EEXIST)
			rc = -1;
		if (p == NULL)
			break;
		*p = '/';
	}
	free(copy);
	return rc;
}

/*
 * A directory that another user can write lets that user swap a release,
 * a manifest or the lock for something of their choosing while we work:
 * refuse it, as ssh refuses a group-writable home.
 */
static int
unsafe_dir(struct zroot *r, int fd, const char *name)
{
	struct stat sb;

	if (fd == -1 || fstat(fd, &sb) == -1)
		return 0;
	if ((sb.st_mode & (S_IWGRP | S_IWOTH)) == 0 &&
	    (sb.st_uid == geteuid() || sb.st_uid == 0))
		return 0;
	if (sb.st_mode & (S_IWGRP | S_IWOTH))
		snprintf(r->holder, sizeof r->holder, "%s%s is writable by "
		    "other users (mode %04o): refusing to deploy there",
		    r->path, name, (unsigned)(sb.st_mode & 07777));
	else
		snprintf(r->holder, sizeof r->holder, "%s%s belongs to "
		    "another user (uid %u): refusing to deploy there",
		    r->path, name, (unsigned)sb.st_uid);
	errno = EPERM;
	return 1;
}

int
zroot_open(struct zroot *r, const char *path, int flags)
{
	int create = flags & ZROOT_CREATE;
	char cwd[PATH_MAX];
	int e;

	memset(r, 0, sizeof *r);
	r->fd = r->relfd = r->zddfd = r->lockfd = -1;
	if (path == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (path[0] == '/')
		r->path = strdup(path);
	else if (getcwd(cwd, sizeof cwd) != NULL) {
		size_t n = strlen(cwd) + strlen(path) + 2;
		if ((r->path = malloc(n)) != NULL)
			snprintf(r->path, n, "%s/%s", cwd, path);
	}
	if (r->path == NULL)
		return -1;
	/* Drop trailing slashes so that printed paths read well. */
	for (size_t n = strlen(r->path); n > 1 && r->path[n - 1] == '/'; n--)
		r->path[n - 1] = '\0';
	if (create && mkdir_root(r->path, 0755) == -1)
		goto fail;
	/* ROOT itself may be a symlink (/var/www/app -> /srv/app). */
	if ((r->fd = open(r->path, DIRFLAGS)) == -1)
		goto fail;
	/* Refuse an unsafe root before making anything in it. */
	if (create && unsafe_dir(r, r->fd, ""))
		goto fail;
	r->relfd = opendir_at(r->fd, "releases", create, 0755);
	if (r->relfd == -1 && (create || errno != ENOENT))
		goto fail;
	r->zddfd = opendir_at(r->fd, ".zdd", create, 0755);
	if (r->zddfd == -1 && (create || errno != ENOENT))
		goto fail;
	if (create) {
		int fd = opendir_at(r->fd, "shared", 1, 0755);
		struct stat sb;

		/*
		 * shared/ may be the owner's link to a directory on another
		 * disk, as Capistrano users often make it: that is theirs to
		 * keep, and the releases' links resolve through it.
		 */
		if (fd == -1 && (errno == ELOOP || errno == ENOTDIR) &&
		    fstatat(r->fd, "shared", &sb, 0) == 0) {
			if (!S_ISDIR(sb.st_mode)) {
				errno = ENOTDIR;
				goto fail;
			}
		} else if (fd == -1)
			goto fail;
		else
			close(fd);
	}
	return 0;
fail:
	e = errno;
	zroot_close(r);
	errno = e;
	return -1;
}

void
zroot_close(struct zroot *r)
{
	if (r->lockfd != -1)
		close(r->lockfd);
	if (r->zddfd != -1)
		close(r->zddfd);
	if (r->relfd != -1)
		close(r->relfd);
	if (r->fd != -1)
		close(r->fd);
	free(r->path);
	r->path = NULL;
	r->fd = r->relfd = r->zddfd = r->lockfd = -1;
}

int
zroot_lock(struct zroot *r, double wait)
{
	int fd;

	r->holder[0] = '\0';
	if (r->zddfd == -1) {
		r->zddfd = opendir_at(r->fd, ".zdd", 1, 0755);
		if (r->zddfd == -1)
			return -1;
	}
	if (unsafe_dir(r, r->fd, "") || unsafe_dir(r, r->zddfd, "/.zdd") ||
	    unsafe_dir(r, r->relfd, "/releases"))
		return -1;
	/*
	 * Under a whole deploy's lock (zdd-lock, flock(1)) this process
	 * already holds it, through the descriptor it inherited: taking it
	 * again on a new one would wait for ourselves.
	 */
	if (zlock_inherited(r->zddfd, "lock") != -1)
		r->inherited = 1;
	else if ((r->lockfd = zlock_file(r->zddfd, "lock", wait, r->holder,
	    sizeof r->holder)) == -1)
		return -1;
	/*
	 * A run killed between making a link or manifest under its
	 * temporary name and renaming it left that name behind; under the
	 * lock no other run is making one, so whatever is there is stale.
	 */
	(void)zsweep_tmp(r->fd, NULL);
	if ((fd = openat(r->zddfd, "manifests", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) != -1) {
		(void)zsweep_tmp(fd, NULL);
		close(fd);
	}
	return 0;
}

int
zroot_lock_report(struct zroot *r)
{
	if (errno == EWOULDBLOCK) {
		zerrx("%s is locked: %s", r->path, r->holder);
		return EX_TEMPFAIL;
	}
	if (errno == EPERM && r->holder[0] != '\0') {
		zerrx("%s", r->holder);
		return EX_NOPERM;
	}
	zerr("cannot lock %s/.zdd/lock", r->path);
	return zexit_errno(errno);
}

void
zroot_unlock(struct zroot *r)
{
	if (r->lockfd != -1)
		close(r->lockfd);
	r->lockfd = -1;
}

int
zroot_unmade(struct zroot *r, const char *path)
{
	char *cwd;

	memset(r, 0, sizeof *r);
	r->fd = r->relfd = r->zddfd = r->lockfd = -1;
	if ((cwd = realpath(".", NULL)) == NULL)
		return -1;
	if (path[0] == '/')
		r->path = strdup(path);
	else if (asprintf(&r->path, "%s/%s", cwd, path) == -1)
		r->path = NULL;
	free(cwd);
	return r->path == NULL ? -1 : 0;
}

const char *
zroot_path(const struct zroot *r)
{
	return r->path;
}

int
zroot_fd(const struct zroot *r)
{
	return r->fd;
}

int
zroot_relfd(const struct zroot *r)
{
	return r->relfd;
}

int
zroot_zddfd(const struct zroot *r)
{
	return r->zddfd;
}

int
zroot_lockfd(const struct zroot *r)
{
	return r->lockfd;
}

int
zroot_inherited(const struct zroot *r)
{
	return r->inherited;
}

const char *
zroot_holder(const struct zroot *r)
{
	return r->holder;
}

int
zid_valid(const char *id)
{
	size_t n;

	if (id[0] == '\0' || id[0] == '.')
		return 0;
	for (n = 0; id[n] != '\0'; n++) {
		unsigned char c = (unsigned char)id[n];
		if (n >= ZID_MAX || !(isalnum(c) || c == '.' || c == '_' ||
		    c == '-'))
			return 0;
	}
	return 1;
}

int
zid_is_stamp(const char *id)
{
	int i;

	for (i = 0; i < 14; i++)
		if (!isdigit((unsigned char)id[i]))
			return 0;
	return id[14] == '\0';
}

int
zid_taken(struct zroot *r, const char *id)
{
	char name[ZID_MAX + 32];
	struct stat sb;

	if (r->relfd != -1 &&
	    fstatat(r->relfd, id, &sb, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	if (r->zddfd == -1)
		return 0;
	snprintf(name, sizeof name, "manifests/%s.json", id);
	return fstatat(r->zddfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0;
}

int
zid_new(struct zroot *r, char *buf, size_t size)
{
	time_t t = time(NULL);
	struct tm tm;
	int i;

	for (i = 0; i < 100000; i++, t++) {
		gmtime_r(&t, &tm);
		if (strftime(buf, size, "%Y%m%d%H%M%S", &tm) == 0) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (!zid_taken(r, buf))
			return 0;
	}
	errno = EEXIST;
	return -1;
}

int
zlink_name_valid(const char *name)
{
	static const char *const reserved[] = {
		"releases", "shared", ".zdd", "revisions.log", "repo", NULL
	};
	int i;

	if (!zid_valid(name))
		return 0;
	for (i = 0; reserved[i] != NULL; i++)
		if (strcmp(name, reserved[i]) == 0)
			return 0;
	return 1;
}

char *
zrelease_path(struct zroot *r, const char *id)
{
	size_t n = strlen(r->path) + strlen(id) + 16;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/releases/%s", r->path, id);
	return p;
}

/*
 * Whether errno value e answers the question (no such thing, not a
 * release, not a link) rather than stopping the look: an I/O error or a
 * refused permission must fail a listing, never hide a link from
 * zdd-prune, which would then delete the release the link points at.
 */
static int
answer_errno(int e)
{
	return e == ENOENT || e == ENOTDIR || e == EINVAL || e == ELOOP ||
	    e == ENAMETOOLONG;
}

/*
 * The release that target leads to as the kernel resolves it, for the
 * spellings that name no release directly ("releases/ID/.",
 * "releases/ID/../ID"): the directory it opens must sit directly in
 * releases/, under the name of a release.
 */
static int
resolved_id(struct zroot *r, const char *target, char *buf, size_t size)
{
	struct stat t, up, rel, sb;
	struct dirent *de;
	int fd, ufd, found = 0;
	DIR *d;

	fd = openat(r->fd, target, DIRFLAGS);
	if (fd == -1) {
		if (answer_errno(errno))
			errno = EINVAL;
		return -1;
	}
	ufd = openat(fd, "..", DIRFLAGS);
	if (fstat(fd, &t) == -1 || ufd == -1 || fstat(ufd, &up) == -1 ||
	    fstat(r->relfd, &rel) == -1 || up.st_dev != rel.st_dev ||
	    up.st_ino != rel.st_ino) {
		if (ufd != -1)
			close(ufd);
		close(fd);
		errno = EINVAL;
		return -1;
	}
	close(fd);
	/* ufd is releases/ itself: find the entry that is t. */
	if ((d = fdopendir(ufd)) == NULL) {
		close(ufd);
		return -1;
	}
	while (!found && (de = readdir(d)) != NULL)
		if (de->d_ino == t.st_ino && zid_valid(de->d_name) &&
		    strlen(de->d_name) < size &&
		    fstatat(r->relfd, de->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode) &&
		    sb.st_dev == t.st_dev && sb.st_ino == t.st_ino) {
			strcpy(buf, de->d_name);
			found = 1;
		}
	closedir(d);
	if (!found)
		errno = EINVAL;
	return found ? 0 : -1;
}

/*
 * The id that a link target names, if it names a directory directly under
 * ROOT/releases: "releases/ID" (zdd, Envoyer's relative form),
 * "/abs/ROOT/releases/ID" (Capistrano) or anything else that resolves
 * there, checked by device and inode rather than by spelling.
 */
static int
target_id(struct zroot *r, const char *target, char *buf, size_t size)
{
	struct stat rel, parent;
	const char *base;
	char *dir;
	size_t n;
	int fd;

	n = strlen(target);
	while (n > 1 && target[n - 1] == '/')
		n--;
	dir = strndup(target, n);
	if (dir == NULL)
		return -1;
	base = strrchr(dir, '/');
	if (base == NULL || r->relfd == -1 || fstat(r->relfd, &rel) == -1) {
		free(dir);
		errno = EINVAL;
		return -1;
	}
	*(char *)base++ = '\0';
	/* Relative targets are relative to ROOT, where the link lives. */
	fd = openat(r->fd, dir[0] == '\0' ? "/" : dir, DIRFLAGS);
	if (fd == -1 && !answer_errno(errno)) {
		free(dir);
		return -1;	/* errno says why: not "no release" */
	}
	if (fd == -1 || fstat(fd, &parent) == -1 ||
	    parent.st_dev != rel.st_dev || parent.st_ino != rel.st_ino ||
	    !zid_valid(base) || strlen(base) >= size) {
		if (fd != -1)
			close(fd);
		free(dir);
		return resolved_id(r, target, buf, size);
	}
	close(fd);
	strcpy(buf, base);
	free(dir);
	return 0;
}

int
zroot_link_target(struct zroot *r, const char *name, char *buf, size_t size)
{
	char target[PATH_MAX];
	struct stat sb;
	ssize_t n;

	n = readlinkat(r->fd, name, target, sizeof target - 1);
	if (n == -1)
		return -1;	/* ENOENT, or EINVAL: not a symlink */
	target[n] = '\0';
	if (target_id(r, target, buf, size) == -1)
		return -1;
	if (fstatat(r->relfd, buf, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISDIR(sb.st_mode))
		return 1;
	return 0;
}

int
zroot_resolve(struct zroot *r, const char *arg, char *buf, size_t size)
{
	struct stat sb;

	if (strchr(arg, '/') != NULL) {
		char abs[PATH_MAX];

		/*
		 * A path: absolute, or relative to the working directory as a
		 * shell user means it.  Resolve its parent, not the release
		 * itself, so that a symlink named like a release is refused.
		 */
		if (strlen(arg) >= sizeof abs / 2) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (arg[0] == '/' || getcwd(abs, sizeof abs / 2) == NULL)
			snprintf(abs, sizeof abs, "%s", arg);
		else
			snprintf(abs + strlen(abs), sizeof abs - strlen(abs),
			    "/%s", arg);
		if (target_id(r, abs, buf, size) == -1)
			return -1;
	} else {
		if (!zid_valid(arg) || strlen(arg) >= size) {
			errno = EINVAL;
			return -1;
		}
		strcpy(buf, arg);
	}
	if (r->relfd == -1 ||
	    fstatat(r->relfd, buf, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	if (!S_ISDIR(sb.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
zrelease_complete(struct zroot *r, const char *id)
{
	struct dirent *de;
	int fd, e, any = 0;
	DIR *d;

	/*
	 * zdd renames a release into place only when it is whole; a tree
	 * from another tool is whole when it is a non-empty directory (an
	 * interrupted checkout leaves an empty one behind).
	 */
	fd = openat(r->relfd, id, DIRFLAGS | O_NOFOLLOW);
	if (fd == -1)
		return answer_errno(errno) ? 0 : -1;
	if ((d = fdopendir(fd)) == NULL) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	errno = 0;
	while (!any && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			any = 1;
	e = errno;
	closedir(d);
	/* An I/O error is not "incomplete": say so. */
	if (!any && e != 0) {
		errno = e;
		return -1;
	}
	return any;
}

int
zroot_set_link(struct zroot *r, const char *name, const char *id)
{
	char target[ZID_MAX + 16];

	snprintf(target, sizeof target, "releases/%s", id);
	return zsymlink_replace(r->fd, name, target);
}

static int
relcmp(const void *a, const void *b)
{
	return strcmp(((const struct zrel *)a)->id,
	    ((const struct zrel *)b)->id);
}

static int
manifest_name(char *buf, size_t size, const char *id)
{
	if (!zid_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(buf, size, "manifests/%s.json", id);
	return 0;
}

json_t *
zmanifest_load(struct zroot *r, const char *id)
{
	char name[ZID_MAX + 32];

	if (r->zddfd == -1) {
		errno = ENOENT;
		return NULL;
	}
	if (manifest_name(name, sizeof name, id) == -1)
		return NULL;
	return zjson_load_at(r->zddfd, name);
}

int
zmanifest_save(struct zroot *r, const char *id, json_t *m)
{
	char name[ZID_MAX + 32];
	char *s;
	int fd, rc;

	if (manifest_name(name, sizeof name, id) == -1)
		return -1;
	if (r->zddfd == -1 && (r->zddfd = opendir_at(r->fd, ".zdd", 1,
	    0755)) == -1)
		return -1;
	if ((fd = opendir_at(r->zddfd, "manifests", 1, 0755)) == -1)
		return -1;
	s = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s == NULL) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	rc = zfile_replace(fd, name + strlen("manifests/"), s, strlen(s),
	    0644, (uid_t)-1, (gid_t)-1);
	free(s);
	close(fd);
	return rc;
}

int
zmanifest_remove(struct zroot *r, const char *id)
{
	char name[ZID_MAX + 32];

	if (r->zddfd == -1)
		return 0;
	if (manifest_name(name, sizeof name, id) == -1)
		return -1;
	if (unlinkat(r->zddfd, name, 0) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

static int
manifest_exists(struct zroot *r, const char *id)
{
	char name[ZID_MAX + 32];
	struct stat sb;

	if (r->zddfd == -1 || manifest_name(name, sizeof name, id) == -1)
		return 0;
	return fstatat(r->zddfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(sb.st_mode);
}

int
zroot_releases(struct zroot *r, struct zrel **out, size_t *np, int warn)
{
	struct zrel *v = NULL, *nv;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	struct stat sb;
	char id[ZID_MAX + 1];
	json_t *m;
	DIR *d;
	int fd, e, rc;

	*out = NULL;
	*np = 0;
	if (r->relfd == -1)
		return 0;
	if ((fd = dup(r->relfd)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		int is_rel;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		m = NULL;
		errno = 0;
		is_rel = zid_valid(name) &&
		    fstatat(r->relfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(sb.st_mode) &&
		    (zid_is_stamp(name) || manifest_exists(r, name));
		if (!is_rel && errno != 0 && !answer_errno(errno))
			goto fail;
		if (!is_rel) {
			if (warn)
				zwarnx("releases/%s: not a release, left alone",
				    name);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL) {
				json_decref(m);
				free(v);
				closedir(d);
				return -1;
			}
			v = nv;
		}
		memset(&v[n], 0, sizeof v[n]);
		strcpy(v[n].id, name);
		/*
		 * Only the bad mark of zdd before the event log is read
		 * here; a manifest that cannot be read (corrupt, empty,
		 * too big) must not keep a rollback from seeing the release.
		 */
		v[n].manifest = manifest_exists(r, name);
		if ((m = zmanifest_load(r, name)) != NULL) {
			v[n].bad = json_is_true(json_object_get(m, "bad"));
			json_decref(m);
		}
		n++;
	}
	closedir(d);
	qsort(v, n, sizeof *v, relcmp);

	/* Attach the links in ROOT that point at each release. */
	if ((fd = dup(r->fd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		free(v);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		struct zrel key, *hit;

		if (de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
			continue;
		if ((rc = zroot_link_target(r, de->d_name, id, sizeof id)) ==
		    -1 && !answer_errno(errno))
			goto fail;
		if (rc != 0)
			continue;
		strcpy(key.id, id);
		hit = bsearch(&key, v, n, sizeof *v, relcmp);
		if (hit == NULL)
			continue;
		i = strlen(hit->links);
		snprintf(hit->links + i, sizeof hit->links - i, "%s%s",
		    i ? " " : "", de->d_name);
	}
	closedir(d);
	*out = v;
	*np = n;
	return 0;
fail:
	e = errno;
	closedir(d);
	free(v);
	errno = e;
	return -1;
}

int
zroot_tmpdir(struct zroot *r)
{
	if (r->zddfd == -1 && (r->zddfd = opendir_at(r->fd, ".zdd", 1,
	    0755)) == -1)
		return -1;
	return opendir_at(r->zddfd, "tmp", 1, 0700);
}
