#!/bin/sh
# A Jenkins post-build step with zdd (seed 001): the artifact this build
# made goes live on the develop root, is checked there, and only then is
# the same artifact, with the same release id, promoted to the production
# root on the same machine.  Each stage is one chain of zdd tools joined
# by exit codes; a stage that fails is rolled back and stops the
# promotion, so production only ever runs what develop ran healthy.
#
# usage: post-build.sh ARTIFACT
#
# ARTIFACT.minisig is its signature, made in the build stage; zdd-release
# unpacks nothing that PUBKEY's key did not sign (exit 65 otherwise).
#
# From the environment (the agent node's, or the Jenkinsfile's):
#   DEVELOP_ROOT, DEVELOP_URL        the develop deploy root, its health URL
#   PRODUCTION_ROOT, PRODUCTION_URL  the production ones
#   PUBKEY       the minisign public key of the build's signing key
#   RELOAD_CMD   reloads the app server after a link, with ZDD_ROOT set
#   EXPECT       the health check's JSON expectation (default status=UP)
#   DEADLINE     seconds a release has to turn healthy (default 60)
#   KEEP         releases kept in each root (default 5)
#   ZDD_NOTIFY_URL  the webhook (a Jenkins credential); none: no message
# Jenkins' own GIT_BRANCH, GIT_COMMIT, JOB_NAME, BUILD_NUMBER and BUILD_URL
# are read by zdd-release (revisions.log) and zdd-notify (the message).
#
# The Jenkinsfile runs it under both roots' deploy locks (zdd-lock(1)), so
# that no other deploy to either root runs between its steps.
#
# Exit status: 0 promoted; 1 unhealthy (rolled back); else the failed
# step's status.
set -u

if [ $# -ne 1 ]; then
	echo "usage: post-build.sh ARTIFACT" >&2
	exit 64
fi
artifact=$1
: "${DEVELOP_ROOT:?}" "${DEVELOP_URL:?}" "${PRODUCTION_ROOT:?}" "${PRODUCTION_URL:?}"
: "${PUBKEY:?post-build: set PUBKEY to the public key of the signing key}"
id=${RELEASE_ID:-$(date -u +%Y%m%d%H%M%S)}

# notify ENV STATUS MESSAGE [EVENT]: EVENT is zdd-link's --json output,
# whose release and previous release the message names instead of $id.
notify() {
	[ -n "${ZDD_NOTIFY_URL:-}" ] || return 0
	if [ -n "${4:-}" ]; then
		printf '%s\n' "$4" |
			zdd-notify -q -e "$1" -s "$2" --event - "$3" || true
	else
		zdd-notify -q -e "$1" --release "$id" -s "$2" "$3" || true
	fi
}
reload() {
	[ -n "${RELOAD_CMD:-}" ] || return 0
	ZDD_ROOT=$1 sh -c "$RELOAD_CMD"
}

# deploy ENV ROOT URL: release, link, reload, health; roll back if the
# check fails (a release that never went live is just not linked).
deploy() {
	# Two steps rather than a pipe: the release's path is needed below.
	rel=$(zdd-release -r "$2" --id "$id" --pubkey "$PUBKEY" "$artifact") &&
		zdd-link -r "$2" "$rel" >/dev/null &&
		reload "$2" &&
		zdd-health -d "${DEADLINE:-60}" -e "${EXPECT:-status=UP}" "$3"
	st=$?
	if [ "$st" -ne 0 ]; then
		if [ "$(zdd-link -r "$2" --show 2>/dev/null)" = "$2/releases/$id" ]; then
			# --json names both ends: the notification says
			# "from the failed release to the one live again".
			ev=$(zdd-link -r "$2" --rollback --json) && reload "$2"
			notify "$1" rollback \
			    "release $id failed on $1 and was rolled back" "$ev"
		else
			notify "$1" "$st" "release $id could not be made on $1"
		fi
		echo "post-build: $1 failed ($st); nothing promoted further" >&2
		exit "$st"
	fi
	zdd-prune -q -r "$2" -k "${KEEP:-5}" >/dev/null
	notify "$1" success "release $id is live on $1"
}

deploy develop "$DEVELOP_ROOT" "$DEVELOP_URL"
deploy production "$PRODUCTION_ROOT" "$PRODUCTION_URL"
echo "post-build: release $id promoted from develop to production" >&2
