/*
 * URL redaction.  Of a webhook URL only the scheme and authority are
 * ever shown; the path, query and fragment are replaced by an ellipsis
 * because chat services put the webhook's secret there.  Of a health
 * check's URL the path is shown too, never the userinfo nor the query.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

/* Points at the authority of url and sets *len to its length. */
static const char *
authority(const char *url, size_t *len, size_t *schemelen)
{
	const char *p, *a, *at, *end;

	p = strstr(url, "://");
	if (p == NULL) {
		*schemelen = 0;
		*len = 0;
		return NULL;
	}
	*schemelen = (size_t)(p - url);
	a = p + 3;
	end = a + strcspn(a, "/?#");
	/*
	 * Userinfo ends at the last '@': a password with an unencoded '@'
	 * must not show its tail as if it were the host.
	 */
	at = NULL;
	for (p = a; p < end; p++)
		if (*p == '@')
			at = p;
	if (at != NULL)
		a = at + 1;
	*len = (size_t)(end - a);
	return a;
}

char *
zurl_redact(const char *url)
{
	size_t len, slen, i;
	const char *a = authority(url, &len, &slen);
	char *out;

	if (a == NULL)
		return strdup("…");
	out = malloc(slen + len + 16);
	if (out == NULL)
		return NULL;
	for (i = 0; i < slen; i++)
		out[i] = (char)tolower((unsigned char)url[i]);
	memcpy(out + slen, "://", 3);
	memcpy(out + slen + 3, a, len);
	strcpy(out + slen + 3 + len, "/…");
	return out;
}

char *
zurl_host(const char *url)
{
	size_t len, slen, i;
	const char *a = authority(url, &len, &slen);
	char *out;

	if (a == NULL)
		return NULL;
	if (len > 0 && a[0] == '[') {
		const char *rb = memchr(a, ']', len);
		if (rb != NULL)
			len = (size_t)(rb - a) + 1;
	} else {
		const char *colon = memchr(a, ':', len);
		if (colon != NULL)
			len = (size_t)(colon - a);
	}
	out = malloc(len + 1);
	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)a[i]);
	out[len] = '\0';
	return out;
}

char *
zurl_show(const char *url)
{
	size_t len, slen, i;
	const char *a = authority(url, &len, &slen);
	const char *path, *pend;
	char *out;

	if (a == NULL)
		return strdup("…");
	path = a + len;
	pend = path + strcspn(path, "?#");
	if (asprintf(&out, "%.*s://%.*s%.*s%s", (int)slen, url, (int)len, a,
	    (int)(pend - path), path, *pend == '?' ? "?…" : "") == -1)
		return NULL;
	for (i = 0; i < slen; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	return out;
}
