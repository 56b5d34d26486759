#!/bin/sh
# The parts of the house style that a machine can check, run by make lint:
# no line past 80 columns (tabs at 8), each block of #include lines
# sorted (the unit tests are left out: cmocka.h wants its own order), and
# the files in $formatted exactly as clang-format (.clang-format) writes
# them.  clang-format 14 cannot keep the rest of KNF (split messages,
# nested continuations, aligned declarations), so the rest is kept by
# hand.  Prints FILE:LINE: problem for each, and fails if there is one.
formatted="lib/clock.c lib/ident.c lib/ident.h lib/io.c lib/json.c lib/opt.c
lib/status.c lib/text.c tests/fuzz/fuzz_events.c tests/fuzz/fuzz_haproxy.c
tests/fuzz/fuzz_status.c tests/fuzz/fuzz_target.c tests/fuzz/fuzz_text.c"
bad=0
# shellcheck disable=SC2086
clang-format --dry-run -Werror $formatted || bad=1
[ "$#" -gt 0 ] || set -- lib/*.[ch] tools/*.c tests/fuzz/*.[ch]
awk '
FNR == 1 { prev = "" }
{
	w = 0
	for (i = 1; i <= length($0); i++)
		w = substr($0, i, 1) == "\t" ? w + 8 - w % 8 : w + 1
	if (w > 80) {
		printf "%s:%d: %d columns\n", FILENAME, FNR, w
		bad = 1
	}
}
/^#include [<"]/ {
	if (prev != "" && substr(prev, 10, 1) == substr($0, 10, 1) &&
	    $0 < prev) {
		printf "%s:%d: %s sorts before %s\n", FILENAME, FNR, $2,
		    substr(prev, 10)
		bad = 1
	}
	prev = $0
	next
}
{ prev = "" }
END { exit bad }
' "$@" || bad=1
exit "$bad"
