/*
 * Status lists and JSON body expectations for zdd-health.  The parsers
 * walk their input one character at a time and stop at the first thing
 * they do not understand, reporting where it is, because a user who typed
 * "components..status=UP" wants to be shown the second dot, not told the
 * whole expression is wrong.
 */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"

void
zexpect_free(struct zexpect *e)
{
	size_t i;

	for (i = 0; i < e->nstep; i++)
		free(e->step[i].key);
	free(e->path);
	free(e->value);
	memset(e, 0, sizeof *e);
}

/* Where a key ends: at '.', '[', ']', '=', "!=" or the end. */
static int
key_end(const char *p)
{
	return *p == '\0' || *p == '.' || *p == '[' || *p == ']' ||
	    *p == '=' || (p[0] == '!' && p[1] == '=');
}

int
zexpect_parse(const char *s, struct zexpect *e, size_t *pos,
    const char **why)
{
	const char *p = s, *start;
	char *key;
	size_t k, idx;
	int first = 1;

	memset(e, 0, sizeof *e);
	for (;;) {
		if (e->nstep == ZPATH_MAX) {
			*why = "path too long";
			goto bad;
		}
		/* A path may start with an index: "[0].status". */
		if (!(first && *p == '[')) {
			/* A key, with backslash escapes. */
			start = p;
			if ((key = malloc(strlen(p) + 1)) == NULL) {
				*why = strerror(errno);
				goto bad;
			}
			k = 0;
			while (!key_end(p)) {
				if (*p == '\\') {
					if (p[1] == '\0') {
						free(key);
						p++;
						*why = "a character expected "
						    "after '\\'";
						goto bad;
					}
					p++;
				}
				key[k++] = *p++;
			}
			key[k] = '\0';
			if (k == 0) {
				free(key);
				p = start;
				*why = "a key expected";
				goto bad;
			}
			e->step[e->nstep].key = key;
			e->step[e->nstep].index = 0;
			e->step[e->nstep++].end = (size_t)(p - s);
		}
		first = 0;
		while (*p == '[') {
			if (e->nstep == ZPATH_MAX) {
				*why = "path too long";
				goto bad;
			}
			p++;
			if (!isdigit((unsigned char)*p)) {
				*why = "an index (digits) expected";
				goto bad;
			}
			idx = 0;
			while (isdigit((unsigned char)*p)) {
				if (idx > 100000000) {
					*why = "index too large";
					goto bad;
				}
				idx = idx * 10 + (size_t)(*p - '0');
				p++;
			}
			if (*p != ']') {
				*why = "']' expected";
				goto bad;
			}
			p++;
			e->step[e->nstep].key = NULL;
			e->step[e->nstep].index = idx;
			e->step[e->nstep++].end = (size_t)(p - s);
		}
		if (*p == '.') {
			p++;
			if (*p == '[') {
				*why = "a key expected";
				goto bad;
			}
			continue;
		}
		break;
	}
	if ((e->path = strndup(s, (size_t)(p - s))) == NULL) {
		*why = strerror(errno);
		goto bad;
	}
	if (*p == '\0') {
		e->op = ZEXPECT_EXISTS;
		return 0;
	}
	if (*p == '=') {
		e->op = ZEXPECT_EQ;
		p++;
	} else if (p[0] == '!' && p[1] == '=') {
		e->op = ZEXPECT_NE;
		p += 2;
	} else {
		*why = "'.', '[', '=', '!=' or end expected";
		goto bad;
	}
	if ((e->value = strdup(p)) == NULL) {
		*why = strerror(errno);
		goto bad;
	}
	return 0;
bad:
	*pos = (size_t)(p - s);
	zexpect_free(e);
	return -1;
}

/*
 * 1 if s is a number as JSON spells it: -?(0|[1-9][0-9]*)(.[0-9]+)?
 * ([eE][+-]?[0-9]+)?.  strtod() alone would take "0x10" for 16, " 16",
 * "inf" and "nan".
 */
static int
json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		s += strspn(s, "0123456789");
	else
		return 0;
	if (*s == '.') {
		if (!isdigit((unsigned char)s[1]))
			return 0;
		s += 1 + strspn(s + 1, "0123456789");
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return 0;
		s += strspn(s, "0123456789");
	}
	return *s == '\0';
}

/* Whether member v equals the expectation's text value. */
static int
equals(json_t *v, const char *value)
{
	json_error_t jerr;
	json_t *want;
	char *end;
	int eq;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return strlen(value) == json_string_length(v) &&
		    memcmp(value, json_string_value(v),
		    json_string_length(v)) == 0;
	case JSON_INTEGER: {
		long long ll;

		if (!json_number(value))
			return 0;
		errno = 0;
		ll = strtoll(value, &end, 10);
		if (*end == '\0' && errno == 0)
			return ll == json_integer_value(v);
	}
		/* FALLTHROUGH */
	case JSON_REAL: {
		double d;

		if (!json_number(value))
			return 0;
		d = strtod(value, &end);
		/* As zexpect_load() reads a number past the range. */
		if (isinf(d))
			d = copysign(DBL_MAX, d);
		return d == json_number_value(v);
	}
	case JSON_TRUE:
		return strcmp(value, "true") == 0;
	case JSON_FALSE:
		return strcmp(value, "false") == 0;
	case JSON_NULL:
		return strcmp(value, "null") == 0;
	default:
		want = json_loads(value, JSON_DECODE_ANY, &jerr);
		eq = want != NULL && json_equal(v, want);
		json_decref(want);
		return eq;
	}
}

/* A short text form of v for a reason: strings quoted, others as JSON. */
static void
describe(json_t *v, char *buf, size_t size)
{
	char *s;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		snprintf(buf, size, "an object");
		return;
	case JSON_ARRAY:
		snprintf(buf, size, "an array of %zu", json_array_size(v));
		return;
	default:
		s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		snprintf(buf, size, "%s", s ? s : "?");
		free(s);
		if (size > 4 && strlen(buf) == size - 1)
			strcpy(buf + size - 4, "...");
	}
}

/* Why step i of e's path found nothing in v, the value before it. */
static void
missing(const struct zexpect *e, size_t i, json_t *v, char *why, size_t size)
{
	const struct zstep *st = &e->step[i];
	int plen = i == 0 ? 0 : (int)e->step[i - 1].end;
	const char *where = i == 0 ? "the body" : e->path;
	char got[96];

	if (i == 0)
		plen = (int)strlen(where);
	if (st->key != NULL && json_is_object(v))
		snprintf(why, size, "%s missing (%.*s has no \"%s\")", e->path,
		    plen, where, st->key);
	else if (st->key == NULL && json_is_array(v))
		snprintf(why, size, "%s missing (%.*s has %zu element%s)",
		    e->path, plen, where, json_array_size(v),
		    json_array_size(v) == 1 ? "" : "s");
	else {
		describe(v, got, sizeof got);
		snprintf(why, size, "%s missing (%.*s is %s, not an %s)",
		    e->path, plen, where, got,
		    st->key != NULL ? "object" : "array");
	}
}

int
zexpect_eval(const struct zexpect *e, json_t *root, char *why, size_t size)
{
	json_t *v = root;
	char got[96];
	size_t i;

	for (i = 0; i < e->nstep; i++) {
		const struct zstep *st = &e->step[i];
		json_t *next;

		if (st->key != NULL)
			next = json_is_object(v) ? json_object_get(v, st->key) :
			    NULL;
		else
			next = json_is_array(v) ? json_array_get(v, st->index) :
			    NULL;
		if (next == NULL) {
			/*
			 * Name the part of the path that was there, so that
			 * "components.db.status" missing because there is no
			 * "db" says so.
			 */
			if (e->op == ZEXPECT_NE) {
				/* Something that is not there is not VALUE. */
				return 1;
			}
			missing(e, i, v, why, size);
			return 0;
		}
		v = next;
	}
	switch (e->op) {
	case ZEXPECT_EXISTS:
		return 1;
	case ZEXPECT_EQ:
		if (equals(v, e->value))
			return 1;
		describe(v, got, sizeof got);
		snprintf(why, size, "%s is %s, want \"%s\"", e->path, got,
		    e->value);
		return 0;
	case ZEXPECT_NE:
		if (!equals(v, e->value))
			return 1;
		describe(v, got, sizeof got);
		snprintf(why, size, "%s is %s, want anything else", e->path,
		    got);
		return 0;
	}
	return 0;
}

/* Retries of zexpect_load(), each past one number out of range. */
#define LOAD_RETRIES	32

json_t *
zexpect_load(const char *body, size_t len, json_error_t *err)
{
	const size_t flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;
	static const char big[] = "1.7976931348623157e308";
	char *copy = NULL, *nc;
	const char *b;
	size_t start, end, n;
	json_t *j;
	int i;

	j = json_loadb(body, len, flags, err);
	if (j != NULL || json_error_code(err) != json_error_numeric_overflow)
		return j;
	/* Integers past a long long: all of them, read as doubles. */
	j = json_loadb(body, len, flags | JSON_DECODE_INT_AS_REAL, err);
	/*
	 * A real past a double: jansson has no flag for it, so the number
	 * (which ends where jansson stopped) is written as the largest
	 * double, and the text read again, a bounded number of times.
	 */
	for (i = 0; j == NULL && i < LOAD_RETRIES &&
	    json_error_code(err) == json_error_numeric_overflow; i++) {
		end = (size_t)err->position;
		b = copy ? copy : body;

		if (end > len)
			break;
		for (start = end; start > 0 &&
		    strchr("0123456789.eE+-", b[start - 1]) != NULL &&
		    b[start - 1] != '\0'; start--)
			;
		if (start == end)
			break;
		n = len - (end - start) + sizeof big;
		if ((nc = malloc(n)) == NULL)
			break;
		memcpy(nc, b, start);
		n = start;
		if (b[start] == '-')
			nc[n++] = '-';
		memcpy(nc + n, big, sizeof big - 1);
		n += sizeof big - 1;
		memcpy(nc + n, b + end, len - end);
		n += len - end;
		free(copy);
		copy = nc;
		len = n;
		j = json_loadb(copy, len, flags | JSON_DECODE_INT_AS_REAL,
		    err);
	}
	free(copy);
	return j;
}
