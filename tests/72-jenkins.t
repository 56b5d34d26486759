#!/bin/bash
# examples/jenkins: the Jenkinsfile's sh steps run as Jenkins runs them
# (stages in order, then post success or failure), with Jenkins'
# variables, on one machine with a develop root and a production root
# behind a real nginx: one artifact goes live on develop, is checked, and
# is promoted to production; a bad one never reaches production.  The
# build signs the artifact with minisign, both roots verify it: a build
# signed with another key is deployed nowhere.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/workflows-lib.sh"

DEV=$T/develop/app
PROD=$T/production/app
pd=$(free_port)
pp=$(free_port)
wf_nginx "$T/nginx" "$pd" "
	server { listen 127.0.0.1:$pd; root $DEV/current/public; }
	server { listen 127.0.0.1:$pp; root $PROD/current/public; }"
wait_port "$pp"
wf_receiver
wf_artifact "$T/app-1.tgz" 1
wf_artifact "$T/app-2.tgz" 2 broken

# The signing key, a Jenkins secret file; its public key on the agent.
mkdir -p "$T/keys"
(cd "$T/keys" && minisign -G -W -p ci.pub -s ci.key && minisign -G -W -p other.pub -s other.key) >/dev/null
keyid=$(sed -n 's/^untrusted comment: minisign public key //p' "$T/keys/ci.pub")

# The agent node's environment, and Jenkins' own variables for a build.
export PUBKEY=$T/keys/ci.pub DEVELOP_ROOT=$DEV DEVELOP_URL=http://127.0.0.1:$pd/health.json \
	PRODUCTION_ROOT=$PROD PRODUCTION_URL=http://127.0.0.1:$pp/health.json \
	RELOAD_CMD="$NGX -s reload" DEADLINE=3 \
	JOB_NAME=shop BUILD_URL=http://jenkins.example/job/shop/41/ \
	GIT_BRANCH=origin/main GIT_COMMIT=0a1b2c3d4e5f
WS=$T/workspace
mkdir -p "$WS/examples"
cp -r "$EX/jenkins" "$WS/examples/"
cd "$WS" || exit 1
# build N ARTIFACT: Jenkins runs build N of the Jenkinsfile on ARTIFACT's
# sources; the credential zdd-notify-url is the receiver.
build() {
	rm -rf "$WS/app" "$WS/app.tar.gz" "$WS/app.tar.gz.minisig"
	if [ -n "$2" ]; then mkdir "$WS/app" && tar xzf "$2" -C "$WS/app"; fi
	run env BUILD_NUMBER="$1" RELEASE_ID="2099010100000$1" \
		"zdd-notify-url=$ZDD_NOTIFY_URL" ZDD_NOTIFY_URL= \
		"zdd-minisign-key=$T/keys/${SIGNER:-ci}.key" \
		python3 "$TOP/tests/workflows-ci.py" jenkins "$EX/jenkins/Jenkinsfile"
}

build 1 "$T/app-1.tgz"
is "a good build: the pipeline passes" "$rc" 0
like "... its post success step ran the example under both locks" "$err" \
	'^\+ zdd-lock -r "\$DEVELOP_ROOT" --lock-wait 600 zdd-lock -r "\$PRODUCTION_ROOT" --lock-wait 600 examples/jenkins/post-build.sh app.tar.gz'
like "... and promoted" "$err" 'release 20990101000001 promoted from develop to production'
is "... develop is live on it" "$(readlink "$DEV/current")" releases/20990101000001
is "... production is live on the same release id" "$(readlink "$PROD/current")" releases/20990101000001
is "... both serve it" "$(get "$pd") $(get "$pp")" "version 1 version 1"
sha() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sha256"])' "$1"
}
is "... the same artifact, byte for byte (manifests' SHA-256)" \
	"$(sha "$PROD/.zdd/manifests/20990101000001.json")" \
	"$(sha "$DEV/.zdd/manifests/20990101000001.json")"
mf() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["signature"][sys.argv[2]])' "$1" "$2"
}
is "... verified on production with the signing key" \
	"$(mf "$PROD/.zdd/manifests/20990101000001.json" key_id)" "$keyid"
is "... whose trusted comment names the build" \
	"$(mf "$PROD/.zdd/manifests/20990101000001.json" trusted_comment)" "shop build 1"
is "... revisions.log has Jenkins' branch and commit" "$(cat "$PROD/revisions.log")" \
	"Branch main (at 0a1b2c3d4e5f) deployed as release 20990101000001 by $(id -un)"
is "... notified develop, then production, with the build" \
	"$(wf_events status env release build job)" \
	"success develop 20990101000001 1 shop
success production 20990101000001 1 shop"

build 2 "$T/app-2.tgz"
is "an unhealthy build: the pipeline fails" "$rc" 1
like "... zdd-health says why, on develop" "$err" "zdd-health: http://127.0.0.1:$pd/health.json: .*DOWN"
like "... nothing promoted" "$err" 'develop failed \(1\); nothing promoted further'
is "... develop rolled back" "$(readlink "$DEV/current")" releases/20990101000001
is "... develop serves the old release" "$(get "$pd")" "version 1"
is "... production untouched" "$(readlink "$PROD/current"):$(ls "$PROD/releases")" \
	"releases/20990101000001:20990101000001"
unlike "... post failure did not run (post success failed instead)" "$err" 'failed before deploy'
is "... notified the rollback on develop only, from the failed release to the live one" \
	"$(wf_events status env previous release)" "rollback develop 20990101000002 20990101000001"

build 3 ""
is "a build that fails: the pipeline fails" "$rc" 1
like "... post failure said so" "$err" '^\+ zdd-notify -s failure'
is "... nothing deployed" "$(readlink "$DEV/current") $(readlink "$PROD/current")" \
	"releases/20990101000001 releases/20990101000001"
is "... notified the failure with the build number" "$(wf_events status build title)" \
	"failure 3 $(zdd-notify -n -s failure 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["title"])')"

# A corrupt artifact: nothing went live, so nothing is rolled back.
head -c 3000 /dev/urandom >"$WS/corrupt.tar.gz"
minisign -S -s "$T/keys/ci.key" -m "$WS/corrupt.tar.gz" >/dev/null
wf_events >/dev/null
run env RELEASE_ID=20990101000009 "$EX/jenkins/post-build.sh" corrupt.tar.gz
is "a corrupt artifact: post-build.sh fails with zdd-release's 65" "$rc" 65
is "... develop's live release is not rolled back" "$(readlink "$DEV/current")" releases/20990101000001
is "... nor marked bad" "$(zdd-link -r "$DEV" --list | grep '^20990101000001 ')" "20990101000001 current"
is "... notified the failure, not a rollback" "$(wf_events status env)" "failure develop"

SIGNER=other build 4 "$T/app-1.tgz"
is "a build signed with another key: the pipeline fails" "$rc" 1
like "... develop refuses it, unpacked nothing" "$err" \
	"zdd-release: app.tar.gz: not verified: signed by another key"
like "... nothing promoted" "$err" 'develop failed \(65\); nothing promoted further'
is "... neither root changed" "$(readlink "$DEV/current") $(readlink "$PROD/current") $(ls "$DEV/releases" | wc -l)" \
	"releases/20990101000001 releases/20990101000001 2"

run env -u PUBKEY "$EX/jenkins/post-build.sh" app.tar.gz
like "post-build.sh without PUBKEY: refused, named" "$rc:$err" '^[1-9][0-9]*:.*PUBKEY'
run env -u DEVELOP_ROOT "$EX/jenkins/post-build.sh" app.tar.gz
like "post-build.sh without DEVELOP_ROOT: refused, named" "$rc:$err" '^[1-9][0-9]*:.*DEVELOP_ROOT'

done_testing
