#!/bin/sh
# An Envoyer-style deploy with zdd, to one deploy root or to several (one
# per server, or one per site on a server) in one step: make the release
# in every root with one id, run the deployment hooks in each new release
# (composer install, cache warm-up ...), link them all, reload the app
# server, check health, roll every root back if one check fails, prune,
# and say how it went.  A failing release or hook stops the deploy before
# any link moves: current stays where it was everywhere.
#
# usage: deploy.sh ARTIFACT ROOT URL [ROOT URL]...
#
# Each ROOT is a deploy root (releases/, current, shared/ with storage/
# and .env, which must exist) and URL its health check; neither may
# contain white space.  Settings come from the environment:
#
#   HOOKS        a file of hook commands, one a line, run with sh -e in the
#                new release, in order ('#' lines are comments)
#   RELOAD_CMD   reloads the app server after a link moves, run with
#                ZDD_ROOT set to the root (e.g. "sudo systemctl reload
#                php8.2-fpm"); none by default
#   RELEASE_ID   the release id in every root (default: the UTC time)
#   LINK_DIRS    directories shared between releases (default: storage)
#   LINK_FILES   files shared between releases (default: .env)
#   EXPECT       what the health check's JSON must hold (default status=UP)
#   DEADLINE     seconds the releases have to turn healthy (default 60)
#   KEEP         releases to keep in each root (default 5)
#   APP, APP_ENV the names in the notifications (default: app, production)
#   ZDD_NOTIFY_URL  where zdd-notify posts; no notification without it
#
#   LOCK_WAIT    seconds to wait for another deploy's lock (default 0)
#
# The whole deploy holds every root's deploy lock (zdd-lock(1)), from the
# first release to the last prune: a second deploy waits LOCK_WAIT
# seconds (none by default), then exits 75 naming the holder, its host
# and its CI run.
#
# Exit status: 0 deployed; 1 unhealthy and rolled back; 75 another deploy
# holds a lock; otherwise the status of the step that failed (zdd's
# sysexits codes, or the hook's).
set -u

if [ $# -lt 3 ] || [ $(($# % 2)) -ne 1 ]; then
	echo "usage: deploy.sh ARTIFACT ROOT URL [ROOT URL]..." >&2
	exit 64
fi
# Run again under the lock of each root in turn (roots are the arguments
# 2, 4, 6 ...); the zdd tools below work under the locks they inherit.
n=${ZDD_DEPLOY_LOCKED:-0}
eval "next=\${$((2 * n + 2)):-}"
if [ -n "$next" ]; then
	export ZDD_DEPLOY_LOCKED=$((n + 1))
	exec zdd-lock -r "$next" --lock-wait "${LOCK_WAIT:-0}" "$0" "$@"
fi
artifact=$1
shift
id=${RELEASE_ID:-$(date -u +%Y%m%d%H%M%S)}
app=${APP:-app}
app_env=${APP_ENV:-production}

say() {
	echo "deploy: $*" >&2
}

# Notifications never fail a deploy: a chat service that is down must not
# turn a good release into a failed one.
# notify STATUS MESSAGE [EVENT]: EVENT is zdd-link's --json output, whose
# release and previous release the message names instead of $id.
notify() {
	[ -n "${ZDD_NOTIFY_URL:-}" ] || return 0
	if [ -n "${3:-}" ]; then
		printf '%s\n' "$3" |
			zdd-notify -q -a "$app" -e "$app_env" -s "$1" --event - "$2"
	else
		zdd-notify -q -a "$app" -e "$app_env" --release "$id" -s "$1" "$2"
	fi || say "notification not sent"
}

reload() {
	[ -n "${RELOAD_CMD:-}" ] || return 0
	ZDD_ROOT=$1 sh -c "$RELOAD_CMD"
}

run_hooks() {
	[ -n "${HOOKS:-}" ] || return 0
	while IFS= read -r cmd; do
		case $cmd in '' | '#'*) continue ;; esac
		say "hook in ${1##*/}: $cmd"
		(cd "$1" && sh -ec "$cmd") </dev/null || return
	done <"$HOOKS"
}

# A release whose hooks failed never went live: marked bad in every root
# it was made in, so that zdd-prune does not count it and no rollback
# lands on it (rollback follows current's history, which never had it).
discard() {
	for r in $made; do
		zdd-link -q -r "$r" --bad "$id" >/dev/null
	done
}

fail() {
	st=$1
	shift
	discard
	say "$*; current is unchanged"
	notify "$st" "$*"
	exit "$st"
}

notify started "deploying ${artifact##*/}"

# 1. A release in every root, and its hooks; nothing is live yet.
link_opts=
for d in ${LINK_DIRS-storage}; do link_opts="$link_opts --link-dir $d"; done
for f in ${LINK_FILES-.env}; do link_opts="$link_opts --link-file $f"; done
roots=
urls=
made=
while [ $# -gt 0 ]; do
	root=$1 url=$2
	shift 2
	# shellcheck disable=SC2086
	rel=$(zdd-release -r "$root" --id "$id" $link_opts "$artifact") ||
		fail $? "release $id could not be made in $root"
	made="$made $root"
	run_hooks "$rel" || fail $? "a hook failed in $rel"
	roots="$roots $root"
	urls="$urls $url"
done

# 2. Link every root, reload; a link that fails takes back the others.
linked=
for root in $roots; do
	zdd-link -q -r "$root" "$id" >/dev/null || {
		st=$?
		for r in $linked; do
			zdd-link -q -r "$r" --rollback >/dev/null && reload "$r"
		done
		made=
		fail "$st" "$root could not be linked"
	}
	linked="$linked $root"
	reload "$root" || say "reload of $root failed"
done

# 3. Health: every URL at once; one that fails rolls every root back.
# shellcheck disable=SC2086
if ! zdd-health -d "${DEADLINE:-60}" -e "${EXPECT:-status=UP}" $urls; then
	# The first root's --json names both ends of the rollback, for the
	# notification: "from the failed release to the one live again".
	ev=
	for root in $roots; do
		if out=$(zdd-link -r "$root" --rollback --json); then
			ev=${ev:-$out}
			say "$root rolled back to $(basename "$(zdd-link -r "$root" --show)")"
		fi
		reload "$root"
	done
	notify rollback "release $id was unhealthy and rolled back" "$ev"
	exit 1
fi

# 4. Prune; a prune that fails is reported but the deploy stands.
for root in $roots; do
	zdd-prune -q -r "$root" -k "${KEEP:-5}" >/dev/null ||
		say "prune of $root failed"
done
notify success "release $id is live"
say "release $id is live in$roots"
