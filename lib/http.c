/*
 * HTTP requests on libcurl, the same way for every tool.  The options set
 * here are the house rules; what a tool adds (a multi handle, its retry
 * policy, what it makes of a status) stays in the tool.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diag.h"
#include "http.h"
#include "text.h"

/* What a write callback returns to stop a transfer (libcurl 7.87). */
#ifndef CURL_WRITEFUNC_ERROR
#define CURL_WRITEFUNC_ERROR 0xFFFFFFFF
#endif

int
zhttp_global(void)
{
	static int done;

	if (!done && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	done = 1;
	return 0;
}

static size_t
max_of(const struct zhttp *r)
{
	return r->o.max != 0 ? r->o.max : ZHTTP_BODY_MAX;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct zhttp *r = arg;
	size_t n = size * nmemb, room, cap;
	char *nb;

	switch (r->o.bodymode) {
	case ZHTTP_SKIP:
		/* The status is known; stop before an endless body. */
		r->skipped = 1;
		return CURL_WRITEFUNC_ERROR;
	case ZHTTP_SINK:
		return r->o.sink(data, n, r->o.sinkarg);
	case ZHTTP_KEEP:
		if (r->len + n > max_of(r)) {
			r->overflow = 1;
			return CURL_WRITEFUNC_ERROR;
		}
		room = n;
		break;
	default:
		/* Past the bound the rest is read and dropped, not refused. */
		room = max_of(r) - r->len;
		if (n < room)
			room = n;
		break;
	}
	if (room == 0)
		return n;
	if (r->len + room + 1 > r->cap) {
		cap = r->cap ? r->cap : 4096;
		while (cap < r->len + room + 1)
			cap *= 2;
		if ((nb = realloc(r->body, cap)) == NULL) {
			r->nomem = 1;
			return CURL_WRITEFUNC_ERROR;
		}
		r->body = nb;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, room);
	r->len += room;
	r->body[r->len] = '\0';
	return n;
}

/*
 * Each response's header, the interim ones (100, a redirect followed)
 * included: a status line starts a new one.  With ZHTTP_SKIP the transfer
 * stops at the end of the final response's header, before a body that
 * may never come.
 */
static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct zhttp *r = arg;
	size_t n = size * nmemb;
	long status = 0;

	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0)
		r->has_retry = 0;
	else if (n >= 12 && strncasecmp(data, "retry-after:", 12) == 0)
		r->has_retry = 1;
	else if (r->o.bodymode == ZHTTP_SKIP && ((n == 2 &&
	    data[0] == '\r' && data[1] == '\n') || (n == 1 &&
	    data[0] == '\n'))) {
		curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && (r->o.redirects == 0 || status < 300 ||
		    status > 399)) {
			r->skipped = 1;
			return CURL_WRITEFUNC_ERROR;
		}
	}
	return n;
}

/* Every option of the house; 0 if libcurl took them all. */
static int
options(struct zhttp *r)
{
	const struct zhttp_opts *o = &r->o;
	CURL *h = r->h;
	char agent[64];
	long ms = 0;
	int bad = 0;

	if (o->timeout > 0) {
		ms = (long)ceil(o->timeout * 1000);
		if (ms < 1)
			ms = 1;
	}
	snprintf(agent, sizeof agent, "%s/%s", o->agent ? o->agent : "zdd",
	    ZDD_VERSION);
	bad |= curl_easy_setopt(h, CURLOPT_URL, r->url);
	bad |= curl_easy_setopt(h, CURLOPT_PRIVATE, r);
	bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	bad |= curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L);
	bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->errbuf);
	bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	bad |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION,
	    o->redirects > 0 ? 1L : 0L);
	if (o->redirects > 0)
		bad |= curl_easy_setopt(h, CURLOPT_MAXREDIRS, o->redirects);
	bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms);
	bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ms);
	if (o->fresh) {
		bad |= curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
		bad |= curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
	}
	if (o->resolve != NULL)
		bad |= curl_easy_setopt(h, CURLOPT_RESOLVE, o->resolve);
	/* A TCP probe goes straight to its address. */
	if (o->noproxy || o->connect_only)
		bad |= curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	if (o->connect_only) {
		bad |= curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
		return bad;
	}
	bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, agent);
	bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, o->headers);
	bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	bad |= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	bad |= curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	if (o->body != NULL) {
		bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, o->body);
		bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)o->bodylen);
	}
	if (o->method != NULL)
		bad |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, o->method);
	if (o->cacert != NULL)
		bad |= curl_easy_setopt(h, CURLOPT_CAINFO, o->cacert);
	if (o->insecure) {
		bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return bad;
}

int
zhttp_setup(struct zhttp *r, const char *url, const struct zhttp_opts *o)
{
	CURL *h = r->h;
	char *body = r->body, *copy;
	size_t cap = r->cap;
	void *priv = r->priv;

	if ((copy = strdup(url)) == NULL)
		return -1;
	if (h != NULL)
		curl_easy_reset(h);
	else if ((h = curl_easy_init()) == NULL) {
		free(copy);
		errno = ENOMEM;
		return -1;
	}
	free(r->url);
	memset(r, 0, sizeof *r);
	r->h = h;
	r->o = *o;
	r->url = copy;
	/* The buffer of an earlier answer is reused. */
	r->body = body;
	r->cap = cap;
	if (body != NULL)
		body[0] = '\0';
	r->priv = priv;
	r->retry_after = -1;
	if (options(r) != 0) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void
zhttp_done(struct zhttp *r)
{
	curl_off_t ra = -1;

	r->status = 0;
	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &r->status);
	/*
	 * libcurl reads Retry-After in seconds or as a date; 0 stands for
	 * both "now" and "none", so the header callback tells which.
	 */
	r->retry_after = -1;
	if (r->has_retry &&
	    curl_easy_getinfo(r->h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK)
		r->retry_after = ra > 0 ? (double)ra : 0;
}

CURLcode
zhttp_perform(struct zhttp *r)
{
	CURLcode rc = curl_easy_perform(r->h);

	zhttp_done(r);
	return rc;
}

int
zhttp_failed(const struct zhttp *r, CURLcode code)
{
	if (code == CURLE_OK)
		return 0;
	return !(code == CURLE_WRITE_ERROR && (r->skipped || r->overflow));
}

/* What an attempt that ran out of time was still waiting for. */
static void
late(const struct zhttp *r, const char *when, char *why, size_t size)
{
	curl_off_t conn = 0, tls = 0;
	long status = 0;

	curl_easy_getinfo(r->h, CURLINFO_CONNECT_TIME_T, &conn);
	curl_easy_getinfo(r->h, CURLINFO_APPCONNECT_TIME_T, &tls);
	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
	if (conn == 0)
		snprintf(why, size, "no connection %s", when);
	else if (strncasecmp(r->url, "https:", 6) == 0 && tls == 0)
		snprintf(why, size, "no TLS handshake %s", when);
	else if (status == 0)
		snprintf(why, size, "no response %s", when);
	else
		snprintf(why, size, "status %ld, body incomplete %s", status,
		    when);
}

/* "cannot connect" with the system's reason when libcurl kept it. */
static void
with_errno(const struct zhttp *r, const char *what, char *why, size_t size)
{
	long oserr = 0;

	curl_easy_getinfo(r->h, CURLINFO_OS_ERRNO, &oserr);
	if (oserr != 0)
		snprintf(why, size, "%s: %s", what, strerror((int)oserr));
	else
		snprintf(why, size, "%s", what);
}

/* libcurl's failures in our words, where the words need nothing more. */
static const struct {
	CURLcode code;
	const char *why;
} words[] = {
	{ CURLE_OK,			"no error" },
	{ CURLE_COULDNT_RESOLVE_HOST,	"cannot resolve the host name" },
	{ CURLE_COULDNT_RESOLVE_PROXY,	"cannot resolve the proxy" },
	{ CURLE_GOT_NOTHING, "connection closed without a response" },
	{ CURLE_WEIRD_SERVER_REPLY,	"not an HTTP response" },
	{ CURLE_UNSUPPORTED_PROTOCOL,	"not an HTTP response" },
	{ CURLE_URL_MALFORMAT,		"not a URL libcurl can use" },
	{ CURLE_TOO_MANY_REDIRECTS,	"too many redirects" },
	{ CURLE_OUT_OF_MEMORY,		"out of memory" },
};

/* 1 for the codes of a TLS failure, whose detail OpenSSL words best. */
static int
tls_failure(CURLcode code)
{
	return code == CURLE_PEER_FAILED_VERIFICATION ||
	    code == CURLE_SSL_CONNECT_ERROR ||
	    code == CURLE_SSL_CACERT_BADFILE ||
	    code == CURLE_SSL_CERTPROBLEM || code == CURLE_SSL_CIPHER ||
	    code == CURLE_SSL_ISSUER_ERROR ||
	    code == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
}

void
zhttp_error(const struct zhttp *r, CURLcode code, const char *within,
    char *why, size_t size)
{
	char tls[CURL_ERROR_SIZE];
	const char *s;
	size_t i;

	for (i = 0; i < sizeof words / sizeof words[0]; i++)
		if (words[i].code == code) {
			snprintf(why, size, "%s", words[i].why);
			return;
		}
	if (code == CURLE_COULDNT_CONNECT)
		with_errno(r, "cannot connect", why, size);
	else if (code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR)
		with_errno(r, "connection failed", why, size);
	else if (code == CURLE_OPERATION_TIMEDOUT)
		late(r, within ? within : "in time", why, size);
	else if (code == CURLE_WRITE_ERROR)
		snprintf(why, size, "%s", r->nomem ?
		    "out of memory for the body" : r->overflow ?
		    "body too large" : "body not written");
	else if (tls_failure(code)) {
		/*
		 * OpenSSL's words are the useful part here ("self-signed
		 * certificate"); they name the host at most, and come from
		 * the peer's certificate, so they are cleaned.
		 */
		s = r->errbuf[0] ? r->errbuf : curl_easy_strerror(code);
		snprintf(why, size, "TLS: %s", ztext_clean(s, strlen(s), tls,
		    sizeof tls));
	} else {
		/*
		 * libcurl's own sentence, which starts with a capital: made
		 * lower case unless that is an acronym ("URL using ...").
		 */
		snprintf(why, size, "%s", curl_easy_strerror(code));
		if (size > 1 && isupper((unsigned char)why[0]) &&
		    !isupper((unsigned char)why[1]))
			why[0] = (char)tolower((unsigned char)why[0]);
	}
}

void
zhttp_free(struct zhttp *r)
{
	if (r->h != NULL)
		curl_easy_cleanup(r->h);
	free(r->body);
	free(r->url);
	memset(r, 0, sizeof *r);
}
