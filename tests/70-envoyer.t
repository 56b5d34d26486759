#!/bin/bash
# examples/envoyer/deploy.sh against a real nginx that serves each deploy
# root's current/public, with a real webhook receiver: a release, its
# hooks, the link, the reload, the health gate, the automatic rollback,
# the prune and the notifications, to one root and to two in one step.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/workflows-lib.sh"

D=$EX/envoyer/deploy.sh
R1=$T/srv1/app
R2=$T/srv2/app
mkdir -p "$R1/shared" "$R2/shared"
echo "APP_KEY=one" >"$R1/shared/.env"
echo "APP_KEY=two" >"$R2/shared/.env"
p1=$(free_port)
p2=$(free_port)
wf_nginx "$T/nginx" "$p1" "
	server { listen 127.0.0.1:$p1; root $R1/current/public; }
	server { listen 127.0.0.1:$p2; root $R2/current/public; }"
wait_port "$p2"
wf_receiver
U1=http://127.0.0.1:$p1/health.json
U2=http://127.0.0.1:$p2/health.json
cat >"$T/hooks" <<'H'
# the app's composer install and cache warm-up
./bin/install
test -f vendor/autoload.php
H
export HOOKS=$T/hooks RELOAD_CMD="$NGX -s reload" DEADLINE=3 APP=shop

for v in 1 2 4 5 6; do wf_artifact "$T/app-$v.tgz" "$v"; done
wf_artifact "$T/app-3.tgz" 3 broken
wf_artifact "$T/app-hf.tgz" 9 hookfail

# --- the first deploy ----------------------------------------------------
run "$D" "$T/app-1.tgz" "$R1" "$U1"
is "first deploy: exit 0" "$rc" 0
is "... nothing on stdout" "$out" ""
id1=$(basename "$(readlink "$R1/current")")
like "... current points at a timestamped release" "$(readlink "$R1/current")" \
	'^releases/[0-9]{14}$'
is "... nginx serves it" "$(get "$p1")" "version 1"
is "... the hooks ran in the new release, in order" "$(grep hook <<<"$err")" \
	"deploy: hook in $id1: ./bin/install
deploy: hook in $id1: test -f vendor/autoload.php"
ok "... composer's vendor/ is in the release" test -f "$R1/releases/$id1/vendor/autoload.php"
is "... storage/ is the shared one" "$(readlink "$R1/releases/$id1/storage")" ../../shared/storage
is "... .env is the shared one, and the hook read it" \
	"$(cat "$R1/releases/$id1/bootstrap/cache/config")" "APP_KEY=one"
is "... notified: started, then success" "$(wf_events)" "started $id1
success $id1"
unlike "... the webhook's secret is never printed" "$err" T0KEN

# --- a failing hook --------------------------------------------------------
run env RELEASE_ID=20990101000002 "$D" "$T/app-hf.tgz" "$R1" "$U1"
is "failing hook: the hook's exit status" "$rc" 2
like "... the hook's own message comes through" "$err" 'could not resolve dependencies'
like "... says a hook failed, and that current is unchanged" "$err" \
	'hook failed in .*/20990101000002; current is unchanged'
is "... the failed release is marked bad (no rollback lands on it)" \
	"$(zdd-link -r "$R1" --list | grep 20990101000002)" "20990101000002 bad"
is "... nothing under .zdd was touched by hand" "$(grep -c '"event":"bad","release":"20990101000002"' "$R1/.zdd/events.jsonl")" 1
is "... current untouched" "$(readlink "$R1/current")" "releases/$id1"
is "... nginx still serves the old release" "$(get "$p1")" "version 1"
is "... revisions.log has only the first deploy" "$(wc -l <"$R1/revisions.log")" 1
is "... notified: started, then failure" "$(wf_events)" "started 20990101000002
failure 20990101000002"

# --- a missing artifact ----------------------------------------------------
run env RELEASE_ID=20990101000003 "$D" "$T/nope.tgz" "$R1" "$U1"
is "missing artifact: zdd-release's 66" "$rc" 66
is "... current untouched" "$(readlink "$R1/current")" "releases/$id1"
is "... no such release made" "$(ls "$R1/releases" | grep -c 20990101000003)" 0
is "... notified failure" "$(wf_events)" "started 20990101000003
failure 20990101000003"

# --- another deploy holds the lock ------------------------------------------
# One process that holds the lock, so that stopping it frees the lock.
spawn sh -c 'exec 9>>"$1" && flock 9 && exec sleep 30' sh "$R1/.zdd/lock"
lockpid=$last_pid
i=0
until ! flock -n "$R1/.zdd/lock" true || [ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done
run env RELEASE_ID=20990101000013 "$D" "$T/app-2.tgz" "$R1" "$U1"
stop "$lockpid"
is "a concurrent deploy: zdd's 75 (try again later)" "$rc" 75
like "... zdd-lock names the holder" "$err" "^zdd-lock: $R1 is locked: pid $lockpid "
is "... nothing made" "$(ls "$R1/releases" | grep -c 20990101000013)" 0
is "... current untouched" "$(readlink "$R1/current")" "releases/$id1"
is "... nothing notified: the deploy never started" "$(wf_events)" ""

# --- an unhealthy release rolls back by itself -----------------------------
run env RELEASE_ID=20990101000004 "$D" "$T/app-3.tgz" "$R1" "$U1"
is "unhealthy release: exit 1" "$rc" 1
like "... zdd-health says why" "$err" 'zdd-health: .*health.json'
like "... and where it rolled back to" "$err" "rolled back to $id1"
is "... current is the old release again" "$(readlink "$R1/current")" "releases/$id1"
is "... nginx serves the old release" "$(get "$p1")" "version 1"
like "... revisions.log says it, in Capistrano's words" "$(tail -n 1 "$R1/revisions.log")" \
	"^[a-z]+ rolled back to release $id1\$"
run zdd-link -r "$R1" --list
like "... the bad release is marked bad" "$out" '20990101000004 bad'
is "... notified: started, then the rollback from the bad release to the live one" \
	"$(wf_events status previous release)" "started - 20990101000004
rollback 20990101000004 $id1"

# --- the same artifact to two roots in one step, then prune ----------------
run env RELEASE_ID=20990101000005 KEEP=1 "$D" "$T/app-4.tgz" "$R1" "$U1" "$R2" "$U2"
is "two roots: exit 0" "$rc" 0
is "... root 1 is live on the new release" "$(readlink "$R1/current")" releases/20990101000005
is "... root 2 too, with the same id" "$(readlink "$R2/current")" releases/20990101000005
is "... both servers serve it" "$(get "$p1") $(get "$p2")" "version 4 version 4"
is "... each with its own .env" "$(cat "$R2/current/bootstrap/cache/config")" "APP_KEY=two"
s1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sha256"])' \
	"$R1/.zdd/manifests/20990101000005.json")
s2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sha256"])' \
	"$R2/.zdd/manifests/20990101000005.json")
is "... from the same artifact (same SHA-256 in both manifests)" "$s1" \
	"$(sha256sum <"$T/app-4.tgz" | cut -d' ' -f1)"
is "... root 2's manifest agrees" "$s2" "$s1"
is "... prune -k 1 left only the live release in root 1" "$(ls "$R1/releases")" 20990101000005
is "... notified once for both" "$(wf_events)" "started 20990101000005
success 20990101000005"

# --- two roots, one unhealthy: both roll back ------------------------------
echo "HEALTH=fail" >>"$R2/shared/.env"
run env RELEASE_ID=20990101000006 "$D" "$T/app-5.tgz" "$R1" "$U1" "$R2" "$U2"
is "one root unhealthy: exit 1" "$rc" 1
like "... zdd-health names the failing server only" "$err" "127.0.0.1:$p2/health.json"
unlike "... not the healthy one" "$err" "zdd-health: http://127.0.0.1:$p1/"
is "... root 1 rolled back too" "$(readlink "$R1/current")" releases/20990101000005
is "... root 2 rolled back" "$(readlink "$R2/current")" releases/20990101000005
is "... both serve the old release" "$(get "$p1") $(get "$p2")" "version 4 version 4"
is "... notified rollback" "$(wf_events status previous release)" "started - 20990101000006
rollback 20990101000006 20990101000005"

# --- usage -----------------------------------------------------------------
run "$D" "$T/app-6.tgz" "$R1"
is "a root without its URL: 64" "$rc" 64
like "... with the usage" "$err" '^usage: deploy.sh ARTIFACT ROOT URL'

# --- the README's first chain, as printed there -------------------------
chain=$(wf_readme_chain 1)
like "README: the first chain is a pipe with a rollback" "$chain" 'zdd-link -r /srv/app --rollback'
readme() {
	run sh -c "$(sed -e "s|/srv/app|$R1|g" -e "s|http://127.0.0.1:8080/health|$U1|" \
		-e "s|-d 30 |-d 3 |" -e "s|app.tgz|$1|" <<<"$chain")"
}
readme "$T/app-6.tgz"
is "README chain, good artifact: exit 0" "$rc" 0
is "... version 6 is live" "$(get "$p1")" "version 6"
live=$(readlink "$R1/current")
readme "$T/app-3.tgz"
is "README chain, unhealthy artifact: the rollback's exit 0" "$rc" 0
is "... rolled back: the previous release is live" "$(readlink "$R1/current"):$(get "$p1")" \
	"$live:version 6"
readme "$T/nope.tgz"
is "README chain, missing artifact: zdd-link's 64 (no release on stdin)" "$rc" 64
is "... the live release was not rolled back" "$(readlink "$R1/current")" "$live"

# --- the example files themselves ----------------------------------------
# Every example script is POSIX sh that shellcheck passes, and every YAML
# file parses (the CI files are run by tests/71..74).
cd "$TOP" || exit 1
for f in examples/*/*.sh examples/*/scripts/*.sh; do
	run shellcheck -s sh -x "$f"
	is "$f: shellcheck clean" "$rc:$out" "0:"
done
for f in examples/*/*.yml examples/*/.travis.yml; do
	ok "$f: YAML that parses" python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$f"
done
# zdd(7) gives each example its section, and the README names each.
for ex in envoyer jenkins nginx-include sites-enabled codedeploy ansible; do
	ok "zdd.7 has a section for examples/$ex" grep -q "^\.Ss .*Pa examples/$ex\$" man/zdd.7
	ok "README.md names examples/$ex" grep -q "^| \`$ex/\` |" README.md
done
is "README: make demo and make check come first" \
	"$(grep -m 2 -E '^make ' README.md | cut -d' ' -f1-2 | tr '\n' ' ')" "make demo make check "
run env HOME="$T" ANSIBLE_LOCAL_TEMP="$T/at" ansible-playbook --syntax-check \
	-i examples/ansible/inventory.yml examples/ansible/deploy.yml
is "the playbook passes ansible-playbook --syntax-check" "$rc" 0

done_testing
