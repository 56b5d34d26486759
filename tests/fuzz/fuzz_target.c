/*
 * zdd-health's command-line targets, --resolve and --header checks, the
 * display form of a URL (lib/target) and the redacted form zdd-notify
 * prints of a webhook URL (lib/url).  The display form is what may be
 * printed: after the scheme it must carry no userinfo ('@'), no
 * fragment, and a query only as the mark "?…", so that no credential or
 * token in a URL ever reaches a log.  A header that passes may not hold a
 * CR or LF (which would let it smuggle a second header).
 */
#include <strings.h>

#include "fuzz.h"
#include "target.h"
#include "url.h"

static void
check_show(const char *url)
{
	char *show = zurl_show(url);
	const char *a, *q;

	FUZZ_CHECK(show != NULL);
	if ((a = strstr(show, "://")) != NULL) {
		a += 3;
		FUZZ_CHECK(strchr(a, '#') == NULL);
		/* No userinfo: a '@' is never shown after the scheme. */
		FUZZ_CHECK(strchr(a, '@') == NULL);
		if ((q = strchr(a, '?')) != NULL)
			FUZZ_CHECK(strcmp(q, "?…") == 0);
	}
	free(show);
}

/*
 * A redacted webhook URL shows the scheme and host only: after "://"
 * no userinfo (no '@'), and nothing after the host but "/…"; of a URL
 * libcurl refuses, nothing but "…".
 */
static void
check_redact(const char *url)
{
	char *r = zurl_redact(url), *h = zurl_host(url);
	const char *a, *slash;

	FUZZ_CHECK(r != NULL);
	if ((a = strstr(r, "://")) != NULL) {
		a += 3;
		FUZZ_CHECK(strpbrk(a, "@?#") == NULL);
		slash = strchr(a, '/');
		FUZZ_CHECK(strcmp(a, "…") == 0 ||
		    (slash != NULL && strcmp(slash, "/…") == 0));
	}
	if (h != NULL)
		FUZZ_CHECK(strpbrk(h, "@/?#") == NULL);
	free(r);
	free(h);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ztarget t;
	size_t pos = (size_t)-1;
	const char *why = NULL;
	char *s = fuzz_str(data, size);
	size_t len = strlen(s);

	if (ztarget_parse(s, &t, &pos, &why) == 0) {
		FUZZ_CHECK(t.url != NULL && t.show != NULL);
		/* The scheme is matched without regard to case. */
		FUZZ_CHECK(strncasecmp(t.url, "http://", 7) == 0 ||
		    strncasecmp(t.url, "https://", 8) == 0);
		check_show(t.url);
		ztarget_free(&t);
	} else if (why != NULL)
		/* libcurl refuses a URL as a whole, at no one place. */
		FUZZ_CHECK(pos <= len || pos == ZTARGET_NOPOS);
	check_show(s);
	check_redact(s);
	pos = (size_t)-1;
	if (zresolve_check(s, &pos, &why) == -1)
		FUZZ_CHECK(pos <= len);
	pos = (size_t)-1;
	if (zheader_check(s, &pos, &why) == 0)
		FUZZ_CHECK(strpbrk(s, "\r\n") == NULL);
	else
		FUZZ_CHECK(pos <= len);
	free(s);
	return 0;
}
