#!/bin/bash
# The README's first command: make demo, a whole zero-downtime deploy
# (nginx in front of blue and green, three versions, load all along),
# run exactly as the README prints it, and its HAProxy variant.  It must
# end with zero failed requests.  Under check-asan it is not repeated:
# make demo runs the plain build.
. "$(dirname "$0")/lib.sh"

if [ -n "${SANLOG:-}" ]; then
	echo "ok 1 # skip make demo runs the plain build; make check runs it"
	echo "1..1"
	exit 0
fi
cd "$TOP" || exit 1
# As a user types it, not as a sub-make of make check.
unset MAKEFLAGS MAKELEVEL MFLAGS
is "the README shows make demo" \
	"$(grep -m 1 -E '^make demo' README.md | cut -d' ' -f1-2)" "make demo"

run make demo
is "make demo: exit 0" "$rc" 0
is "make demo: zero failed requests" "$(tail -n 1 <<<"$out")" \
	"demo: zero failed requests"
like "make demo: nginx switched blue to green and back" "$out" \
	'v3: green -> blue'

run make demo HAPROXY=1
is "make demo HAPROXY=1: exit 0" "$rc" 0
is "make demo HAPROXY=1: zero failed requests" "$(tail -n 1 <<<"$out")" \
	"demo: zero failed requests"

done_testing
