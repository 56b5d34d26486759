/*
 * Unit tests of the archive entry policy and of SHA-256: the pure parts
 * of zdd-release that decide which names and link targets are safe, run
 * without a disk (zar_new(-1, ...) checks only), as a fuzzer would; and a
 * zip file on disk through the reader thread of lib/zipread.c.
 */
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
#include <archive.h>
#include <archive_entry.h>

#include "digest.h"
#include "extract.h"
#include "fsatom.h"

static void
test_clean_path(void **state)
{
	char out[4096];
	const char *why;

	(void)state;
	assert_int_equal(zar_clean_path("a/b/c", 0, out, sizeof out, &why), 1);
	assert_string_equal(out, "a/b/c");
	assert_int_equal(zar_clean_path("./a//b/./c/", 0, out, sizeof out,
	    &why), 1);
	assert_string_equal(out, "a/b/c");
	assert_int_equal(zar_clean_path("app/public/x", 1, out, sizeof out,
	    &why), 1);
	assert_string_equal(out, "public/x");
	assert_int_equal(zar_clean_path("app/", 1, out, sizeof out, &why), 0);
	assert_int_equal(zar_clean_path("./", 0, out, sizeof out, &why), 0);
	assert_int_equal(zar_clean_path("/etc/passwd", 0, out, sizeof out,
	    &why), -1);
	assert_string_equal(why, "absolute path");
	assert_int_equal(zar_clean_path("a/../b", 0, out, sizeof out, &why),
	    -1);
	assert_int_equal(zar_clean_path("..", 0, out, sizeof out, &why), -1);
	/* Stripping does not hide a "..": it is refused wherever it is. */
	assert_int_equal(zar_clean_path("../x", 1, out, sizeof out, &why), -1);
	assert_int_equal(zar_clean_path("a/..b/c..", 0, out, sizeof out,
	    &why), 1);
	assert_int_equal(zar_clean_path("a/b", 0, out, 3, &why), -1);
}

/* A tar in memory made with libarchive's writer. */
static size_t
mktar(char *buf, size_t size, const char *const *spec)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e;
	size_t used = 0;

	archive_write_set_format_pax_restricted(a);
	archive_write_open_memory(a, buf, size, &used);
	for (; *spec != NULL; spec += 2) {
		e = archive_entry_new();
		archive_entry_set_pathname(e, spec[0]);
		archive_entry_set_perm(e, 0644);
		if (spec[1] == NULL) {
			archive_entry_set_filetype(e, AE_IFDIR);
		} else if (spec[1][0] == '>') {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, spec[1] + 1);
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, (la_int64_t)strlen(spec[1]));
		}
		archive_write_header(a, e);
		if (spec[1] != NULL && spec[1][0] != '>')
			archive_write_data(a, spec[1], strlen(spec[1]));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	return used;
}

static int
check(const char *const *spec, const struct zar_opts *o)
{
	static char buf[65536];
	size_t n = mktar(buf, sizeof buf, spec);
	struct zar *z = zar_new(-1, o);
	int rc;

	rc = zar_read_mem(z, buf, n);
	if (rc == 0)
		rc = zar_end(z);
	if (rc == -1)
		assert_int_equal(zar_errno(z), 0);
	zar_free(z);
	return rc;
}

static void
test_policy(void **state)
{
	struct zar_opts o = { .dedupe_fd = -1 };
	static const char *const good[] = {
		"d/e/f", "x", "d/up", ">..", "l", ">d/up/d/e/f", NULL
	};
	static const char *const through[] = {
		"d/f", "x", "l", ">d", "l/g", "y", NULL
	};
	static const char *const later[] = {
		"a", ">b/../x", "b", ">.", NULL
	};
	static const char *const loop[] = {
		"a", ">b", "b", ">a", "c", ">a/x", NULL
	};
	static const char *const big[] = {
		"a", "0123456789", "b", "0123456789", NULL
	};

	(void)state;
	assert_int_equal(check(good, &o), 0);
	assert_int_equal(check(through, &o), -1);
	assert_int_equal(check(later, &o), -1);
	assert_int_equal(check(loop, &o), -1);
	o.max_bytes = 15;
	assert_int_equal(check(big, &o), -1);
	o.max_bytes = 20;
	assert_int_equal(check(big, &o), 0);
	o.max_files = 1;
	assert_int_equal(check(big, &o), -1);
}

static void
test_garbage(void **state)
{
	struct zar_opts o = { .dedupe_fd = -1 };
	struct zar *z = zar_new(-1, &o);

	(void)state;
	assert_int_equal(zar_read_mem(z, "not an archive at all", 21), -1);
	assert_int_equal(zar_errno(z), 0);
	zar_free(z);
}

static void
sha(const void *data, size_t len, size_t chunk, char hex[65])
{
	struct zdigest *d = zdigest_new(ZDIGEST_SHA256);
	unsigned char md[ZDIGEST_MAX];
	size_t i;

	assert_non_null(d);
	for (i = 0; i < len; i += chunk)
		assert_int_equal(zdigest_update(d, (const char *)data + i,
		    len - i < chunk ? len - i : chunk), 0);
	assert_int_equal(zdigest_final(d, md), 32);
	zhex(md, 32, hex);
	zdigest_free(d);
}

static void
test_sha256(void **state)
{
	char hex[65], *m;

	(void)state;
	sha("", 0, 1, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	sha("abc", 3, 1, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	    7, hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1");
	m = malloc(1000000);
	memset(m, 'a', 1000000);
	sha(m, 1000000, 4093, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0");
	assert_int_equal(zsha256_hex("abc", 3, hex), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	free(m);
}

/* BLAKE2b-512 of "abc" (RFC 7693, appendix A). */
static void
test_blake2b(void **state)
{
	struct zdigest *d = zdigest_new(ZDIGEST_BLAKE2B);
	unsigned char md[ZDIGEST_MAX];
	char hex[2 * ZDIGEST_MAX + 1];

	(void)state;
	assert_non_null(d);
	assert_int_equal(zdigest_update(d, "abc", 3), 0);
	assert_int_equal(zdigest_final(d, md), 64);
	zhex(md, 64, hex);
	assert_string_equal(hex, "ba80a53f981c4d0d6a2797b69f12f6e9"
	    "4c212f14685ac4b74b12bb6fdbffa2d1"
	    "7d87c5392aab792dc252d5de4533cc95"
	    "18d38aa8dbf1925ab92386edd4009923");
	zdigest_free(d);
}

/* An entry of mkzip(): a file of size bytes of data, or a symlink. */
struct zent {
	const char *name;
	size_t	 size;
	const char *link;
};

/* A zip file at path made with libarchive's writer; its SHA-256. */
static void
mkzip(const char *path, const struct zent *ze, const unsigned char *data,
    char hex[65])
{
	struct archive *a = archive_write_new();
	struct archive_entry *e;
	unsigned char *all;
	ssize_t n;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_fd(a, fd), ARCHIVE_OK);
	for (; ze->name != NULL; ze++) {
		e = archive_entry_new();
		archive_entry_set_pathname(e, ze->name);
		archive_entry_set_perm(e, 0644);
		if (ze->link != NULL) {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, ze->link);
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, (la_int64_t)ze->size);
		}
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (ze->link == NULL && ze->size > 0)
			assert_int_equal(archive_write_data(a, data, ze->size),
			    (la_ssize_t)ze->size);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	all = malloc(8 << 20);
	n = pread(fd, all, 8 << 20, 0);
	assert_true(n > 0 && n < 8 << 20);
	assert_int_equal(zsha256_hex(all, (size_t)n, hex), 0);
	free(all);
	close(fd);
}

/* zar_read_fd() of the zip at path into the empty directory dir. */
static int
unzip_into(const char *path, const char *dir, struct zar **zp, char hex[65])
{
	struct zar_opts o = { .dedupe_fd = -1 };
	int fd, dfd, rc;

	assert_int_equal(mkdir(dir, 0700), 0);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	fd = open(path, O_RDONLY);
	assert_true(dfd != -1 && fd != -1);
	*zp = zar_new(dfd, &o);
	assert_non_null(*zp);
	rc = zar_read_fd(*zp, fd, hex);
	close(fd);
	close(dfd);
	return rc;
}

static void
test_zip_fd(void **state)
{
	enum { BIG = 3 << 20 };
	char base[] = "/tmp/zdd-test-zip.XXXXXX", zip[64], out[64], hex[65];
	char want[65], *longname, *longlink, *back;
	unsigned char *data;
	uint32_t x = 2463534242u;
	struct zar *z;
	size_t i;
	int fd;
	ssize_t n;

	(void)state;
	assert_non_null(mkdtemp(base));
	data = malloc(BIG);
	/* Half noise, half text: stored blocks and inflated ones. */
	for (i = 0; i < BIG; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		data[i] = i < BIG / 2 ? (unsigned char)x : "deploy\n"[i % 7];
	}
	/* A file over many of the reader's slots, an empty one, and more. */
	{
		const struct zent ze[] = {
			{ "app/big.bin", BIG, NULL },
			{ "app/empty", 0, NULL },
			{ "app/small.txt", 100, NULL },
			{ "app/link", 0, "small.txt" },
			{ NULL, 0, NULL },
		};

		snprintf(zip, sizeof zip, "%s/a.zip", base);
		snprintf(out, sizeof out, "%s/a", base);
		mkzip(zip, ze, data, want);
		assert_int_equal(unzip_into(zip, out, &z, hex), 0);
		assert_string_equal(hex, want);
		assert_int_equal(zar_stats(z)->files, 3);
		assert_int_equal(zar_stats(z)->symlinks, 1);
		assert_int_equal(zar_stats(z)->bytes, BIG + 100);
		zar_free(z);
		back = malloc(BIG + 1);
		snprintf(zip, sizeof zip, "%s/a/app/big.bin", base);
		fd = open(zip, O_RDONLY);
		assert_true(fd != -1);
		n = pread(fd, back, BIG + 1, 0);
		assert_int_equal(n, BIG);
		assert_memory_equal(back, data, BIG);
		close(fd);
		free(back);
	}
	/*
	 * A name near the format's 64 KiB, and a symlink whose name and
	 * target together outgrow a slot, cross to the caller whole and are
	 * refused there.
	 */
	longname = malloc(65000);
	longlink = malloc(60000);
	for (i = 0; i < 64999; i++)
		longname[i] = i % 100 == 99 ? '/' : 'n';
	longname[64999] = '\0';
	for (i = 0; i < 59999; i++)
		longlink[i] = i % 3 == 2 ? '/' : '.';
	longlink[59999] = '\0';
	{
		const struct zent ze[] = {
			{ "ok.txt", 10, NULL },
			{ longname, 10, NULL },
			{ NULL, 0, NULL },
		};

		snprintf(zip, sizeof zip, "%s/b.zip", base);
		snprintf(out, sizeof out, "%s/b", base);
		mkzip(zip, ze, data, want);
		assert_int_equal(unzip_into(zip, out, &z, hex), -1);
		assert_int_equal(zar_errno(z), 0);
		assert_non_null(strstr(zar_error(z),
		    "name longer than PATH_MAX"));
		zar_free(z);
	}
	longname[10050] = '\0';
	{
		const struct zent ze[] = {
			{ longname, 0, longlink },
			{ NULL, 0, NULL },
		};

		snprintf(zip, sizeof zip, "%s/c.zip", base);
		snprintf(out, sizeof out, "%s/c", base);
		mkzip(zip, ze, data, want);
		assert_int_equal(unzip_into(zip, out, &z, hex), -1);
		assert_int_equal(zar_errno(z), 0);
		assert_non_null(strstr(zar_error(z),
		    "name longer than PATH_MAX"));
		zar_free(z);
	}
	{
		const struct zent ze[] = {
			{ "l", 0, longlink },
			{ NULL, 0, NULL },
		};

		snprintf(zip, sizeof zip, "%s/d.zip", base);
		snprintf(out, sizeof out, "%s/d", base);
		mkzip(zip, ze, data, want);
		assert_int_equal(unzip_into(zip, out, &z, hex), -1);
		assert_int_equal(zar_errno(z), 0);
		assert_string_equal(zar_error(z), "entry 'l': is a symlink "
		    "target longer than PATH_MAX");
		zar_free(z);
	}
	free(longname);
	free(longlink);
	free(data);
	assert_int_equal(zrmtree_at(AT_FDCWD, base, NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_path),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_blake2b),
		cmocka_unit_test(test_zip_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
