# SIGKILL anywhere: zdd-release, zdd-link, zdd-prune and zdd-switch (an
# include file under a real, private nginx) are killed again and again,
# first at every step of their work in turn (tests/kill-at.c, preloaded,
# kills the tool just before its Nth call that changes or syncs the file
# system), then at random moments from outside (SIGKILL from timeout(1)
# after a random delay).  After every kill the deploy root and the nginx configuration
# must be as the spec promises: every directory under releases/ a whole
# release, current pointing at one, revisions.log whole lines; work left
# only in .zdd/tmp, which the next zdd-prune clears, and a temporary
# name in ROOT or beside the include file only until the next run that
# takes the lock sweeps it; the include file one of the two that
# zdd-switch writes, nginx -t content with it; the next run works.
. "$(dirname "$0")/lib.sh"

STEPS=${KILL_STEPS:-60}	# most kill points per tool, spread over its calls
RANDOM_KILLS=${KILL_RANDOM:-8}
asan=
[ -n "${SANLOG:-}" ] && asan=1

if [ -z "$asan" ]; then
	run cc -shared -fPIC -Wall -Wextra -Werror -o "$T/kill-at.so" \
		"$TOP/tests/kill-at.c" -ldl
	is "tests/kill-at.c builds" "$rc" 0
fi
run cc -static -Wall -Wextra -Werror -o "$T/fiu-clean" "$TOP/tests/fiu-clean.c"
is "tests/fiu-clean.c builds" "$rc" 0

# The artifact: enough files that a release takes a few hundred steps.
for d in public/css public/js app/models app/views config bin; do
	mkdir -p "$T/src/$d"
	for i in 1 2 3 4 5 6 7 8; do
		head -c $((i * 300)) /dev/urandom >"$T/src/$d/f$i"
	done
done
ln -s ../public/css/f1 "$T/src/bin/style"
mkdir -p "$T/src/storage/logs" && echo log >"$T/src/storage/logs/seed.log"
tar -C "$T/src" -czf "$T/app.tar.gz" .
sig() {
	(cd "$1" && find . -mindepth 1 -printf '%p %y %l %m %s\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 cat) | md5sum
}

R=$T/root
id=0
newid() {
	id=$((id + 1))
	rid=$(printf 'r%04d' "$id")
}
release() {
	newid
	zdd-release -q -r "$R" --id "$rid" --link-dir storage "$T/app.tar.gz" >/dev/null
}
release
WHOLE=$(sig "$R/releases/$rid")
zdd-link -q -r "$R" "$rid" >/dev/null

# check_root: the deploy root's invariants after a kill.
check_root() {
	for d in "$R"/releases/* "$R"/releases/.[!.]*; do
		[ -e "$d" ] || [ -L "$d" ] || continue
		case ${d##*/} in
		.*) note "a temporary name under releases/: ${d##*/}" ;;
		*) [ "$(sig "$d")" = "$WHOLE" ] ||
			note "a half release: releases/${d##*/}" ;;
		esac
	done
	t=$(readlink "$R/current")
	case $t in
	releases/*) [ -d "$R/$t" ] || note "current points at a missing release" ;;
	*) note "current is '$t'" ;;
	esac
	grep -Evq '^(Branch .+ \(at .+\) deployed as release [^ ]+ by .+|.+ rolled back to release [^ ]+)$' \
		"$R/revisions.log" && note "revisions.log has a broken line"
	# The next zdd-prune clears whatever a kill left in .zdd/tmp.
	zdd-prune -q -r "$R" -k 3 >/dev/null 2>"$T/.perr" ||
		note "zdd-prune after a kill failed: $(tail -n 1 "$T/.perr")"
	[ "$(ls -A "$R/.zdd/tmp" 2>/dev/null | wc -l)" = 0 ] ||
		note "zdd-prune left .zdd/tmp not empty"
	# A kill between making a link under its temporary name and the
	# rename leaves that name; the next run that takes the lock (this
	# zdd-prune) sweeps it.
	for e in $(ls -A "$R"); do
		case $e in
		current | releases | shared | .zdd | revisions.log) ;;
		*) note "a stray name in ROOT after the next run: $(echo "$e" | sed 's/zdd-.*/zdd-XXXXXX/')" ;;
		esac
	done
	[ "$(ls -A "$R/.zdd/manifests" | grep -vc '\.json$')" = 0 ] ||
		note "a stray name in .zdd/manifests after the next run"
}

# steps CMD...: how many counted calls a whole run of CMD makes.
steps() {
	env ZDD_KILL_COUNT="$T/count" LD_PRELOAD="$T/kill-at.so" "$@" \
		>/dev/null 2>&1
	cat "$T/count"
}
# points N [FIRST]: at most STEPS kill points over 1..N: every one of the
# FIRST steps, the rest spread evenly over what follows.
points() {
	if [ "$1" -le "$STEPS" ]; then
		seq 1 "$1"
	else
		awk -v n="$1" -v s="$STEPS" -v f="${2:-0}" 'BEGIN {
			for (i = 1; i <= f; i++) print i
			for (i = 0; i < s - f; i++) print f + 1 + int(i * (n - f) / (s - f))
		}'
	fi
}
# killat K CMD...: run CMD, killed before its Kth counted call.
killat() {
	k=$1
	shift
	# In a subshell of its own, so bash reports no "Killed" job.
	run sh -c '"$@"; exit $?' sh env ZDD_KILL_AT="$k" LD_PRELOAD="$T/kill-at.so" "$@"
}
# killafter SEC CMD...: run CMD and SIGKILL it after SEC seconds if it
# is still running (timeout(1) times that from the start of CMD, more
# finely than a sleep in the shell would); rc 137 when it was killed.
# See killing_begin in lib.sh for what check-asan does with its logs.
killafter() {
	s=$1
	shift
	killing_begin
	timeout -s KILL "$s" "$@" >/dev/null 2>"$T/.err"
	rc=$?
	killing_end "$([ "$rc" = 137 ] && echo 1)"
	err=$(cat "$T/.err")
}
# delay: a random delay within about the time a run takes (in $dur).
delay() {
	# Never 0, which timeout(1) takes as "no limit".
	awk -v d="$dur" -v r="$RANDOM" 'BEGIN { printf "%.4f\n", 0.0001 + d * 1.3 * r / 32768 }'
}
# duration CMD...: seconds a run of CMD takes, from 3 runs.
duration() {
	s0=$(date +%s.%N)
	"$@" >/dev/null 2>&1
	"$@" >/dev/null 2>&1
	"$@" >/dev/null 2>&1
	awk -v a="$s0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.4f\n", (b - a) / 3 }'
}
# outcome: a killed run (137) or a whole one (0); anything else is noted.
outcome() {
	case $rc in
	0) done_=$((done_ + 1)) ;;
	137) killed=$((killed + 1)) ;;
	*) note "$1 exit $rc: $(echo "$err" | tail -n 1)" ;;
	esac
}

# --- zdd-release -------------------------------------------------------
rel_cmd() {
	newid
	set -- zdd-release -q -r "$R" --id "$rid" --link-dir storage "$T/app.tar.gz"
	"$@"
}
if [ -z "$asan" ]; then
	newid
	N=$(steps zdd-release -q -r "$R" --id "$rid" --link-dir storage "$T/app.tar.gz")
	killed=0 done_=0
	for k in $(points "$N"); do
		newid
		killat "$k" zdd-release -q -r "$R" --id "$rid" --link-dir storage "$T/app.tar.gz"
		outcome zdd-release
		[ "$rc" = 137 ] && [ -e "$R/releases/$rid" ] &&
			note "killed, and releases/$rid exists (it may: the kill came after the rename)"
		check_root
	done
	report "zdd-release killed at $killed of its $N steps (each time a whole release or none)"
fi
dur=$(duration rel_cmd)
id=$((id + 10))	# the ids duration used, in its subshell
killed=0 done_=0
for _ in $(seq "$RANDOM_KILLS"); do
	newid
	killafter "$(delay)" zdd-release -q -r "$R" --id "$rid" --link-dir storage "$T/app.tar.gz"
	outcome zdd-release
	check_root
done
report "zdd-release killed at random: $killed killed, $done_ whole"

# --- zdd-link ----------------------------------------------------------
release
a=$rid
release
b=$rid
zdd-link -q -r "$R" "$a" >/dev/null
other() {
	case $(readlink "$R/current") in */"$a") echo "$b" ;; *) echo "$a" ;; esac
}
if [ -z "$asan" ]; then
	N=$(steps zdd-link -q -r "$R" "$(other)")
	killed=0 done_=0
	for k in $(points "$N"); do
		to=$(other)
		before=$(readlink "$R/current")
		killat "$k" zdd-link -q -r "$R" "$to"
		outcome zdd-link
		after=$(readlink "$R/current")
		[ "$after" = "$before" ] || [ "$after" = "releases/$to" ] ||
			note "current is $after"
		check_root
	done
	report "zdd-link killed at $killed of its $N steps (current always old or new)"
fi
dur=$(duration zdd-link -q -r "$R" "$a")
killed=0 done_=0
for _ in $(seq "$RANDOM_KILLS"); do
	killafter "$(delay)" zdd-link -q -r "$R" "$(other)"
	outcome zdd-link
	check_root
done
report "zdd-link killed at random: $killed killed, $done_ whole"

# --- zdd-prune ---------------------------------------------------------
if [ -z "$asan" ]; then
	release
	release
	N=$(steps zdd-prune -q -r "$R" -k 1)
	killed=0 done_=0
	for k in $(points "$N"); do
		release
		release
		cur=$(readlink "$R/current")
		killat "$k" zdd-prune -q -r "$R" -k 1
		outcome zdd-prune
		[ "$(readlink "$R/current")" = "$cur" ] && [ -d "$R/$cur" ] ||
			note "current lost its release"
		check_root
	done
	report "zdd-prune killed at $killed of its $N steps (no half release left under releases/)"
fi
prune_cmd() {
	release
	release
	zdd-prune -q -r "$R" -k 1
}
dur=$(duration prune_cmd)
id=$((id + 10))
killed=0 done_=0
for _ in $(seq "$RANDOM_KILLS"); do
	release
	release
	release
	killafter "$(delay)" zdd-prune -q -r "$R" -k 1
	outcome zdd-prune
	check_root
done
report "zdd-prune killed at random: $killed killed, $done_ whole"

# --- zdd-switch --------------------------------------------------------
N_=$T/nginx
np=$(free_port)
bp=$(free_port)
gp=$(free_port)
mkdir -p "$N_/conf/conf.d"
# Backends that answer: zdd-switch's guard switches to no dead one.
spawn python3 "$TOP/tests/switch-backend.py" "$bp" blue
spawn python3 "$TOP/tests/switch-backend.py" "$gp" green
wait_port "$bp"
wait_port "$gp"
INC=$N_/conf/conf.d/service-url.inc
printf 'set $service_url http://127.0.0.1:%s;\n' "$bp" >"$INC"
start_nginx "$N_" "$np" "server {
		listen 127.0.0.1:$np;
		location / {
			include $INC;
			proxy_pass \$service_url;
		}
	}"
nginxpid=$NGINX_PID
export FIU_CLEAN_EXEC=nginx
SW="zdd-switch -q -t blue=127.0.0.1:$bp -t green=127.0.0.1:$gp -f $INC
--nginx $T/fiu-clean $NGINX_ARGS"
# shellcheck disable=SC2086
$SW green >/dev/null && grep -v '^#' "$INC" >"$T/inc.green"
# shellcheck disable=SC2086
$SW blue >/dev/null && grep -v '^#' "$INC" >"$T/inc.blue"
check_switch() {
	grep -v '^#' "$INC" >"$T/inc.now"
	cmp -s "$T/inc.now" "$T/inc.blue" || cmp -s "$T/inc.now" "$T/inc.green" ||
		note "the include file is neither blue nor green"
	nginx -t -q -p "$N_" -c "$N_/conf/nginx.conf" 2>/dev/null ||
		note "nginx -t refuses the configuration"
	# The next switch works, whatever the kill left, and sweeps the
	# temporary file a kill before the rename left.  A child the killed
	# switch had just forked (nginx -t) shares its lock until it execs
	# or dies with it, a moment later: hence --lock-wait.
	# shellcheck disable=SC2086
	$SW --lock-wait 10 flip >/dev/null 2>"$T/.serr" ||
		note "the next flip failed: $(tail -n 1 "$T/.serr")"
	[ "$(ls -A "$N_/conf/conf.d")" = service-url.inc ] ||
		note "a stray name beside the include file after the next flip: $(ls -A "$N_/conf/conf.d" | grep -v '^service-url.inc$' | sed 's/zdd-.*/zdd-XXXXXX/' | tr '\n' ' ')"
}
if [ -z "$asan" ]; then
	# shellcheck disable=SC2086
	N=$(steps $SW flip)
	killed=0 done_=0
	# The file work comes first; most later steps poll /proc for
	# nginx's new workers.
	for k in $(points "$N" 40); do
		# shellcheck disable=SC2086
		killat "$k" $SW flip
		outcome zdd-switch
		check_switch
	done
	report "zdd-switch killed at $killed of its $N steps (the include file always whole)"
fi
# shellcheck disable=SC2086
dur=$(duration $SW flip)
killed=0 done_=0
for _ in $(seq "$RANDOM_KILLS"); do
	# shellcheck disable=SC2086
	killafter "$(delay)" $SW flip
	outcome zdd-switch
	check_switch
done
report "zdd-switch killed at random: $killed killed, $done_ whole"
kill -0 "$nginxpid" 2>/dev/null
is "nginx is still running" "$?" 0

done_testing
