/*
 * Detached signatures made by minisign and by OpenBSD's signify, and the
 * check of an artifact against them and against a pinned SHA-256.  Key
 * and signature files are untrusted input: the parsers take a buffer and
 * a length, do no I/O, never print, and say why they refused.  Ed25519
 * and the digests come from libcrypto, never from hand-written code.
 *
 * Both tools write a public key as an "untrusted comment: " line and the
 * base64 of "Ed", an 8-byte key id and the 32-byte key; the bytes do not
 * tell the two apart, so the comment does: a key whose comment names
 * minisign (as `minisign -G' writes it) is a minisign key, any other a
 * signify key.
 */
#ifndef ZDD_SIG_H
#define ZDD_SIG_H

#include <stddef.h>

#define ZSIG_ID_LEN	8
#define ZSIG_PK_LEN	32
#define ZSIG_SIG_LEN	64
#define ZSIG_COMMENT_MAX 1024	/* bytes of a comment, as minisign allows */
#define ZSIG_FILE_MAX	4096	/* a larger key or signature file is junk */

enum zsig_kind { ZSIG_MINISIGN = 1, ZSIG_SIGNIFY };

struct zsig_key {
	enum zsig_kind kind;
	unsigned char id[ZSIG_ID_LEN];
	unsigned char pk[ZSIG_PK_LEN];
};

struct zsig {
	enum zsig_kind kind;
	int	prehashed;	/* minisign "ED": signs BLAKE2b-512(file) */
	unsigned char id[ZSIG_ID_LEN];
	unsigned char sig[ZSIG_SIG_LEN];
	/* minisign only: the trusted comment and its global signature */
	unsigned char gsig[ZSIG_SIG_LEN];
	char	trusted[ZSIG_COMMENT_MAX + 1];
};

/*
 * Parse a public key file (buf, len bytes, need not be NUL-terminated).
 * On failure -1 with why set to a short reason.
 */
int	zsig_key_parse(const char *buf, size_t len, struct zsig_key *k,
	    const char **why);
/*
 * Parse a signature file of the kind given: minisign's four lines (legacy
 * "Ed" or prehashed "ED"; a trusted comment of valid UTF-8 without control
 * characters but tab) or signify's two.  On failure -1 with why set.
 * Whether the key id matches is zsig_verify()'s to say.
 */
int	zsig_parse(const char *buf, size_t len, enum zsig_kind kind,
	    struct zsig *s, const char **why);
/* ".minisig" or ".sig": what ARTIFACT is followed by in its default
 * signature file's name. */
const char *zsig_suffix(enum zsig_kind kind);
const char *zsig_kind_name(enum zsig_kind kind);
/* The key id as minisign prints it: upper-case hex, no leading zeros. */
void	zsig_id_hex(const unsigned char id[ZSIG_ID_LEN], char hex[17]);

/*
 * Whether s is k's signature of a message: msg and len, or for a
 * prehashed signature blake2b, the message's BLAKE2b-512 (msg may then be
 * NULL).  A minisign signature's trusted comment must carry its global
 * signature too.  0 if it verifies; -1 with why set if not, errno
 * EBADMSG for a refusal and anything else for libcrypto's failure.
 */
int	zsig_verify(const struct zsig_key *k, const struct zsig *s,
	    const void *msg, size_t len, const unsigned char *blake2b,
	    const char **why);

/* What an artifact must match; a NULL member is not checked. */
struct zsig_want {
	const char *sha256;		/* 64 hex digits, either case */
	const struct zsig_key *key;	/* with sig */
	const struct zsig *sig;
};

/*
 * Check the regular file open at fd, read from its start whatever its
 * offset, against w, and leave its SHA-256 in hex whatever the outcome.
 * 0 when it matches; -1 otherwise, errno EBADMSG with why set when the
 * file is not what w wants, another errno when it cannot be read.  The
 * file is mapped, not copied: signify and legacy minisign sign the whole
 * message, which Ed25519 must see at once.
 */
int	zsig_check_fd(int fd, const struct zsig_want *w, char hex[65],
	    const char **why);

#endif
