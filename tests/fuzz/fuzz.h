/*
 * What every zdd fuzzing harness shares: copies of the fuzzer's bytes in
 * the shapes the parsers take (exactly sized, so that AddressSanitizer
 * sees a read one byte past the end; or NUL-terminated), and a check
 * that aborts with a message, so that a broken promise is a finding
 * just like a crash.
 */
#ifndef ZDD_FUZZ_H
#define ZDD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: broken promise: %s\n",		\
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

/* The bytes as a C string (a NUL inside ends it early, as argv would). */
static inline char *
fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The bytes with nothing after them: an overread is caught. */
static inline char *
fuzz_exact(const uint8_t *data, size_t size)
{
	char *s = malloc(size ? size : 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	return s;
}

/*
 * Split the input at its first byte equal to sep: the head as a C string
 * and the rest as it is.  Without sep the head is everything.
 */
static inline char *
fuzz_split(const uint8_t *data, size_t size, uint8_t sep,
    const uint8_t **rest, size_t *restlen)
{
	const uint8_t *p = memchr(data, sep, size);
	size_t n = p != NULL ? (size_t)(p - data) : size;

	*rest = p != NULL ? p + 1 : data + size;
	*restlen = p != NULL ? size - n - 1 : 0;
	return fuzz_str(data, n);
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
