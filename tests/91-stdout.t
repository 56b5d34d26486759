#!/bin/bash
# stdout is every tool's product: a result that cannot be written (a full
# disk, a closed descriptor, a closed pipe) is exit 74 with a message,
# in plain and --json modes alike, never a silent 0.
. "$(dirname "$0")/lib.sh"

R=$T/root
mkdir -p "$T/app" && echo v1 >"$T/app/VERSION"
tar -C "$T" -czf "$T/app.tgz" app
rel=$(zdd-release -r "$R" --strip 1 --id r1 "$T/app.tgz")
zdd-link -r "$R" r1 >/dev/null
zdd-release -r "$R" --strip 1 --id r2 "$T/app.tgz" >/dev/null
# A failed deploy, so that zdd-prune has something to print (a release
# made after the live one and not marked bad is a deploy in progress).
zdd-link -r "$R" --bad r2 >/dev/null
printf 'set $service_url http://127.0.0.1:8081;\n' >"$T/svc.inc"
port=$(free_port)
spawn python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
while True: s.accept()[0].close()' "$port"
wait_port "$port"

# Each case: a name and a command that prints its result on stdout.
cases=(
	"zdd-link --json|zdd-link -r $R --json r1"
	"zdd-link --show|zdd-link -r $R --show"
	"zdd-link --list --json|zdd-link -r $R --list --json"
	"zdd-prune -n --json|zdd-prune -r $R -n -k 1 --json"
	"zdd-prune -n|zdd-prune -r $R -n -k 0"
	"zdd-health --json|zdd-health --json tcp://127.0.0.1:$port"
	"zdd-switch status --json|zdd-switch -f $T/svc.inc --json status"
	"zdd-switch status|zdd-switch -f $T/svc.inc status"
	"zdd-notify -n|zdd-notify -n -u https://hooks.slack.com/services/T/B/x -s success hi"
	"zdd-release -V|zdd-release -V"
	"zdd-link --help|zdd-link --help"
)
for c in "${cases[@]}"; do
	name=${c%%|*}
	cmd=${c#*|}
	# shellcheck disable=SC2086
	run sh -c "$cmd >/dev/full"
	is "$name >/dev/full: exit 74" "$rc" 74
	like "$name >/dev/full: says stdout" "$err" '^zdd-[a-z]+: stdout: '
	# shellcheck disable=SC2086
	run sh -c "$cmd >&-"
	is "$name >&-: exit 74" "$rc" 74
	like "$name >&-: says stdout" "$err" '^zdd-[a-z]+: stdout: '
done

# The result still counts as written when it was: the same commands exit
# 0 on a working stdout.
for c in "${cases[@]}"; do
	name=${c%%|*}
	cmd=${c#*|}
	run sh -c "$cmd"
	is "$name: exit 0 on a working stdout" "$rc" 0
done

# A failure keeps its own exit code; a lost stdout does not hide it.
run sh -c "zdd-link -r $R --json nosuch >/dev/full"
is "a missing release with stdout full: still 66" "$rc" 66

# --json output lost by zdd-release: 74, as for the plain path.
run sh -c "zdd-release -r $R --strip 1 --json $T/app.tgz >&-"
is "zdd-release --json >&-: exit 74" "$rc" 74

done_testing
