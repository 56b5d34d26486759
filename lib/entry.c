/*
 * The entry policy: which names, types, link targets, depths and counts
 * an artifact may have.  Every entry is checked here against the tree made
 * so far before the writer touches the disk for it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <archive_entry.h>

#include "extract_int.h"
#include "text.h"

/* An entry name fit for one line of stderr, through the one sanitiser. */
static const char *
shown(const char *name, char *buf, size_t size)
{
	return ztext_clean(name, strlen(name), buf, size);
}

int
zx_refuse(struct zar *z, const char *name, const char *why, const char *more)
{
	char b[160];

	return zx_fail(z, 0, "entry '%s': %s%s%s", shown(name, b, sizeof b),
	    why,
	    more ? " " : "", more ? more : "");
}

int
zar_clean_path(const char *in, unsigned strip, char *out, size_t size,
    const char **why)
{
	const char *p = in, *c;
	size_t n, len = 0;
	unsigned skipped = 0;

	if (strlen(in) >= PATH_MAX) {
		*why = "name longer than PATH_MAX";
		return -1;
	}
	if (in[0] == '/') {
		*why = "absolute path";
		return -1;
	}
	while (*p != '\0') {
		for (c = p; *c != '\0' && *c != '/'; c++)
			;
		n = (size_t)(c - p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			*why = "path with a '..' component";
			return -1;
		}
		if (n > NAME_MAX) {
			*why = "name component longer than NAME_MAX";
			return -1;
		}
		if (n == 0 || (n == 1 && p[0] == '.'))
			;
		else if (skipped < strip)
			skipped++;
		else {
			if (len + n + 2 > size) {
				*why = "name too long";
				return -1;
			}
			if (len > 0)
				out[len++] = '/';
			memcpy(out + len, p, n);
			len += n;
		}
		p = *c ? c + 1 : c;
	}
	out[len] = '\0';
	return len > 0;
}

int
zar_link_inside(struct zar *z, const char *path, const char *target,
    const char **why)
{
	char cur[PATH_MAX], rest[4 * PATH_MAX], tmp[4 * PATH_MAX];
	/* hs[d]: the hash of cur's first d components, so that each step
	 * costs its own component, not the whole path again. */
	uint32_t hs[PATH_MAX / 2 + 1], h;
	size_t clen, n, d, i;
	const char *p, *c;
	int expansions = 0;
	struct node *nd;

	if (target[0] == '\0') {
		*why = "symlink with an empty target";
		return -1;
	}
	if (target[0] == '/') {
		*why = "symlink to an absolute path";
		return -1;
	}
	if (strlen(target) >= PATH_MAX) {
		*why = "symlink target longer than PATH_MAX";
		return -1;
	}
	/* Start in the link's directory; resolve the rest a component at a
	 * time, splicing in the target of every symlink met on the way. */
	snprintf(cur, sizeof cur, "%s", path);
	c = strrchr(cur, '/');
	clen = c ? (size_t)(c - cur) : 0;
	cur[clen] = '\0';
	hs[0] = h = HASH_INIT;
	for (i = d = 0; i <= clen && clen > 0; i++) {
		if (i == clen || cur[i] == '/')
			hs[++d] = h;
		h = HASH_STEP(h, i < clen ? cur[i] : '/');
	}
	snprintf(rest, sizeof rest, "%s", target);
	p = rest;
	while (*p != '\0') {
		for (c = p; *c != '\0' && *c != '/'; c++)
			;
		n = (size_t)(c - p);
		if (n == 0 || (n == 1 && p[0] == '.'))
			;
		else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (clen == 0) {
				*why = "symlink that resolves outside the "
				    "release";
				return -1;
			}
			while (clen > 0 && cur[clen] != '/')
				clen--;
			cur[clen] = '\0';
			d--;
		} else {
			size_t prev = clen;

			if (clen + n + 2 > sizeof cur) {
				*why = "symlink that resolves to a name too "
				    "long";
				return -1;
			}
			h = hs[d];
			if (clen > 0) {
				cur[clen++] = '/';
				h = HASH_STEP(h, '/');
			}
			memcpy(cur + clen, p, n);
			cur[clen + n] = '\0';
			for (i = 0; i < n; i++)
				h = HASH_STEP(h, p[i]);
			nd = zx_lookup_h(z, cur, clen + n, h);
			if (nd != NULL && nd->type == ZAR_SYMLINK) {
				if (++expansions > MAXLINKS) {
					*why = "symlink loop";
					return -1;
				}
				if (nd->target[0] == '/') {
					*why = "symlink that resolves outside "
					    "the release";
					return -1;
				}
				/* Drop the link's name; on from its target. */
				clen = prev;
				cur[clen] = '\0';
				n = (size_t)snprintf(tmp, sizeof tmp, "%s/%s",
				    nd->target, *c ? c + 1 : "");
				if (n >= sizeof tmp) {
					*why = "symlink chain too long";
					return -1;
				}
				memcpy(rest, tmp, strlen(tmp) + 1);
				p = rest;
				continue;
			}
			clen += n;
			hs[++d] = h;
		}
		p = *c ? c + 1 : c;
	}
	return 0;
}

static const char *
type_name(mode_t t)
{
	switch (t) {
	case AE_IFCHR:	return "character device";
	case AE_IFBLK:	return "block device";
	case AE_IFIFO:	return "FIFO";
	case AE_IFSOCK:	return "socket";
	default:	return "file of an unknown type";
	}
}

static int
past_max_files(struct zar *z, const char *name)
{
	char n[64];

	snprintf(n, sizeof n, "%llu entries",
	    (unsigned long long)z->o.max_files);
	return zx_refuse(z, name, "is past the limit of", n);
}

/* Check one entry against the policy and the tree so far; then make it. */
int
zx_entry(struct zar *z, const struct ent *e, struct source *src)
{
	char path[PATH_MAX], tpath[PATH_MAX];
	const char *why, *base, *tbase;
	struct node *nd, *tn;
	size_t i, ti, ni, depth;
	uint32_t h;
	mode_t mode;
	int rc, pfd, tfd;

	if (z->o.stop != NULL && *z->o.stop)
		return zx_fail(z, EINTR, "interrupted");
	if (z->o.progress != NULL)
		z->o.progress(&z->st, z->o.progress_arg);
	rc = zar_clean_path(e->name, z->o.strip, path, sizeof path, &why);
	if (rc == -1)
		return zx_refuse(z, e->name, why, NULL);
	if (rc == 0)
		return zx_skip_data(z, src);
	snprintf(z->last, sizeof z->last, "%s", path);
	for (i = 0, depth = 1; path[i] != '\0'; i++)
		depth += path[i] == '/';
	if (depth > z->o.max_depth) {
		snprintf(tpath, sizeof tpath, "%u", z->o.max_depth);
		return zx_refuse(z, e->name,
		    "is more names deep than the limit "
		    "of", tpath);
	}
	if (++z->st.entries > z->o.max_files)
		return past_max_files(z, e->name);
	/*
	 * Every directory on the way must be a real one, made by us; each
	 * one the path makes counts as an entry.
	 */
	for (i = 0, h = HASH_INIT; path[i] != '\0'; h = HASH_STEP(h, path[i]),
	    i++) {
		if (path[i] != '/')
			continue;
		nd = zx_lookup_h(z, path, i, h);
		if (nd == NULL) {
			struct timespec now = { 0, UTIME_OMIT };

			if (++z->st.entries > z->o.max_files)
				return past_max_files(z, e->name);
			path[i] = '\0';
			nd = zx_add(z, path, ZAR_DIR, 0755, &now, NULL);
			path[i] = '/';
			if (nd == NULL)
				return zx_fail(z, ENOMEM, "out of memory");
			z->st.dirs++;
		} else if (nd->type == ZAR_SYMLINK) {
			path[i] = '\0';
			rc = zx_refuse(z, e->name, "is written through the "
			    "symlink", path);
			return rc;
		} else if (nd->type != ZAR_DIR) {
			path[i] = '\0';
			if (snprintf(tpath, sizeof tpath, "%s, which is not "
			    "a directory", path) < 0)
				tpath[0] = '\0';
			return zx_refuse(z, e->name, "is written under", tpath);
		}
	}
	if ((nd = zx_lookup(z, path)) != NULL) {
		if (nd->type == ZAR_DIR && e->type == ZAR_DIR) {
			nd->mode = e->mode & 0777;
			nd->mtime = e->mtime;
			return zx_skip_data(z, src);
		}
		return zx_refuse(z, e->name, "appears twice in the artifact",
		    NULL);
	}
	switch (e->type) {
	case ZAR_DIR:
		if (zx_add(z, path, ZAR_DIR, e->mode & 0777, &e->mtime,
		    NULL) == NULL)
			return zx_fail(z, ENOMEM, "out of memory");
		z->st.dirs++;
		if (z->dirfd != -1) {
			if ((pfd = zx_parent(z, path, &base)) == -1 ||
			    (mkdirat(pfd, base, 0700) == -1 &&
			    errno != EEXIST))
				return zx_fail(z, errno, "cannot create %s",
				    path);
		}
		return zx_skip_data(z, src);
	case ZAR_SYMLINK:
		if (zar_link_inside(z, path, e->link, &why) == -1)
			return zx_refuse(z, e->name, "is a", why);
		if (zx_add(z, path, ZAR_SYMLINK, 0777, &e->mtime,
		    e->link) == NULL)
			return zx_fail(z, ENOMEM, "out of memory");
		z->st.symlinks++;
		if (z->dirfd != -1) {
			if ((pfd = zx_parent(z, path, &base)) == -1 ||
			    symlinkat(e->link, pfd, base) == -1)
				return zx_fail(z, errno, "cannot create %s",
				    path);
		}
		return zx_skip_data(z, src);
	case 'h':
		rc = zar_clean_path(e->link, z->o.strip, tpath, sizeof tpath,
		    &why);
		if (rc != 1)
			return zx_refuse(z, e->name,
			    "is a hard link whose target "
			    "is a", rc == 0 ? "stripped path" : why);
		tn = zx_lookup(z, tpath);
		if (tn == NULL || tn->type != ZAR_FILE)
			return zx_refuse(z, e->name, "is a hard link to a name "
			    "that is no file of the artifact:", tpath);
		/* Indexes, not pointers: zx_add() may move the nodes. */
		ti = (size_t)(tn - z->nodes);
		mode = tn->mode;
		if ((nd = zx_add(z, path, ZAR_FILE, mode, &e->mtime,
		    NULL)) == NULL)
			return zx_fail(z, ENOMEM, "out of memory");
		ni = (size_t)(nd - z->nodes);
		nd->ring = z->nodes[ti].ring;
		z->nodes[ti].ring = ni;
		z->st.files++;
		if (e->size > 0)
			return zx_link_data(z, ni, e, mode, src);
		if (z->dirfd != -1) {
			if ((tfd = zx_walk(z->dirfd, tpath, 0, &tbase)) == -1)
				return zx_fail(z, errno, "cannot link %s",
				    path);
			pfd = zx_parent(z, path, &base);
			rc = pfd == -1 ||
			    linkat(tfd, tbase, pfd, base, 0) == -1;
			close(tfd);
			if (rc)
				return zx_fail(z, errno, "cannot link %s",
				    path);
		}
		return zx_skip_data(z, src);
	case ZAR_FILE:
		if (zx_add(z, path, ZAR_FILE, e->mode & 0777, &e->mtime,
		    NULL) == NULL)
			return zx_fail(z, ENOMEM, "out of memory");
		z->st.files++;
		return zx_write_file(z, path, e, src);
	default:
		return zx_refuse(z, e->name, "is a",
		    type_name((mode_t)e->type));
	}
}
