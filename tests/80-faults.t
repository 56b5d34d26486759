# Injected faults: zdd-release, zdd-link, zdd-prune and zdd-switch (an
# include file under a real, private nginx) run again and again while
# libfiu fails one kind of system call at random (open, write, pwrite,
# fsync, rename, unlink, opendir, fdopendir through libfiu's POSIX
# preload library; openat, mkdir(at), renameat(2), unlinkat, symlinkat,
# linkat, syncfs and fdatasync through tests/fiu-at.c, which libfiu 1.1
# does not wrap).  Each run is what "fiu-run -x -c 'enable_random
# name=POINT,probability=P,failinfo=ERRNO' TOOL" does, with our library
# preloaded beside libfiu's.
# Every run must succeed, or fail with the sysexits code of the error
# (EIO and ENOSPC: 73 or 74; EACCES: 73, 74 or 77) and say on stderr
# what failed and why.  After every run the deploy root must be as the
# spec promises: every directory under releases/ a whole release,
# current pointing at one, no temporary name in ROOT, revisions.log whole
# lines, work left in .zdd/tmp only when the fault hit the very calls
# that clear it (and zdd-prune then clears it); the include file one of
# the two that zdd-switch writes, nginx -t content with it, nothing else
# in its directory, and a failed switch leaves it as it was.  Last, a
# deploy root on a 1 MiB file system: a release that does not fit fails
# with 73 or 74 and leaves nothing behind.
. "$(dirname "$0")/lib.sh"

if [ -n "${SANLOG:-}" ]; then
	# libfiu's preload library replaces malloc and friends, which
	# AddressSanitizer must own; make check runs this file.
	echo "ok 1 # skip under make check-asan (libfiu's preload library and ASan cannot share a process)"
	echo "1..1"
	exit 0
fi

# What fiu-run -x would preload; the variables it sets are set by env
# below instead, so that only the tool runs with faults, not the test.
FIU_PRELOAD=$(fiu-run -x -n true 2>/dev/null |
	sed -n 's/^LD_PRELOAD="\(.*\)".*/\1/p')
if [ -z "$FIU_PRELOAD" ]; then
	fail "fiu-run -x -n names its preload libraries" \
	    "install fiu-utils and libfiu-dev (tests/deps.sh does)"
	done_testing
	exit 1
fi
run cc -shared -fPIC -Wall -Wextra -Werror -o "$T/fiu-at.so" \
	"$TOP/tests/fiu-at.c" -lfiu -ldl
is "tests/fiu-at.c builds" "$rc" 0
run cc -static -Wall -Wextra -Werror -o "$T/fiu-clean" "$TOP/tests/fiu-clean.c"
is "tests/fiu-clean.c builds" "$rc" 0

POINTS="posix/io/oc/open posix/io/rw/write posix/io/rw/pwrite
posix/io/sync/fsync posix/io/dir/rename posix/io/dir/unlink posix/io/dir/opendir
posix/io/dir/fdopendir zdd/io/openat
zdd/io/mkdir zdd/io/renameat zdd/io/unlinkat zdd/io/symlinkat zdd/io/linkat
zdd/io/syncfs zdd/io/fdatasync"
ERRNOS="5 28 13"	# EIO, ENOSPC, EACCES
PROBS="0.05 0.2 0.5 1"	# 1: the first such call fails
RUNS=${FAULT_RUNS:-3}	# runs per tool and failure point

# faulty POINT PROB ERRNO CMD...: run CMD with POINT failing at random.
faulty() {
	_p=$1 _q=$2 _e=$3
	shift 3
	run env FIU_ENABLE="enable_random name=$_p,probability=$_q,failinfo=$_e" \
	    FIU_CTRL_FIFO= LD_PRELOAD="$FIU_PRELOAD $T/fiu-at.so" "$@"
}
# pick WORDS...: one of them at random.
pick() {
	shift $((RANDOM % $#))
	echo "$1"
}

# exit_ok TOOL ERRNO: the failed run's code and message are the right ones.
exit_ok() {
	case "$2:$rc" in
	5:73 | 5:74 | 28:73 | 28:74 | 13:73 | 13:74 | 13:77) ;;
	*) note "$1 exit $rc for errno $2: $(echo "$err" | tail -n 1)" ;;
	esac
	echo "$err" | grep -Eq "^$1: .+: .+" ||
		note "$1 exit $rc without a 'what: why' message: $(echo "$err" | tail -n 1)"
}

# The artifact and what a whole release made from it looks like.
mkdir -p "$T/src/public/css" "$T/src/bin" "$T/src/storage/logs"
for i in 1 2 3 4 5 6; do
	head -c $((i * 700)) /dev/urandom >"$T/src/public/f$i.bin"
done
echo 'body{}' >"$T/src/public/css/app.css"
printf '#!/bin/sh\necho hi\n' >"$T/src/bin/run" && chmod 755 "$T/src/bin/run"
ln -s ../public/css/app.css "$T/src/bin/style"
echo log >"$T/src/storage/logs/seed.log"
tar -C "$T/src" -czf "$T/app.tar.gz" .
sig() {
	(cd "$1" && find . -mindepth 1 -printf '%p %y %l %m %s\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 cat) | md5sum
}

R=$T/root
id=0
release() {	# release [faulty args]: a new release of the artifact
	id=$((id + 1))
	rid=$(printf 'r%04d' "$id")
	"$@" zdd-release -q -r "$R" --id "$rid" --link-dir storage "$T/app.tar.gz" >/dev/null
}
run release
is "a release without faults" "$rc" 0
WHOLE=$(sig "$R/releases/r0001")

# check_root TOOL POINT: the deploy root's invariants after a run.
check_root() {
	for d in "$R"/releases/* "$R"/releases/.[!.]*; do
		[ -e "$d" ] || [ -L "$d" ] || continue
		case ${d##*/} in
		.*) note "a temporary name under releases/: ${d##*/}" ;;
		*) [ "$(sig "$d")" = "$WHOLE" ] ||
			note "a half release: releases/${d##*/}" ;;
		esac
	done
	for e in $(ls -A "$R"); do
		case $e in
		current | releases | shared | .zdd | revisions.log) ;;
		*) note "a stray name in ROOT: $e" ;;
		esac
	done
	if [ -L "$R/current" ]; then
		t=$(readlink "$R/current")
		case $t in
		releases/*) [ -d "$R/$t" ] ||
			note "current points at a missing release: $t" ;;
		*) note "current points outside releases/: $t" ;;
		esac
	elif [ -e "$R/current" ]; then
		note "current is not a symlink"
	fi
	if [ -f "$R/revisions.log" ] && grep -Evq \
	    '^(Branch .+ \(at .+\) deployed as release [^ ]+ by .+|.+ rolled back to release [^ ]+)$' \
	    "$R/revisions.log"; then
		note "revisions.log has a broken line: $(grep -Ev '(deployed as|rolled back to) release' "$R/revisions.log" | head -n 1)"
	fi
	left=$(ls -A "$R/.zdd/tmp" 2>/dev/null | wc -l)
	if [ "$left" -gt 0 ]; then
		case $2 in
		zdd/io/unlinkat | zdd/io/openat | posix/io/oc/open | posix/io/dir/fdopendir) ;;
		*) note "$1 left work in .zdd/tmp under $2" ;;
		esac
	fi
}

# clean_prune: zdd-prune without faults keeps 3 and clears .zdd/tmp.
clean_prune() {
	zdd-prune -q -r "$R" -k "${1:-3}" >/dev/null 2>"$T/.perr" ||
		note "zdd-prune without faults failed: $(tail -n 1 "$T/.perr")"
	[ "$(ls -A "$R/.zdd/tmp" 2>/dev/null | wc -l)" = 0 ] ||
		note "zdd-prune left .zdd/tmp not empty"
}

# --- zdd-release ------------------------------------------------------
for p in $POINTS; do
	okn=0 failn=0
	for _ in $(seq "$RUNS"); do
		e=$(pick $ERRNOS)
		release faulty "$p" "$(pick $PROBS)" "$e"
		if [ "$rc" = 0 ]; then
			okn=$((okn + 1))
			[ "$out" = "$R/releases/$rid" ] && [ -d "$out" ] ||
				note "exit 0 but printed '$out'"
		else
			failn=$((failn + 1))
			exit_ok zdd-release "$e"
			[ -e "$R/releases/$rid" ] &&
				note "failed (exit $rc) but releases/$rid exists"
			[ -e "$R/.zdd/manifests/$rid.json" ] &&
				note "failed (exit $rc) but its manifest exists"
		fi
		check_root zdd-release "$p"
		clean_prune
	done
	report "zdd-release under $p: $okn whole, $failn failed cleanly"
done

# --- zdd-link ---------------------------------------------------------
release
a=$rid
release
b=$rid
zdd-link -q -r "$R" "$a" >/dev/null
for p in $POINTS; do
	okn=0 failn=0
	for _ in $(seq "$RUNS"); do
		e=$(pick $ERRNOS)
		before=$(readlink "$R/current")
		case $before in */"$a") to=$b ;; *) to=$a ;; esac
		lines=$(wc -l <"$R/revisions.log")
		faulty "$p" "$(pick $PROBS)" "$e" zdd-link -q -r "$R" "$to"
		if [ "$rc" = 0 ]; then
			okn=$((okn + 1))
			[ "$(readlink "$R/current")" = "releases/$to" ] ||
				note "exit 0 but current is $(readlink "$R/current")"
		else
			failn=$((failn + 1))
			exit_ok zdd-link "$e"
			after=$(readlink "$R/current")
			# The link may have been swapped before the log line
			# failed; then it points at the new release, whole.
			[ "$after" = "$before" ] || [ "$after" = "releases/$to" ] ||
				note "failed, and current is $after"
			[ "$after" = "$before" ] ||
				[ "$(wc -l <"$R/revisions.log")" -gt "$lines" ] ||
				echo "$err" | grep -q 'revisions.log' ||
				note "current changed without a log line or a word about it"
		fi
		check_root zdd-link "$p"
	done
	report "zdd-link under $p: $okn swapped, $failn failed cleanly"
done

# --- zdd-prune --------------------------------------------------------
for p in $POINTS; do
	okn=0 failn=0
	for _ in $(seq "$RUNS"); do
		e=$(pick $ERRNOS)
		release
		release
		# Live, so that the releases before it are no deploy in
		# progress, which zdd-prune keeps.
		zdd-link -q -r "$R" "$rid" >/dev/null
		cur=$(readlink "$R/current")
		faulty "$p" "$(pick $PROBS)" "$e" zdd-prune -q -r "$R" -k 1
		if [ "$rc" = 0 ]; then
			okn=$((okn + 1))
			nr=$(ls "$R/releases" | wc -l)
			[ "$nr" -le 2 ] || note "exit 0 but $nr releases remain: $(ls "$R/releases" | tr "\n" " ")current=$(readlink "$R/current") $(cat "$R"/.zdd/manifests/*.json | grep -c "\"bad\": true") bad"
		else
			failn=$((failn + 1))
			exit_ok zdd-prune "$e"
		fi
		[ "$(readlink "$R/current")" = "$cur" ] && [ -d "$R/$cur" ] ||
			note "current lost its release"
		check_root zdd-prune "$p"
		clean_prune 1
	done
	report "zdd-prune under $p: $okn pruned, $failn failed cleanly"
done

# --- zdd-switch, include file under a real nginx ----------------------
N=$T/nginx
np=$(free_port)
bp=$(free_port)
gp=$(free_port)
mkdir -p "$N/conf/conf.d"
# Backends that answer: zdd-switch's guard switches to no dead one.
spawn python3 "$TOP/tests/switch-backend.py" "$bp" blue
spawn python3 "$TOP/tests/switch-backend.py" "$gp" green
wait_port "$bp"
wait_port "$gp"
INC=$N/conf/conf.d/service-url.inc
printf 'set $service_url http://127.0.0.1:%s;\n' "$bp" >"$INC"
start_nginx "$N" "$np" "server {
		listen 127.0.0.1:$np;
		location / {
			include $INC;
			proxy_pass \$service_url;
		}
	}"
export FIU_CLEAN_EXEC=nginx
SW="zdd-switch -q -t blue=127.0.0.1:$bp -t green=127.0.0.1:$gp -f $INC
--nginx $T/fiu-clean $NGINX_ARGS"
# The two files zdd-switch writes, as it writes them.
$SW green >/dev/null && grep -v '^#' "$INC" >"$T/inc.green"
$SW blue >/dev/null && grep -v '^#' "$INC" >"$T/inc.blue"
is "the include file names blue, as zdd-switch writes it" \
	"$(cat "$T/inc.blue")" "set \$service_url http://127.0.0.1:$bp;"
for p in $POINTS; do
	okn=0 failn=0
	for _ in $(seq "$RUNS"); do
		e=$(pick $ERRNOS)
		cp "$INC" "$T/inc.before"
		# shellcheck disable=SC2086
		faulty "$p" "$(pick $PROBS)" "$e" $SW flip
		if [ "$rc" = 0 ]; then
			okn=$((okn + 1))
			# shellcheck disable=SC2086
			now=$($SW status 2>/dev/null)
			[ "$now" = "$out" ] ||
				note "exit 0 printing '$out' but status says '$now'"
		else
			failn=$((failn + 1))
			exit_ok zdd-switch "$e"
			cmp -s "$INC" "$T/inc.before" ||
				echo "$err" | grep -q 'cannot put the old' ||
				note "failed (exit $rc: $(echo "$err" | tail -n 1)), and the include file changed"
		fi
		grep -v '^#' "$INC" >"$T/inc.now"
		cmp -s "$T/inc.now" "$T/inc.blue" || cmp -s "$T/inc.now" "$T/inc.green" ||
			note "the include file is neither blue nor green"
		nginx -t -q -p "$N" -c "$N/conf/nginx.conf" 2>/dev/null ||
			note "nginx -t refuses the configuration"
		[ "$(ls -A "$N/conf/conf.d")" = service-url.inc ] ||
			note "a stray name beside the include file: $(ls -A "$N/conf/conf.d" | tr '\n' ' ')"
	done
	report "zdd-switch under $p: $okn switched, $failn failed cleanly"
done
kill -0 "$last_pid" 2>/dev/null
is "nginx is still running" "$?" 0

# --- a full disk ------------------------------------------------------
F=$T/small
mkdir -p "$F"
trap 'umount "$F" 2>/dev/null; cleanup' EXIT
if mount -t tmpfs -o size=1m,mode=0755 tmpfs "$F" 2>/dev/null; then
	R=$F/root
	head -c 3000000 /dev/zero >"$T/zeros"
	mkdir -p "$T/big" && cp "$T/zeros" "$T/big/zeros"
	tar -C "$T/big" -czf "$T/big.tar.gz" .
	run zdd-release -r "$R" "$T/big.tar.gz"
	like "a release that does not fit: 73 or 74" "$rc" '^7[34]$'
	like "... says the disk is full" "$err" 'No space left on device'
	is "... no release under releases/" "$(ls -A "$R/releases")" ""
	is "... nothing in .zdd/tmp" "$(ls -A "$R/.zdd/tmp" 2>/dev/null)" ""
	is "... no manifest" "$(ls -A "$R/.zdd/manifests" 2>/dev/null)" ""
	used=$(du -sk "$F" | cut -f1)
	ok "... and the space is free again (${used} KiB used)" test "$used" -lt 64
	run zdd-release -q -r "$R" --id small1 "$T/app.tar.gz"
	is "a release that fits still works" "$rc" 0
	run zdd-release -q -r "$R" --id small2 "$T/app.tar.gz"
	zdd-link -q -r "$R" small1 >/dev/null
	head -c 2000000 /dev/zero >"$F/filler" 2>/dev/null
	run zdd-release -r "$R" --id small3 "$T/app.tar.gz"
	like "on a full disk, zdd-release: 73 or 74" "$rc" '^7[34]$'
	is "... leaves no release" "$(ls "$R/releases" | tr '\n' ' ')" "small1 small2 "
	is "... and nothing in .zdd/tmp" "$(ls -A "$R/.zdd/tmp")" ""
	# revisions.log ends near a page boundary: its next line would be
	# written in part.
	python3 -c 'import sys
p = sys.argv[1]
l = open(p).read()
line = "Branch main (at abc) deployed as release small1 by ci\n"
while len(l) + len(line) < 4090:
	l += line
open(p, "w").write(l)' "$R/revisions.log"
	head -c 2000000 /dev/zero >>"$F/filler" 2>/dev/null
	logsize=$(wc -c <"$R/revisions.log")
	run zdd-link -r "$R" small2
	like "on a full disk, zdd-link: done, or 73 or 74" "$rc" '^(0|73|74)$'
	like "... says the log line could not be written" "$err" \
		'revisions.log: No space left on device'
	is "... and leaves no half line in revisions.log" \
		"$(wc -c <"$R/revisions.log")" "$logsize"
	t=$(readlink "$R/current")
	like "... current points at a whole release" "$t" '^releases/small[12]$'
	is "... and nothing stray in ROOT" "$(ls -A "$R" | tr '\n' ' ')" \
		".zdd current releases revisions.log shared "
	# An include file on the full disk, checked by nginx -t.
	mkdir -p "$F/conf" 2>/dev/null
	cp "$T/inc.blue" "$F/conf/svc.inc" 2>/dev/null
	if [ -s "$F/conf/svc.inc" ]; then
		cp "$F/conf/svc.inc" "$T/svc.before"
		sed "s|include $INC;|include $F/conf/svc.inc;|" "$N/conf/nginx.conf" \
			>"$T/full.conf"
		run zdd-switch -t blue=127.0.0.1:$bp -t green=127.0.0.1:$gp \
			-f "$F/conf/svc.inc" --nginx-arg=-p --nginx-arg="$N" \
			--nginx-arg=-c --nginx-arg="$T/full.conf" --no-reload green
		like "on a full disk, zdd-switch: 73 or 74" "$rc" '^7[34]$'
		ok "... the include file is as it was" cmp -s "$F/conf/svc.inc" "$T/svc.before"
		is "... and nothing beside it" "$(ls -A "$F/conf")" svc.inc
	fi
	rm -f "$F/filler"
	run zdd-prune -r "$R" -k 1
	is "zdd-prune works on it once there is room" "$rc" 0
	umount "$F"
else
	# No mount here: a file size limit plays the full disk.
	R=$T/ulimit
	head -c 3000000 /dev/urandom >"$T/rand"
	mkdir -p "$T/big" && cp "$T/rand" "$T/big/rand"
	tar -C "$T/big" -czf "$T/big.tar.gz" .
	run bash -c 'trap "" XFSZ; ulimit -f 1024; exec "$@"' sh \
		zdd-release -r "$R" "$T/big.tar.gz"
	like "past ulimit -f: 73 or 74" "$rc" '^7[34]$'
	is "... no release under releases/" "$(ls -A "$R/releases")" ""
	is "... nothing in .zdd/tmp" "$(ls -A "$R/.zdd/tmp" 2>/dev/null)" ""
fi

done_testing
