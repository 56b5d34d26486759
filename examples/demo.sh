#!/bin/sh
# make demo: a whole zero-downtime deploy on this machine, in about a
# minute.  nginx (or HAProxy, with HAPROXY=1) runs under a private prefix
# on 127.0.0.1 in front of two colours, blue and green, of a small
# application (examples/backend.c).  Version 1 goes live on blue; then
# versions 2 and 3 are each deployed to the idle colour with zdd-release,
# zdd-link --name COLOUR, zdd-health and zdd-switch --drain, the old
# backend is stopped at once, and zdd-prune clears old releases.  A load
# generator sends requests through the proxy the whole time, slow ones
# included, and the summary at the end says how many failed.  Everything
# it starts is stopped by PID when it ends, even when interrupted.
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
case $B in /*) ;; *) B=$TOP/$B ;; esac
PATH=$B:$PATH
export PATH
HAPROXY=${HAPROXY:-}
case $HAPROXY in 0|no|false) HAPROXY= ;; esac

D=$(mktemp -d "${TMPDIR:-/tmp}/zdd-demo.XXXXXX") || exit 1
chmod 755 "$D"
pids=
proxypid=
loadpid=
bluepid=
greenpid=

cleanup() {
	trap - EXIT INT TERM
	[ -n "$loadpid" ] && kill "$loadpid" 2>/dev/null
	for p in $bluepid $greenpid $proxypid $pids; do
		kill "$p" 2>/dev/null
	done
	for p in $loadpid $bluepid $greenpid $proxypid $pids; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$D"
}
trap cleanup EXIT
trap 'echo "demo: interrupted, stopping everything" >&2; exit 130' INT TERM

step() {
	printf '\n\033[1m==> %s\033[0m\n' "$*" 2>/dev/null || printf '==> %s\n' "$*"
}
say() {
	printf '    %s\n' "$*"
}
die() {
	echo "demo: $*" >&2
	exit 1
}
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
wait_port() {
	i=0
	while [ "$i" -lt 200 ]; do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" \
			2>/dev/null && return 0
		sleep 0.05
		i=$((i + 1))
	done
	die "nothing listens on port $1"
}
[ -t 1 ] || step() { printf '\n==> %s\n' "$*"; }

ROOT=$D/deploy
N=$D/nginx
PP=$(free_port)
BP=$(free_port)
GP=$(free_port)
TG="-t blue=127.0.0.1:$BP -t green=127.0.0.1:$GP"

# The artifacts a CI job would build: one tar.gz per version.
step "building three artifacts (what CI would upload)"
for v in 1 2 3; do
	mkdir -p "$D/src$v/public"
	echo "$v" >"$D/src$v/VERSION"
	echo "<h1>version $v</h1>" >"$D/src$v/public/index.html"
	tar -C "$D/src$v" -czf "$D/app-v$v.tar.gz" . || die "cannot build app-v$v"
	say "$D/app-v$v.tar.gz"
done

# start_colour COLOUR: run the application from ROOT/COLOUR on its port.
start_colour() {
	port=$BP
	[ "$1" = green ] && port=$GP
	zdd-demo-backend "$port" "$ROOT/$1" &
	eval "${1}pid=\$!"
	say "started $1 (version $(cat "$ROOT/$1/VERSION" 2>/dev/null)) on 127.0.0.1:$port, pid $!"
}
stop_colour() {
	eval "p=\$${1}pid"
	# shellcheck disable=SC2154
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	eval "${1}pid="
	say "stopped $1 (pid $p)"
}

if [ -n "$HAPROXY" ]; then
	SW="zdd-switch $TG --haproxy $D/haproxy/admin.sock --backend app"
else
	SW="zdd-switch $TG -f $N/conf/service-url.inc --format upstream \
--nginx-arg=-p --nginx-arg=$N --nginx-arg=-c --nginx-arg=$N/conf/nginx.conf \
--pid-file $N/nginx.pid"
fi

step "deploying version 1 to blue"
mkdir -p "$ROOT"
rel=$(zdd-release -r "$ROOT" --branch main --revision v1 "$D/app-v1.tar.gz") ||
	die "zdd-release failed"
say "zdd-release: $rel"
zdd-link -r "$ROOT" --name blue "$rel" >/dev/null || die "zdd-link failed"
zdd-link -r "$ROOT" "$rel" >/dev/null || die "zdd-link failed"
say "zdd-link: blue and current -> $rel"
start_colour blue
zdd-health -d 10 -e status=UP "http://127.0.0.1:$BP/health" ||
	die "blue is not healthy"
say "zdd-health: blue is healthy"

if [ -n "$HAPROXY" ]; then
	step "starting HAProxy on 127.0.0.1:$PP (runtime API on a unix socket)"
	mkdir -p "$D/haproxy"
	cat >"$D/haproxy/haproxy.cfg" <<EOF
global
	stats socket $D/haproxy/admin.sock level admin
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
	haproxy -f "$D/haproxy/haproxy.cfg" -db -q &
	proxypid=$!
else
	step "starting nginx on 127.0.0.1:$PP under $N"
	mkdir -p "$N/conf" "$N/logs"
	cat >"$N/conf/nginx.conf" <<EOF
worker_processes 2;
pid $N/nginx.pid;
error_log $N/logs/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	include $N/conf/service-url.inc;
	server {
		listen 127.0.0.1:$PP;
		location / {
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_pass http://backend;
		}
	}
}
EOF
	$SW -q --no-reload blue >/dev/null ||
		die "zdd-switch cannot write the include file"
	say "zdd-switch --no-reload blue wrote $N/conf/service-url.inc:"
	sed 's/^/      /' "$N/conf/service-url.inc"
	nginx -p "$N" -c "$N/conf/nginx.conf" -g 'daemon off;' &
	proxypid=$!
fi
wait_port "$PP"
say "live: $($SW status)"

step "load: 8 keep-alive clients and 4 slow (1.5 s) requests in flight at all times"
python3 "$TOP/examples/loadgen.py" "http://127.0.0.1:$PP/" "$D/load.json" 8 4 &
loadpid=$!
sleep 3

switches=
for v in 2 3; do
	idle=$($SW idle | cut -d' ' -f1) || die "zdd-switch idle failed"
	live=$($SW status | cut -d' ' -f1)
	step "deploying version $v to the idle colour, $idle"
	rel=$(zdd-release -r "$ROOT" --branch main --revision "v$v" \
		"$D/app-v$v.tar.gz") || die "zdd-release failed"
	say "zdd-release: $rel"
	zdd-link -r "$ROOT" --name "$idle" "$rel" >/dev/null || die "zdd-link failed"
	say "zdd-link --name $idle -> $rel"
	start_colour "$idle"
	zdd-health -d 10 -e status=UP -e "version=$v" \
		"http://127.0.0.1:$( [ "$idle" = green ] && echo "$GP" || echo "$BP")/health" ||
		die "$idle is not healthy"
	say "zdd-health: $idle answers version $v"
	sleep 1
	step "switching from $live to $idle with zdd-switch --drain"
	out=$($SW --drain=30 --json "$idle" 2>"$D/switch.err")
	rc=$?
	sed 's/^/    /' "$D/switch.err"
	[ "$rc" -eq 0 ] || die "zdd-switch failed with exit $rc"
	sw=$(echo "$out" | python3 -c 'import json,sys; o=json.load(sys.stdin); print("%.3f s, drained in %.3f s" % (o["seconds"], o.get("drain_seconds", 0)))')
	switches="$switches
    v$v: $live -> $idle: switch $sw"
	say "live: $($SW status)"
	zdd-link -r "$ROOT" "$rel" >/dev/null || die "zdd-link current failed"
	stop_colour "$live"
	pruned=$(zdd-prune -r "$ROOT" -k 2) || die "zdd-prune failed"
	say "zdd-prune -k 2: ${pruned:-nothing to remove}"
	sleep 3
done

step "stopping the load"
kill "$loadpid"
wait "$loadpid"
loadpid=
[ -f "$D/load.json" ] || die "the load generator left no counts"

step "summary ($([ -n "$HAPROXY" ] && echo HAProxy || echo nginx))"
python3 - "$D/load.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
print("    requests sent:                 %d in %.1f s" % (c["requests"], c["seconds"]))
print("    failed, as a browser sees it:  %d" % c["failed"])
print("    resets retried (RFC 9110 9.2.2): %d" % c["retried_resets"])
print("    5xx:                           %d" % c["status_5xx"])
print("    slow requests failed:          %d of %d" % (c["slow_failed"], c["slow_requests"]))
print("    answers by version:            %s" % ", ".join(
    "%s: %d" % kv for kv in sorted(c["versions"].items())))
if c["errors"]:
    print("    errors seen:                   %s" % ", ".join(
        "%s: %d" % kv for kv in sorted(c["errors"].items())))
EOF
printf '    switches:%s\n' "$switches"
echo "    releases: $(zdd-link -r "$ROOT" --list | tr '\n' ';' | sed 's/;$//; s/;/; /g')"
failed=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print(c["failed"])' "$D/load.json")
if [ "$failed" -ne 0 ]; then
	echo "demo: $failed requests failed" >&2
	exit 1
fi
echo
echo "demo: zero failed requests"
