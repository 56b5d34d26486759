#!/bin/sh
# zdd-notify beside the shell recipes it replaces, against the test
# receiver (tests/notify-receiver.py) on loopback: the wall time of one
# notification (RUNS runs each, default 50), then how each one fares when
# the service rate-limits, fails, hangs, or is handed a commit message
# full of quotes.  Prints a Markdown report on stdout; bench/notify.md
# keeps a copy with comments.
#
#   B=build RUNS=50 sh bench/notify.sh
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
RUNS=${RUNS:-50}
NOTIFY=$B/zdd-notify
[ -x "$NOTIFY" ] || { echo "bench: build $NOTIFY first (make)" >&2; exit 1; }
for c in python3 curl; do
	command -v "$c" >/dev/null || { echo "bench: $c missing" >&2; exit 1; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/zdd-bench.XXXXXX") || exit 1
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
log=$T/log
: >"$log"
python3 tests/notify-receiver.py "$port" "$log" &
pids="$pids $!"
i=0
until curl -s -o /dev/null -d x "http://127.0.0.1:$port/hook/x" 2>/dev/null; do
	i=$((i + 1))
	[ "$i" -gt 100 ] && { echo "bench: receiver down" >&2; exit 1; }
	sleep 0.05
done
H=http://127.0.0.1:$port
export no_proxy=127.0.0.1

now() {
	python3 -c 'import time; print(time.monotonic())'
}
count() {
	wc -l <"$log" | tr -d ' '
}
# timed CMD...: runs it, leaves $secs, $rc and $reqs (requests it made).
timed() {
	before=$(count)
	t0=$(now)
	"$@" >/dev/null 2>&1
	rc=$?
	secs=$(python3 -c "print('%.2f' % ($(now) - $t0))")
	reqs=$(($(count) - before))
}
# per RUNS CMD...: mean milliseconds per run.
per() {
	n=$1
	shift
	t0=$(now)
	i=0
	while [ "$i" -lt "$n" ]; do
		"$@" >/dev/null 2>&1
		i=$((i + 1))
	done
	python3 -c "print('%.2f' % (($(now) - $t0) * 1000 / $n))"
}

"$NOTIFY" -n -k slack -s 0 -a shop -e prod --release 20261123084013 \
	'migrations ran' >"$T/payload.json" 2>/dev/null
msg='fix "quotes" \ and a
newline'

echo "# zdd-notify beside curl, $(date -u +%Y-%m-%d), $RUNS runs"
echo
echo "## One notification to a local receiver (mean ms per call)"
echo
z=$(per "$RUNS" "$NOTIFY" -k slack -u "$H/slack/x" -s 0 -a shop -e prod \
	--release 20261123084013 'migrations ran')
c=$(per "$RUNS" curl -s -o /dev/null -H 'Content-Type: application/json' \
	--data-binary @"$T/payload.json" "$H/slack/x")
echo "| command | ms per call | ratio |"
echo "| --- | --- | --- |"
echo "| curl -d @payload.json (payload made beforehand) | $c | 1.00 |"
echo "| zdd-notify (builds the payload, reads CI vars) | $z | $(python3 -c "print('%.2f' % ($z / $c))") |"
echo
echo "## When the service misbehaves"
echo
echo "| case | command | exit | requests | seconds | delivered |"
echo "| --- | --- | --- | --- | --- | --- |"
row() {
	d=no
	[ "$rc" -eq 0 ] && d=yes
	echo "| $1 | $2 | $rc | $reqs | $secs | $d |"
}
timed curl -sf -o /dev/null -d @"$T/payload.json" "$H/r429/2/a"
row "429 Retry-After: 1, twice" "curl -f" 
timed curl -sf -o /dev/null --retry 3 -d @"$T/payload.json" "$H/r429/2/b"
row "429 Retry-After: 1, twice" "curl -f --retry 3"
timed "$NOTIFY" -k slack -u "$H/r429/2/c" -s 0
row "429 Retry-After: 1, twice" "zdd-notify"
timed curl -sf -o /dev/null --retry 3 -d @"$T/payload.json" "$H/e500/2/a"
row "500 twice" "curl -f --retry 3"
timed "$NOTIFY" -k slack -u "$H/e500/2/b" -s 0
row "500 twice" "zdd-notify"
timed curl -sf -o /dev/null --retry 3 -d @"$T/payload.json" "$H/slack-err/no_service/a"
row "404 no_service" "curl -f --retry 3"
timed "$NOTIFY" -k slack -u "$H/slack-err/no_service/b" -s 0
row "404 no_service" "zdd-notify"
timed timeout 15 curl -sf -o /dev/null -d @"$T/payload.json" "$H/hang/a"
row "never answers" "curl -f (killed by timeout 15)"
timed "$NOTIFY" -k slack -u "$H/hang/b" -s 0 -t 5
row "never answers" "zdd-notify -t 5"
before=$(count)
timed curl -sf -o /dev/null -H 'Content-Type: application/json' \
	-d "{\"text\": \"$msg\"}" "$H/hook/quotes-a"
ok=$(python3 -c 'import json, sys
r = [json.loads(l) for l in open(sys.argv[1])][-1]
print("yes" if r["json"] and r["json"].get("text") == sys.argv[2] else "no, JSON broken")' "$log" "$msg")
echo "| commit message with quotes | curl -d \"{\\\"text\\\": \\\"\$msg\\\"}\" | $rc | $reqs | $secs | $ok |"
timed "$NOTIFY" -u "$H/hook/quotes-b" -s 0 "$msg"
ok=$(python3 -c 'import json, sys
r = [json.loads(l) for l in open(sys.argv[1])][-1]
print("yes, intact" if r["json"] and r["json"].get("message") == sys.argv[2] else "no")' "$log" "$msg")
echo "| commit message with quotes | zdd-notify | $rc | $reqs | $secs | $ok |"
