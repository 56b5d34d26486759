/*
 * Target parsing and display for zdd-health.  Only the shapes zdd-health
 * probes are accepted (http, https, tcp), so a typo such as "htp://" or
 * "tcp://host" without a port is a usage error at once, not a minute of
 * failed attempts.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "target.h"
#include "url.h"

void
ztarget_free(struct ztarget *t)
{
	free(t->url);
	free(t->show);
	t->url = t->show = NULL;
}

/*
 * Check the authority at a (up to the first of "/?#"): optional userinfo,
 * a host (a name, an IPv4 address or [IPv6]), an optional port.  Returns
 * the offset of the end, or -1 with *bad at the offending offset.
 */
static int
authority(const char *a, int needport, size_t *bad, const char **why)
{
	const char *end = a + strcspn(a, "/?#"), *at, *h, *p;
	long port;

	for (p = a; p < end; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			*bad = (size_t)(p - a);
			*why = "a space or control character";
			return -1;
		}
	at = NULL;
	for (p = a; p < end; p++)
		if (*p == '@')
			at = p;
	h = at ? at + 1 : a;
	if (*h == '[') {
		p = memchr(h, ']', (size_t)(end - h));
		if (p == NULL || p == h + 1) {
			*bad = (size_t)(h - a);
			*why = "an IPv6 address in [] expected";
			return -1;
		}
		p++;
	} else {
		for (p = h; p < end && *p != ':'; p++)
			if (!isalnum((unsigned char)*p) && *p != '-' &&
			    *p != '.' && *p != '_' && *p != '%') {
				*bad = (size_t)(p - a);
				*why = "not a character of a host name";
				return -1;
			}
		if (p == h) {
			*bad = (size_t)(h - a);
			*why = "a host expected";
			return -1;
		}
	}
	if (p == end) {
		if (needport) {
			*bad = (size_t)(p - a);
			*why = "':PORT' expected";
			return -1;
		}
		return (int)(end - a);
	}
	if (*p != ':') {
		*bad = (size_t)(p - a);
		*why = "':' or '/' expected";
		return -1;
	}
	p++;
	port = 0;
	if (p == end && !needport)
		return (int)(end - a);
	if (p == end) {
		*bad = (size_t)(p - a);
		*why = "a port expected";
		return -1;
	}
	for (; p < end; p++) {
		if (!isdigit((unsigned char)*p) || (port = port * 10 +
		    (*p - '0')) > 65535) {
			*bad = (size_t)(p - a);
			*why = isdigit((unsigned char)*p) ?
			    "port larger than 65535" : "a port is digits";
			return -1;
		}
	}
	if (port == 0) {
		*bad = (size_t)(p - 1 - a);
		*why = "port 0";
		return -1;
	}
	return (int)(end - a);
}

int
ztarget_parse(const char *s, struct ztarget *t, size_t *pos,
    const char **why)
{
	const char *a, *p;
	size_t bad = 0;
	int len;

	memset(t, 0, sizeof *t);
	if (strncasecmp(s, "http://", 7) == 0)
		a = s + 7;
	else if (strncasecmp(s, "https://", 8) == 0)
		a = s + 8;
	else if (strncasecmp(s, "tcp://", 6) == 0) {
		a = s + 6;
		t->kind = ZTARGET_TCP;
	} else {
		*pos = 0;
		*why = "http://, https:// or tcp:// expected";
		return -1;
	}
	if ((len = authority(a, t->kind == ZTARGET_TCP, &bad, why)) == -1) {
		*pos = (size_t)(a - s) + bad;
		return -1;
	}
	p = a + len;
	if (t->kind == ZTARGET_TCP) {
		if (*p != '\0' && strcmp(p, "/") != 0) {
			*pos = (size_t)(p - s);
			*why = "nothing expected after tcp://HOST:PORT";
			return -1;
		}
		if (memchr(a, '@', (size_t)len) != NULL) {
			*pos = (size_t)(a - s);
			*why = "no user in a tcp:// target";
			return -1;
		}
		if (asprintf(&t->url, "http://%.*s/", len, a) == -1) {
			t->url = NULL;
			goto nomem;
		}
		if (asprintf(&t->show, "tcp://%.*s", len, a) == -1) {
			t->show = NULL;
			goto nomem;
		}
		return 0;
	}
	for (; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			*pos = (size_t)(p - s);
			*why = "a space or control character";
			return -1;
		}
	if ((t->url = strdup(s)) == NULL || (t->show = zurl_show(s)) == NULL)
		goto nomem;
	return 0;
nomem:
	ztarget_free(t);
	*pos = 0;
	*why = NULL;
	errno = ENOMEM;
	return -1;
}

int
zresolve_check(const char *s, size_t *pos, const char **why)
{
	const char *p = s, *q;
	long port = 0;

	if (*p == '[') {
		if ((q = strchr(p, ']')) == NULL || q == p + 1) {
			*pos = 0;
			*why = "an IPv6 address in [] expected";
			return -1;
		}
		p = q + 1;
	} else {
		for (; *p != '\0' && *p != ':'; p++)
			if ((unsigned char)*p <= ' ' || *p == 0x7f) {
				*pos = (size_t)(p - s);
				*why = "a space or control character";
				return -1;
			}
		if (p == s) {
			*pos = 0;
			*why = "a host expected";
			return -1;
		}
	}
	if (*p != ':') {
		*pos = (size_t)(p - s);
		*why = "':PORT:ADDR' expected";
		return -1;
	}
	for (q = ++p; isdigit((unsigned char)*p) && port <= 65535; p++)
		port = port * 10 + (*p - '0');
	if (p == q || port == 0 || port > 65535) {
		*pos = (size_t)(q - s);
		*why = "a port from 1 to 65535 expected";
		return -1;
	}
	if (*p != ':') {
		*pos = (size_t)(p - s);
		*why = "':ADDR' expected";
		return -1;
	}
	if (*++p == '\0') {
		*pos = (size_t)(p - s);
		*why = "an address expected";
		return -1;
	}
	for (; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			*pos = (size_t)(p - s);
			*why = "a space or control character";
			return -1;
		}
	return 0;
}

int
zheader_check(const char *s, size_t *pos, const char **why)
{
	const char *p;

	/* A field name is a token (RFC 9110): no spaces, no separators. */
	for (p = s; *p != '\0' && *p != ':'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f ||
		    strchr("\"(),/;<=>?@[\\]{}", *p) != NULL) {
			*pos = (size_t)(p - s);
			*why = "not a character of a header name";
			return -1;
		}
	if (p == s || *p != ':') {
		*pos = (size_t)(p - s);
		*why = p == s ? "a header name expected" : "':' expected";
		return -1;
	}
	for (; *p != '\0'; p++)
		if (*p == '\r' || *p == '\n' || *p == '\0') {
			*pos = (size_t)(p - s);
			*why = "a line break";
			return -1;
		}
	return 0;
}
