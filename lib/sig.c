/*
 * minisign and signify signatures.  The file formats are parsed to the
 * byte, more strictly than the tools themselves do where they are lax
 * (base64 must be canonical, nothing may follow the last line), because
 * a file that two parsers read differently is where forgeries hide.
 * Base64, Ed25519, SHA-256 and BLAKE2b-512 are libcrypto's.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "digest.h"
#include "sig.h"

#define UNTRUSTED	"untrusted comment: "
#define TRUSTED		"trusted comment: "
#define KEY_LEN		(2 + ZSIG_ID_LEN + ZSIG_PK_LEN)
#define SIG_LEN		(2 + ZSIG_ID_LEN + ZSIG_SIG_LEN)
#define CHUNK		(1 << 20)
#define B64		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
			"0123456789+/="

/* One line of buf: up to '\n' (or the end), one '\r' before it dropped. */
static int
take_line(const char **p, const char *end, const char **line, size_t *n)
{
	const char *nl;

	if (*p >= end)
		return -1;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	*line = *p;
	*n = (size_t)((nl != NULL ? nl : end) - *p);
	*p = nl != NULL ? nl + 1 : end;
	/* minisign trims a CRLF line end; a key saved on Windows works. */
	if (*n > 0 && (*line)[*n - 1] == '\r')
		(*n)--;
	return 0;
}

/*
 * A comment line: prefix, then at most ZSIG_COMMENT_MAX bytes with no
 * NUL or CR in them.  *text and *tlen are what follows the prefix.
 */
static int
comment_line(const char *line, size_t n, const char *prefix,
    const char **text, size_t *tlen)
{
	size_t plen = strlen(prefix);

	if (n < plen || memcmp(line, prefix, plen) != 0)
		return -1;
	*text = line + plen;
	*tlen = n - plen;
	if (*tlen > ZSIG_COMMENT_MAX || memchr(*text, '\0', *tlen) != NULL ||
	    memchr(*text, '\r', *tlen) != NULL)
		return -1;
	return 0;
}

/*
 * Decode exactly want bytes from the n characters at s, which must be
 * their canonical base64: the right length, padding and zero spare bits.
 * Decoding and encoding again must give the same text, which rules out
 * every variant that a lax decoder would accept.
 */
static int
b64_exact(const char *s, size_t n, unsigned char *out, size_t want)
{
	unsigned char bin[128];
	char enc[200];
	size_t i;

	if (want > 96 || n != 4 * ((want + 2) / 3))
		return -1;
	for (i = 0; i < n; i++)
		if (s[i] == '\0' || strchr(B64, s[i]) == NULL)
			return -1;
	if (EVP_DecodeBlock(bin, (const unsigned char *)s, (int)n) !=
	    (int)(3 * n / 4))
		return -1;
	if (EVP_EncodeBlock((unsigned char *)enc, bin, (int)want) != (int)n ||
	    memcmp(enc, s, n) != 0)
		return -1;
	memcpy(out, bin, want);
	return 0;
}

/*
 * Whether s is UTF-8 that is safe to print and to store in JSON: no
 * control characters but tab (minisign separates its trusted comment's
 * fields with tabs), C1 controls included, no line separators or bidi
 * overrides, no overlong forms, no surrogates.
 */
static int
printable_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0, k, need;
	uint32_t c, min;

	while (i < n) {
		c = s[i++];
		if (c < 0x80) {
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return 0;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			min = 0x80;
			c &= 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			min = 0x800;
			c &= 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			min = 0x10000;
			c &= 0x07;
		} else
			return 0;
		if (n - i < need)
			return 0;
		for (k = 0; k < need; k++, i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (s[i] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) ||
		    c < 0xa0)
			return 0;
		/* Line separators and bidi overrides forge what a line says. */
		if ((c >= 0x2028 && c <= 0x202e) ||
		    (c >= 0x2066 && c <= 0x2069))
			return 0;
	}
	return 1;
}

/*
 * The two lines every key and signature file starts with: the untrusted
 * comment (its text in *text) and the base64 of exactly binlen bytes.
 * On failure -1 with *why NULL when the comment line is wrong, non-NULL
 * when the base64 is: the callers word the reason for their file.
 */
static int
head(const char **p, const char *end, const char **text, size_t *tlen,
    unsigned char *bin, size_t binlen, const char **why)
{
	const char *line;
	size_t n;

	*why = NULL;
	if (take_line(p, end, &line, &n) == -1 ||
	    comment_line(line, n, UNTRUSTED, text, tlen) == -1)
		return -1;
	*why = "base64";
	if (take_line(p, end, &line, &n) == -1 ||
	    b64_exact(line, n, bin, binlen) == -1)
		return -1;
	*why = NULL;
	return 0;
}

int
zsig_key_parse(const char *buf, size_t len, struct zsig_key *k,
    const char **why)
{
	const char *p = buf, *end = buf + len, *text;
	unsigned char bin[KEY_LEN];
	size_t tlen;

	if (len > ZSIG_FILE_MAX) {
		*why = "too long for a public key file";
		return -1;
	}
	if (head(&p, end, &text, &tlen, bin, sizeof bin, why) == -1) {
		*why = *why == NULL ? "not a public key: no \"untrusted "
		    "comment:\" line" : "not a public key: the key is not 42 "
		    "bytes of base64";
		return -1;
	}
	if (p != end) {
		*why = "not a public key: more than two lines";
		return -1;
	}
	if (memcmp(bin, "Ed", 2) != 0) {
		*why = "not an Ed25519 public key";
		return -1;
	}
	k->kind = memmem(text, tlen, "minisign", 8) != NULL ? ZSIG_MINISIGN :
	    ZSIG_SIGNIFY;
	memcpy(k->id, bin + 2, ZSIG_ID_LEN);
	memcpy(k->pk, bin + 2 + ZSIG_ID_LEN, ZSIG_PK_LEN);
	return 0;
}

int
zsig_parse(const char *buf, size_t len, enum zsig_kind kind, struct zsig *s,
    const char **why)
{
	const char *p = buf, *end = buf + len, *line, *text;
	unsigned char bin[SIG_LEN];
	size_t n, tlen;

	memset(s, 0, sizeof *s);
	s->kind = kind;
	if (len > ZSIG_FILE_MAX) {
		*why = "too long for a signature file";
		return -1;
	}
	if (head(&p, end, &text, &tlen, bin, sizeof bin, why) == -1) {
		*why = *why == NULL ? "not a signature: no \"untrusted "
		    "comment:\" line" : "not a signature: the signature is "
		    "not 74 bytes of base64";
		return -1;
	}
	if (memcmp(bin, "Ed", 2) == 0)
		s->prehashed = 0;
	else if (kind == ZSIG_MINISIGN && memcmp(bin, "ED", 2) == 0)
		s->prehashed = 1;
	else {
		*why = "not an Ed25519 signature";
		return -1;
	}
	memcpy(s->id, bin + 2, ZSIG_ID_LEN);
	memcpy(s->sig, bin + 2 + ZSIG_ID_LEN, ZSIG_SIG_LEN);
	if (kind == ZSIG_SIGNIFY) {
		if (p != end) {
			n = strlen(TRUSTED);
			*why = (size_t)(end - p) >= n &&
			    memcmp(p, TRUSTED, n) == 0 ?
			    "a minisign signature, but the key is signify's" :
			    "not a signify signature: more than two lines";
			return -1;
		}
		return 0;
	}
	if (p >= end) {
		*why = "a signify signature, but the key is minisign's";
		return -1;
	}
	if (take_line(&p, end, &line, &n) == -1 ||
	    comment_line(line, n, TRUSTED, &text, &tlen) == -1) {
		*why = "not a minisign signature: no \"trusted comment:\" "
		    "line";
		return -1;
	}
	if (!printable_utf8((const unsigned char *)text, tlen)) {
		*why = "the trusted comment is not printable UTF-8";
		return -1;
	}
	memcpy(s->trusted, text, tlen);
	s->trusted[tlen] = '\0';
	if (take_line(&p, end, &line, &n) == -1 ||
	    b64_exact(line, n, s->gsig, ZSIG_SIG_LEN) == -1) {
		*why = "not a minisign signature: the global signature is "
		    "not 64 bytes of base64";
		return -1;
	}
	if (p != end) {
		*why = "not a minisign signature: more than four lines";
		return -1;
	}
	return 0;
}

const char *
zsig_suffix(enum zsig_kind kind)
{
	return kind == ZSIG_MINISIGN ? ".minisig" : ".sig";
}

const char *
zsig_kind_name(enum zsig_kind kind)
{
	return kind == ZSIG_MINISIGN ? "minisign" : "signify";
}

void
zsig_id_hex(const unsigned char id[ZSIG_ID_LEN], char hex[17])
{
	unsigned char rev[ZSIG_ID_LEN];
	size_t i;

	size_t z;

	/*
	 * minisign prints the id as a little-endian 64-bit number, in upper
	 * case and without leading zeros ("%" PRIX64): the same digits here,
	 * so that an auditor can match the key id zdd records with the one
	 * in the key file's comment.
	 */
	for (i = 0; i < ZSIG_ID_LEN; i++)
		rev[i] = id[ZSIG_ID_LEN - 1 - i];
	zhex(rev, ZSIG_ID_LEN, hex);
	for (i = 0; hex[i] != '\0'; i++)
		if (hex[i] >= 'a' && hex[i] <= 'f')
			hex[i] = (char)(hex[i] - 'a' + 'A');
	for (z = 0; hex[z] == '0' && hex[z + 1] != '\0'; z++)
		;
	memmove(hex, hex + z, strlen(hex + z) + 1);
}

/* 1 if sig is pk's Ed25519 signature of msg, 0 if not, -1 on failure. */
static int
ed25519(const unsigned char *pk, const unsigned char *sig, const void *msg,
    size_t len)
{
	EVP_PKEY *key;
	EVP_MD_CTX *ctx;
	int rc = -1, v;

	key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk,
	    ZSIG_PK_LEN);
	ctx = EVP_MD_CTX_new();
	if (key != NULL && ctx != NULL &&
	    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1) {
		v = EVP_DigestVerify(ctx, sig, ZSIG_SIG_LEN,
		    msg != NULL ? msg : "", len);
		rc = v == 1 ? 1 : v == 0 ? 0 : -1;
	}
	/* A refused signature leaves an error queued; it is not news. */
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return rc;
}

int
zsig_verify(const struct zsig_key *k, const struct zsig *s, const void *msg,
    size_t len, const unsigned char *blake2b, const char **why)
{
	unsigned char global[ZSIG_SIG_LEN + ZSIG_COMMENT_MAX];
	size_t tlen;
	int rc;

	if (k->kind != s->kind) {
		*why = "the signature is not of the key's kind";
		errno = EBADMSG;
		return -1;
	}
	if (memcmp(k->id, s->id, ZSIG_ID_LEN) != 0) {
		*why = "signed by another key";
		errno = EBADMSG;
		return -1;
	}
	if (s->prehashed && blake2b == NULL) {
		*why = "a prehashed signature needs the file's BLAKE2b-512";
		errno = EINVAL;
		return -1;
	}
	rc = s->prehashed ? ed25519(k->pk, s->sig, blake2b, 64) :
	    ed25519(k->pk, s->sig, msg, len);
	if (rc == 1 && k->kind == ZSIG_MINISIGN) {
		/* The trusted comment is signed with the signature itself. */
		tlen = strnlen(s->trusted, ZSIG_COMMENT_MAX);
		memcpy(global, s->sig, ZSIG_SIG_LEN);
		memcpy(global + ZSIG_SIG_LEN, s->trusted, tlen);
		rc = ed25519(k->pk, s->gsig, global, ZSIG_SIG_LEN + tlen);
		if (rc == 0) {
			*why = "the trusted comment's signature does not "
			    "verify";
			errno = EBADMSG;
			return -1;
		}
	}
	if (rc == -1) {
		*why = "libcrypto cannot verify Ed25519";
		errno = ENOSYS;
		return -1;
	}
	if (rc == 0) {
		*why = "the signature does not verify";
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

int
zsig_check_fd(int fd, const struct zsig_want *w, char hex[65],
    const char **why)
{
	unsigned char md[ZDIGEST_MAX], b2[ZDIGEST_MAX];
	struct zdigest *sha = NULL, *blake = NULL;
	const unsigned char *map = NULL;
	struct stat sb;
	size_t size, off, n;
	int rc = -1, e, whole;

	hex[0] = '\0';
	if (fstat(fd, &sb) == -1)
		return -1;
	if (!S_ISREG(sb.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	size = (size_t)sb.st_size;
	if (size > 0) {
		map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED)
			return -1;
		madvise((void *)map, size, MADV_SEQUENTIAL);
	}
	if ((sha = zdigest_new(ZDIGEST_SHA256)) == NULL)
		goto out;
	if (w->sig != NULL && w->sig->prehashed &&
	    (blake = zdigest_new(ZDIGEST_BLAKE2B)) == NULL)
		goto out;
	/*
	 * One pass over the file for both digests.  Unless Ed25519 must see
	 * the whole message later (signify, legacy minisign), each chunk
	 * leaves the process's memory once hashed: it stays in the page
	 * cache for the unpack, but a large artifact does not count as this
	 * process's resident memory.
	 */
	whole = w->sig != NULL && !w->sig->prehashed;
	for (off = 0; off < size; off += n) {
		n = size - off < CHUNK ? size - off : CHUNK;
		if (zdigest_update(sha, map + off, n) == -1 ||
		    (blake != NULL &&
		    zdigest_update(blake, map + off, n) == -1))
			goto out;
		if (!whole)
			madvise((void *)(map + off), n, MADV_DONTNEED);
	}
	if (zdigest_final(sha, md) != 32 ||
	    (blake != NULL && zdigest_final(blake, b2) != 64))
		goto out;
	zhex(md, 32, hex);
	if (w->sha256 != NULL && strcasecmp(w->sha256, hex) != 0) {
		*why = "its SHA-256 is not the one pinned";
		errno = EBADMSG;
		goto out;
	}
	if (w->key != NULL && w->sig != NULL &&
	    zsig_verify(w->key, w->sig, map, size, b2, why) == -1)
		goto out;
	rc = 0;
out:
	e = errno;
	zdigest_free(sha);
	zdigest_free(blake);
	if (map != NULL)
		munmap((void *)map, size);
	errno = e;
	return rc;
}
