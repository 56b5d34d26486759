/*
 * The event log reader and the revisions.log reader: every tool that
 * decides a rollback or a prune reads these files, which a crash, a full
 * disk or another program may have left in any shape.  Promises checked:
 * no crash or overread on any bytes, every line counted once (an event
 * or skipped), every id kept is a valid id, and every change of a link
 * names a valid link and release.
 */
#include <string.h>

#include "events.h"
#include "fuzz.h"
#include "layout.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_exact(data, size);
	struct zhist h;
	size_t i, lines = 0;

	for (i = 0; i < size; i++)
		if (s[i] == '\n')
			lines++;
	zhist_init(&h);
	zhist_parse_events(&h, s, size, 0);
	zhist_parse_revlog(&h, s, size);
	FUZZ_CHECK(h.events >= 0 && h.skipped >= 0);
	FUZZ_CHECK((size_t)(h.events + h.skipped) <= lines);
	for (i = 0; i < h.nrel; i++) {
		FUZZ_CHECK(zid_valid(h.rel[i].id));
		FUZZ_CHECK(zhist_rel(&h, h.rel[i].id) == &h.rel[i]);
	}
	for (i = 0; i < h.nchg; i++) {
		FUZZ_CHECK(zlink_name_valid(h.chg[i].link));
		FUZZ_CHECK(zid_valid(h.chg[i].release));
		FUZZ_CHECK(zhist_rel(&h, h.chg[i].release) != NULL);
	}
	for (i = 0; i < h.nrvchg; i++)
		FUZZ_CHECK(zid_valid(h.rvchg[i].release));
	zhist_free(&h);
	free(s);
	return 0;
}
