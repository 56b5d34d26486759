#!/bin/bash
# A deploy killed at every step of each tool (tests/kill-at.c, preloaded,
# kills the tool before its Nth call that changes or syncs the file
# system): zdd-release of a new release, zdd-link to it, zdd-link
# --rollback and zdd-prune.  After each kill the event log and the tree
# still agree enough that zdd-prune -k 2 never deletes the release a
# rollback should land on, and zdd-link --rollback lands there.
. "$(dirname "$0")/lib.sh"

STEPS=${KILL_STEPS:-40}
if [ -n "${SANLOG:-}" ]; then
	echo "ok 1 # skip LD_PRELOAD does not mix with ASan"
	echo "1..1"
	exit 0
fi
run cc -shared -fPIC -Wall -Wextra -Werror -o "$T/kill-at.so" \
	"$TOP/tests/kill-at.c" -ldl
is "tests/kill-at.c builds" "$rc" 0

mkdir -p "$T/src/public"
echo v >"$T/src/public/index.html"
echo ok >"$T/src/public/health"
# The template: releases z, a and b went live in turn; b is live.
TPL=$T/tpl
for id in z a b; do
	zdd-release -q -r "$TPL" --id $id "$T/src" >/dev/null
	zdd-link -q -r "$TPL" $id >/dev/null
done
R=$T/root

steps() {
	rm -rf "$R" && cp -a "$TPL" "$R"
	env ZDD_KILL_COUNT="$T/count" LD_PRELOAD="$T/kill-at.so" "$@" \
		>/dev/null 2>&1
	cat "$T/count"
}
points() {
	awk -v n="$1" -v s="$STEPS" 'BEGIN {
		if (n <= s) { for (i = 1; i <= n; i++) print i; exit }
		for (i = 0; i < s; i++) print 1 + int(i * n / s) }'
}
# after TOOL K: the checks after TOOL was killed at step K.  The release a
# rollback must land on is the one live before current, in z a b c order:
# after a rollback from b killed before its swap, a again.
after() {
	cur=$(readlink "$R/current")
	cur=${cur#releases/}
	case $cur in c) want=b ;; b) want=a ;; a) want=z ;; *) want=? ;; esac
	[ -d "$R/releases/$cur" ] || note "$1 killed at $2: current is '$cur'"
	zdd-prune -q -r "$R" -k 2 >/dev/null 2>"$T/.perr" ||
		note "$1 killed at $2: zdd-prune failed: $(cat "$T/.perr")"
	[ -d "$R/releases/$want" ] ||
		note "$1 killed at $2 (current $cur): zdd-prune deleted $want"
	zdd-link -q -r "$R" --rollback >/dev/null 2>"$T/.rerr"
	rb=$?
	now=$(readlink "$R/current")
	[ "$now" = "releases/$want" ] ||
		note "$1 killed at $2 (current $cur): rollback (exit $rb) went to '$now', not $want"
	python3 -c '
import json, sys
lines = open(sys.argv[1]).read().split("\n")
for l in lines[:-1]: json.loads(l)' "$R/.zdd/events.jsonl" 2>/dev/null ||
		note "$1 killed at $2: a line of the event log is not JSON"
}

for tool in release link rollback prune; do
	case $tool in
	release) cmd="zdd-release -q -r $R --id c $T/src" ;;
	link) cmd="sh -c 'zdd-release -q -r $R --id c $T/src >/dev/null && exec \"\$0\" \"\$@\"' zdd-link -q -r $R c" ;;
	rollback) cmd="zdd-link -q -r $R --rollback" ;;
	prune) cmd="zdd-prune -q -r $R -k 2" ;;
	esac
	if [ $tool = link ]; then
		# Only zdd-link is killed: the release is made first.
		nsteps=$(rm -rf "$R" && cp -a "$TPL" "$R" &&
			zdd-release -q -r "$R" --id c "$T/src" >/dev/null &&
			env ZDD_KILL_COUNT="$T/count" LD_PRELOAD="$T/kill-at.so" \
			zdd-link -q -r "$R" c >/dev/null 2>&1; cat "$T/count")
	else
		nsteps=$(eval steps "$cmd")
	fi
	bad=
	runs=0
	for k in $(points "$nsteps"); do
		rm -rf "$R" && cp -a "$TPL" "$R"
		[ $tool = link ] && zdd-release -q -r "$R" --id c "$T/src" >/dev/null
		case $tool in
		link) set -- zdd-link -q -r "$R" c ;;
		*) eval "set -- $cmd" ;;
		esac
		sh -c '"$@"; exit $?' sh env ZDD_KILL_AT="$k" \
			LD_PRELOAD="$T/kill-at.so" "$@" >/dev/null 2>&1
		runs=$((runs + 1))
		after $tool "$k"
	done
	report "$tool killed at each of $runs of its $nsteps steps: rollback and prune right after"
done

done_testing
