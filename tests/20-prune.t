#!/bin/bash
# zdd-prune: delete old releases, keeping the newest good ones and every
# linked one, without ever leaving the release it deletes.
. "$(dirname "$0")/lib.sh"

R=$T/root

# mkrel ID [bad]: a release with a few files and its manifest.
mkrel() {
	mkdir -p "$R/releases/$1/app/sub" "$R/.zdd/manifests"
	echo "$1" >"$R/releases/$1/VERSION"
	echo x >"$R/releases/$1/app/sub/f"
	if [ "${2:-}" = bad ]; then
		printf '{"id":"%s","bad":true}\n' "$1" >"$R/.zdd/manifests/$1.json"
	else
		printf '{"id":"%s"}\n' "$1" >"$R/.zdd/manifests/$1.json"
	fi
}
ids() { ls "$R/releases" | tr '\n' ' '; }

for d in 01 02 03 04 05 06 07 08; do
	mkrel 202611230000$d
done
ln -s releases/20261123000008 "$R/current"

run zdd-prune -h
is "-h: exit 0, usage on stdout" "$rc:${out%% *}" "0:usage:"
run zdd-prune -r "$R" -k many
is "bad --keep: exit 64" "$rc" 64
run zdd-prune -r "$R" extra
is "an operand: exit 64" "$rc" 64

# --dry-run first: it names what would go and changes nothing.
cp -a "$R" "$T/before"
run zdd-prune -r "$R" -n
is "dry run: exit 0" "$rc" 0
is "dry run: prints what it would remove" "$out" "$R/releases/20261123000001
$R/releases/20261123000002
$R/releases/20261123000003"
run diff -r "$T/before" "$R"
is "dry run: nothing changed" "$out" ""
rm -rf "$T/before"

run zdd-prune -r "$R"
is "keep 5 by default: exit 0" "$rc" 0
is "prints each removed path, oldest first" "$out" "$R/releases/20261123000001
$R/releases/20261123000002
$R/releases/20261123000003"
is "the five newest stay" "$(ids)" "20261123000004 20261123000005 20261123000006 20261123000007 20261123000008 "
is "their manifests went with them" "$(ls "$R/.zdd/manifests" | wc -l)" 5
ok "current still points at a whole release" test -f "$R/current/VERSION"
is "nothing left in .zdd/tmp" "$(ls -A "$R/.zdd/tmp")" ""

# Linked releases are kept whatever their age; bad ones do not count.
ln -s releases/20261123000004 "$R/blue"
ln -s "$R/releases/20261123000005" "$R/green"
mkrel 20261123000009 bad
mkrel 20261123000010 bad
run zdd-prune -r "$R" -k 2 --json
is "-k 2: exit 0" "$rc" 0
is "-k 2: the two newest good plus every linked one stay" "$(ids)" \
	"20261123000004 20261123000005 20261123000007 20261123000008 "
like "--json lists what went, bad ones included" "$out" \
	'^\{"removed":\[\{"id":"20261123000006",.*\{"id":"20261123000009",[^]]*"bad":true\},\{"id":"20261123000010"'
like "--json lists what was kept" "$out" '"kept":\["20261123000004","20261123000005","20261123000007","20261123000008"\]'
ok "links are untouched" test "$(readlink "$R/blue")$(readlink "$R/green")" = \
	"releases/20261123000004$R/releases/20261123000005"

# Other names under releases/ are left alone with a warning.
mkdir "$R/releases/notes"
echo hi >"$R/releases/README"
run zdd-prune -r "$R" -k 0
is "-k 0 keeps only linked releases" "$(ids)" "20261123000004 20261123000005 20261123000008 README notes "
like "warns about what is not a release" "$err" 'zdd-prune: releases/notes: not a release, left alone'
rm -rf "$R/releases/notes" "$R/releases/README"

# What a crashed zdd-release left in .zdd/tmp goes too.
mkdir -p "$R/.zdd/tmp/.stage.zdd-abc/app"
echo half >"$R/.zdd/tmp/.stage.zdd-abc/app/f"
run zdd-prune -r "$R"
is "crash leftovers: exit 0" "$rc" 0
is "crash leftovers: removed" "$(ls -A "$R/.zdd/tmp")" ""
like "crash leftovers: said on stderr" "$err" 'removing .zdd/tmp/.stage.zdd-abc, left by an interrupted run'
is "crash leftovers: nothing on stdout" "$out" ""

# A manifest whose release is gone (a kill between zdd-release's manifest
# and its rename) is removed, so that its id is free again.
echo '{"id":"20261123000099"}' >"$R/.zdd/manifests/20261123000099.json"
run zdd-prune -r "$R" -n
is "orphan manifest: a dry run says it would go" "$err" \
	"zdd-prune: would remove the manifest of 20261123000099, a release that is gone"
ok "orphan manifest: a dry run leaves it" test -f "$R/.zdd/manifests/20261123000099.json"
run zdd-prune -r "$R"
is "orphan manifest: removed" "$rc:$(ls "$R/.zdd/manifests" | grep -c 20261123000099)" "0:0"
like "orphan manifest: said on stderr" "$err" "removing the manifest of 20261123000099, a release that is gone"

# Never follows a symlink out of a release.
mkdir -p "$T/outside/keep"
echo precious >"$T/outside/keep/file"
mkrel 20261120000000
ln -s "$T/outside" "$R/releases/20261120000000/app/link"
ln -s "$T/outside/keep/file" "$R/releases/20261120000000/filelink"
run zdd-prune -r "$R" -k 1
is "planted symlinks: exit 0" "$rc" 0
ok "planted symlinks: the release went" test ! -e "$R/releases/20261120000000"
is "planted symlinks: what they pointed at is intact" "$(cat "$T/outside/keep/file")" precious

# The lock.
flock "$R/.zdd/lock" sleep 2 &
holder=$!
sleep 0.3
run zdd-prune -r "$R"
is "locked root: exit 75" "$rc" 75
like "locked root: says who holds it" "$err" "^zdd-prune: $R is locked: "
wait $holder

# As an ordinary user: read-only trees that user owns are deleted.
U="setpriv --reuid=65534 --regid=65534 --clear-groups"
R=$T/user
mkdir -p "$R"
for d in 01 02 03; do mkrel 202611240000$d; done
ln -s releases/20261124000003 "$R/current"
chmod 0444 "$R/releases/20261124000001/VERSION"
chmod 0555 "$R/releases/20261124000001/app/sub" "$R/releases/20261124000001/app"
chmod 0000 "$R/releases/20261124000001"
chmod 0500 "$R/releases/20261124000002/app"
chown -R 65534:65534 "$R"
chmod 0755 "$T"
run $U zdd-prune -r "$R" -k 1
is "read-only trees of the user: exit 0" "$rc" 0
is "read-only trees of the user: gone" "$(ids)" "20261124000003 "
is "read-only trees: no error" "$err" ""

# A release the user cannot delete whole is reported; the rest still go.
for d in 04 05 06; do mkrel 202611240000$d; done
mkdir -p "$R/releases/20261124000004/rootonly"
chown -R 65534:65534 "$R"
echo root >"$R/releases/20261124000004/rootonly/f"
chown root:root "$R/releases/20261124000004/rootonly"
chmod 0755 "$R/releases/20261124000004/rootonly"
ln -sfn releases/20261124000006 "$R/current"
run $U zdd-prune -r "$R" -k 1
is "undeletable release: exit 77" "$rc" 77
is "undeletable release: the others are removed" "$out" "$R/releases/20261124000003
$R/releases/20261124000005"
like "undeletable release: reported with the path that failed" "$err" \
	'^zdd-prune: cannot remove releases/20261124000004 whole, left in \.zdd/tmp/\.20261124000004\.zdd-[A-Za-z0-9]+: rootonly/f: Permission denied$'
is "undeletable release: no longer under releases/" "$(ids)" "20261124000006 "
ok "the kept release is untouched" test -f "$R/releases/20261124000006/app/sub/f"
chown -R 65534:65534 "$R"
run $U zdd-prune -r "$R"
is "once fixed, the next prune clears what was left" "$rc:$(ls -A "$R/.zdd/tmp")" "0:"

# Good means went live and never bad, in the order the event log says
# releases were made: Jenkins build numbers 1 to 11.
mkdir -p "$T/src"
echo app >"$T/src/index.html"
R=$T/builds
for id in 1 2 3 4 5 6 7 8 9 10 11; do
	zdd-release -q -r "$R" --id $id "$T/src" >/dev/null
	zdd-link -q -r "$R" $id >/dev/null
done
run zdd-prune -r "$R" -k 3
is "build numbers, -k 3: exit 0" "$rc" 0
is "build numbers, -k 3: 11, 10 and 9 stay" "$(ids)" "10 11 9 "
like "each removal is a prune event" "$(tail -n 1 "$R/.zdd/events.jsonl")" '"event":"prune","release":"8"'

# A failed deploy (made, never linked) and a rollback: neither counts.
zdd-release -q -r "$R" --id 12 "$T/src" >/dev/null
zdd-link -q -r "$R" --bad 12 >/dev/null
zdd-release -q -r "$R" --id 13 "$T/src" >/dev/null
zdd-link -q -r "$R" 13 >/dev/null
zdd-link -q -r "$R" --rollback >/dev/null
zdd-release -q -r "$R" --id 14 "$T/src" >/dev/null
run zdd-prune -r "$R" -k 2 --json
is "bad and never-live releases do not count" "$(ids)" "10 11 14 "
like "--json: the state of each release removed" "$out" '"removed":\[\{"id":"9",[^}]*"state":"was-live","bad":false\},\{"id":"12",[^}]*"state":"bad","bad":true\},\{"id":"13",[^}]*"state":"bad"'
is "the release made after the live one (a deploy in progress) stays" "$(zdd-link -r "$R" --list | tail -n 1)" "14 staged"
is "the previous live release stays" "$(zdd-link -r "$R" --list | head -n 1)" "10 was-live"

# --keep-bad keeps the newest bad ones as evidence.
for id in 15 16; do
	zdd-release -q -r "$R" --id $id "$T/src" >/dev/null
	zdd-link -q -r "$R" $id >/dev/null
	zdd-link -q -r "$R" --rollback >/dev/null
done
run zdd-prune -r "$R" -k 1 --keep-bad 1
is "--keep-bad 1" "$rc:$(ids)" "0:11 16 "
run zdd-prune -r "$R" --keep-bad x
is "--keep-bad x: exit 64" "$rc" 64

# Random CodeDeploy-like ids.
R=$T/codedeploy
for id in d-RPCR1U3TW d-A7X2K9Q1E d-0ZQ4M8N2B d-9XK2LQ7PA; do
	zdd-release -q -r "$R" --id $id "$T/src" >/dev/null
	zdd-link -q -r "$R" $id >/dev/null
done
run zdd-prune -r "$R" -k 2
is "CodeDeploy ids: the two last deployed stay" "$(ids)" "d-0ZQ4M8N2B d-9XK2LQ7PA "

# A malformed ZDD_LOCK_WAIT does not break a dry run; --lock-wait wins.
run env ZDD_LOCK_WAIT=5s zdd-prune -r "$R" -n
is "bad ZDD_LOCK_WAIT: a dry run works" "$rc" 0
run env ZDD_LOCK_WAIT=5s zdd-prune -r "$R" --lock-wait 1
is "bad ZDD_LOCK_WAIT: --lock-wait overrides it" "$rc" 0
run env ZDD_LOCK_WAIT=5s zdd-prune -r "$R"
is "bad ZDD_LOCK_WAIT: exit 64 when the lock is taken" "$rc" 64

# A release that is a mount point is reported and kept; nothing under the
# mount is deleted.
R=$T/mnt
for id in 1 2 3; do
	zdd-release -q -r "$R" --id $id "$T/src" >/dev/null
	zdd-link -q -r "$R" $id >/dev/null
done
if unshare -m true 2>/dev/null; then
	run unshare -m sh -c "mount -t tmpfs none '$R/releases/1' &&
		echo data >'$R/releases/1/volume' &&
		zdd-prune -r '$R' -k 1; echo \"rc=\$?\"; cat '$R/releases/1/volume'"
	is "mount point: the others go, exit 74" "$(echo "$out" | tr '\n' ' ')" "$R/releases/2 rc=74 data "
	is "mount point: reported, kept" "$err" "zdd-prune: cannot remove releases/1: kept: Device or resource busy"
else
	pass "# skip unshare -m is not allowed here"
	pass "# skip unshare -m is not allowed here"
fi

# A tree deeper than any open-file limit: 2,500 directories, one in the
# other, a file in each, some read-only on the way; zdd-prune deletes it
# with 64 open files at most (the old walk held one per level).
# deeptree DIR DEPTH [NAME]: the chain under DIR; NAME, when given, is
# made at the bottom as a directory holding a file.
deeptree() { python3 - "$@" <<'PY'
import os, sys
os.chdir(sys.argv[1])
depth = int(sys.argv[2])
for i in range(depth):
    os.mkdir("d")
    with open("f", "w") as fh:
        fh.write("x")
    os.chdir("d")
if len(sys.argv) > 3:
    os.mkdir(sys.argv[3])
    with open(os.path.join(sys.argv[3], "f"), "w") as fh:
        fh.write("x")
for i in range(depth, 0, -1):
    os.chdir("..")
    if i % 300 == 0:
        os.chmod("d", 0o500)
PY
}
R=$T/deep
mkdir -p "$R"
for d in 1 2 3; do
	mkrel $d
	ln -sfn releases/$d "$R/current"
done
deeptree "$R/releases/1" 2500
deeptree "$R/releases/2" 2500
run sh -c "ulimit -n 64 && zdd-prune -r '$R' -k 1"
is "2,500 levels deep, ulimit -n 64: exit 0" "$rc" 0
is "2,500 levels deep: both go" "$(ids)" "3 "
is "2,500 levels deep: nothing left in .zdd/tmp" "$(ls -A "$R/.zdd/tmp")" ""
is "2,500 levels deep: no error" "$err" ""

# The same as an ordinary user, with a directory it may not empty at the
# bottom: the failure is named by the end of its path, the rest goes.
R=$T/deep-user
mkdir -p "$R"
for d in 1 2 3; do
	mkrel $d
	ln -sfn releases/$d "$R/current"
done
deeptree "$R/releases/1" 2100
deeptree "$R/releases/2" 2100 rootonly
chown -R 65534:65534 "$R"
python3 -c 'import os, sys
os.chdir(sys.argv[1])
for i in range(2100): os.chdir("d")
os.chown("rootonly", 0, 0)' "$R/releases/2"
run $U sh -c "ulimit -n 64 && zdd-prune -r '$R' -k 1"
is "as a user, 2,100 deep, ulimit -n 64: exit 77" "$rc" 77
is "as a user: the deletable release goes" "$out" "$R/releases/1"
like "as a user: the failure named by the end of its path" "$err" \
	'^zdd-prune: cannot remove releases/2 whole, left in \.zdd/tmp/\.2\.zdd-[A-Za-z0-9]+: \.\.\./(d/)+rootonly/f: Permission denied$'
is "as a user: all but the path to it went" \
	"$(find "$R/.zdd/tmp" -mindepth 1 | wc -l)" 2103
chown -R 65534:65534 "$R"
run $U sh -c "ulimit -n 64 && zdd-prune -r '$R' -k 1"
is "as a user, once fixed: the rest goes" "$rc:$(ls -A "$R/.zdd/tmp")" "0:"

# A mount deep inside an old release, deeper than the directories the walk
# keeps open: a tmpfs, and a bind mount of a directory on the same file
# system (same device).  Neither is entered; what is mounted stays.
R=$T/deepmnt
mkdir -p "$R" "$T/bound"
echo precious >"$T/bound/keep"
for d in 1 2 3; do
	mkrel $d
	ln -sfn releases/$d "$R/current"
done
deeptree "$R/releases/1" 40 m
deeptree "$R/releases/2" 40 m
m1=$R/releases/1/$(printf 'd/%.0s' $(seq 40))m
m2=$R/releases/2/$(printf 'd/%.0s' $(seq 40))m
if unshare -m true 2>/dev/null; then
	run unshare -m sh -c "mount --make-rprivate / &&
		mount -t tmpfs none '$m1' && echo data >'$m1/volume' &&
		mount --bind '$T/bound' '$m2' &&
		zdd-prune -r '$R' -k 1; echo \"rc=\$?\";
		cat '$R'/.zdd/tmp/.1.zdd-*/$(printf 'd/%.0s' $(seq 40))m/volume"
	is "deep mounts: exit 74, the tmpfs kept" "$(echo "$out" | tr '\n' ' ')" "rc=74 data "
	like "deep mounts: reported as another file system" "$err" \
		'^zdd-prune: cannot remove releases/1 whole, left in \.zdd/tmp/\.1\.zdd-[A-Za-z0-9]+: (d/){40}m: Invalid cross-device link'
	is "deep bind mount of the same file system: what it shows stays" "$(cat "$T/bound/keep")" precious
else
	for i in 1 2 3; do pass "# skip unshare -m is not allowed here"; done
fi

done_testing
