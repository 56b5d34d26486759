#!/bin/sh
# Detection lag of zdd-health against the seeds' shell loops: the time
# from the moment a backend turns healthy to the moment the waiter exits
# 0, over RUNS runs each (default 30), with the moment of turning healthy
# at a random phase.  Then the CPU time zdd-health uses while it waits on
# a backend that stays down, and on one that never answers.  Prints a
# Markdown report on stdout; bench/health.md keeps a copy with comments.
#
#   B=build RUNS=30 sh bench/health.sh
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
RUNS=${RUNS:-30}
HEALTH=$B/zdd-health
[ -x "$HEALTH" ] || { echo "bench: build $HEALTH first (make)" >&2; exit 1; }
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

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# serve MODE [ARG]: a tests/health-server.py on a free port, into $port.
serve() {
	port=$(free_port)
	python3 tests/health-server.py "$port" "$@" &
	pids="$pids $!"
	python3 -c 'import socket, sys, time
for _ in range(200):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)' "$port" || { echo "bench: server down" >&2; exit 1; }
}

# lag NAME CMD: RUNS runs of CMD as the waiter; lags in ms in $T/NAME.
# A python driver times them: one process, no fork of date(1) between
# the flag and the clock, so the figures hold the waiter's lag and little
# else.  The backend turns healthy 0.3 to 1.3 s after the waiter starts,
# at a random phase of its interval.
lag() {
	python3 - "$T/$1" "$T/flag" "$RUNS" "$2" <<'PY' || exit 1
import os, random, subprocess, sys, time
out, flag, runs, cmd = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(out, "w") as f:
    for _ in range(runs):
        if os.path.exists(flag):
            os.unlink(flag)
        w = subprocess.Popen(cmd, shell=True, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(0.3 + random.random())
        t0 = time.monotonic()
        open(flag, "w").close()
        rc = w.wait()
        t1 = time.monotonic()
        if rc != 0:
            sys.exit("bench: %s exited %d" % (cmd, rc))
        f.write("%.1f\n" % ((t1 - t0) * 1000))
PY
}

# stats FILE: median, p90, max and mean of the numbers in FILE.
stats() {
	sort -n "$1" | awk '{ v[NR] = $1; s += $1 }
	END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		p = v[int(NR * 0.9 + 0.999)]
		printf "%.0f | %.0f | %.0f | %.0f", m, p, v[NR], s / NR
	}'
}

# cpu CMD...: user+system CPU seconds CMD used.
cpu() {
	python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.1f" % ((r.ru_utime + r.ru_stime) * 1000))' "$@"
}

serve flag "$T/flag"
URL=http://127.0.0.1:$port/actuator/health

lag zdd "$HEALTH -e status=UP $URL"
lag zdd01 "$HEALTH -i 0.1 -e status=UP $URL"
lag seed "until curl -s $URL | grep -q UP; do sleep 1; done"
lag retry "curl -sf --retry 10 $URL"
lag retry1 "curl -sf --retry 100 --retry-delay 1 $URL"

echo "Detection lag, ms, $RUNS runs each ($(date -u +%Y-%m-%d), $(nproc) CPUs):"
echo
echo "| waiter | median | p90 | max | mean |"
echo "| --- | ---: | ---: | ---: | ---: |"
echo "| \`zdd-health -e status=UP\` (interval 0.5 s) | $(stats "$T/zdd") |"
echo "| \`zdd-health -i 0.1 -e status=UP\` | $(stats "$T/zdd01") |"
echo "| seed loop \`until curl -s URL \\| grep -q UP; do sleep 1; done\` | $(stats "$T/seed") |"
echo "| \`curl -sf --retry 10\` (backoff 1, 2, 4 s ...) | $(stats "$T/retry") |"
echo "| \`curl -sf --retry 100 --retry-delay 1\` | $(stats "$T/retry1") |"
echo

serve down
down=$port
serve hang
hang=$port
echo "CPU time (user + system) while waiting 10 s on a backend that is not healthy:"
echo
echo "| waiter | CPU ms in 10 s |"
echo "| --- | ---: |"
echo "| zdd-health start and exit alone (-d 0.01), for reference | $(cpu "$HEALTH" -d 0.01 "http://127.0.0.1:$hang/") |"
echo "| zdd-health, 503 every 0.5 s (20 attempts) | $(cpu "$HEALTH" -d 10 "http://127.0.0.1:$down/") |"
echo "| zdd-health -i 0.1, 503 (100 attempts) | $(cpu "$HEALTH" -i 0.1 -d 10 "http://127.0.0.1:$down/") |"
echo "| zdd-health -t 30, never answers (one attempt in flight) | $(cpu "$HEALTH" -t 30 -d 10 "http://127.0.0.1:$hang/") |"
set --
i=0
while [ "$i" -lt 10 ]; do
	set -- "$@" "http://127.0.0.1:$down/$i"
	i=$((i + 1))
done
echo "| zdd-health, 10 targets, 503 | $(cpu "$HEALTH" -d 10 "$@") |"
echo "| seed loop, 503 (10 curl runs) | $(cpu timeout 10 sh -c "until curl -s http://127.0.0.1:$down/ | grep -q UP; do sleep 1; done") |"
echo "Load average during the run: $(cut -d" " -f1-3 /proc/loadavg)."
