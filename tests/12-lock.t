#!/bin/bash
# zdd-lock: a whole deploy holds the root's lock from its first step to
# its last; the zdd tools it runs work under it; a second deploy waits or
# gets 75, told who holds the lock, on which host, for which CI run.
# flock(1) on ROOT/.zdd/lock does the same.
. "$(dirname "$0")/lib.sh"

R=$T/root
mkdir -p "$T/src"
echo v1 >"$T/src/index.html"
# held FILE: wait until someone holds the lock on FILE.  It takes the lock
# for an instant itself, so the holders it waits for use --lock-wait.
held() {
	i=0
	while flock -n "$1" true 2>/dev/null && [ $i -lt 250 ]; do
		sleep 0.02
		i=$((i + 1))
	done
}

run zdd-lock -h
is "-h: exit 0, usage on stdout" "$rc:${out%% *}" "0:usage:"
run zdd-lock -r "$R"
is "no command: exit 64" "$rc" 64
run zdd-lock true
is "no root: exit 64" "$rc:$err" "64:zdd-lock: no deploy root: give -r ROOT or set ZDD_ROOT"

# The first deploy makes the root; the tools inside work under the lock.
run zdd-lock -r "$R" sh -ec "zdd-release -r '$R' --id one '$T/src' | zdd-link -r '$R' -"
is "a deploy under the lock: exit 0" "$rc" 0
is "... its output is the command's" "$out" "$R/releases/one"
is "... current is live" "$(readlink "$R/current")" "releases/one"
is "... nothing on stderr" "$err" ""
run zdd-lock -r "$R" zdd-lock -r "$R" zdd-link -r "$R" --rollback
is "zdd-lock inside zdd-lock runs under the same lock" "$rc:$err" \
	"66:zdd-link: cannot roll back current from releases/one: no earlier good release before it"

# The command's exit status, or 128 + its signal.
run zdd-lock -r "$R" sh -c 'exit 3'
is "the command's exit status" "$rc" 3
run zdd-lock -r "$R" sh -c 'kill -TERM $$'
is "a command killed by SIGTERM: 143" "$rc" 143
run zdd-lock -r "$R" "$T/no-such-command"
is "a missing command: exit 127" "$rc:$err" \
	"127:zdd-lock: cannot run $T/no-such-command: No such file or directory"

# A second deploy gets 75 at once, naming the holder, its host and its
# CI run; with --lock-wait it waits, then runs.
BUILD_URL=https://ci.example.com/job/shop/42/ BUILD_NUMBER=42 \
	spawn zdd-lock -r "$R" --lock-wait 10 sleep 2
holder=$last_pid
held "$R/.zdd/lock"
run zdd-lock -r "$R" zdd-link -r "$R" one
is "a second deploy: exit 75" "$rc" 75
like "... names the holder, its host and its CI run" "$err" \
	"^zdd-lock: $R is locked: pid $holder on $(hostname) since [0-9T:-]+Z by zdd-lock, jenkins run 42 https://ci.example.com/job/shop/42/$"
run zdd-link -r "$R" one
like "a single tool is told the same" "$err" "^zdd-link: $R is locked: pid $holder on .* jenkins run 42 "
run zdd-lock -r "$R" --lock-wait 20 sh -c 'echo ran'
is "--lock-wait: waits, then runs" "$rc:$out" "0:ran"
wait "$holder" 2>/dev/null
run env ZDD_LOCK_WAIT=soon zdd-lock -r "$R" true
is "bad ZDD_LOCK_WAIT: exit 64" "$rc" 64
run env ZDD_LOCK_WAIT=soon zdd-lock -r "$R" --lock-wait 1 true
is "--lock-wait overrides a bad ZDD_LOCK_WAIT" "$rc" 0

# -n: whether a deploy would get the lock now, and who holds it if not;
# nothing taken, run or made.
N=$T/dry
run zdd-lock -n -r "$N"
is "-n, no root yet: free, exit 0" "$rc:$out:$err" "0:free:"
ok "-n makes no root" test ! -e "$N"
run zdd-lock -n -r "$R" --json
is "-n --json, a free lock" "$rc:$out" \
	"0:{\"root\":\"$R\",\"dry_run\":true,\"locked\":false,\"inherited\":false}"
run zdd-lock -n -r "$R" touch "$T/dry-ran"
is "-n with a command: free, and the command does not run" "$rc:$out:$(ls "$T" | grep -c dry-ran)" "0:free:0"
BUILD_URL=https://ci.example.com/job/shop/43/ BUILD_NUMBER=43 \
	spawn zdd-lock -r "$R" --lock-wait 10 sleep 30
holder=$last_pid
held "$R/.zdd/lock"
run zdd-lock -n -r "$R"
like "-n, held: exit 75, the holder on stdout" "$rc:$out:$err" \
	"^75:locked by pid $holder on $(hostname) since [0-9T:-]+Z by zdd-lock, jenkins run 43 https://ci.example.com/job/shop/43/:\$"
run zdd-lock -n -r "$R" --json
is "-n --json, held: exit 75" "$rc" 75
is "... the holder's parts" "$(jq -r '[.root, .dry_run, .locked, .inherited, .pid, .host, .tool, .ci, .run, .url] | map(tostring) | join(" ")' <<<"$out")" \
	"$R true true false $holder $(hostname) zdd-lock jenkins 43 https://ci.example.com/job/shop/43/"
like "... since, and the whole line" "$(jq -r '.since + " | " + .holder' <<<"$out")" \
	"^[0-9-]+T[0-9:]+Z \\| pid $holder on .* jenkins run 43 https://ci.example.com/job/shop/43/\$"
run zdd-lock -r "$R" --json touch "$T/json-ran"
is "--json, held: 75, and the command does not run" "$rc:$(ls "$T" | grep -c json-ran)" "75:0"
is "... the holder as JSON on stdout" "$(jq -r '[.dry_run, .locked, .pid] | map(tostring) | join(" ")' <<<"$out")" \
	"false true $holder"
like "... and on stderr as without --json" "$err" "^zdd-lock: $R is locked: pid $holder on "
ok "... the holder still holds it" kill -0 "$holder"
stop "$holder"
run zdd-lock -n -r "$R"
is "-n once the holder is gone: free, whatever the lock file still says" "$rc:$out" "0:free"
run zdd-lock -r "$R" zdd-lock -n -r "$R"
is "-n inside the deploy that holds it: exit 0" "$rc:$out" "0:locked by this deploy"
run zdd-lock -r "$R" zdd-lock -n --json -r "$R"
is "... --json" "$(jq -r '[.locked, .inherited, .holder] | map(tostring) | join(" ")' <<<"$out")" "true true null"
spawn flock -s -o "$R/.zdd/lock" sleep 30
fl=$last_pid
held "$R/.zdd/lock"
run zdd-lock -n -r "$R" --json
is "-n, a shared flock(1): held, named by the kernel" "$rc:$(jq -r '[.pid, .tool, .since] | map(tostring) | join(" ")' <<<"$out")" \
	"75:$fl flock null"
stop "$fl"
chmod 0777 "$R"
run zdd-lock -n -r "$R"
is "-n, a world-writable root: 77, as a deploy would" "$rc:$out" "77:"
chmod 0755 "$R"

# Two whole deploys racing: the second waits for the first to finish, so
# the newer artifact ends up live and the steps never interleave.
cat >"$T/deploy.sh" <<'SH'
#!/bin/sh
# deploy.sh ROOT ID: make a release, check it a while, make it live.
zdd-lock -r "$1" --lock-wait 30 sh -ec '
	rel=$(zdd-release -r "$1" --id "$2" "$3")
	sleep 1
	zdd-link -r "$1" "$rel" >/dev/null
' sh "$1" "$2" "$3"
SH
chmod +x "$T/deploy.sh"
"$T/deploy.sh" "$R" build-7 "$T/src" >"$T/a.out" 2>&1 &
a=$!
held "$R/.zdd/lock"
"$T/deploy.sh" "$R" build-8 "$T/src" >"$T/b.out" 2>&1 &
b=$!
wait $a; ra=$?
wait $b; rb=$?
is "racing deploys: both exit 0" "$ra:$rb:$(cat "$T/a.out" "$T/b.out")" "0:0:"
is "racing deploys: the newer one is live" "$(readlink "$R/current")" "releases/build-8"
is "racing deploys: the event log shows one after the other" \
	"$(grep -oE '"event":"(release|link)","release":"build-[78]"' "$R/.zdd/events.jsonl" | tr '\n' ' ')" \
	'"event":"release","release":"build-7" "event":"link","release":"build-7" "event":"release","release":"build-8" "event":"link","release":"build-8" '

# A daemon that the deploy started inherits the descriptor, yet the lock
# ends with the command.
run zdd-lock -r "$R" sh -c "sleep 30 >/dev/null 2>&1 & echo \$!"
daemon=$out
pids="$pids $daemon"
ok "the daemon runs on" kill -0 "$daemon"
run zdd-link -r "$R" build-7
is "... and the next deploy is not held off by it" "$rc" 0
stop "$daemon"

# SIGTERM to zdd-lock (a cancelled CI job) reaches the command; the lock
# is held until the command has finished.
spawn zdd-lock -r "$R" --lock-wait 10 sh -c "trap 'kill \$!; echo stopping >\"$T/term\"; exit 5' TERM; touch \"$T/started\"; sleep 20 & wait"
locker=$last_pid
i=0
while [ ! -e "$T/started" ] && [ $i -lt 250 ]; do sleep 0.02; i=$((i + 1)); done
kill -TERM "$locker"
wait "$locker"
is "SIGTERM: passed on, the command's status" "$?:$(cat "$T/term" 2>/dev/null)" "5:stopping"
ok "SIGTERM: the lock is free after" flock -n "$R/.zdd/lock" true

# flock(1) works as well, and names the real holder.
run flock "$R/.zdd/lock" zdd-link -r "$R" build-8
is "flock ROOT/.zdd/lock zdd-link: exit 0" "$rc:$(readlink "$R/current")" "0:releases/build-8"
spawn flock "$R/.zdd/lock" sleep 2
fl=$last_pid
held "$R/.zdd/lock"
run zdd-link -r "$R" build-7
is "held by flock(1): exit 75" "$rc" 75
is "held by flock(1): named by the kernel, not by a stale line" "$err" \
	"zdd-link: $R is locked: pid $fl on $(hostname) by flock"
# A descriptor open on the lock file without the lock counts for nothing.
run zdd-link -r "$R" build-7 9<"$R/.zdd/lock"
is "an open, unlocked descriptor: still 75" "$rc" 75
stop "$fl"

# An unsafe root is refused before anything runs.
chmod 0777 "$R"
run zdd-lock -r "$R" touch "$T/ran"
is "world-writable root: exit 77" "$rc:$err" "77:zdd-lock: $R is writable by other users (mode 0777): refusing to deploy there"
ok "world-writable root: the command did not run" test ! -e "$T/ran"
chmod 0755 "$R"

# Every tool reads ZDD_LOCK_WAIT only when it takes a lock, and a valid
# --lock-wait overrides a malformed one: zdd-release and zdd-switch too.
L=$T/envlock
mkdir -p "$L"
echo a >"$L/f"
printf 'set $service_url http://127.0.0.1:8081;\n' >"$L/s.inc"
run env ZDD_LOCK_WAIT=5s zdd-switch -f "$L/s.inc" status
is "bad ZDD_LOCK_WAIT: zdd-switch status works" "$rc:$out" "0:blue 127.0.0.1:8081"
run env ZDD_LOCK_WAIT=5s zdd-release -n -r "$L/root" --file "$L/f"
is "bad ZDD_LOCK_WAIT: zdd-release -n works" "$rc" 0
run env ZDD_LOCK_WAIT=5s zdd-release -r "$L/root" --lock-wait 1 --file "$L/f"
is "bad ZDD_LOCK_WAIT: zdd-release --lock-wait overrides it" "$rc" 0
run env ZDD_LOCK_WAIT=5s zdd-release -r "$L/root" --file "$L/f"
is "bad ZDD_LOCK_WAIT and a lock to take: zdd-release exits 64" "$rc:$err" \
	"64:zdd-release: ZDD_LOCK_WAIT: not a number of seconds"

done_testing
