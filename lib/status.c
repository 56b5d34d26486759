/*
 * Lists of accepted HTTP statuses, as zdd-health's -s takes them.  The
 * list comes from the command line and the status from a server; the
 * parser never exits or prints, and says where a list went wrong.
 */
#include <ctype.h>
#include <stddef.h>

#include "status.h"

/* A status code of exactly three digits at s, or -1. */
static int
status3(const char *s)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    !isdigit((unsigned char)s[2]))
		return -1;
	return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

int
zstatus_parse(const char *s, struct zstatus *st, size_t *pos, const char **why)
{
	const char *p = s;
	int lo, hi;

	st->n = 0;
	for (;;) {
		if (st->n == ZSTATUS_MAX) {
			*why = "too many items";
			goto bad;
		}
		if (p[0] >= '1' && p[0] <= '5' &&
		    (p[1] == 'x' || p[1] == 'X') &&
		    (p[2] == 'x' || p[2] == 'X')) {
			lo = (p[0] - '0') * 100;
			hi = lo + 99;
			p += 3;
		} else {
			lo = status3(p);
			if (lo == -1 || isdigit((unsigned char)p[3])) {
				*why = "a three-digit status expected";
				goto bad;
			}
			if (lo < 100 || lo > 599) {
				*why = "a status is 100 to 599";
				goto bad;
			}
			p += 3;
			hi = lo;
			if (*p == '-') {
				p++;
				if ((hi = status3(p)) == -1 ||
				    isdigit((unsigned char)p[3])) {
					*why = "a three-digit status expected";
					goto bad;
				}
				if (hi < lo || hi > 599) {
					*why = hi < lo ?
					    "range ends before it starts" :
					    "a status is 100 to 599";
					goto bad;
				}
				p += 3;
			}
		}
		st->r[st->n].lo = lo;
		st->r[st->n].hi = hi;
		st->n++;
		if (*p == '\0')
			return 0;
		if (*p != ',') {
			*why = "',' or end expected";
			goto bad;
		}
		p++;
	}
bad:
	*pos = (size_t)(p - s);
	return -1;
}

int
zstatus_match(const struct zstatus *st, long status)
{
	int i;

	for (i = 0; i < st->n; i++)
		if (status >= st->r[i].lo && status <= st->r[i].hi)
			return 1;
	return 0;
}
