#!/bin/sh
# bench/switch.sh: blue/green switches under load, three ways side by side.
#
#   seed     the seeds' recipe: rewrite the include file in place,
#            nginx -s reload, stop the old backend at once
#   nginx    zdd-switch --drain through nginx, then stop the old backend
#   haproxy  zdd-switch --drain through HAProxy's runtime API, then stop
#            the old backend
#   canary   through nginx, each flip a canary stepped 5, 25, 50 percent
#            (--weight), then promoted with --drain, then stop the old
#   watch    zdd-switch --watch 1 (nginx's access log, --max-5xx 1)
#            --drain through nginx, then stop the old backend
#
# Each way flips FLIPS times (default 50) while wrk (-c32, keep-alive)
# and examples/loadgen.py (8 keep-alive clients that retry a reused
# connection closed before any response, as browsers do, and 4 slow
# requests of SLOW_MS in flight at all times) send requests through the
# proxy.  The stopped backend is started again at once, as the idle
# colour for the next flip.  Then the switch itself is timed against a
# bare "nginx -t && nginx -s reload", without load.  Prints a Markdown
# report on stdout; bench/switch.md holds one run's figures.  WAYS=""
# times only the switch; TMPDIR picks the file system (fsync costs).
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
case $B in /*) ;; *) B=$TOP/$B ;; esac
PATH=$B:$PATH
export PATH
FLIPS=${FLIPS:-50}
SLOW_MS=${SLOW_MS:-400}
TIMES=${TIMES:-30}

for c in wrk nginx haproxy python3 zdd-switch zdd-demo-backend; do
	command -v "$c" >/dev/null || { echo "bench: $c is missing" >&2; exit 1; }
done

D=$(mktemp -d "${TMPDIR:-/tmp}/zdd-bench.XXXXXX") || exit 1
chmod 755 "$D"
pids=
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
wait_port() {
	w=0
	while [ "$w" -lt 200 ]; do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" \
			2>/dev/null && return 0
		sleep 0.05
		w=$((w + 1))
	done
	echo "bench: nothing listens on port $1" >&2
	exit 1
}
# forget PID: drop it from the list that cleanup stops.
forget() {
	pids=$(echo "$pids" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}
now() {
	date +%s.%N
}

PP=$(free_port)
BP=$(free_port)
GP=$(free_port)
mkdir -p "$D/app"
echo bench >"$D/app/VERSION"
N=$D/nginx
INC=$N/conf/service-url.inc
NGX="nginx -p $N -c $N/conf/nginx.conf"
SWN="zdd-switch -q -t blue=127.0.0.1:$BP -t green=127.0.0.1:$GP -f $INC \
--format upstream --nginx-arg=-p --nginx-arg=$N --nginx-arg=-c \
--nginx-arg=$N/conf/nginx.conf --pid-file $N/nginx.pid"
SWH="zdd-switch -q -t blue=127.0.0.1:$BP -t green=127.0.0.1:$GP \
--haproxy $D/admin.sock --backend app"

start_backend() {
	zdd-demo-backend "$1" "$D/app" &
	pids="$pids $!"
	eval "pid_$1=\$!"
}
stop_backend() {
	eval "p=\$pid_$1"
	# shellcheck disable=SC2154
	kill "$p"
	wait "$p" 2>/dev/null
	forget "$p"
}
port_of() {
	if [ "$1" = blue ]; then echo "$BP"; else echo "$GP"; fi
}

start_nginx() {
	mkdir -p "$N/conf" "$N/logs"
	cat >"$N/conf/nginx.conf" <<EOF
worker_processes 2;
pid $N/nginx.pid;
error_log $N/logs/error.log;
events { worker_connections 2048; }
http {
	access_log off;
	log_format zdd '\$upstream_addr \$upstream_status';
	include $INC;
	server {
		listen 127.0.0.1:$PP;
		location / {
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			$ACCESS
			proxy_pass http://backend;
		}
	}
}
EOF
	write_seed blue
	$NGX -g 'daemon off;' &
	proxy=$!
	pids="$pids $proxy"
	wait_port "$PP"
}
# The seeds' way of writing the include file: in place, no check.
write_seed() {
	printf 'upstream backend {\n\tserver 127.0.0.1:%s;\n\tkeepalive 32;\n}\n' \
		"$(port_of "$1")" >"$INC"
}
start_haproxy() {
	cat >"$D/haproxy.cfg" <<EOF
global
	stats socket $D/admin.sock level admin
	maxconn 4096
defaults
	mode http
	option http-keep-alive
	timeout connect 2s
	timeout client 30s
	timeout server 30s
frontend fe
	bind 127.0.0.1:$PP
	default_backend app
backend app
	server blue 127.0.0.1:$BP
	server green 127.0.0.1:$GP disabled
EOF
	haproxy -f "$D/haproxy.cfg" -db -q &
	proxy=$!
	pids="$pids $proxy"
	wait_port "$PP"
}

# run WAY: one scenario, FLIPS switches under load; appends a table row.
run() {
	way=$1
	start_backend "$BP"
	start_backend "$GP"
	wait_port "$BP"
	wait_port "$GP"
	ACCESS=
	[ "$way" = watch ] && ACCESS="access_log $N/logs/zdd.log zdd;"
	if [ "$way" = haproxy ]; then start_haproxy; else start_nginx; fi
	wrk -t2 -c32 -d600s --latency "http://127.0.0.1:$PP/" >"$D/wrk.$way" 2>&1 &
	wrkpid=$!
	pids="$pids $wrkpid"
	python3 "$TOP/examples/loadgen.py" "http://127.0.0.1:$PP/" \
		"$D/load.$way.json" 8 4 "$SLOW_MS" &
	loadpid=$!
	pids="$pids $loadpid"
	sleep 1
	live=blue
	n=0
	fails=0
	t0=$(now)
	: >"$D/drain.$way"
	while [ "$n" -lt "$FLIPS" ]; do
		if [ "$live" = blue ]; then idle=green; else idle=blue; fi
		case $way in
		seed)
			write_seed "$idle"
			$NGX -s reload 2>/dev/null
			;;
		nginx)
			if ! $SWN --drain=30 --json "$idle" >>"$D/drain.$way"; then
				echo "bench: zdd-switch failed; nginx says:" >&2
				tail -3 "$N/logs/error.log" >&2
				# A deploy script keeps the old backend then.
				fails=$((fails + 1))
				[ "$fails" -lt 5 ] || exit 1
				sleep 0.2
				continue
			fi
			;;
		canary|watch)
			# A canary's steps, or a watch of the whole switch; a
			# failure keeps the old backend, as a pipeline would.
			ok=1
			if [ "$way" = canary ]; then
				for pct in 5 25 50; do
					$SWN --weight "$idle=$pct" >/dev/null || ok=0
				done
				[ "$ok" = 1 ] && { $SWN --drain=30 --json "$idle" \
					>>"$D/drain.$way" || ok=0; }
			else
				$SWN --watch 1 --access-log "$N/logs/zdd.log" \
					--drain=30 --json "$idle" >>"$D/drain.$way" ||
					ok=0
			fi
			if [ "$ok" = 0 ]; then
				echo "bench: zdd-switch failed ($way)" >&2
				$SWN --force "$live" >/dev/null 2>&1
				fails=$((fails + 1))
				[ "$fails" -lt 5 ] || exit 1
				sleep 0.2
				continue
			fi
			;;
		haproxy)
			if ! $SWH --drain=30 --json "$idle" >>"$D/drain.$way"; then
				echo "bench: zdd-switch failed" >&2
				fails=$((fails + 1))
				[ "$fails" -lt 5 ] || exit 1
				sleep 0.2
				continue
			fi
			;;
		esac
		# The old backend goes at once, and comes back as the idle one.
		stop_backend "$(port_of "$live")"
		start_backend "$(port_of "$live")"
		wait_port "$(port_of "$live")"
		live=$idle
		n=$((n + 1))
		sleep 0.2
	done
	t1=$(now)
	sleep 1
	kill -INT "$wrkpid"
	kill -TERM "$loadpid"
	wait "$wrkpid"
	wait "$loadpid"
	forget "$wrkpid"
	forget "$loadpid"
	kill "$proxy"
	wait "$proxy" 2>/dev/null
	forget "$proxy"
	stop_backend "$BP"
	stop_backend "$GP"
	python3 - "$way" "$D/wrk.$way" "$D/load.$way.json" "$D/drain.$way" \
		"$t0" "$t1" "$FLIPS" <<'EOF' >>"$D/rows"
import json, re, sys
way, wrkf, loadf, drainf, t0, t1, flips = sys.argv[1:]
w = open(wrkf).read()
req = int(re.search(r"(\d+) requests in", w).group(1))
m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", w)
sock = sum(map(int, m.groups())) if m else 0
m = re.search(r"Non-2xx or 3xx responses: (\d+)", w)
non2xx = int(m.group(1)) if m else 0
m = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", w)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)] if m else 0
c = json.load(open(loadf))
drains = [json.loads(l).get("drain_seconds", 0) for l in open(drainf) if l.strip()]
dr = "%.3f" % (sorted(drains)[len(drains) // 2]) if drains else "-"
name = {"seed": "seed recipe (write, reload, stop old)",
        "nginx": "zdd-switch --drain, nginx",
        "haproxy": "zdd-switch --drain, HAProxy",
        "canary": "zdd-switch canary 5-25-50%, then --drain, nginx",
        "watch": "zdd-switch --watch 1 --drain, nginx"}[way]
print("| %s | wrk | %d | %d | %d | %.1f | - | - | %s |" % (
    name, req, non2xx, sock, p99, dr))
print("| %s | retrying client | %d | %d | %d | %.1f | %d | %d of %d | %s |" % (
    name, c["requests"], c["status_5xx"], c["failed"] - c["status_5xx"],
    c["p99_ms"], c["retried_resets"], c["slow_failed"], c["slow_requests"],
    dr))
EOF
	echo "bench: $way: $fails failed switches (retried)" >&2
	echo "bench: $way: $FLIPS flips in $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s" >&2
}

: >"$D/rows"
for way in ${WAYS-seed nginx haproxy canary watch}; do
	run "$way"
done

# The switch itself, without load: a bare nginx -t && nginx -s reload
# against zdd-switch (which also waits until the new workers are up).
start_backend "$BP"
start_backend "$GP"
ACCESS=
start_nginx
: >"$D/t.bare"
: >"$D/t.zdd"
n=0
live=blue
while [ "$n" -lt "$TIMES" ]; do
	if [ "$live" = blue ]; then idle=green; else idle=blue; fi
	write_seed "$idle"
	a=$(now)
	$NGX -t 2>/dev/null && $NGX -s reload 2>/dev/null
	b=$(now)
	awk "BEGIN { print $b - $a }" >>"$D/t.bare"
	sleep 0.3
	a=$(now)
	$SWN --force "$live" >/dev/null
	b=$(now)
	awk "BEGIN { print $b - $a }" >>"$D/t.zdd"
	sleep 0.3
	n=$((n + 1))
done
med() {
	sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%.4f", v[int((NR + 1) / 2)] }'
}
bare=$(med "$D/t.bare")
zdd=$(med "$D/t.zdd")

echo "## Under load: $FLIPS flips each, wrk -t2 -c32 and a retrying client with 4 slow (${SLOW_MS} ms) requests in flight"
echo
echo "| way | counted by | requests | 5xx | socket errors / failed | p99 ms | resets retried | slow failed | median drain s |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
cat "$D/rows"
echo
echo "## The switch itself, no load, median of $TIMES"
echo
echo "| step | seconds |"
echo "| --- | ---: |"
echo "| nginx -t && nginx -s reload | $bare |"
echo "| zdd-switch (write, nginx -t, reload, new workers up) | $zdd |"
echo "| ratio | $(awk "BEGIN { printf \"%.2f\", $zdd / $bare }") |"
