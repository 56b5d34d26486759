/*
 * zdd-health's --status lists ("200,204,300-399", "2xx").  A list that
 * parses holds at most ZSTATUS_MAX ranges, each within 100..599 and not
 * reversed, and zstatus_match() agrees with those ranges for every
 * status from 0 to 999.  A parse failure points inside the text.
 */
#include "fuzz.h"
#include "status.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zstatus st;
	size_t pos = (size_t)-1;
	const char *why = NULL;
	char *s = fuzz_str(data, size);
	long code;
	int i, in;

	memset(&st, 0, sizeof st);
	if (zstatus_parse(s, &st, &pos, &why) == -1) {
		FUZZ_CHECK(why != NULL);
		FUZZ_CHECK(pos <= strlen(s));
		free(s);
		return 0;
	}
	FUZZ_CHECK(st.n >= 1 && st.n <= ZSTATUS_MAX);
	for (i = 0; i < st.n; i++) {
		FUZZ_CHECK(st.r[i].lo >= 100 && st.r[i].hi <= 599);
		FUZZ_CHECK(st.r[i].lo <= st.r[i].hi);
	}
	for (code = 0; code < 1000; code++) {
		in = 0;
		for (i = 0; i < st.n; i++)
			if (code >= st.r[i].lo && code <= st.r[i].hi)
				in = 1;
		FUZZ_CHECK(zstatus_match(&st, code) == in);
	}
	FUZZ_CHECK(!zstatus_match(&st, -1) && !zstatus_match(&st, 99999));
	free(s);
	return 0;
}
