/*
 * Command-line values.  Every tool parses numbers and durations through
 * these functions so that "bad value" means the same thing everywhere and
 * is caught before any work starts (exit 64).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "opt.h"

struct zopts zopt;

int
zopt_common(int ch, const char *arg, struct zcommon *c)
{
	switch (ch) {
	case 'n':
		zopt.dry_run = 1;
		break;
	case 'q':
		zquiet = 1;
		break;
	case 'r':
		c->root = arg;
		break;
	case 'v':
		zverbose = 1;
		break;
	case 'V':
		zversion();
		break;
	case ZOPT_JSON:
		zopt.json = 1;
		break;
	case ZOPT_LOCK_WAIT:
		if (zparse_seconds(arg, &c->lock_wait) == -1) {
			c->bad = "--lock-wait";
			c->why = "not a number of seconds";
			return -1;
		}
		break;
	default:
		return 0;
	}
	return 1;
}

int
zparse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
zparse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case '\0':
		break;
	/* clang-format off */
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	/* clang-format on */
	default:
		return -1;
	}
	if (*end == 'i' || *end == 'B')
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end != '\0' || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int
zparse_seconds(const char *s, double *out)
{
	double v;
	char *end;

	if (s == NULL || !(isdigit((unsigned char)*s) || *s == '.'))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v) || v < 0 || v > 86400)
		return -1;
	*out = v;
	return 0;
}

int
zenv_seconds(const char *name, double *out)
{
	const char *s = getenv(name);

	if (s == NULL || *s == '\0')
		return 0;
	return zparse_seconds(s, out);
}

char *
zoperand(const char *arg)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (strcmp(arg, "-") != 0)
		return strdup(arg);
	n = getline(&line, &cap, stdin);
	if (n <= 0) {
		free(line);
		if (!ferror(stdin))
			errno = ENODATA;
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n == 0) {
		free(line);
		errno = ENODATA;
		return NULL;
	}
	return line;
}
