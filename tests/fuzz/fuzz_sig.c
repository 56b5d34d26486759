/*
 * minisign and signify key and signature files, as zdd-release reads
 * them from --pubkey and --signature (or from a URL).  The first byte
 * chooses what the rest is: 'k' a public key, 'm' a minisign signature,
 * 's' a signify signature, 'v' a key, a NUL and a signature of either
 * kind, verified against a fixed message when both parse.  A refusal must
 * say why; a parsed trusted comment must be a terminated string within
 * its bound; verification must answer yes or no, never crash.
 */
#include "fuzz.h"
#include "sig.h"

static void
check_sig(const struct zsig *s)
{
	size_t n = strnlen(s->trusted, sizeof s->trusted);

	FUZZ_CHECK(n <= ZSIG_COMMENT_MAX);
	FUZZ_CHECK(s->kind == ZSIG_MINISIGN || !s->prehashed);
	FUZZ_CHECK(s->kind == ZSIG_MINISIGN || n == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char blake[64];
	struct zsig_key k;
	struct zsig s;
	const uint8_t *rest;
	const char *why = NULL;
	size_t restlen;
	char *exact, *key;
	int rc;

	if (size == 0)
		return 0;
	exact = fuzz_exact(data + 1, size - 1);
	switch (data[0]) {
	case 'k':
		rc = zsig_key_parse(exact, size - 1, &k, &why);
		FUZZ_CHECK(rc == 0 || (rc == -1 && why != NULL));
		if (rc == 0)
			FUZZ_CHECK(k.kind == ZSIG_MINISIGN ||
			    k.kind == ZSIG_SIGNIFY);
		break;
	case 'm':
	case 's':
		rc = zsig_parse(exact, size - 1, data[0] == 'm' ?
		    ZSIG_MINISIGN : ZSIG_SIGNIFY, &s, &why);
		FUZZ_CHECK(rc == 0 || (rc == -1 && why != NULL));
		if (rc == 0)
			check_sig(&s);
		break;
	case 'v':
		key = fuzz_split(data + 1, size - 1, '\0', &rest, &restlen);
		free(exact);
		exact = fuzz_exact(rest, restlen);
		if (zsig_key_parse(key, strlen(key), &k, &why) == 0 &&
		    zsig_parse(exact, restlen, k.kind, &s, &why) == 0) {
			check_sig(&s);
			why = NULL;
			rc = zsig_verify(&k, &s, "zdd", 3, blake, &why);
			FUZZ_CHECK(rc == 0 || (rc == -1 && why != NULL));
		}
		free(key);
		break;
	}
	free(exact);
	return 0;
}
