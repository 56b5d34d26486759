#!/bin/sh
# The cost of the event log: zdd-link --rollback, zdd-prune and
# zdd-link --list on a root of 100 releases whose .zdd/events.jsonl holds
# 10,000 events, against the same root read the old way (no log: id
# order) and from a 10,000-line revisions.log (Capistrano's record).  Dry
# runs (-n), so that every round reads the same root; /dev/shm, so that
# the reading shows, not the disk.  Prints the medians of CPU and wall
# time.
set -eu
B=${B:-build}
case $B in /*) ;; *) B=$(pwd)/$B ;; esac
rounds=${ROUNDS:-21}
W=$(mktemp -d /dev/shm/zdd-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT

# Three roots with the same 100 releases; current on the newest.
for r in log ids revlog; do
	mkdir -p "$W/$r/releases" "$W/$r/.zdd"
	i=0
	while [ "$i" -lt 100 ]; do
		id=$(printf '20261201%06d' "$i")
		mkdir "$W/$r/releases/$id"
		echo "$i" >"$W/$r/releases/$id/VERSION"
		i=$((i + 1))
	done
	ln -s releases/20261201000099 "$W/$r/current"
done
# 10,000 events as the tools write them: each release made and linked,
# then relinks, rollbacks, bad and good marks back and forth.
python3 - "$W/log/.zdd/events.jsonl" "$W/revlog/revisions.log" <<'PY'
import json, random, sys
random.seed(1)
ids = ["20261201%06d" % i for i in range(100)]
ev, rv = [], []
def add(event, **f):
    o = {"time": "2026-12-01T10:00:00Z", "event": event}
    o.update(f)
    o.update({"user": "deploy", "host": "web1", "ci": "jenkins",
              "run": "42", "run_url": "https://ci.example.com/job/app/42/"})
    ev.append(json.dumps(o, separators=(",", ":")))
cur = None
n = 0
while len(ev) < 10000:
    k = min(n, 99)
    if n < 100:
        add("release", release=ids[n], sha256="0" * 64, branch="main",
            revision="abc")
    r = ids[k] if n < 100 else random.choice(ids[:99])
    kind = random.random()
    if n >= 100 and kind < 0.1 and cur:
        add("bad", release=random.choice(ids[:99]))
    elif n >= 100 and kind < 0.2:
        add("good", release=random.choice(ids[:99]))
    else:
        add("link", release=r, link="current", previous=cur)
        rv.append("Branch main (at abc) deployed as release %s by deploy" % r)
        cur = r
    n += 1
add("link", release=ids[99], link="current", previous=cur)
rv.append("Branch main (at abc) deployed as release %s by deploy" % ids[99])
open(sys.argv[1], "w").write("\n".join(ev[-10000:]) + "\n")
open(sys.argv[2], "w").write("\n".join(rv) + "\n")
PY

# bench NAME CMD...: rounds runs of CMD; the medians of the wall time and
# of the CPU time (user + system: what the machine's other jobs do not
# change) into $W/NAME.wall and $W/NAME.cpu, in ms.
bench() {
	name=$1
	shift
	python3 - "$W/$name" "$rounds" "$@" <<'PY'
import os, resource, statistics, subprocess, sys, time
out, rounds, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
wall, cpu = [], []
for _ in range(rounds):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall.append((time.monotonic() - t0) * 1000)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append((r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000)
open(out + ".wall", "w").write("%.2f\n" % statistics.median(wall))
open(out + ".cpu", "w").write("%.2f\n" % statistics.median(cpu))
PY
}
for r in log ids revlog; do
	bench "rb-$r" "$B/zdd-link" -q -n -r "$W/$r" --rollback
	bench "pr-$r" "$B/zdd-prune" -q -n -r "$W/$r" -k 5
	bench "ls-$r" "$B/zdd-link" -q -r "$W/$r" --list
done
# The answers differ as they should: the log's history is not id order.
echo "rollback lands on: log $("$B/zdd-link" -n -r "$W/log" --rollback 2>/dev/null)," \
	"ids $("$B/zdd-link" -n -r "$W/ids" --rollback 2>/dev/null)" | sed "s|$W/[a-z]*/releases/||g"
printf 'lifecycle: 100 releases, 10,000 events (%s bytes), /dev/shm, %d rounds, medians in ms\n' \
	"$(wc -c <"$W/log/.zdd/events.jsonl")" "$rounds"
printf '%-24s %9s %9s %9s %9s %9s %9s\n' "" "log cpu" "ids cpu" "rev cpu" \
	"log wall" "ids wall" "rev wall"
for w in rb:"zdd-link --rollback -n" pr:"zdd-prune -n -k 5" ls:"zdd-link --list"; do
	k=${w%%:*}
	printf '%-24s %9s %9s %9s %9s %9s %9s\n' "${w#*:}" \
		"$(cat "$W/$k-log.cpu")" "$(cat "$W/$k-ids.cpu")" "$(cat "$W/$k-revlog.cpu")" \
		"$(cat "$W/$k-log.wall")" "$(cat "$W/$k-ids.wall")" "$(cat "$W/$k-revlog.wall")"
done
