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
is "--list: every release, oldest first, with its links" "$out" "$A blue
$B2
$C current"
is "--list: warns about what is not a release" "$err" "zdd-link: releases/notes: not a release, left alone"
run zdd-link -r "$R" --list -q
is "--list -q: no warning" "$err" ""
rmdir "$R/releases/notes"

# --rollback marks the release it leaves bad; the next skips it.
mkrel 20261123100000
zdd-link -r "$R" -q 20261123100000 >/dev/null
run zdd-link -r "$R" --rollback
is "rollback: exit 0" "$rc" 0
is "rollback: prints the release it went to" "$out" "$R/releases/$C"
is "rollback: current moved back" "$(readlink "$R/current")" "releases/$C"
is "rollback: revisions.log" "$(tail -n 1 "$R/revisions.log")" "$(id -un) rolled back to release $C"
run zdd-link -r "$R" --list
is "rollback: the release left is listed bad" "$(echo "$out" | tail -n 1)" "20261123100000 bad"
run zdd-link -r "$R" --rollback
is "second rollback lands two good releases back" "$(readlink "$R/current")" "releases/$B2"
run zdd-link -r "$R" --list
is "both releases rolled back from are bad" "$out" "$A blue
$B2 current
$C bad
20261123100000 bad"
run zdd-link -r "$R" 20261123100000
is "linking a bad release by name: exit 0" "$rc" 0
run zdd-link -r "$R" --list
is "linking a bad release by name clears the mark" "$(echo "$out" | tail -n 1)" "20261123100000 current"
run zdd-link -r "$R" --rollback --steps 2 --json
is "--steps 2 skips the bad one: two good back" "$(readlink "$R/current")" "releases/$A"
like "--rollback --json names both ends" "$out" "\"release\":\"$A\",.*\"previous\":\"20261123100000\""
cp -a "$R" "$T/before"
run zdd-link -r "$R" --rollback
is "nothing earlier to roll back to: exit 66" "$rc" 66
like "nothing earlier: says so" "$err" "cannot roll back current from releases/$A: no earlier good release before it"
run diff -r -x lock "$T/before" "$R"; is "nothing earlier: the root is as it was" "$out" ""
run zdd-link -r "$R" --rollback --name green
is "rollback of a missing link: exit 66" "$rc" 66

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
is "locked root: names the holder" "$err" \
	"zdd-link: $R is locked: pid 4242 on buildhost since 2026-11-23T08:40:13Z by zdd-release"
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
