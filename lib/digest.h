/*
 * Message digests from libcrypto (OpenSSL 3's EVP interface), never
 * hand-written: SHA-256 for artifacts and manifests, BLAKE2b-512 for
 * minisign's prehashed signatures.  libcrypto picks the fastest code the
 * CPU has (SHA extensions, AVX2), which a portable C loop cannot.
 */
#ifndef ZDD_DIGEST_H
#define ZDD_DIGEST_H

#include <stddef.h>

#define ZDIGEST_MAX	64	/* bytes of the longest digest, BLAKE2b-512 */

/* The algorithms zdd uses, by libcrypto's names. */
#define ZDIGEST_SHA256	"SHA256"
#define ZDIGEST_BLAKE2B	"BLAKE2B-512"

struct zdigest;

/* A running digest of algorithm alg; NULL (errno set) on failure. */
struct zdigest *zdigest_new(const char *alg);
int	zdigest_update(struct zdigest *d, const void *data, size_t len);
/*
 * The digest into out (ZDIGEST_MAX bytes), its length returned; -1 on
 * failure.  The digest may be used again after zdigest_reset().
 */
int	zdigest_final(struct zdigest *d, unsigned char *out);
int	zdigest_reset(struct zdigest *d);
void	zdigest_free(struct zdigest *d);

/* len bytes as lower-case hex and a NUL, into hex (2 * len + 1 bytes). */
void	zhex(const unsigned char *p, size_t len, char *hex);
/*
 * The SHA-256 of a buffer as 64 hex digits and a NUL; -1 if libcrypto
 * fails.
 */
int	zsha256_hex(const void *data, size_t len, char hex[65]);

#endif
