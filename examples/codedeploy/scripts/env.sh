# Sourced by every hook: where things are on this instance.  Each setting
# may come from the agent's environment instead; the deploy root is one
# per deployment group (staging, production ...) by default.
# shellcheck shell=sh
: "${APPLICATION_NAME:=shop}" "${DEPLOYMENT_GROUP_NAME:=production}"
ZDD_ROOT=${ZDD_ROOT:-/srv/$APPLICATION_NAME/$DEPLOYMENT_GROUP_NAME}
ARTIFACT=${ARTIFACT:-/opt/codedeploy/shop/app.tgz}
PUBKEY=${PUBKEY:-/etc/zdd/shop.pub}
HEALTH_URL=${HEALTH_URL:-http://127.0.0.1/health}
RELOAD_CMD=${RELOAD_CMD:-systemctl reload php8.2-fpm nginx}
DEADLINE=${DEADLINE:-120}
KEEP=${KEEP:-5}
export ZDD_ROOT

log() {
	echo "codedeploy: $LIFECYCLE_EVENT of $DEPLOYMENT_ID" \
		"($APPLICATION_NAME/$DEPLOYMENT_GROUP_NAME): $*" >&2
}

# Each hook runs under the deploy lock (zdd-lock(1)) once the root exists
# (the first zdd-release makes it, under its own lock): a deploy of another
# group or a hand-run zdd tool on the same root waits for it (LOCK_WAIT
# seconds, default 60) or the hook fails with 75, naming the holder.
if [ -z "${ZDD_HOOK_LOCKED:-}" ] && [ -d "$ZDD_ROOT" ]; then
	export ZDD_HOOK_LOCKED=1
	exec zdd-lock --lock-wait "${LOCK_WAIT:-60}" "$0" "$@"
fi
