/*
 * zdd-switch's readers of HAProxy's runtime API answers, which come from
 * a socket that another process serves.  The input is a backend name, a
 * newline, then the answer; it is read as "show servers state" and as
 * "show stat" CSV.  Every server reported must have a terminated name
 * and states that are not negative, a terminated address and a port in
 * range or -1, never more than asked for, and a
 * session count is never negative unless it is the -1 of failure.
 */
#include <errno.h>

#include "fuzz.h"
#include "haproxy.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zhap_server v[4];
	const uint8_t *ans;
	size_t alen;
	char *backend = fuzz_split(data, size, '\n', &ans, &alen);
	char *text = fuzz_str(ans, alen);
	const char *server = "green";
	long s;
	int n, i;

	memset(v, 0x55, sizeof v);
	n = zhap_parse_state(text, backend, v, 4);
	FUZZ_CHECK(n >= -1 && n <= 4);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(memchr(v[i].name, '\0', sizeof v[i].name) != NULL);
		FUZZ_CHECK(v[i].op_state >= 0);
		FUZZ_CHECK(v[i].admin_state >= 0);
		FUZZ_CHECK(memchr(v[i].addr, '\0', sizeof v[i].addr) != NULL);
		FUZZ_CHECK(v[i].port >= -1 && v[i].port <= 65535);
		(void)zhap_addr_is(&v[i], "127.0.0.1:8081");
		(void)zhap_addr_is(&v[i], "[::1]:8082");
	}
	if (n > 0)
		server = v[0].name;
	errno = 0;
	s = zhap_parse_sessions(text, backend, server);
	FUZZ_CHECK(s >= -1);
	(void)zhap_ok(text);
	(void)zhap_parse_state(text, backend, v, 0);
	free(backend);
	free(text);
	return 0;
}
