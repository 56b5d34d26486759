/*
 * The table of every path an extraction made so far: its type, mode and
 * time, a symlink's target, the ring of a hard link's names; open
 * addressing on an FNV-1a hash, which grows one byte at a time as a path
 * is walked.
 */
#include <stdlib.h>
#include <string.h>

#include "extract_int.h"

static uint32_t
hash(const char *s, size_t n)
{
	uint32_t h = HASH_INIT;

	while (n-- > 0)
		h = HASH_STEP(h, *s++);
	return h;
}

/* path's first len bytes, whose hash h the caller has. */
struct node *
zx_lookup_h(struct zar *z, const char *path, size_t len, uint32_t h)
{
	size_t i, k;

	if (z->tabsize == 0)
		return NULL;
	for (i = h & (z->tabsize - 1); (k = z->table[i]) != 0;
	    i = (i + 1) & (z->tabsize - 1)) {
		struct node *nd = &z->nodes[k - 1];
		if (nd->hash == h && strncmp(nd->path, path, len) == 0 &&
		    nd->path[len] == '\0')
			return nd;
	}
	return NULL;
}

struct node *
zx_lookup(struct zar *z, const char *path)
{
	size_t n = strlen(path);

	return zx_lookup_h(z, path, n, hash(path, n));
}

static int
grow(struct zar *z)
{
	size_t nsize = z->tabsize ? z->tabsize * 2 : 1024, i, j;
	size_t *nt = calloc(nsize, sizeof *nt);

	if (nt == NULL)
		return -1;
	for (i = 0; i < z->nnodes; i++) {
		if (z->nodes[i].path == NULL)
			continue;
		for (j = z->nodes[i].hash & (nsize - 1); nt[j] != 0;
		    j = (j + 1) & (nsize - 1))
			;
		nt[j] = i + 1;
	}
	free(z->table);
	z->table = nt;
	z->tabsize = nsize;
	return 0;
}

struct node *
zx_add(struct zar *z, const char *path, int type, mode_t mode,
    const struct timespec *mtime, const char *target)
{
	struct node *nd;
	size_t i;

	if (z->nnodes == z->capnodes) {
		size_t ncap = z->capnodes ? z->capnodes * 2 : 256;
		struct node *nv = realloc(z->nodes, ncap * sizeof *nv);
		if (nv == NULL)
			return NULL;
		z->nodes = nv;
		z->capnodes = ncap;
	}
	if ((z->nnodes + 1) * 2 > z->tabsize && grow(z) == -1)
		return NULL;
	nd = &z->nodes[z->nnodes];
	memset(nd, 0, sizeof *nd);
	if ((nd->path = strdup(path)) == NULL)
		return NULL;
	if (target != NULL && (nd->target = strdup(target)) == NULL) {
		free(nd->path);
		nd->path = NULL;
		return NULL;
	}
	nd->hash = hash(path, strlen(path));
	nd->type = type;
	nd->ring = z->nnodes;
	nd->mode = mode;
	nd->mtime = *mtime;
	for (i = nd->hash & (z->tabsize - 1); z->table[i] != 0;
	    i = (i + 1) & (z->tabsize - 1))
		;
	z->table[i] = ++z->nnodes;
	return nd;
}

int
zar_lookup(struct zar *z, const char *path)
{
	struct node *nd = zx_lookup(z, path);

	return nd ? nd->type : ZAR_NONE;
}

void
zar_forget(struct zar *z, const char *path)
{
	size_t n = strlen(path), i;

	/*
	 * Forgotten nodes keep their slot in the table, renamed to a name
	 * no clean path can have, so that probing chains stay intact.
	 */
	for (i = 0; i < z->nnodes; i++) {
		char *p = z->nodes[i].path;
		if (p == NULL || strncmp(p, path, n) != 0 ||
		    (p[n] != '\0' && p[n] != '/'))
			continue;
		p[0] = '/';
		z->nodes[i].type = ZAR_NONE;
	}
	if (strncmp(z->wr.dir, path, n) == 0)
		zx_dircache_drop(&z->wr);
}
