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

/* The part of u as written, or NULL if it has none. */
static char *
part(CURLU *u, CURLUPart what)
{
	char *s = NULL;

	if (curl_url_get(u, what, &s, 0) != CURLUE_OK)
		return NULL;
	return s;
}

/* The part of u with its %XX decoded, or NULL. */
static char *
decoded(CURLU *u, CURLUPart what)
{
	char *s = NULL;

	if (curl_url_get(u, what, &s, CURLU_URLDECODE) != CURLUE_OK)
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

/* Our words for libcurl's refusals, which quote nothing of the URL. */
static const char *
refusal(CURLUcode rc)
{
	switch (rc) {
	case CURLUE_OUT_OF_MEMORY:
		return "out of memory";
	case CURLUE_BAD_SCHEME:
	case CURLUE_NO_SCHEME:
		return "not a URL with a scheme";
	case CURLUE_BAD_PORT_NUMBER:
		return "not a port from 1 to 65535";
	case CURLUE_BAD_HOSTNAME:
	case CURLUE_NO_HOST:
		return "not a host name";
	case CURLUE_BAD_IPV6:
		return "not an IPv6 address";
	case CURLUE_BAD_LOGIN:
	case CURLUE_BAD_USER:
	case CURLUE_BAD_PASSWORD:
		return "not a user and password";
	case CURLUE_BAD_PATH:
		return "not a path";
	case CURLUE_BAD_QUERY:
		return "not a query";
	default:
		return "not a URL";
	}
}

void
zurl_free(struct zurl *u)
{
	curl_free(u->scheme);
	curl_free(u->host);
	curl_free(u->path);
	curl_free(u->user);
	curl_free(u->password);
	curl_free(u->query);
	memset(u, 0, sizeof *u);
}

int
zurl_parse(const char *url, const char *schemes, struct zurl *out,
    const char **why)
{
	CURLUcode rc;
	CURLU *u;
	char *port, *s;
	size_t i;

	memset(out, 0, sizeof *out);
	out->port = -1;
	for (i = 0; url[i] != '\0'; i++)
		if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f) {
			*why = "a space or control character in it";
			return -1;
		}
	if ((u = parse(url, &rc)) == NULL) {
		*why = refusal(rc);
		return -1;
	}
	out->scheme = part(u, CURLUPART_SCHEME);
	out->host = part(u, CURLUPART_HOST);
	out->path = part(u, CURLUPART_PATH);
	if ((port = part(u, CURLUPART_PORT)) != NULL)
		out->port = strtol(port, NULL, 10);
	curl_free(port);
	out->user = decoded(u, CURLUPART_USER);
	out->password = decoded(u, CURLUPART_PASSWORD);
	out->query = part(u, CURLUPART_QUERY);
	if ((s = part(u, CURLUPART_FRAGMENT)) != NULL)
		out->fragment = 1;
	curl_free(s);
	*why = NULL;
	if (out->scheme == NULL || !listed(schemes, out->scheme))
		*why = "unsupported scheme";
	else if (out->host == NULL || *out->host == '\0')
		*why = "no host";
	else if (out->port == 0)
		*why = "port 0";
	else if (at_after_host(u))
		*why = "a '@' after the host (percent-encode '/', '?', '#' "
		    "and '@' in a password)";
	curl_url_cleanup(u);
	if (*why != NULL) {
		zurl_free(out);
		return -1;
	}
	return 0;
}

int
zurl_check(const char *url, const char *schemes, const char **why)
{
	struct zurl u;

	if (zurl_parse(url, schemes, &u, why) == -1)
		return -1;
	zurl_free(&u);
	return 0;
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
