/*
 * URLs through libcurl's URL API.  Nothing here splits a URL by hand:
 * a second parser would sooner or later read "http://a:b/c@d/" another
 * way than libcurl does, and then show one host while connecting to
 * another, or print a password as if it were a path.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "url.h"

/*
 * url parsed, or NULL.  Schemes libcurl does not speak (tcp://) parse
 * too; the callers check the scheme.
 */
static CURLU *
parse(const char *url, CURLUcode *rc)
{
	CURLU *u;

	if ((u = curl_url()) == NULL) {
		*rc = CURLUE_OUT_OF_MEMORY;
		return NULL;
	}
	*rc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
	if (*rc != CURLUE_OK) {
		curl_url_cleanup(u);
		return NULL;
	}
	return u;
}

/* The part of u, or NULL if it has none. */
static char *
part(CURLU *u, CURLUPart what)
{
	char *s = NULL;

	if (curl_url_get(u, what, &s, 0) != CURLUE_OK)
		return NULL;
	return s;
}

/* 1 if s is one of the comma-separated names in list. */
static int
listed(const char *list, const char *s)
{
	size_t n = strlen(s), m;

	for (; *list != '\0'; list += m + (list[m] == ',')) {
		m = strcspn(list, ",");
		if (m == n && strncmp(list, s, n) == 0)
			return 1;
	}
	return 0;
}

/*
 * 1 if the path, query or fragment libcurl read in u holds a '@': most
 * likely the tail of a password whose '/', '?' or '#' was not encoded.
 */
static int
at_after_host(CURLU *u)
{
	static const CURLUPart parts[] = { CURLUPART_PATH, CURLUPART_QUERY,
	    CURLUPART_FRAGMENT };
	size_t i;
	char *s;
	int at = 0;

	for (i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		s = part(u, parts[i]);
		at |= s != NULL && strchr(s, '@') != NULL;
		curl_free(s);
	}
	return at;
}

int
zurl_check(const char *url, const char *schemes, const char **why)
{
	CURLUcode rc;
	CURLU *u;
	char *scheme, *host;
	size_t i;
	int at;

	for (i = 0; url[i] != '\0'; i++)
		if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f) {
			*why = "a space or control character in it";
			return -1;
		}
	if ((u = parse(url, &rc)) == NULL) {
		/*
		 * libcurl's words ("Port number was not a decimal number
		 * between 0 and 65535") quote nothing of the URL.
		 */
		*why = rc == CURLUE_OUT_OF_MEMORY ? "out of memory" :
		    rc == CURLUE_BAD_SCHEME || rc == CURLUE_NO_SCHEME ?
		    "not a URL with a scheme" : curl_url_strerror(rc);
		return -1;
	}
	scheme = part(u, CURLUPART_SCHEME);
	host = part(u, CURLUPART_HOST);
	at = at_after_host(u);
	curl_url_cleanup(u);
	*why = NULL;
	if (scheme == NULL || !listed(schemes, scheme))
		*why = "unsupported scheme";
	else if (host == NULL || *host == '\0')
		*why = "no host";
	else if (at)
		*why = "a '@' after the host (percent-encode '/', '?', '#' "
		    "and '@' in a password)";
	curl_free(scheme);
	curl_free(host);
	return *why == NULL ? 0 : -1;
}

/* "scheme://…" for a URL that does not parse, if its scheme is plain. */
static char *
scheme_only(const char *url)
{
	size_t n = strspn(url, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
	char *out;

	if (n == 0 || n > 16 || strncmp(url + n, "://", 3) != 0)
		return strdup("…");
	if (asprintf(&out, "%.*s://…", (int)n, url) == -1)
		return NULL;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	return out;
}

/* scheme://host[:port] and, when withpath, the path and "?…". */
static char *
show(const char *url, int withpath)
{
	char *scheme, *host, *port, *path, *query, *out = NULL;
	CURLUcode rc;
	CURLU *u;
	int n;

	if ((u = parse(url, &rc)) == NULL)
		return rc == CURLUE_OUT_OF_MEMORY ? NULL : scheme_only(url);
	scheme = part(u, CURLUPART_SCHEME);
	host = part(u, CURLUPART_HOST);
	port = part(u, CURLUPART_PORT);
	path = part(u, CURLUPART_PATH);
	query = part(u, CURLUPART_QUERY);
	/* A path with a '@' may be a password that libcurl took for one. */
	if (at_after_host(u))
		withpath = 0;
	curl_url_cleanup(u);
	if (scheme != NULL && host != NULL) {
		n = asprintf(&out, "%s://%s%s%s%s%s", scheme, host,
		    port ? ":" : "", port ? port : "",
		    withpath ? (path ? path : "/") : "/…",
		    withpath && query ? "?…" : "");
		if (n == -1)
			out = NULL;
	} else
		out = scheme_only(url);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	return out;
}

char *
zurl_redact(const char *url)
{
	return show(url, 0);
}

char *
zurl_show(const char *url)
{
	return show(url, 1);
}

char *
zurl_host(const char *url)
{
	CURLUcode rc;
	CURLU *u;
	char *host, *out, *p;

	if ((u = parse(url, &rc)) == NULL)
		return NULL;
	host = part(u, CURLUPART_HOST);
	curl_url_cleanup(u);
	if (host == NULL)
		return NULL;
	out = strdup(host);
	curl_free(host);
	for (p = out; p != NULL && *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return out;
}

int
zurl_loopback(const char *url)
{
	char *host = zurl_host(url);
	int local;

	if (host == NULL)
		return 0;
	/*
	 * Names other than "localhost" could resolve anywhere; libcurl
	 * resolves "localhost" to the loopback itself without asking DNS.
	 */
	local = strcmp(host, "localhost") == 0 ||
	    strcmp(host, "[::1]") == 0 ||
	    (strncmp(host, "127.", 4) == 0 &&
	    strspn(host, "0123456789.") == strlen(host));
	free(host);
	return local;
}

char *
zurl_edit(const char *url, const char *path, const char *param)
{
	char *old = NULL, *np = NULL, *out = NULL;
	CURLUcode rc;
	CURLU *u;

	if ((u = parse(url, &rc)) == NULL)
		return NULL;
	if (path != NULL) {
		old = part(u, CURLUPART_PATH);
		if (asprintf(&np, "%s%s", old && strcmp(old, "/") != 0 ?
		    old : "", path) == -1)
			np = NULL;
		if (np == NULL || curl_url_set(u, CURLUPART_PATH, np, 0) !=
		    CURLUE_OK)
			goto out;
	}
	if (param != NULL && curl_url_set(u, CURLUPART_QUERY, param,
	    CURLU_APPENDQUERY) != CURLUE_OK)
		goto out;
	if (curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &out, 0) !=
	    CURLUE_OK)
		out = NULL;
out:
	curl_free(old);
	free(np);
	curl_url_cleanup(u);
	if (out != NULL) {
		/* Ours to free() like every other string from this module. */
		char *s = strdup(out);

		curl_free(out);
		out = s;
	}
	return out;
}
