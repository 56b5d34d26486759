#!/bin/bash
# examples/codedeploy: the appspec.yml's hooks run as the CodeDeploy agent
# runs them (its order, its variables, its timeouts, ApplicationStop from
# the previous revision), deploying to a deploy root behind a real nginx:
# a good revision goes live, a failing ValidateService leaves the
# previous release live, a revision signed with another key is refused in
# AfterInstall.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/workflows-lib.sh"

R=$T/srv/shop/production
FS=$T/fs
np=$(free_port)
wf_nginx "$T/nginx" "$np" "server { listen 127.0.0.1:$np; root $R/current/public; }"
wf_receiver
# The instance's settings, as the agent's environment gives them.
mkdir -p "$T/keys"
(cd "$T/keys" && minisign -G -W -p ci.pub -s ci.key && minisign -G -W -p other.pub -s other.key) >/dev/null
export ZDD_ROOT=$R ARTIFACT=$FS/opt/codedeploy/shop/app.tgz PUBKEY=$T/keys/ci.pub \
	HEALTH_URL=http://127.0.0.1:$np/health.json RELOAD_CMD="$NGX -s reload" \
	DEADLINE=3 APPLICATION_NAME=shop DEPLOYMENT_GROUP_NAME=production
# revision DIR ARTIFACT [KEY]: a CodeDeploy revision: appspec.yml,
# scripts/, app.tgz and its signature by KEY (default ci).
revision() {
	mkdir -p "$1"
	cp -r "$EX/codedeploy/appspec.yml" "$EX/codedeploy/scripts" "$1/"
	cp "$2" "$1/app.tgz"
	minisign -S -s "$T/keys/${3:-ci}.key" -m "$1/app.tgz" -t "${2##*/}" >/dev/null
}
agent() {
	run env DEPLOYMENT_ID="$1" python3 "$TOP/tests/workflows-ci.py" codedeploy "$2" "$FS" ${3:+"$3"}
}
wf_artifact "$T/a1.tgz" 1
wf_artifact "$T/a2.tgz" 2 broken
wf_artifact "$T/a3.tgz" 3
revision "$T/rev1" "$T/a1.tgz"
revision "$T/rev2" "$T/a2.tgz"
revision "$T/rev3" "$T/a3.tgz"

agent d-AAAAAAAA1 "$T/rev1"
is "first deployment: succeeds" "$rc" 0
is "... the hooks ran in CodeDeploy's order (no ApplicationStop the first time)" \
	"$(grep -oE '^\+ [A-Za-z]+' <<<"$err" | tr '\n' ' ')" \
	"+ Install + Install + AfterInstall + ApplicationStart + ValidateService "
like "... each hook saw CodeDeploy's variables" "$err" \
	'codedeploy: ValidateService of d-AAAAAAAA1 \(shop/production\): healthy'
is "... current is the release named after the deployment" "$(readlink "$R/current")" \
	releases/d-AAAAAAAA1
is "... nginx serves it" "$(get "$np")" "version 1"
is "... storage/ is shared" "$(readlink "$R/current/storage")" ../../shared/storage
is "... its signature verified" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["signature"]["trusted_comment"])' \
	"$R/.zdd/manifests/d-AAAAAAAA1.json")" a1.tgz
is "... notified with the deployment's facts" \
	"$(wf_events status release application deployment_group lifecycle_event)" \
	"success d-AAAAAAAA1 shop production ValidateService"

agent d-BBBBBBBB2 "$T/rev2" "$T/rev1"
is "a revision that fails ValidateService: the deployment fails" "$rc" 1
is "... every hook up to ValidateService ran" \
	"$(grep -oE '^\+ [A-Za-z]+' <<<"$err" | tr '\n' ' ')" \
	"+ ApplicationStop + Install + Install + AfterInstall + ApplicationStart + ValidateService "
like "... the agent reports the failed hook" "$err" \
	'LifecycleEvent - ValidateService: script scripts/validate-service.sh failed with exit code 1'
like "... zdd-health said why" "$err" 'status is "DOWN", want "UP"'
is "... the previous release is live again" "$(readlink "$R/current")" releases/d-AAAAAAAA1
is "... nginx serves the previous release" "$(get "$np")" "version 1"
run zdd-link --list
like "... the failed release is marked bad" "$out" 'd-BBBBBBBB2 bad'
like "... revisions.log has the rollback" "$(tail -n 1 "$R/revisions.log")" \
	'rolled back to release d-AAAAAAAA1$'
is "... notified the rollback" "$(wf_events status release lifecycle_event)" \
	"rollback d-BBBBBBBB2 ValidateService"

agent d-CCCCCCCC3 "$T/rev3" "$T/rev1"
is "the next good revision: succeeds" "$rc" 0
like "... ApplicationStop (from the previous revision) named what was live" "$err" \
	"ApplicationStop of d-CCCCCCCC3 .*live: $R/releases/d-AAAAAAAA1"
is "... current is the new release" "$(readlink "$R/current")" releases/d-CCCCCCCC3
is "... nginx serves it" "$(get "$np")" "version 3"
wf_events >/dev/null

# A revision signed with another key fails in AfterInstall, before
# anything is unpacked.
revision "$T/rev4" "$T/a1.tgz" other
agent d-DDDDDDDD4 "$T/rev4" "$T/rev3"
is "a revision signed with another key: fails" "$rc" 1
like "... zdd-release refused it" "$err" 'zdd-release: .*/app.tgz: not verified: signed by another key'
like "... in AfterInstall" "$err" 'LifecycleEvent - AfterInstall'
is "... current untouched, nothing made" "$(readlink "$R/current") $(ls "$R/releases" | grep -c d-DDDDDDDD4)" \
	"releases/d-CCCCCCCC3 0"

# A redeployed deployment id (the same release name twice) fails in
# AfterInstall, before anything goes live.
agent d-CCCCCCCC3 "$T/rev1" "$T/rev3"
is "a deployment id already used: fails" "$rc" 1
like "... in AfterInstall" "$err" 'LifecycleEvent - AfterInstall'
is "... current untouched" "$(readlink "$R/current")" releases/d-CCCCCCCC3
is "... no hook after it ran" "$(grep -c 'ApplicationStart\|ValidateService' <<<"$err")" 0

done_testing
