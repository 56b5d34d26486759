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
zdd-link -q --rollback >/dev/null && sh -c "$RELOAD_CMD"
log "unhealthy; rolled back to $(basename "$(zdd-link --show)")"
[ -z "${ZDD_NOTIFY_URL:-}" ] ||
	zdd-notify -q -s rollback --release "$DEPLOYMENT_ID" || true
exit 1
