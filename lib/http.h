/*
 * The one HTTP client of zdd, on libcurl.  A request is a struct zhttp:
 * zhttp_setup() makes its easy handle with the house rules (http and
 * https only, no redirects unless asked, proxies from the environment as
 * libcurl reads them, the tool's user agent, timeouts that bound the
 * whole transfer), the body is kept up to a bound or handed to a sink,
 * and what the answer's header said (status, Retry-After) is read back
 * through libcurl.  The handle can run on its own (zhttp_perform()) or in
 * the caller's multi handle.  zhttp_error() says why a transfer failed in
 * words that are safe on a terminal and name no secret of the URL.
 */
#ifndef ZDD_HTTP_H
#define ZDD_HTTP_H

#include <stddef.h>

#include <curl/curl.h>

/* The body kept when the caller names no bound. */
#define ZHTTP_BODY_MAX	(1 << 20)

/* What happens to a response body. */
enum zhttp_body {
	ZHTTP_KEEP,	/* kept; more than max stops the transfer */
	ZHTTP_TRUNCATE,	/* the first max bytes kept, the rest read, dropped */
	ZHTTP_SKIP,	/* not read: stop at the end of the final header */
	ZHTTP_SINK	/* handed to sink as it comes */
};

struct zhttp_opts {
	const char *agent;	/* tool name: User-Agent is agent/VERSION */
	double	 timeout;	/* seconds for the whole transfer; 0: none */
	const char *method;	/* NULL: GET, or POST when there is a body */
	const char *body;	/* the request body, or NULL */
	size_t	 bodylen;
	struct curl_slist *headers;	/* extra request headers */
	struct curl_slist *resolve;	/* HOST:PORT:ADDR, as --resolve */
	const char *cacert;	/* CA bundle, or NULL for the system's */
	int	 insecure;	/* no TLS verification */
	long	 redirects;	/* how many to follow (0: none, answered 3xx) */
	int	 fresh;		/* a new connection, as a new client makes */
	int	 noproxy;	/* straight to the host, whatever env says */
	int	 connect_only;	/* a TCP connect and nothing more */
	enum zhttp_body bodymode;
	size_t	 max;		/* bound of a kept body; 0: ZHTTP_BODY_MAX */
	/* ZHTTP_SINK: gets the body; anything but n stops the transfer. */
	size_t	(*sink)(const char *data, size_t n, void *arg);
	void	*sinkarg;
};

struct zhttp {
	CURL	*h;
	struct zhttp_opts o;
	char	*url;		/* a copy: a secret, never printed */
	char	 errbuf[CURL_ERROR_SIZE];
	long	 status;	/* of the final response; 0 if none */
	char	*body;		/* NUL-terminated; NULL if nothing came */
	size_t	 len, cap;
	int	 overflow;	/* ZHTTP_KEEP: the body passed max */
	int	 skipped;	/* ZHTTP_SKIP: stopped on purpose */
	int	 nomem;		/* no memory for the body */
	double	 retry_after;	/* seconds the server asked for; -1: none */
	int	 has_retry;	/* the final header had a Retry-After */
	void	*priv;		/* the caller's */
};

/* libcurl's global setup, once per process; -1 if it failed. */
int	zhttp_global(void);

/*
 * Prepare r for one request of url with o (copied), on a new easy handle,
 * or on r->h made anew when r was set up before.  -1 on failure (out of
 * memory, errno ENOMEM).  r starts zeroed or from an earlier setup.
 */
int	zhttp_setup(struct zhttp *r, const char *url,
	    const struct zhttp_opts *o);

/* Run r's transfer to its end; libcurl's code, and zhttp_done() made. */
CURLcode zhttp_perform(struct zhttp *r);

/* Read back what a finished transfer left: status and Retry-After. */
void	zhttp_done(struct zhttp *r);

/*
 * 0 when code is no failure of the transfer itself: CURLE_OK, or a stop
 * that r asked for (ZHTTP_SKIP, ZHTTP_KEEP's overflow).
 */
int	zhttp_failed(const struct zhttp *r, CURLcode code);

/*
 * Why a transfer failed, for a person: "cannot connect: Connection
 * refused", "TLS: self-signed certificate", "no response within 2 s".
 * On one line, printable, with no part of the URL but its host.  within
 * is the words for a timeout ("within 2 s", "by the deadline").
 */
void	zhttp_error(const struct zhttp *r, CURLcode code, const char *within,
	    char *why, size_t size);

/* The easy handle and the kept body go; r can be set up again. */
void	zhttp_free(struct zhttp *r);

#endif
