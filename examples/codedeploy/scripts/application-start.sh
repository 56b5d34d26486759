#!/bin/sh
# ApplicationStart: current moves to the new release in one rename, and
# the app server reloads gracefully.
set -u
# shellcheck source=/dev/null
. "$(dirname "$0")/env.sh"
zdd-link -q "$DEPLOYMENT_ID" >/dev/null || exit
log "current is $DEPLOYMENT_ID"
sh -c "$RELOAD_CMD"
