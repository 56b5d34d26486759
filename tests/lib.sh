# Sourced by every tests/*.t: a scratch directory, TAP output, assertions
# on a command's stdout, stderr and exit status, and servers started and
# stopped by PID.  Each test file reads like its tool's man page: a
# command, then what it printed and how it exited.
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
case $B in /*) ;; *) B=$TOP/$B ;; esac
PATH=$B:$PATH
export PATH
unset ZDD_ROOT ZDD_LOCK_WAIT ZDD_NOTIFY_URL ZDD_SLACK_TOKEN \
	GIT_BRANCH GIT_COMMIT GITHUB_REF_NAME GITHUB_SHA TRAVIS_BRANCH \
	TRAVIS_COMMIT JENKINS_URL BUILD_URL GITHUB_ACTIONS TRAVIS

# Scratch space: /dev/shm is fast to create files in; T_DISK when a test
# needs a real disk.
T=$(mktemp -d "${TMPDIR_SHM:-/dev/shm}/zdd-t.XXXXXX") || exit 1
chmod 755 "$T"
n=0
nfail=0
pids=

# killing_begin / killing_end KILLED: under check-asan, runs that the
# test SIGKILLs on purpose write their sanitizer logs to a directory of
# their own.  LeakSanitizer's exit check runs in a helper task that
# writes under its process's pid; a process killed during that check
# takes the helper with it, which leaves an empty log or one saying only
# that LeakSanitizer met a fatal error (its process vanished under it).
# When KILLED is 1, such logs say nothing about zdd and are dropped;
# every other log goes where tests/run reports it.
killing_begin() {
	[ -n "${SANLOG:-}" ] || return 0
	kd=$SANLOG/${0##*/}.killed
	rm -rf "$kd" && mkdir -p "$kd" && chmod 1777 "$kd"
	san_a=$ASAN_OPTIONS san_u=$UBSAN_OPTIONS
	ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$kd/asan"
	UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$kd/ubsan"
}
killing_end() {
	[ -n "${SANLOG:-}" ] || return 0
	ASAN_OPTIONS=$san_a UBSAN_OPTIONS=$san_u
	for f in "$kd"/*; do
		[ -f "$f" ] || continue
		[ "$1" = 1 ] && ! grep -qv \
		    -e 'LeakSanitizer has encountered a fatal error' \
		    -e '==HINT: ' "$f" &&
			echo "# dropped ${f##*/} of a killed run ($(wc -c <"$f") bytes)" &&
			continue
		mv "$f" "$SANLOG/${0##*/}/"
	done
	rm -rf "$kd"
}

cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run CMD...: run it, leaving $rc, $out (stdout) and $err (stderr).
run() {
	"$@" >"$T/.out" 2>"$T/.err"
	rc=$?
	out=$(cat "$T/.out")
	err=$(cat "$T/.err")
}

pass() {
	n=$((n + 1))
	echo "ok $n - $1"
}

fail() {
	n=$((n + 1))
	nfail=$((nfail + 1))
	echo "not ok $n - $1"
	shift
	for l in "$@"; do
		printf '#   %s\n' "$l"
	done
}

# is DESC GOT WANT
is() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "got:  '$2'" "want: '$3'" "stderr: $(head -c 600 "$T/.err" 2>/dev/null)"
	fi
}

# like DESC GOT ERE
like() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		pass "$1"
	else
		fail "$1" "got:  '$2'" "want match: '$3'"
	fi
}

# unlike DESC GOT ERE
unlike() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		fail "$1" "got:  '$2'" "want no match: '$3'"
	else
		pass "$1"
	fi
}

# ok DESC CMD...: the command succeeds.
ok() {
	d=$1
	shift
	if "$@" >/dev/null 2>&1; then
		pass "$d"
	else
		fail "$d" "failed: $*"
	fi
}

# nok DESC CMD...: the command fails.
nok() {
	d=$1
	shift
	if "$@" >/dev/null 2>&1; then
		fail "$d" "succeeded: $*"
	else
		pass "$d"
	fi
}

# note PROBLEM / report DESC: collect the problems of a batch of runs
# (a loop of faults or kills) and report them as one TAP line.
bad=
note() {
	bad="$bad
$1"
}
report() {
	if [ -z "$bad" ]; then
		pass "$1"
	else
		fail "$1" "$(printf '%s\n' "$bad" | sed '/^$/d' | sort | uniq -c | head -n 12)"
	fi
	bad=
}

# Ends the file: TAP plan last, exit status 1 if anything failed.
done_testing() {
	echo "1..$n"
	[ "$nfail" -eq 0 ]
}

# spawn CMD...: start a server in the background; stopped at exit.
spawn() {
	"$@" &
	pids="$pids $!"
	last_pid=$!
}

# stop PID: stop one server that spawn started, and reap it.
stop() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	pids=$(echo "$pids" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}

# free_port: a TCP port on 127.0.0.1 nobody listens on right now.
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# wait_port PORT [SEC]: wait until something listens on 127.0.0.1:PORT.
wait_port() {
	i=0
	while [ "$i" -lt $((${2:-10} * 20)) ]; do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
		i=$((i + 1))
	done
	echo "# nothing listens on port $1" >&2
	return 1
}

# start_nginx DIR PORT HTTP-BODY: a private nginx under DIR, with
# HTTP-BODY (its server blocks, listening on 127.0.0.1:PORT) in the http
# block; started by spawn, so stopped at exit.  $NGINX_WORKERS workers
# (default 1).  Sets NGINX_PID, and NGINX_ARGS: the zdd-switch options
# that reach this nginx.
start_nginx() {
	mkdir -p "$1/conf" "$1/logs"
	cat >"$1/conf/nginx.conf" <<CONF
worker_processes ${NGINX_WORKERS:-1};
pid $1/nginx.pid;
error_log $1/logs/error.log;
events { worker_connections 256; }
http {
	access_log off;
	default_type text/plain;
	$3
}
CONF
	spawn nginx -p "$1" -c "$1/conf/nginx.conf" -g 'daemon off;'
	NGINX_PID=$last_pid
	NGINX_ARGS="--nginx-arg=-p --nginx-arg=$1 --nginx-arg=-c --nginx-arg=$1/conf/nginx.conf --pid-file $1/nginx.pid"
	wait_port "$2"
}

# tree DIR: a listing of DIR that shows names, types and link targets.
tree() {
	(cd "$1" && find . -mindepth 1 -printf '%p %y %l\n' | LC_ALL=C sort)
}
