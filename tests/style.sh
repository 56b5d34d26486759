#!/bin/sh
# The parts of the house style that a machine can check, run by make lint:
# no line past 80 columns (tabs at 8), and each block of #include lines
# sorted (the unit tests are left out: cmocka.h wants its own order).
# clang-format cannot express the rest of KNF (the option tables,
# aligned declarations in headers), so it is a helper for editors, not a
# gate.  Prints FILE:LINE: problem for each, and fails if there is one.
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
' "$@"
