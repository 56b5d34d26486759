#!/bin/sh
# ValidateService: the health gate.  A release that fails it is rolled
# back on the spot, so the previous release is live again before
# CodeDeploy even reports the deployment failed.
set -u
# shellcheck source=/dev/null
. "$(dirname "$0")/env.sh"
if zdd-health -d "$DEADLINE" -e status=UP "$HEALTH_URL"; then
	log "healthy"
	zdd-prune -q -k "$KEEP" >/dev/null
	[ -z "${ZDD_NOTIFY_URL:-}" ] ||
		zdd-notify -q -s success --release "$DEPLOYMENT_ID" || true
	exit 0
fi
# zdd-link's --json names both ends, for the notification to say "from
# the failed release to the one live again".
ev=$(zdd-link -q --rollback --json) && sh -c "$RELOAD_CMD"
log "unhealthy; rolled back to $(basename "$(zdd-link --show)")"
[ -z "${ZDD_NOTIFY_URL:-}" ] || [ -z "$ev" ] ||
	printf '%s\n' "$ev" | zdd-notify -q -s rollback --event - || true
exit 1
