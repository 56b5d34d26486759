#!/bin/bash
# examples/ansible: the playbook run for real by Debian's ansible-core
# against the three local hosts of examples/ansible/inventory.yml, each
# with its own deploy root, nginx and app: once healthy, once with one
# host failing its check (its batch rolled back, the next batch never
# touched).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/workflows-lib.sh"

# A healthy app may take a while to start on a busy machine; the run
# with an unhealthy host waits out a short deadline.
export FLEET_DIR=$T/fleet HEALTH_DEADLINE=20 HOME=$T/home \
	ANSIBLE_HOME=$T/home/.ansible ANSIBLE_LOCAL_TEMP=$T/home/tmp \
	ANSIBLE_REMOTE_TMP=$T/home/tmp ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 \
	ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_LOAD_CALLBACK_PLUGINS=0
mkdir -p "$HOME"
hosts="web1 web2 web3"
for h in $hosts; do
	np=$(free_port)
	ap=$(free_port)
	H=$(echo "$h" | tr a-z A-Z)
	export "${H}_NGINX_PORT=$np" "${H}_APP_PORT=$ap"
	mkdir -p "$FLEET_DIR/$h/app/shared"
	echo "HOST=$h" >"$FLEET_DIR/$h/app/shared/.env"
	wf_nginx "$FLEET_DIR/$h/nginx" "$np" "server {
		listen 127.0.0.1:$np;
		location / { proxy_pass http://127.0.0.1:$ap; }
	}"
	eval "np_$h=$np"
done
port() { eval "echo \$np_$1"; }
live() {
	for h in $hosts; do
		printf '%s:%s ' "$h" "$(basename "$(readlink "$FLEET_DIR/$h/app/current")")"
	done
}
serves() {
	for h in $hosts; do printf '%s/' "$(get "$(port "$h")")"; done
}
wf_artifact "$T/app-1.tgz" 1
wf_artifact "$T/app-2.tgz" 2
# Signed in the build stage; the hosts hold the public key.
mkdir -p "$T/keys"
(cd "$T/keys" && minisign -G -W -p ci.pub -s ci.key && minisign -G -W -p other.pub -s other.key) >/dev/null
for v in 1 2; do minisign -S -s "$T/keys/ci.key" -m "$T/app-$v.tgz" -t "build $v" >/dev/null; done
play() {
	run ansible-playbook -i "$EX/ansible/inventory.yml" "$EX/ansible/deploy.yml" \
		-e pubkey="$T/keys/ci.pub" "$@"
}

play -e artifact="$T/app-1.tgz"
is "healthy rollout: ansible-playbook exits 0" "$rc" 0
id1=$(basename "$(readlink "$FLEET_DIR/web1/app/current")")
like "... the controller chose a timestamp id" "$id1" '^[0-9]{14}$'
is "... every host is live on the same release id" "$(live)" \
	"web1:$id1 web2:$id1 web3:$id1 "
is "... every host serves it through its own nginx" "$(serves)" "1 web1/1 web2/1 web3/"
like "... in batches of two: web1 and web2, then web3" \
	"$(grep -E '^(PLAY|TASK) \[' <<<"$out" | grep -c 'Make the release')" '^2$'
like "... the recap has no failure" "$(grep -E '^web[123] ' <<<"$out" | tr -s ' ')" \
	'^web1 : ok=[0-9]+ changed=[0-9]+ unreachable=0 failed=0'
is "... each root holds its own shared .env" \
	"$(cat "$FLEET_DIR/web3/app/current/.env")" "HOST=web3"
is "... each host verified the build's signature" \
	"$(for h in $hosts; do python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["signature"]["trusted_comment"])' \
	"$FLEET_DIR/$h/app/.zdd/manifests/$id1.json"; done | sort -u)" "build 1"

# An artifact signed with another key: refused by the first batch, the
# rollout stops, no host changes.
cp "$T/app-2.tgz" "$T/forged.tgz"
minisign -S -s "$T/keys/other.key" -m "$T/forged.tgz" >/dev/null
play -e artifact="$T/forged.tgz" -e release_id=20990101000009
is "another key: ansible-playbook fails (exit 2)" "$rc" 2
like "... zdd-release says why" "$out" 'not verified: signed by another key'
is "... every host still on the old release, none made" "$(live)$(ls "$FLEET_DIR"/web*/app/releases | grep -c 20990101000009)" \
	"web1:$id1 web2:$id1 web3:$id1 0"

# web2's configuration breaks the app's health (a host-only problem).
echo "HEALTH=fail" >>"$FLEET_DIR/web2/app/shared/.env"
HEALTH_DEADLINE=4 play -e artifact="$T/app-2.tgz" -e release_id=20990101000002
is "one host unhealthy: ansible-playbook fails (exit 2)" "$rc" 2
like "... the playbook says why" "$out" 'release 20990101000002: unhealthy in this batch'
like "... with zdd-health's reason" "$out" 'status 503'
is "... the whole first batch is back on the old release, web3 never moved" \
	"$(live)" "web1:$id1 web2:$id1 web3:$id1 "
is "... the batch's new release is marked bad on both hosts" \
	"$(zdd-link -r "$FLEET_DIR/web1/app" --list | grep -c '20990101000002 bad'):$(zdd-link -r "$FLEET_DIR/web2/app" --list | grep -c '20990101000002 bad')" \
	"1:1"
is "... the second batch was never deployed: no release on web3" \
	"$(ls "$FLEET_DIR/web3/app/releases")" "$id1"
is "... and the apps serve the old release again" "$(serves)" "1 web1/1 web2/1 web3/"
like "... web1 rolled back although it was healthy" "$(tail -n 1 "$FLEET_DIR/web1/app/revisions.log")" \
	"rolled back to release $id1\$"

# Fixed, the same release goes out everywhere.
sed -i '/HEALTH=fail/d' "$FLEET_DIR/web2/app/shared/.env"
play -e artifact="$T/app-2.tgz" -e release_id=20990101000003
is "fixed: the next rollout passes" "$rc" 0
is "... every host on it" "$(live)" \
	"web1:20990101000003 web2:20990101000003 web3:20990101000003 "
is "... every host serves it" "$(serves)" "2 web1/2 web2/2 web3/"

done_testing
