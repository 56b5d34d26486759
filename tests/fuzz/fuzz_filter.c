/*
 * The filter chain alone, as zdd-release streams an artifact: the filter
 * named by the bytes' magic number (zfeed_filter()), the first bytes read
 * ahead and hashed by the caller, the rest read from a file, hashed and
 * decompressed by lib/feed.c's thread (zfeed_start()), and taken by
 * zfeed_read() as the archive reader would take them, with no archive
 * format behind it.  An input of odd length has its reader quit after
 * the first chunk, as a reader does at an archive's end.  Checks, besides
 * crashes, leaks and hangs: the digest is the SHA-256 of every byte of
 * the input however the data ends (the drain included); data without a
 * filter comes out as it went in; the output stays within ZFEED_RATIO
 * times the input past ZFEED_SLACK; a refusal is the data's fault (no
 * system error) and says why on one line.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <archive.h>

#include "digest.h"
#include "feed.h"
#include "fuzz.h"

/* What zar_read_fd() reads ahead to sniff the filter. */
#define AHEAD	(128 * 1024)

static int
memfile(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_filter", MFD_CLOEXEC);

	if (fd == -1 || (size > 0 && write(fd, data, size) != (ssize_t)size))
		abort();
	return fd;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char want[ZDIGEST_MAX], got[ZDIGEST_MAX];
	struct zdigest *sha, *ref;
	struct archive *a;
	struct zfeed *f;
	const void *buf;
	uint64_t out = 0, bound;
	size_t pre = size < AHEAD ? size : AHEAD;
	la_ssize_t n;
	int fd, filter, quit = size % 2, rc, eno;
	char why[256];

	if ((ref = zdigest_new(ZDIGEST_SHA256)) == NULL ||
	    zdigest_update(ref, data, size) == -1 ||
	    zdigest_final(ref, want) != 32)
		abort();
	zdigest_free(ref);
	fd = memfile(data, size);
	if (lseek(fd, (off_t)pre, SEEK_SET) == -1 ||
	    (sha = zdigest_new(ZDIGEST_SHA256)) == NULL ||
	    zdigest_update(sha, data, pre) == -1 ||
	    (a = archive_read_new()) == NULL)
		abort();
	filter = zfeed_filter(data, pre);
	if ((f = zfeed_start(fd, sha, filter, data, pre, NULL)) == NULL)
		abort();
	while ((n = zfeed_read(a, f, &buf)) > 0) {
		if (filter == ARCHIVE_FILTER_NONE)
			FUZZ_CHECK(out + (uint64_t)n <= size &&
			    memcmp(buf, data + out, (size_t)n) == 0);
		out += (uint64_t)n;
		if (quit)
			break;
	}
	if (n == -1) {
		/* The data's fault: no system error, a reason. */
		FUZZ_CHECK(zfeed_errno(f) == 0);
		FUZZ_CHECK(*zfeed_error(f) != '\0');
		FUZZ_CHECK(strchr(zfeed_error(f), '\n') == NULL);
	} else if (n == 0 && filter == ARCHIVE_FILTER_NONE)
		FUZZ_CHECK(out == size);
	bound = (uint64_t)ZFEED_RATIO * (size + 1);
	FUZZ_CHECK(out <= (bound > ZFEED_SLACK ? bound : ZFEED_SLACK));
	/* As zar_read_fd() ends it: drained when the archive was whole. */
	rc = zfeed_end(f, n >= 0, &eno, why, sizeof why);
	FUZZ_CHECK(eno == 0);
	if (n >= 0) {
		FUZZ_CHECK(rc == 0);
		FUZZ_CHECK(zdigest_final(sha, got) == 32);
		FUZZ_CHECK(memcmp(got, want, 32) == 0);
	} else
		FUZZ_CHECK(rc == -1 && why[0] != '\0' &&
		    strchr(why, '\n') == NULL);
	zdigest_free(sha);
	archive_read_free(a);
	close(fd);
	return 0;
}
