/*
 * Target parsing and display for zdd-health.  Only the shapes zdd-health
 * probes are accepted (http, https, tcp), so a typo such as "htp://" or
 * "tcp://host" without a port is a usage error at once, not a minute of
 * failed attempts.  URLs are read by libcurl's parser (lib/url.c), the
 * one that connects.
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

int
ztarget_parse(const char *s, struct ztarget *t, size_t *pos,
    const char **why)
{
	struct zurl u;
	size_t i;

	memset(t, 0, sizeof *t);
	*pos = ZTARGET_NOPOS;
	if (strncasecmp(s, "tcp://", 6) == 0)
		t->kind = ZTARGET_TCP;
	else if (strncasecmp(s, "http://", 7) != 0 &&
	    strncasecmp(s, "https://", 8) != 0) {
		*pos = 0;
		*why = "http://, https:// or tcp:// expected";
		return -1;
	}
	/* A space or control character: where it is helps. */
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f) {
			*pos = i;
			*why = "a space or control character";
			return -1;
		}
	/* The rest is libcurl's to read, as it will when it connects. */
	if (zurl_parse(s, "http,https,tcp", &u, why) == -1) {
		if (strcmp(*why, "out of memory") == 0)
			goto nomem;
		return -1;
	}
	if (t->kind == ZTARGET_TCP) {
		*why = u.user != NULL ? "no user in a tcp:// target" :
		    u.port == -1 ? "':PORT' expected" :
		    strcmp(u.path, "/") != 0 || u.query != NULL ||
		    u.fragment ?
		    "nothing expected after tcp://HOST:PORT" : NULL;
		if (*why != NULL) {
			if (u.port == -1 && u.user == NULL)
				*pos = strlen(s);
			zurl_free(&u);
			return -1;
		}
		if (asprintf(&t->url, "http://%s:%ld/", u.host, u.port) == -1)
			t->url = NULL;
		if (asprintf(&t->show, "tcp://%s:%ld", u.host, u.port) == -1)
			t->show = NULL;
	} else {
		t->url = strdup(s);
		t->show = zurl_show(s);
	}
	zurl_free(&u);
	if (t->url == NULL || t->show == NULL)
		goto nomem;
	return 0;
nomem:
	ztarget_free(t);
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
