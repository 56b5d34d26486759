/*
 * Unit tests of the event log: what the reader makes of a log (a torn
 * last line, a bad line in the middle, a rollback's bad mark, an id made
 * again after a prune), of Capistrano's revisions.log, the creation order
 * that ids of any shape get, and an append after a crash mid-write.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "events.h"
#include "layout.h"

static void
parse(struct zhist *h, const char *s)
{
	zhist_init(h);
	zhist_parse_events(h, s, strlen(s), 0);
}

static void
test_torn_last_line(void **state)
{
	struct zhist h;
	const char *log =
	    "{\"event\":\"release\",\"release\":\"1\"}\n"
	    "{\"event\":\"link\",\"link\":\"current\",\"release\":\"1\"}\n"
	    "{\"event\":\"release\",\"rele";

	(void)state;
	parse(&h, log);
	assert_int_equal(h.events, 2);
	assert_int_equal(h.skipped, 0);
	assert_int_equal(h.nrel, 1);
	assert_int_equal(h.nchg, 1);
	/* A whole object without its newline is still being written. */
	zhist_free(&h);
	parse(&h, "{\"event\":\"release\",\"release\":\"1\"}");
	assert_int_equal(h.events, 0);
	assert_null(zhist_rel(&h, "1"));
	zhist_free(&h);
}

static void
test_bad_lines_skipped(void **state)
{
	struct zhist h;
	const char *log =
	    "{\"event\":\"release\",\"release\":\"a\"}\n"
	    "garbage\n"
	    "{\"event\":\"release\",\"release\":\"../etc\"}\n"
	    "{\"event\":\"link\",\"link\":\"releases\",\"release\":\"a\"}\n"
	    "{\"event\":\"link\",\"release\":\"a\"}\n"
	    "[1,2]\n"
	    "{\"event\":\"release\",\"release\":\"b\"} x\n"
	    "\n"
	    "{\"event\":\"switch\",\"target\":\"green\"}\n"
	    "{\"event\":\"release\",\"release\":\"c\"}\n";

	(void)state;
	parse(&h, log);
	/* switch is another tool's event: read, and not used here. */
	assert_int_equal(h.events, 3);
	assert_int_equal(h.skipped, 6);
	assert_non_null(zhist_rel(&h, "a"));
	assert_null(zhist_rel(&h, "b"));
	assert_non_null(zhist_rel(&h, "c"));
	assert_int_equal(h.nchg, 0);
	zhist_free(&h);
}

static void
test_link_history(void **state)
{
	const struct zhchange **v;
	struct zhist h;
	size_t n;
	const char *log =
	    "{\"event\":\"release\",\"release\":\"R1\"}\n"
	    "{\"event\":\"link\",\"link\":\"blue\",\"release\":\"R1\"}\n"
	    "{\"event\":\"release\",\"release\":\"R2\"}\n"
	    "{\"event\":\"link\",\"link\":\"green\",\"release\":\"R2\"}\n"
	    "{\"event\":\"release\",\"release\":\"R3\"}\n"
	    "{\"event\":\"link\",\"link\":\"blue\",\"release\":\"R3\","
	    "\"previous\":\"R1\"}\n"
	    "{\"event\":\"release\",\"release\":\"R4\"}\n"
	    "{\"event\":\"link\",\"link\":\"green\",\"release\":\"R4\","
	    "\"previous\":\"R2\",\"time\":\"2026-12-02T12:00:00Z\"}\n"
	    "{\"event\":\"rollback\",\"link\":\"green\",\"release\":\"R2\","
	    "\"previous\":\"R4\"}\n"
	    "{\"event\":\"bad\",\"release\":\"R3\"}\n"
	    "{\"event\":\"good\",\"release\":\"R3\"}\n";

	(void)state;
	parse(&h, log);
	assert_int_equal(h.skipped, 0);
	assert_int_equal(zhist_link(&h, "green", "R2", &v, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0]->release, "R2");
	assert_string_equal(v[1]->release, "R4");
	assert_string_equal(v[1]->time, "2026-12-02T12:00:00Z");
	assert_string_equal(v[2]->release, "R2");
	assert_int_equal(v[2]->rollback, 1);
	assert_string_equal(v[2]->previous, "R4");
	free(v);
	assert_int_equal(zhist_rel(&h, "R4")->bad, 1);
	assert_int_equal(zhist_rel(&h, "R2")->bad, 0);
	assert_int_equal(zhist_rel(&h, "R3")->bad, 0);
	assert_int_equal(zhist_rel(&h, "R3")->live, 1);
	assert_int_equal(zhist_link(&h, "current", NULL, &v, &n), 0);
	assert_int_equal(n, 0);
	zhist_free(&h);
}

static void
test_id_made_again(void **state)
{
	struct zhist h;
	const char *log =
	    "{\"event\":\"release\",\"release\":\"x\"}\n"
	    "{\"event\":\"link\",\"link\":\"current\",\"release\":\"x\"}\n"
	    "{\"event\":\"bad\",\"release\":\"x\"}\n"
	    "{\"event\":\"prune\",\"release\":\"x\"}\n"
	    "{\"event\":\"release\",\"release\":\"x\"}\n";

	(void)state;
	parse(&h, log);
	assert_int_equal(zhist_rel(&h, "x")->bad, -1);
	assert_int_equal(zhist_rel(&h, "x")->live, 0);
	assert_int_equal(zhist_rel(&h, "x")->made, 4);
	zhist_free(&h);
}

static void
test_revlog(void **state)
{
	const struct zhchange **v;
	struct zhist h;
	size_t n;
	const char *log =
	    "Branch main (at 1111) deployed as release 20261122093000 by ci\n"
	    "a note somebody wrote\n"
	    "Branch main (at 2222) deployed as release 20261123084013 by ci\n"
	    "deploy rolled back to release 20261122093000\n"
	    "Branch main (at 3333) deployed as release ../x by ci\n"
	    "Branch main (at 4444) deployed as release 20261124000000 by ci";

	(void)state;
	zhist_init(&h);
	zhist_parse_revlog(&h, log, strlen(log));
	assert_int_equal(zhist_link(&h, "current", NULL, &v, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(v[2]->release, "20261122093000");
	assert_string_equal(v[2]->previous, "20261123084013");
	assert_int_equal(v[2]->rollback, 1);
	free(v);
	assert_int_equal(zhist_rel(&h, "20261123084013")->rv_bad, 1);
	assert_int_equal(zhist_rel(&h, "20261124000000")->rv_live, 1);
	/* revisions.log describes current only. */
	assert_int_equal(zhist_link(&h, "blue", NULL, &v, &n), 0);
	assert_int_equal(n, 0);
	zhist_free(&h);
}

static void
test_annotate_order(void **state)
{
	struct zrel v[5];
	struct zhist h;
	const char *ids[] = { "11", "9", "10", "d-B", "d-A" };
	size_t i;
	/* Build ids before the log began, random ids after it. */
	const char *log =
	    "{\"event\":\"release\",\"release\":\"d-B\"}\n"
	    "{\"event\":\"link\",\"link\":\"current\",\"release\":\"d-B\","
	    "\"previous\":\"11\"}\n"
	    "{\"event\":\"release\",\"release\":\"d-A\"}\n";

	(void)state;
	memset(v, 0, sizeof v);
	for (i = 0; i < 5; i++)
		strcpy(v[i].id, ids[i]);
	strcpy(v[3].links, "current");
	parse(&h, log);
	h.have_events = 1;
	zhist_annotate(&h, v, 5);
	assert_string_equal(v[0].id, "9");
	assert_string_equal(v[1].id, "10");
	assert_string_equal(v[2].id, "11");
	assert_string_equal(v[3].id, "d-B");
	assert_string_equal(v[4].id, "d-A");
	assert_int_equal(v[2].state, ZREL_WAS_LIVE);
	assert_int_equal(v[3].state, ZREL_LIVE);
	assert_int_equal(v[4].state, ZREL_STAGED);
	/* No revisions.log: what the log never names counts as live. */
	assert_int_equal(v[0].state, ZREL_WAS_LIVE);
	zhist_free(&h);
}

static void
test_append_after_torn_line(void **state)
{
	char dir[] = "/dev/shm/zdd-events.XXXXXX", path[256], buf[4096];
	struct zroot r;
	struct zhist h;
	ssize_t len;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(zroot_open(&r, dir, ZROOT_CREATE), 0);
	snprintf(path, sizeof path, "%s/.zdd/events.jsonl", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	len = (ssize_t)strlen("{\"event\":\"release\",\"release\":\"a\"}\n"
	    "{\"event\":\"rel");
	assert_int_equal(write(fd, "{\"event\":\"release\",\"release\":\"a\"}\n"
	    "{\"event\":\"rel", (size_t)len), len);
	close(fd);
	assert_int_equal(zevent_append(&r, "link", json_pack(
	    "{s:s s:s s:s}", "release", "a", "link", "current",
	    "previous", "z")), 0);
	fd = open(path, O_RDONLY);
	len = read(fd, buf, sizeof buf - 1);
	close(fd);
	assert_true(len > 0);
	buf[len] = '\0';
	/* The torn line is gone; the new one is whole and ends the file. */
	assert_null(strstr(buf, "\"rel\n"));
	assert_int_equal(buf[len - 1], '\n');
	assert_non_null(strstr(buf, "\n{\"time\":\""));
	assert_int_equal(zhist_load(&r, &h, 0), 0);
	assert_int_equal(h.events, 2);
	assert_int_equal(h.skipped, 0);
	assert_int_equal(h.nchg, 1);
	assert_string_equal(h.chg[0].previous, "z");
	assert_int_equal(h.chg[0].time[4], '-');
	zhist_free(&h);
	zroot_close(&r);
	snprintf(buf, sizeof buf, "rm -rf '%s'", dir);
	assert_int_equal(system(buf), 0);
}

static void
test_revlog_ahead(void **state)
{
	const struct zhchange **v;
	struct zhist h;
	size_t n;
	const char *ev =
	    "{\"event\":\"link\",\"link\":\"current\",\"release\":\"B\","
	    "\"previous\":\"A\"}\n";
	const char *rv =
	    "Branch m (at 1) deployed as release A by cap\n"
	    "Branch m (at 2) deployed as release B by cap\n"
	    "cap rolled back to release A\n"
	    "Branch m (at 3) deployed as release C by cap\n";

	(void)state;
	zhist_init(&h);
	zhist_parse_events(&h, ev, strlen(ev), 0);
	zhist_parse_revlog(&h, rv, strlen(rv));
	/* current is where the event log left it: the event log. */
	assert_int_equal(zhist_link(&h, "current", "B", &v, &n), 0);
	assert_int_equal(n, 1);
	free(v);
	/* Capistrano moved it since: revisions.log, which names C. */
	assert_int_equal(zhist_link(&h, "current", "C", &v, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(v[3]->release, "C");
	assert_string_equal(v[3]->previous, "A");
	free(v);
	/* Neither names where it points: the event log still. */
	assert_int_equal(zhist_link(&h, "current", "Z", &v, &n), 0);
	assert_int_equal(n, 1);
	free(v);
	zhist_free(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_torn_last_line),
		cmocka_unit_test(test_bad_lines_skipped),
		cmocka_unit_test(test_link_history),
		cmocka_unit_test(test_id_made_again),
		cmocka_unit_test(test_revlog),
		cmocka_unit_test(test_revlog_ahead),
		cmocka_unit_test(test_annotate_order),
		cmocka_unit_test(test_append_after_torn_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
