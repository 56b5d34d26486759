/*
 * URLs that may carry secrets.  A webhook URL's path and query are the
 * credential, so whatever zdd prints of a URL goes through zurl_redact().
 */
#ifndef ZDD_URL_H
#define ZDD_URL_H

/* "https://host[:port]/…" for url (userinfo dropped); malloc'd. */
char	*zurl_redact(const char *url);
/* The host of url, lower-cased, without port or userinfo; malloc'd. */
char	*zurl_host(const char *url);
/*
 * What may be printed of a URL that is not a webhook's: the scheme (lower
 * case), host, port and path, without userinfo, with the query shown as
 * "?…" and no fragment.  malloc'd.
 */
char	*zurl_show(const char *url);

#endif
