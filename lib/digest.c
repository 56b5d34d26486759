/*
 * A thin layer over EVP_MD_CTX.  The algorithms are fetched once per
 * digest by name, so a libcrypto without one (a FIPS provider without
 * BLAKE2b) fails here, where the caller can say which, rather than deep
 * in a verification.
 */
#include <errno.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "digest.h"

struct zdigest {
	EVP_MD_CTX	*ctx;
	EVP_MD		*md;
};

struct zdigest *
zdigest_new(const char *alg)
{
	struct zdigest *d;

	if ((d = calloc(1, sizeof *d)) == NULL)
		return NULL;
	d->md = EVP_MD_fetch(NULL, alg, NULL);
	d->ctx = EVP_MD_CTX_new();
	if (d->md == NULL || d->ctx == NULL ||
	    EVP_DigestInit_ex2(d->ctx, d->md, NULL) != 1) {
		zdigest_free(d);
		errno = ENOSYS;
		return NULL;
	}
	return d;
}

int
zdigest_update(struct zdigest *d, const void *data, size_t len)
{
	if (EVP_DigestUpdate(d->ctx, data, len) != 1) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int
zdigest_final(struct zdigest *d, unsigned char *out)
{
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(d->ctx, out, &n) != 1) {
		errno = EIO;
		return -1;
	}
	return (int)n;
}

int
zdigest_reset(struct zdigest *d)
{
	if (EVP_DigestInit_ex2(d->ctx, d->md, NULL) != 1) {
		errno = EIO;
		return -1;
	}
	return 0;
}

void
zdigest_free(struct zdigest *d)
{
	if (d == NULL)
		return;
	EVP_MD_CTX_free(d->ctx);
	EVP_MD_free(d->md);
	free(d);
}

void
zhex(const unsigned char *p, size_t len, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		hex[2 * i] = digits[p[i] >> 4];
		hex[2 * i + 1] = digits[p[i] & 15];
	}
	hex[2 * len] = '\0';
}

int
zsha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char md[ZDIGEST_MAX];
	unsigned int n = 0;

	if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 ||
	    n != 32) {
		errno = EIO;
		return -1;
	}
	zhex(md, n, hex);
	return 0;
}
