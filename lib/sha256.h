/*
 * SHA-256 (FIPS 180-4), incremental, for the artifact digest recorded in a
 * release's manifest.  It is small enough to own, and keeps zdd-release
 * from linking a whole crypto library for one hash.
 */
#ifndef ZDD_SHA256_H
#define ZDD_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct zsha256 {
	uint32_t h[8];
	uint64_t len;		/* bytes hashed so far */
	unsigned char buf[64];
	size_t	 nbuf;
};

void	zsha256_init(struct zsha256 *c);
void	zsha256_update(struct zsha256 *c, const void *data, size_t len);
/* The digest as 64 lower-case hex digits and a NUL, into hex[65]. */
void	zsha256_final(struct zsha256 *c, char hex[65]);

#endif
