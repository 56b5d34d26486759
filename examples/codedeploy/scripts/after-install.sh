#!/bin/sh
# AfterInstall: the files the agent installed become a release named after
# the deployment, so that every instance of the group agrees on its name.
# Nothing goes live yet.
set -u
# shellcheck source=/dev/null
. "$(dirname "$0")/env.sh"
rel=$(zdd-release --id "$DEPLOYMENT_ID" --link-dir storage "$BUNDLE_DIR") ||
	exit
log "made $rel"
