#!/bin/sh
# AfterInstall: the artifact the agent installed becomes a release named
# after the deployment, so that every instance of the group agrees on its
# name, once its signature is verified.  Nothing goes live yet.
set -u
# shellcheck source=/dev/null
. "$(dirname "$0")/env.sh"
rel=$(zdd-release --id "$DEPLOYMENT_ID" --link-dir storage --pubkey "$PUBKEY" \
    "$ARTIFACT") ||
	exit
log "made $rel"
