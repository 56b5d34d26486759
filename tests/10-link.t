#!/bin/bash
# zdd-link: link, roll back, show and list releases in a deploy root.
. "$(dirname "$0")/lib.sh"

R=$T/root
A=20261122093000
B2=20261123084013
C=20261123090000

# mkrel ID [BRANCH REVISION]: a release as zdd-release leaves it.
mkrel() {
	mkdir -p "$R/releases/$1" "$R/.zdd/manifests"
	echo "$1" >"$R/releases/$1/VERSION"
	printf '{"id":"%s","branch":"%s","revision":"%s","user":"ci"}\n' \
		"$1" "${2:-main}" "${3:-abc123}" >"$R/.zdd/manifests/$1.json"
}
mkrel $A main 1111111
mkrel $B2 main 2222222
mkrel $C feature/x 3333333

# Conventions every tool shares.
run zdd-link -h
is "-h: exit 0" "$rc" 0
like "-h: usage on stdout" "$out" '^usage: zdd-link '
run zdd-link -V
is "-V: version on stdout" "$out" "zdd-link 0.1.0"
run zdd-link --bogus
is "unknown option: exit 64" "$rc" 64
is "unknown option: nothing on stdout" "$out" ""
run zdd-link $A
is "no root: exit 64" "$rc" 64
like "no root: says how to give one" "$err" '^zdd-link: no deploy root: give -r ROOT or set ZDD_ROOT$'
run zdd-link -r "$T/nowhere" $A
is "missing root: exit 66" "$rc" 66
like "missing root: names it" "$err" "^zdd-link: cannot open deploy root $T/nowhere: No such file or directory$"
run zdd-link -r "$R" --steps 2 $A
is "--steps without --rollback: exit 64" "$rc" 64
run zdd-link -r "$R" --show --list
is "--show with --list: exit 64" "$rc" 64

# Link by id.
run zdd-link -r "$R" $A
is "link by id: exit 0" "$rc" 0
is "link by id: prints the release path" "$out" "$R/releases/$A"
is "link by id: nothing on stderr" "$err" ""
is "link by id: current is a relative symlink" "$(readlink "$R/current")" "releases/$A"
is "link by id: revisions.log in Capistrano's words" "$(cat "$R/revisions.log")" \
	"Branch main (at 1111111) deployed as release $A by ci"

# By path, absolute and relative, and from stdin; ZDD_ROOT.
run zdd-link -r "$R" "$R/releases/$B2"
is "link by absolute path" "$out:$(readlink "$R/current")" "$R/releases/$B2:releases/$B2"
run sh -c "cd '$R' && zdd-link -r . releases/$A"
is "link by relative path" "$out:$(readlink "$R/current")" "$R/./releases/$A:releases/$A"
run sh -c "echo '$R/releases/$C' | ZDD_ROOT='$R' zdd-link -"
is "link from stdin with ZDD_ROOT" "$rc:$(readlink "$R/current")" "0:releases/$C"
is "branch and revision of the manifest in revisions.log" "$(tail -n 1 "$R/revisions.log")" \
	"Branch feature/x (at 3333333) deployed as release $C by ci"
run sh -c "printf '' | zdd-link -r '$R' -"
is "empty stdin: exit 64" "$rc" 64

# Already live: nothing changes, nothing logged.
lines=$(wc -l <"$R/revisions.log")
run zdd-link -r "$R" --json $C
is "already live: exit 0" "$rc" 0
like "already live: --json says unchanged" "$out" '"changed":false'
is "already live: revisions.log untouched" "$(wc -l <"$R/revisions.log")" "$lines"

# Refusals leave current as it was.
run zdd-link -r "$R" 20990101000000
is "missing release: exit 66" "$rc" 66
is "missing release: message" "$err" "zdd-link: cannot link current: releases/20990101000000: No such file or directory"
is "missing release: current stays" "$(readlink "$R/current")" "releases/$C"
mkdir "$R/releases/20261124000000"
run zdd-link -r "$R" 20261124000000
is "empty (incomplete) release: exit 66" "$rc" 66
like "incomplete release: says so" "$err" 'releases/20261124000000 is incomplete$'
rmdir "$R/releases/20261124000000"
mkdir -p "$T/elsewhere/$A"
echo x >"$T/elsewhere/$A/f"
run zdd-link -r "$R" "$T/elsewhere/$A"
is "a directory outside releases/: exit 66" "$rc" 66
like "outside releases/: says so" "$err" "not a release under $R/releases"
ln -s "$T/elsewhere/$A" "$R/releases/evil"
run zdd-link -r "$R" evil
is "a symlink in releases/: exit 66" "$rc" 66
rm "$R/releases/evil"
run zdd-link -r "$R" '../x'
is "an id with a slash outside: exit 66" "$rc" 66
run zdd-link -r "$R" --name releases $A
is "--name releases: exit 64" "$rc" 64
run zdd-link -r "$R" --name ../up $A
is "--name with a slash: exit 64" "$rc" 64
is "after refusals current is unchanged" "$(readlink "$R/current")" "releases/$C"
echo 'not a link' >"$R/blue"
run zdd-link -r "$R" --name blue $A
is "LINK is a regular file: exit 65" "$rc" 65
is "LINK is a regular file: left alone" "$(cat "$R/blue")" "not a link"
rm "$R/blue"

# Other links.
run zdd-link -r "$R" --name blue $A
is "--name blue" "$rc:$(readlink "$R/blue")" "0:releases/$A"

# --show.
run zdd-link -r "$R" --show
is "--show prints the live release" "$rc:$out" "0:$R/releases/$C"
run zdd-link -r "$R" --show --name blue --json
like "--show --json" "$out" "^\\{\"action\":\"show\",\"link\":\"blue\",\"release\":\"$A\",\"path\":\"$R/releases/$A\""
run zdd-link -r "$R" --show --name green
is "--show of a missing link: exit 1" "$rc" 1
is "--show of a missing link: nothing on stdout" "$out" ""
like "--show of a missing link: says so" "$err" '^zdd-link: green: no such link'

# --list.
mkdir "$R/releases/notes"
run zdd-link -r "$R" --list
is "--list: every release, oldest first, with its links or state" "$out" "$A blue
$B2 was-live
$C current"
is "--list: warns about what is not a release" "$err" "zdd-link: releases/notes: not a release, left alone"
run zdd-link -r "$R" --list -q
is "--list -q: no warning" "$err" ""
rmdir "$R/releases/notes"

mkrel 20261123100000
run zdd-link -r "$R" --rollback --name green
is "rollback of a missing link: exit 66" "$rc" 66
zdd-link -r "$R" -q $A >/dev/null

# The release lifecycle: rollback walks the link's own history in the
# event log, whatever the ids look like; zdd-release records each release.
mkdir -p "$T/src"
echo app >"$T/src/index.html"
rel() { zdd-release -q -r "$R" --id "$1" "$T/src" >/dev/null; }
R=$T/builds
for id in 1 2 9 10; do
	rel $id
	zdd-link -q -r "$R" $id >/dev/null
done
run zdd-link -r "$R" --rollback
is "build numbers: rollback from 10 lands on 9, not 1" "$rc:$(readlink "$R/current")" "0:releases/9"
is "rollback: revisions.log in Capistrano's words" "$(tail -n 1 "$R/revisions.log")" "$(id -un) rolled back to release 9"
run zdd-link -r "$R" --history
is "--history: newest first: release, action, what it replaced" \
	"$(echo "$out" | sed 's/^[^ ]* //')" "9 rollback 10
10 deploy 9
9 deploy 2
2 deploy 1
1 deploy -"
like "--history: times in ISO 8601 UTC" "$(echo "$out" | head -n 1)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z 9 '
run zdd-link -r "$R" --history --json
like "--history --json" "$out" '^\{"link":"current","history":\[\{"time":"[^"]+","release":"9","action":"rollback","previous":"10"\},'
run zdd-link -r "$R" --history --name blue
is "--history of a link with none: nothing, exit 0" "$rc:$out" "0:"
run zdd-link -r "$R" --list
is "--list: creation order, not id order" "$out" "1 was-live
2 was-live
9 current
10 bad"
run zdd-link -r "$R" --rollback --steps 2
is "--steps 2: two good releases back in the history" "$rc:$(readlink "$R/current")" "0:releases/1"
like "the event log: one JSON object a line" "$(tail -n 1 "$R/.zdd/events.jsonl")" \
	'^\{"time":"[0-9T:-]+Z","event":"rollback","release":"1","link":"current","previous":"9","user":"[^"]+","host":"[^"]+"\}$'
like "the event log records each release" "$(head -n 1 "$R/.zdd/events.jsonl")" '"event":"release","release":"1",'

# A release whose hook failed is never a rollback target, marked or not;
# sha ids.
R=$T/sha
rel 3f2a9c1
zdd-link -q -r "$R" 3f2a9c1 >/dev/null
rel a07be55
rel 0c4d2e8
zdd-link -q -r "$R" 0c4d2e8 >/dev/null
run zdd-link -r "$R" --list
is "--list: live, was-live, staged" "$out" "3f2a9c1 was-live
a07be55 staged
0c4d2e8 current"
run zdd-link -r "$R" --bad a07be55
is "--bad: exit 0, prints the release" "$rc:$out" "0:$R/releases/a07be55"
is "--bad: no link moves" "$(readlink "$R/current")" "releases/0c4d2e8"
like "--bad: an event" "$(tail -n 1 "$R/.zdd/events.jsonl")" '"event":"bad","release":"a07be55"'
run zdd-link -r "$R" --bad a07be55 --json
like "--bad of a bad release: unchanged" "$out" '^\{"action":"bad","release":"a07be55",.*"changed":false'
run zdd-link -r "$R" --bad nosuch
is "--bad of a missing release: exit 66" "$rc:$err" "66:zdd-link: cannot mark it bad: releases/nosuch: No such file or directory"
run zdd-link -r "$R" --list --json
like "--list --json: the state" "$out" '\{"id":"a07be55","path":"[^"]+","state":"bad","links":\[\],"bad":true\}'
run zdd-link -r "$R" --rollback --json
is "rollback lands on the last live release, not the failed one" "$(readlink "$R/current")" "releases/3f2a9c1"
like "--rollback --json: from and to" "$out" '^\{"action":"rollback","link":"current","release":"3f2a9c1",.*"previous":"0c4d2e8"'
run zdd-link -r "$R" --list
is "--list: the release left is bad" "$out" "3f2a9c1 current
a07be55 bad
0c4d2e8 bad"
cp -a "$R" "$T/before"
run zdd-link -r "$R" --rollback
is "nowhere to go: exit 66" "$rc" 66
is "nowhere to go: says so" "$err" "zdd-link: cannot roll back current from releases/3f2a9c1: no earlier good release before it"
run diff -r -x lock "$T/before" "$R"
is "nowhere to go: nothing changed" "$out" ""
rm -rf "$T/before"
run zdd-link -r "$R" --good 0c4d2e8
is "--good: exit 0" "$rc:$(tail -n 1 "$R/.zdd/events.jsonl" | grep -c '"event":"good"')" "0:1"
run zdd-link -r "$R" --rollback
is "--good: a rollback target again" "$(readlink "$R/current")" "releases/0c4d2e8"
run zdd-link -r "$R" a07be55
run zdd-link -r "$R" --list
is "linking a bad release by name clears its mark" "$out" "3f2a9c1 bad
a07be55 current
0c4d2e8 was-live"

# Out-of-order relinks: the history is what the link did, not the ids.
R=$T/relink
for id in d-RPCR1U3TW d-A7X2K9Q1E d-0ZQ4M8N2B; do
	rel $id
	zdd-link -q -r "$R" $id >/dev/null
done
zdd-link -q -r "$R" d-RPCR1U3TW >/dev/null
run zdd-link -r "$R" --rollback
is "relinked an old release: rollback goes to the one it replaced" "$(readlink "$R/current")" "releases/d-0ZQ4M8N2B"

# Blue/green: each colour rolls back along its own history.
R=$T/bg
rel R1; zdd-link -q -r "$R" --name blue R1 >/dev/null
rel R2; zdd-link -q -r "$R" --name green R2 >/dev/null
rel R3; zdd-link -q -r "$R" --name blue R3 >/dev/null
rel R4; zdd-link -q -r "$R" --name green R4 >/dev/null
run zdd-link -r "$R" --name green --rollback
is "green rolls back to green's R2, not blue's R3" "$rc:$(readlink "$R/green")" "0:releases/R2"
is "blue stays" "$(readlink "$R/blue")" "releases/R3"
run zdd-link -r "$R" --name blue --rollback
is "blue rolls back to R1" "$(readlink "$R/blue")" "releases/R1"
run zdd-link -r "$R" --list
is "--list names the links" "$out" "R1 blue
R2 green
R3 bad
R4 bad"

# A torn last line (a crash mid-write) is ignored and cut by the next
# writer; a bad line in the middle is skipped with a warning.
R=$T/builds
printf '{"time":"2026-12-02T10:00:00Z","event":"link","link":"current","rel' >>"$R/.zdd/events.jsonl"
run zdd-link -r "$R" --history
is "torn last line: no warning" "$rc:$err" "0:"
run zdd-link -r "$R" 10
is "torn last line: a link works" "$rc:$(readlink "$R/current")" "0:releases/10"
ok "torn last line: cut, every line is JSON" python3 -c '
import json, sys
for l in open(sys.argv[1]): json.loads(l)' "$R/.zdd/events.jsonl"
is "the link after the torn line is recorded" "$(zdd-link -r "$R" --history | head -n 1 | cut -d' ' -f2-)" "10 deploy 1"
sed -i '2s/.*/not json/' "$R/.zdd/events.jsonl"
run zdd-link -r "$R" --history
is "a bad line: warned about, skipped" "$rc:$err" "0:zdd-link: .zdd/events.jsonl: line 2: not an event, skipped"

# A corrupt, empty or oversized manifest never blocks a rollback.
R=$T/builds
echo '{' >"$R/.zdd/manifests/10.json"
: >"$R/.zdd/manifests/1.json"
truncate -s 40M "$R/.zdd/manifests/9.json"
run zdd-link -r "$R" --rollback -q
is "corrupt manifests: rollback works" "$rc:$(readlink "$R/current")" "0:releases/1"
run zdd-link -r "$R" 9
is "corrupt manifests: link works" "$rc:$(readlink "$R/current")" "0:releases/9"

# A link spelt any way that resolves to a release points at it.
ln -sfn releases/10/. "$R/current"
run zdd-link -r "$R" --show
is "current -> releases/ID/. is that release" "$rc:$out" "0:$R/releases/10"
ln -sfn "$R/releases/../releases/10" "$R/current"
run zdd-link -r "$R" --list
is "releases/../releases/ID is that release too (rolled back from, so bad)" "$(echo "$out" | grep current)" "10 current bad"
run zdd-link -r "$R" --rollback -q
is "rollback from a link spelt so" "$rc:$(readlink "$R/current")" "0:releases/9"

# A malformed ZDD_LOCK_WAIT breaks only what waits for the lock.
run env ZDD_LOCK_WAIT=5s zdd-link -r "$R" --show
is "bad ZDD_LOCK_WAIT: --show works" "$rc" 0
run env ZDD_LOCK_WAIT=5s zdd-link -r "$R" -n 10
is "bad ZDD_LOCK_WAIT: a dry run works" "$rc" 0
run env ZDD_LOCK_WAIT=5s zdd-link -r "$R" --lock-wait 1 10
is "bad ZDD_LOCK_WAIT: --lock-wait overrides it" "$rc:$(readlink "$R/current")" "0:releases/10"
run env ZDD_LOCK_WAIT=5s zdd-link -r "$R" 9
is "bad ZDD_LOCK_WAIT and a lock to take: exit 64" "$rc:$err" "64:zdd-link: ZDD_LOCK_WAIT: not a number of seconds"
R=$T/root

# --dry-run changes nothing.
rm -rf "$T/before"
cp -a "$R" "$T/before"
run zdd-link -r "$R" -n $C
is "dry run: exit 0 and the path" "$rc:$out" "0:$R/releases/$C"
like "dry run: says what it would do" "$err" "would point current at releases/$C"
run zdd-link -r "$R" -n 20261123100000
run zdd-link -r "$R" -n --name blue --rollback
ok "dry runs: the root is as it was" diff -r "$T/before" "$R"

# A dangling link, as a crash of another tool could leave.
ln -sfn releases/20261120000000 "$R/green"
run zdd-link -r "$R" --show --name green
is "--show of a dangling link: exit 1" "$rc" 1
like "--show of a dangling link: says what is missing" "$err" 'releases/20261120000000, which does not exist'
rm "$R/green"

# The lock: a second deploy gets 75 at once, naming the holder.
mkdir -p "$R/.zdd"
echo "pid 4242 on buildhost since 2026-11-23T08:40:13Z by zdd-release" >"$R/.zdd/lock"
flock "$R/.zdd/lock" sleep 3 &
holder=$!
sleep 0.3
run zdd-link -r "$R" $C
is "locked root: exit 75" "$rc" 75
is "locked root: names the holder the kernel knows, not the stale line" "$err" \
	"zdd-link: $R is locked: pid $holder on $(hostname) by flock"
is "locked root: current unchanged" "$(readlink "$R/current")" "releases/$A"
run zdd-link -r "$R" --lock-wait 10 $C
is "--lock-wait: waits, then links" "$rc:$(readlink "$R/current")" "0:releases/$C"
wait $holder
like "the lock file now names zdd-link" "$(cat "$R/.zdd/lock")" "^pid [0-9]+ on .* since .* by zdd-link$"
flock "$R/.zdd/lock" sleep 2 &
holder=$!
sleep 0.3
run env ZDD_LOCK_WAIT=10 zdd-link -r "$R" $B2
is "ZDD_LOCK_WAIT waits too" "$rc" 0
wait $holder
run env ZDD_LOCK_WAIT=soon zdd-link -r "$R" $B2
is "bad ZDD_LOCK_WAIT: exit 64" "$rc" 64

# A root or .zdd/ that another user can write is refused before any change.
chmod 0777 "$R"
run zdd-link -r "$R" $B2
is "world-writable root: exit 77" "$rc" 77
is "world-writable root: says why" "$err" "zdd-link: $R is writable by other users (mode 0777): refusing to deploy there"
chmod 0755 "$R"
chmod 0775 "$R/.zdd"
run zdd-link -r "$R" --rollback
is "group-writable .zdd: exit 77" "$rc:$err" "77:zdd-link: $R/.zdd is writable by other users (mode 0775): refusing to deploy there"
chmod 0755 "$R/.zdd"
chown 65534 "$R/releases"
run zdd-link -r "$R" $B2
is "releases/ of another user: exit 77" "$rc:$err" "77:zdd-link: $R/releases belongs to another user (uid 65534): refusing to deploy there"
chown 0 "$R/releases"
is "after the refusals current is unchanged" "$(readlink "$R/current")" "releases/$B2"
run zdd-link -r "$R" --list
is "reading (--list) is allowed on any root" "$rc" 0

# The swap is atomic: a reader never sees current missing or dangling.
zdd-link -r "$R" -q $A >/dev/null
python3 - "$R" >"$T/reader" <<'PY' &
import os, sys, time
root = sys.argv[1]
bad = reads = 0
end = time.time() + 30
while reads < 200000 and time.time() < end:
    try:
        with open(os.path.join(root, "current", "VERSION")) as f:
            if not f.read().strip():
                bad += 1
    except OSError:
        bad += 1
    reads += 1
    if os.path.exists(os.path.join(root, ".stop")):
        break
print(reads, bad)
PY
reader=$!
for i in $(seq 1 150); do
	zdd-link -r "$R" -q $A >/dev/null
	zdd-link -r "$R" -q $C >/dev/null
done
touch "$R/.stop"
wait $reader
read -r reads bad <"$T/reader"
is "300 swaps under a reader ($reads reads): never missing" "$bad" 0
like "the reader did read" "$reads" '^[0-9]{3,}$'
is "no temporary names left in the root" "$(ls -A "$R" | grep -c zdd-)" 0

# revisions.log names the account that ran the deploy, even when $USER
# still names the one that logged in (su, setpriv, sudo -u).
R=$T/nobody
mkrel $A
mkrel $B2
ln -s releases/$B2 "$R/current"
chown -R 65534:65534 "$R"
run env USER=root setpriv --reuid=65534 --regid=65534 --clear-groups zdd-link -r "$R" --rollback
is "rollback as another account: exit 0" "$rc" 0
is "rollback as another account: revisions.log names that account" \
	"$(cat "$R/revisions.log")" "nobody rolled back to release $A"

# With the real tools: zdd-release holds the lock while it reads an
# artifact from a slow pipe; zdd-link meanwhile gets 75 naming it, or
# waits with --lock-wait.  And a first deploy through a pipe works on a
# root that does not exist yet.
mkdir -p "$T/app"
echo v1 >"$T/app/index.html"
tar -C "$T/app" -czf "$T/app.tgz" .
R=$T/piped
run sh -c "zdd-release -r '$R' '$T/app.tgz' | zdd-link -r '$R' -"
is "first deploy through a pipe: exit 0" "$rc" 0
is "first deploy through a pipe: current is the new release" "$R/$(readlink "$R/current")" "$out"
(sleep 2; cat "$T/app.tgz") | zdd-release -r "$R" --id slow - >/dev/null 2>&1 &
slow=$!
sleep 0.7
run zdd-link -r "$R" --rollback
is "lock held by zdd-release: exit 75" "$rc" 75
like "lock held by zdd-release: names it" "$err" \
	"^zdd-link: $R is locked: pid $slow on [^ ]+ since [0-9T:-]+Z by zdd-release$"
run zdd-link -r "$R" --lock-wait 20 slow
wait $slow
is "--lock-wait: links the release once it exists" "$rc:$(readlink "$R/current")" "0:releases/slow"

done_testing
