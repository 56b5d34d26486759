#!/bin/sh
# Blue/green behind nginx with zdd (seeds 003 and 004): the new version
# starts on the idle colour, zdd-health waits until it answers (no
# "sleep 45"), zdd-switch points nginx at it (nginx -t, reload, and the
# old workers drained), the old colour stops, old releases are pruned.
# The live colour is never touched until the new one is healthy.
#
# usage: deploy.sh ARTIFACT
#
# ARTIFACT.minisig is its minisign signature, made where it was built;
# nothing is unpacked that PUBKEY's key did not sign.
#
# The deploy root ($ZDD_ROOT) holds the releases and two links, blue and
# green: the release each colour runs.  The include file must name one of
# the colours before the first deploy ("zdd-switch blue" writes it); the
# first deploy then goes to the other one.  Settings come from the
# environment (a self-hosted runner's .env, Travis settings, a unit file):
#
#   ZDD_ROOT     the deploy root (required)
#   PUBKEY       the minisign public key the build signs with (required)
#   SWITCH_OPTS  zdd-switch's options: the targets, the include file (or
#                -l/-a for sites-enabled), --nginx-arg ... (default: its
#                own defaults, blue=127.0.0.1:8081 green=127.0.0.1:8082
#                and /etc/nginx/conf.d/service-url.inc)
#   START_CMD    starts a colour: sh -c "$START_CMD" start NAME ADDR DIR
#                (default: sudo systemctl restart app@NAME)
#   STOP_CMD     stops a colour: sh -c "$STOP_CMD" stop NAME ADDR
#                (default: sudo systemctl stop app@NAME)
#   HEALTH_PATH  the new colour's health check path (default /health)
#   DEADLINE     seconds it has to turn healthy (default 60)
#   DRAIN        seconds the old nginx workers have to finish (default 60)
#   RELEASE_ID   the release id (default: the UTC time)
#   KEEP         releases to keep (default 5; blue's and green's are kept)
#   LOCK_WAIT    seconds to wait for another deploy's lock (default 0)
#   ZDD_NOTIFY_URL  where zdd-notify posts; no notification without it
#
# The whole deploy holds the root's deploy lock (zdd-lock(1)): two
# overlapping deploys never both choose the same idle colour; the second
# waits LOCK_WAIT seconds, then exits 75 naming the holder.
#
# Exit status: 0 switched; 1 the new colour was unhealthy; otherwise the
# status of the zdd step that failed.  On any failure after the start,
# the new colour is stopped and its link put back, and nginx still sends
# traffic to the old one.
set -u

if [ $# -ne 1 ]; then
	echo "usage: deploy.sh ARTIFACT" >&2
	exit 64
fi
: "${ZDD_ROOT:?deploy.sh: set ZDD_ROOT to the deploy root}"
: "${PUBKEY:?deploy.sh: set PUBKEY to the public key of the signing key}"
export ZDD_ROOT
# Run again under the lock; the zdd tools below work under it.
if [ -z "${ZDD_DEPLOY_LOCKED:-}" ]; then
	export ZDD_DEPLOY_LOCKED=1
	exec zdd-lock --lock-wait "${LOCK_WAIT:-0}" sh "$0" "$@"
fi
sw=${SWITCH_OPTS-}
# The commands are run by sh -c with NAME, ADDR and DIR as $1, $2, $3.
# shellcheck disable=SC2016
start=${START_CMD-'sudo systemctl restart "app@$1"'}
# shellcheck disable=SC2016
stopc=${STOP_CMD-'sudo systemctl stop "app@$1"'}

say() {
	echo "deploy: $*" >&2
}
# notify STATUS MESSAGE [EVENT]: EVENT is zdd-link's --json output, whose
# release and previous release the message names instead of the new one.
notify() {
	[ -n "${ZDD_NOTIFY_URL:-}" ] || return 0
	if [ -n "${3:-}" ]; then
		printf '%s\n' "$3" | zdd-notify -q -s "$1" --event - "$2"
	else
		zdd-notify -q ${rel:+--release "${rel##*/}"} -s "$1" "$2"
	fi || say "notification not sent"
}
die() {
	st=$1
	shift
	say "$*"
	notify failure "$*"
	exit "$st"
}

# 1. Which colour is idle: that is where the new version goes.
# shellcheck disable=SC2086
idle=$(zdd-switch $sw idle) || die $? "cannot tell the idle colour"
new=${idle%% *} newaddr=${idle#* }
# shellcheck disable=SC2086
live=$(zdd-switch $sw status) || die $? "cannot tell the live colour"
old=${live%% *} oldaddr=${live#* }

# 2. The release, linked as the idle colour; current is not involved.
rel=$(zdd-release ${RELEASE_ID:+--id "$RELEASE_ID"} --pubkey "$PUBKEY" "$1") ||
	die $? "no release made"
prev=$(zdd-link -q --name "$new" --show 2>/dev/null)
zdd-link -q --name "$new" "$rel" >/dev/null || die $? "cannot link $new"
notify started "deploying ${rel##*/} to $new"

# undo: the new colour stops and its link goes back to the release it
# had.  The rollback follows the colour's own history (never the other
# colour's releases) and marks the new release bad, so zdd-prune does not
# count it; linking the previous release by name after it changes nothing
# then, and covers a colour whose history the log does not hold.
undo() {
	sh -c "$stopc" stop "$new" "$newaddr"
	ev=$(zdd-link -q --name "$new" --rollback --json 2>/dev/null)
	if [ -n "$prev" ]; then
		zdd-link -q --name "$new" "$prev" >/dev/null
	fi
}

# 3. Start it, and wait until it is healthy instead of sleeping.
sh -c "$start" start "$new" "$newaddr" "$ZDD_ROOT/$new" ||
	die $? "$new did not start"
if ! zdd-health -d "${DEADLINE:-60}" "http://$newaddr${HEALTH_PATH:-/health}"; then
	undo
	say "$new (${rel##*/}) is unhealthy; $old still serves"
	notify rollback "${rel##*/} was unhealthy on $new; $old still serves" "$ev"
	exit 1
fi

# 4. Switch nginx, wait for the old workers, then stop the old colour.
# shellcheck disable=SC2086
zdd-switch $sw --drain="${DRAIN:-60}" "$new" >/dev/null || {
	st=$?
	undo
	die "$st" "nginx was not switched to $new; $old still serves"
}
sh -c "$stopc" stop "$old" "$oldaddr" || say "$old did not stop"

# 5. Old releases go; those blue and green point at stay.
zdd-prune -q -k "${KEEP:-5}" >/dev/null || say "prune failed"
say "$new (${rel##*/}) is live on $newaddr"
notify success "${rel##*/} is live on $new"
