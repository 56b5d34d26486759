/*
 * zdd-notify's readers of what a webhook service answered: a Slack
 * webhook body, a Slack Web API answer, a Discord "?wait=true" message,
 * a JSON retry_after, and the one-line reason shown on stderr
 * (lib/reply); also the --update reference, the time it holds, and the
 * clipping and escaping of text that goes out (lib/webhook).  All of them
 * get the same bytes, without a terminating NUL.  The promises checked:
 * a reason is clean text on one line (lib/text), so a hostile receiver
 * cannot move the terminal's cursor or forge a second diagnostic line;
 * references read back as they were written; waits are never negative
 * except the -1 of "unusable" and never NaN; and clipped text is valid
 * UTF-8 within its bound.
 */
#include <math.h>

#include "fuzz.h"
#include "reply.h"
#include "text.h"
#include "webhook.h"

/* Whether s (NUL-terminated) is valid UTF-8, by the Unicode table 3-7. */
static int
utf8_ok(const unsigned char *s)
{
	while (*s != '\0') {
		int n;
		unsigned lo = 0x80, hi = 0xbf;

		if (*s < 0x80) {
			s++;
			continue;
		}
		if (*s >= 0xc2 && *s <= 0xdf)
			n = 1;
		else if (*s >= 0xe0 && *s <= 0xef) {
			n = 2;
			if (*s == 0xe0)
				lo = 0xa0;
			if (*s == 0xed)
				hi = 0x9f;
		} else if (*s >= 0xf0 && *s <= 0xf4) {
			n = 3;
			if (*s == 0xf0)
				lo = 0x90;
			if (*s == 0xf4)
				hi = 0x8f;
		} else
			return 0;
		s++;
		for (; n > 0; n--, s++) {
			if (*s < lo || *s > hi)
				return 0;
			lo = 0x80;
			hi = 0xbf;
		}
	}
	return 1;
}

static void
check_line(const char *s, size_t size)
{
	const char *end = memchr(s, '\0', size);

	char again[256];

	FUZZ_CHECK(end != NULL);
	/* Already clean: lib/text would change nothing. */
	FUZZ_CHECK((size_t)(end - s) < sizeof again);
	FUZZ_CHECK(strcmp(ztext_clean(s, (size_t)(end - s), again,
	    sizeof again), s) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *b = fuzz_exact(data, size), *s = fuzz_str(data, size);
	char reason[96], text[160], *c;
	struct zwh_ref ref, back;
	size_t max;
	double w;
	int rc;

	rc = zwh_slack_ok(b, size);
	FUZZ_CHECK(rc == 0 || rc == 1);
	if (rc)
		FUZZ_CHECK(size >= 2 && memcmp(b, "ok", 2) == 0);

	memset(reason, 0x7f, sizeof reason);
	rc = zwh_slack_api(b, size, &ref, reason, sizeof reason);
	if (rc == 0) {
		FUZZ_CHECK(ref.kind == ZWH_SLACK);
		FUZZ_CHECK(zwh_ref_format(&ref, text, sizeof text) == 0);
		FUZZ_CHECK(zwh_ref_parse(text, &back) == 0);
		FUZZ_CHECK(memcmp(&ref, &back, sizeof ref) == 0);
	} else {
		FUZZ_CHECK(rc == -1);
		check_line(reason, sizeof reason);
	}

	if (zwh_discord_id(b, size, &ref) == 0) {
		FUZZ_CHECK(ref.kind == ZWH_DISCORD);
		FUZZ_CHECK(strspn(ref.id, "0123456789") == strlen(ref.id));
		FUZZ_CHECK(zwh_ref_format(&ref, text, sizeof text) == 0);
		FUZZ_CHECK(zwh_ref_parse(text, &back) == 0);
		FUZZ_CHECK(memcmp(&ref, &back, sizeof ref) == 0);
	}

	w = zwh_retry_body(b, size);
	FUZZ_CHECK(!isnan(w) && (w >= 0 || w == -1));

	memset(reason, 0x7f, sizeof reason);
	zwh_reason(b, size, reason, sizeof reason);
	check_line(reason, sizeof reason);
	zwh_reason(b, size, reason, 1);
	FUZZ_CHECK(reason[0] == '\0');

	if (zwh_ref_parse(s, &ref) == 0) {
		FUZZ_CHECK(zwh_ref_format(&ref, text, sizeof text) == 0);
		FUZZ_CHECK(strcmp(text, s) == 0);
		w = zwh_ref_time(&ref);
		FUZZ_CHECK(!isnan(w));
		zwh_duration(w, text, sizeof text);
		FUZZ_CHECK(memchr(text, '\0', sizeof text) != NULL);
	}

	max = size > 0 ? data[0] % 64 : 0;
	c = zwh_clip(b, size, max);
	FUZZ_CHECK(c != NULL);
	FUZZ_CHECK(utf8_ok((const unsigned char *)c));
	if (max == 0)
		FUZZ_CHECK(strlen(c) >= size);
	else if (max >= sizeof ZWH_MARK)
		FUZZ_CHECK(strlen(c) <= max);
	free(c);

	c = zwh_slack_escape(s);
	FUZZ_CHECK(c != NULL && strpbrk(c, "<>") == NULL);
	free(c);
	free(b);
	free(s);
	return 0;
}
