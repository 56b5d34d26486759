/*
 * Unit tests of minisign and signify signatures, with keys and
 * signatures made here by the real minisign and signify-openbsd (Debian's
 * packages; tests/deps.sh installs them): each kind verifies, and a
 * tampered file, another key, a signature of another file, a forged
 * trusted comment and every truncation or corruption of the key and
 * signature files are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fsatom.h"
#include "io.h"
#include "sig.h"

static char dir[] = "/dev/shm/zdd-unit-sig.XXXXXX";

/* Run a shell command in dir; it must succeed. */
static void
sh(const char *fmt, ...)
{
	char cmd[2048];
	int n;
	va_list ap;

	n = snprintf(cmd, sizeof cmd, "cd %s && { ", dir);
	va_start(ap, fmt);
	n += vsnprintf(cmd + n, sizeof cmd - (size_t)n, fmt, ap);
	va_end(ap);
	snprintf(cmd + n, sizeof cmd - (size_t)n, "; } >/dev/null 2>&1");
	if (system(cmd) != 0)
		fail_msg("failed: %s", cmd);
}

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	/* Two minisign keys, one signify key, two files and signatures. */
	sh("printf 'build 1\\n' >art && printf 'build 2\\n' >other && "
	    ": >empty && "
	    "minisign -G -W -p m.pub -s m.key && "
	    "minisign -G -W -p m2.pub -s m2.key && "
	    "signify-openbsd -G -n -p s.pub -s s.sec && "
	    "signify-openbsd -G -n -p s2.pub -s s2.sec && "
	    "minisign -S -s m.key -m art -t 'build 1 by ci' && "
	    "minisign -S -l -s m.key -m art -x art.legacy -t legacy && "
	    "minisign -S -s m2.key -m art -x art.m2 && "
	    "minisign -S -s m.key -m other && "
	    "minisign -S -s m.key -m empty && "
	    "signify-openbsd -S -s s.sec -m art && "
	    "signify-openbsd -S -s s2.sec -m art -x art.s2 && "
	    "signify-openbsd -S -s s.sec -m other");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	zrmtree_at(AT_FDCWD, dir, NULL);
	return 0;
}

/* The whole of dir/name, its length in *len. */
static char *
slurp(const char *name, size_t *len)
{
	char path[512];
	char *s;
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	s = zread_all(fd, 1 << 20, 0, 0, len);
	assert_non_null(s);
	close(fd);
	return s;
}

static void
load_key(const char *name, struct zsig_key *k)
{
	const char *why = NULL;
	size_t len;
	char *s = slurp(name, &len);

	if (zsig_key_parse(s, len, k, &why) == -1)
		fail_msg("%s: %s", name, why);
	free(s);
}

static void
load_sig(const char *name, enum zsig_kind kind, struct zsig *g)
{
	const char *why = NULL;
	size_t len;
	char *s = slurp(name, &len);

	if (zsig_parse(s, len, kind, g, &why) == -1)
		fail_msg("%s: %s", name, why);
	free(s);
}

/* zsig_check_fd() of dir/file: 0 or the errno, *why the reason. */
static int
check(const char *file, const struct zsig_want *w, char hex[65],
    const char **why)
{
	char path[512];
	int fd, rc, e;

	snprintf(path, sizeof path, "%s/%s", dir, file);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	/* The offset must not matter: the whole file is checked. */
	assert_int_equal(lseek(fd, 3, SEEK_SET), 3);
	*why = NULL;
	rc = zsig_check_fd(fd, w, hex, why);
	e = errno;
	close(fd);
	if (rc == 0)
		return 0;
	assert_int_equal(rc, -1);
	return e;
}

static void
test_minisign_key(void **state)
{
	struct zsig_key k;
	char hex[17], *pub, want[32];
	size_t len;

	(void)state;
	load_key("m.pub", &k);
	assert_int_equal(k.kind, ZSIG_MINISIGN);
	/* minisign names the key id in the comment: the same digits. */
	pub = slurp("m.pub", &len);
	assert_int_equal(sscanf(pub, "untrusted comment: minisign public key "
	    "%16s", want), 1);
	zsig_id_hex(k.id, hex);
	assert_string_equal(hex, want);
	free(pub);
	/* Leading zeros are dropped, as minisign's %llX drops them. */
	memcpy(k.id, "\xd0\x53\xb7\x2e\xb7\x18\xf3\x0b", 8);
	zsig_id_hex(k.id, hex);
	assert_string_equal(hex, "BF318B72EB753D0");
	memset(k.id, 0, 8);
	zsig_id_hex(k.id, hex);
	assert_string_equal(hex, "0");
	memset(k.id, 0xab, 8);
	zsig_id_hex(k.id, hex);
	assert_string_equal(hex, "ABABABABABABABAB");
	load_key("s.pub", &k);
	assert_int_equal(k.kind, ZSIG_SIGNIFY);
	assert_string_equal(zsig_suffix(ZSIG_SIGNIFY), ".sig");
	assert_string_equal(zsig_suffix(ZSIG_MINISIGN), ".minisig");
}

static void
test_verifies(void **state)
{
	struct zsig_key k;
	struct zsig g;
	struct zsig_want w = { NULL, &k, &g };
	const char *why;
	char hex[65];

	(void)state;
	load_key("m.pub", &k);
	load_sig("art.minisig", ZSIG_MINISIGN, &g);
	assert_true(g.prehashed);
	assert_string_equal(g.trusted, "build 1 by ci");
	assert_int_equal(check("art", &w, hex, &why), 0);
	/* printf 'build 1\n' | sha256sum */
	assert_string_equal(hex, "892f442077b3cfb0c8066d5ffb7d1150"
	    "8b1f22a43ddf25ed172382dd5b7a297c");

	load_sig("art.legacy", ZSIG_MINISIGN, &g);
	assert_false(g.prehashed);
	assert_string_equal(g.trusted, "legacy");
	assert_int_equal(check("art", &w, hex, &why), 0);

	load_sig("empty.minisig", ZSIG_MINISIGN, &g);
	assert_int_equal(check("empty", &w, hex, &why), 0);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");

	load_key("s.pub", &k);
	load_sig("art.sig", ZSIG_SIGNIFY, &g);
	assert_false(g.prehashed);
	assert_int_equal(check("art", &w, hex, &why), 0);
}

static void
test_refused(void **state)
{
	struct zsig_key k;
	struct zsig g;
	struct zsig_want w = { NULL, &k, &g };
	const char *why;
	char hex[65];

	(void)state;
	/* A signature of another file, of each kind. */
	load_key("m.pub", &k);
	load_sig("art.minisig", ZSIG_MINISIGN, &g);
	assert_int_equal(check("other", &w, hex, &why), EBADMSG);
	assert_string_equal(why, "the signature does not verify");
	load_sig("art.legacy", ZSIG_MINISIGN, &g);
	assert_int_equal(check("other", &w, hex, &why), EBADMSG);
	load_key("s.pub", &k);
	load_sig("art.sig", ZSIG_SIGNIFY, &g);
	assert_int_equal(check("other", &w, hex, &why), EBADMSG);
	assert_string_equal(why, "the signature does not verify");

	/* Another key. */
	load_key("m.pub", &k);
	load_sig("art.m2", ZSIG_MINISIGN, &g);
	assert_int_equal(check("art", &w, hex, &why), EBADMSG);
	assert_string_equal(why, "signed by another key");
	load_key("s.pub", &k);
	load_sig("art.s2", ZSIG_SIGNIFY, &g);
	assert_int_equal(check("art", &w, hex, &why), EBADMSG);
	assert_string_equal(why, "signed by another key");

	/*
	 * The other key's id with this key's signature bytes: the id
	 * matches, Ed25519 must still refuse.
	 */
	load_key("m2.pub", &k);
	load_sig("art.minisig", ZSIG_MINISIGN, &g);
	memcpy(g.id, k.id, sizeof g.id);
	assert_int_equal(check("art", &w, hex, &why), EBADMSG);
	assert_string_equal(why, "the signature does not verify");

	/* Tampered bytes: the file changed after signing. */
	load_key("m.pub", &k);
	load_sig("art.minisig", ZSIG_MINISIGN, &g);
	sh("cp art tampered && printf X | dd of=tampered bs=1 seek=2 "
	    "conv=notrunc");
	assert_int_equal(check("tampered", &w, hex, &why), EBADMSG);

	/* A trusted comment rewritten: the global signature catches it. */
	snprintf(g.trusted, sizeof g.trusted, "build 2 by ci");
	assert_int_equal(check("art", &w, hex, &why), EBADMSG);
	assert_string_equal(why, "the trusted comment's signature does not "
	    "verify");
}

static void
test_sha256_pin(void **state)
{
	struct zsig_want w = { NULL, NULL, NULL };
	const char *why;
	char hex[65], pin[65];
	size_t i;
	int fd;

	(void)state;
	assert_int_equal(check("art", &w, hex, &why), 0);
	snprintf(pin, sizeof pin, "%s", hex);
	w.sha256 = pin;
	assert_int_equal(check("art", &w, hex, &why), 0);
	/* Upper case, as some tools print it. */
	for (i = 0; pin[i] != '\0'; i++)
		if (pin[i] >= 'a')
			pin[i] = (char)(pin[i] - 'a' + 'A');
	assert_int_equal(check("art", &w, hex, &why), 0);
	assert_int_equal(check("other", &w, hex, &why), EBADMSG);
	assert_string_equal(why, "its SHA-256 is not the one pinned");
	/* Not a regular file. */
	fd = open("/", O_RDONLY);
	assert_int_equal(zsig_check_fd(fd, &w, hex, &why), -1);
	assert_int_equal(errno, EINVAL);
	close(fd);
}

/* Every strict prefix of a good file is refused, but the newline-less. */
static void
truncations(const char *name, int key, enum zsig_kind kind)
{
	struct zsig_key k;
	struct zsig g;
	const char *why;
	size_t len, i;
	char *s = slurp(name, &len);
	int rc;

	for (i = 0; i < len; i++) {
		why = NULL;
		rc = key ? zsig_key_parse(s, i, &k, &why) :
		    zsig_parse(s, i, kind, &g, &why);
		if (i == len - 1 && s[i] == '\n')
			assert_int_equal(rc, 0);
		else {
			if (rc != -1)
				fail_msg("%s cut at %zu parses", name, i);
			assert_non_null(why);
		}
	}
	free(s);
}

static void
test_truncated(void **state)
{
	(void)state;
	truncations("m.pub", 1, 0);
	truncations("s.pub", 1, 0);
	truncations("art.minisig", 0, ZSIG_MINISIGN);
	truncations("art.legacy", 0, ZSIG_MINISIGN);
	truncations("art.sig", 0, ZSIG_SIGNIFY);
}

/* Parse text as a key (kind 0) or a signature; the reason, or NULL. */
static const char *
parse(const char *text, enum zsig_kind kind)
{
	struct zsig_key k;
	struct zsig g;
	const char *why = NULL;
	int rc;

	rc = kind == 0 ? zsig_key_parse(text, strlen(text), &k, &why) :
	    zsig_parse(text, strlen(text), kind, &g, &why);
	return rc == 0 ? NULL : why;
}

static void
test_garbage(void **state)
{
	char *pub, *sig, *s, buf[ZSIG_FILE_MAX * 2], *p;
	size_t len, slen, i;

	(void)state;
	pub = slurp("m.pub", &len);
	assert_null(parse(pub, 0));
	/* CRLF line ends, as minisign accepts them. */
	p = strchr(pub, '\n');
	snprintf(buf, sizeof buf, "%.*s\r\n%.*s\r\n", (int)(p - pub), pub,
	    (int)(len - (size_t)(p - pub) - 2), p + 1);
	assert_null(parse(buf, 0));
	/* No comment line, a wrong prefix, an empty file. */
	assert_non_null(parse(p + 1, 0));
	assert_non_null(parse("", 0));
	snprintf(buf, sizeof buf, "Untrusted comment:%s", pub + 18);
	assert_non_null(parse(buf, 0));
	/* A third line, even an empty one. */
	snprintf(buf, sizeof buf, "%s\n", pub);
	assert_non_null(parse(buf, 0));
	/* Base64 that is not canonical: spare bits, padding, spaces. */
	p = strchr(pub, '\n') + 1;
	for (i = 0; i < 4; i++) {
		snprintf(buf, sizeof buf, "%s", pub);
		s = buf + (p - pub);
		switch (i) {
		case 0:
			s[10] = '*';
			break;
		case 1:
			s[10] = ' ';
			break;
		case 2:
			memmove(s + 1, s, strlen(s) + 1);
			s[0] = ' ';
			break;
		case 3:
			strcpy(s + 56, "==\n");
			break;
		}
		assert_non_null(parse(buf, 0));
	}
	/* Another algorithm: "Ed" becomes "EV" ("RW" -> "RV"). */
	snprintf(buf, sizeof buf, "%s", pub);
	assert_int_equal(buf[p - pub + 1], 'W');
	buf[p - pub + 1] = 'V';
	assert_string_equal(parse(buf, 0), "not an Ed25519 public key");
	/* A comment past minisign's limit. */
	memset(buf, 'x', sizeof buf);
	memcpy(buf, "untrusted comment: ", 19);
	snprintf(buf + 19 + ZSIG_COMMENT_MAX + 1, 200, "\n%s", p);
	assert_non_null(parse(buf, 0));
	free(pub);

	sig = slurp("art.minisig", &slen);
	assert_null(parse(sig, ZSIG_MINISIGN));
	/* The kinds crossed: each is told what it got. */
	assert_string_equal(parse(sig, ZSIG_SIGNIFY),
	    "not an Ed25519 signature");
	free(sig);
	sig = slurp("art.legacy", &slen);
	assert_string_equal(parse(sig, ZSIG_SIGNIFY),
	    "a minisign signature, but the key is signify's");
	free(sig);
	sig = slurp("art.sig", &slen);
	assert_string_equal(parse(sig, ZSIG_MINISIGN),
	    "a signify signature, but the key is minisign's");
	free(sig);

	sig = slurp("art.minisig", &slen);
	/* A trusted comment with an escape sequence or invalid UTF-8. */
	p = strstr(sig, "trusted comment: b");
	assert_non_null(p);
	for (i = 0; i < 3; i++) {
		snprintf(buf, sizeof buf, "%s", sig);
		s = buf + (p - sig) + 17;
		s[0] = i == 0 ? '\033' : i == 1 ? '\xc3' : '\x80';
		assert_string_equal(parse(buf, ZSIG_MINISIGN),
		    "the trusted comment is not printable UTF-8");
	}
	/*
	 * U+2028 (a line break), U+202E and U+2067 (bidi) in place of
	 * "bui"; U+00E9 is fine (but will not verify: only parsing here).
	 */
	for (i = 0; i < 4; i++) {
		snprintf(buf, sizeof buf, "%s", sig);
		s = buf + (p - sig) + 17;
		memcpy(s, i == 0 ? "\xe2\x80\xa8" : i == 1 ? "\xe2\x80\xae" :
		    i == 2 ? "\xe2\x81\xa7" : "\xc3\xa9" "d", 3);
		if (i < 3)
			assert_string_equal(parse(buf, ZSIG_MINISIGN),
			    "the trusted comment is not printable UTF-8");
		else
			assert_null(parse(buf, ZSIG_MINISIGN));
	}
	/* A fifth line. */
	snprintf(buf, sizeof buf, "%sx\n", sig);
	assert_string_equal(parse(buf, ZSIG_MINISIGN),
	    "not a minisign signature: more than four lines");
	/* Larger than any real signature file. */
	s = malloc(ZSIG_FILE_MAX + 2);
	memset(s, 'a', ZSIG_FILE_MAX + 1);
	s[ZSIG_FILE_MAX + 1] = '\0';
	assert_string_equal(parse(s, ZSIG_MINISIGN),
	    "too long for a signature file");
	assert_string_equal(parse(s, 0), "too long for a public key file");
	free(s);
	free(sig);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minisign_key),
		cmocka_unit_test(test_verifies),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_sha256_pin),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests_name("sig", tests, setup, teardown);
}
