#!/bin/bash
# A tree made by Capistrano is a deploy root for zdd-link and zdd-prune,
# and Capistrano's own rollback works on a tree zdd changed.  Capistrano
# runs here for real, with its local backend (no ssh).
. "$(dirname "$0")/lib.sh"

if ! command -v cap >/dev/null; then
	fail "capistrano is not installed (tests/deps.sh installs it)"
	done_testing
	exit
fi
export USER=deployer
R=$T/root
git init -q -b main "$T/src"
echo v1 >"$T/src/index.html"
git -C "$T/src" add .
git -C "$T/src" -c user.email=ci@example.com -c user.name=ci commit -qm one
mkdir -p "$T/proj/config/deploy"
cat >"$T/proj/Capfile" <<EOF
require "capistrano/setup"
require "capistrano/deploy"
require "capistrano/scm/git"
install_plugin Capistrano::SCM::Git
EOF
cat >"$T/proj/config/deploy.rb" <<EOF
set :application, "app"
set :repo_url, "file://$T/src"
set :deploy_to, "$R"
set :branch, "main"
set :local_user, "deployer"
set :sshkit_backend, SSHKit::Backend::Local
EOF
echo 'server "localhost", roles: %w{app}' >"$T/proj/config/deploy/production.rb"
cap() { (cd "$T/proj" && command cap production "$@" >>"$T/cap.log" 2>&1); }

# Three deploys with Capistrano, a second apart (its ids are seconds).
for i in 1 2 3; do
	[ "$i" = 1 ] || sleep 1.1
	ok "cap deploy $i" cap deploy
done
set -- $(ls "$R/releases")
is "Capistrano made three releases" "$#" 3
I1=${1:-} I2=${2:-} I3=${3:-}
is "Capistrano's current is an absolute link" "$(readlink "$R/current")" "$R/releases/$I3"

run zdd-link -r "$R" --list
is "zdd-link --list reads Capistrano's tree" "$out" "$I1 was-live
$I2 was-live
$I3 current"
run zdd-link -r "$R" --show
is "zdd-link --show follows Capistrano's absolute link" "$out" "$R/releases/$I3"
run zdd-link -r "$R" --history
is "zdd-link --history reads Capistrano's revisions.log" "$out" "- $I3 deploy $I2
- $I2 deploy $I1
- $I1 deploy -"

run zdd-link -r "$R" --rollback
is "zdd-link --rollback on Capistrano's tree: exit 0" "$rc" 0
is "zdd-link --rollback: current is now relative" "$(readlink "$R/current")" "releases/$I2"
is "zdd-link --rollback: Capistrano's log line" "$(tail -n 1 "$R/revisions.log")" \
	"deployer rolled back to release $I2"
is "Capistrano's own lines are there too" \
	"$(grep -c "^Branch main (at [0-9a-f]*) deployed as release [0-9]* by deployer$" "$R/revisions.log")" 3

run zdd-prune -r "$R" -k 2
is "zdd-prune on Capistrano's tree: exit 0" "$rc" 0
is "zdd-prune removes the bad release only" "$out" "$R/releases/$I3"
is "zdd-prune leaves repo/ and shared/ alone" "$(ls "$R" | tr '\n' ' ')" \
	"current releases repo revisions.log shared "

ok "cap deploy:rollback on a tree zdd changed" cap deploy:rollback
is "Capistrano rolled back to the release before zdd's current" \
	"$(basename "$(readlink "$R/current")")" "$I1"
run zdd-link -r "$R" --show
is "zdd-link --show after Capistrano's rollback" "$out" "$R/releases/$I1"

sleep 1.1
ok "cap deploy after zdd" cap deploy
run zdd-link -r "$R" --list
like "zdd-link --list sees Capistrano's new release as current" "$(echo "$out" | tail -n 1)" '^[0-9]{14} current$'
I4=$(basename "$(readlink "$R/current")")
run zdd-link -r "$R" --rollback
is "zdd-link --rollback after Capistrano moved current: back to what it replaced" \
	"$rc:$(readlink "$R/current")" "0:releases/$I1"
run zdd-link -r "$R" --list
is "... and the release left is bad" "$(echo "$out" | tail -n 1)" "$I4 bad"
if [ "$nfail" -gt 0 ]; then
	sed 's/^/# /' "$T/cap.log" | tail -n 40
fi
done_testing
