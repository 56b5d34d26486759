/*
 * URLs, parsed by libcurl's own URL API (curl_url()), so that the parser
 * that checks a URL, the one that decides what of it may be printed and
 * the one that connects are the same.  A URL may carry secrets: a
 * password in its userinfo, a token in its query, and a webhook's whole
 * path is its credential.  Whatever zdd prints of a URL comes from
 * zurl_show() or zurl_redact().
 */
#ifndef ZDD_URL_H
#define ZDD_URL_H

/* What libcurl read of a URL. */
struct zurl {
	char	*scheme;	/* lower case */
	char	*host;		/* as written; IPv6 in [] */
	char	*path;		/* "/" at least */
	long	 port;		/* -1 if none was written */
	char	*user;		/* decoded; NULL if none */
	char	*password;	/* decoded: secret; NULL if none */
	char	*query;		/* may be secret; NULL if none */
	int	 fragment;	/* it has a fragment */
};

/*
 * Parse url as zurl_check() checks it, into u (free with zurl_free()).
 * 0, or -1 with why set (u is then empty).
 */
int	zurl_parse(const char *url, const char *schemes, struct zurl *u,
	    const char **why);
void	zurl_free(struct zurl *u);

/*
 * Check url: one libcurl accepts, whose scheme is one of schemes (comma
 * separated, lower case, e.g. "http,https"), with a host.  0 when good;
 * -1 with why set to a short reason that quotes nothing of the URL.
 * A '@' after the host is refused: it is a password whose '/', '?' or
 * '#' was not percent-encoded, which would send the rest to the wrong
 * host and print the password as a path.
 */
int	zurl_check(const char *url, const char *schemes, const char **why);

/*
 * What may be printed of a webhook's URL: "scheme://host[:port]/…".
 * What may be printed of any other: "scheme://host[:port]/path", the
 * query shown as "?…", no userinfo, no fragment.  Of a URL that libcurl
 * does not parse, only its scheme if it has a plain one ("https://…"),
 * else "…".  malloc'd; NULL when out of memory.
 */
char	*zurl_redact(const char *url);
char	*zurl_show(const char *url);

/* The host of url, lower case, IPv6 in [], no port; malloc'd or NULL. */
char	*zurl_host(const char *url);

/* 1 if url's host is this machine (localhost, 127.0.0.0/8, ::1). */
int	zurl_loopback(const char *url);

/*
 * url with path appended to its path and param (KEY=VALUE, encoded
 * already) added to its query; either may be NULL.  The fragment, which
 * is never sent, is dropped.  malloc'd; NULL if url does not parse or
 * out of memory.
 */
char	*zurl_edit(const char *url, const char *path, const char *param);

#endif
