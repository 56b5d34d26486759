#!/bin/bash
# examples/codedeploy: the appspec.yml's hooks run as the CodeDeploy agent
# runs them (its order, its variables, its timeouts, ApplicationStop from
# the previous revision), deploying to a deploy root behind a real nginx:
# a good revision goes live, a failing ValidateService leaves the
# previous release live, a revision signed with another key is refused in
# AfterInstall.  Deployment ids are random, as CodeDeploy's are: they do
# not sort in the order the deployments ran.
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

agent d-RPCR1U3TW "$T/rev1"
is "first deployment: succeeds" "$rc" 0
is "... the hooks ran in CodeDeploy's order (no ApplicationStop the first time)" \
	"$(grep -oE '^\+ [A-Za-z]+' <<<"$err" | tr '\n' ' ')" \
	"+ Install + Install + AfterInstall + ApplicationStart + ValidateService "
like "... each hook saw CodeDeploy's variables" "$err" \
	'codedeploy: ValidateService of d-RPCR1U3TW \(shop/production\): healthy'
is "... current is the release named after the deployment" "$(readlink "$R/current")" \
	releases/d-RPCR1U3TW
is "... nginx serves it" "$(get "$np")" "version 1"
is "... storage/ is shared" "$(readlink "$R/current/storage")" ../../shared/storage
is "... its signature verified" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["signature"]["trusted_comment"])' \
	"$R/.zdd/manifests/d-RPCR1U3TW.json")" a1.tgz
is "... notified with the deployment's facts" \
	"$(wf_events status release application deployment_group lifecycle_event)" \
	"success d-RPCR1U3TW shop production ValidateService"

agent d-A7X2K9Q1E "$T/rev2" "$T/rev1"
is "a revision that fails ValidateService: the deployment fails" "$rc" 1
is "... every hook up to ValidateService ran" \
	"$(grep -oE '^\+ [A-Za-z]+' <<<"$err" | tr '\n' ' ')" \
	"+ ApplicationStop + Install + Install + AfterInstall + ApplicationStart + ValidateService "
like "... the agent reports the failed hook" "$err" \
	'LifecycleEvent - ValidateService: script scripts/validate-service.sh failed with exit code 1'
like "... zdd-health said why" "$err" 'status is "DOWN", want "UP"'
is "... the previous release is live again" "$(readlink "$R/current")" releases/d-RPCR1U3TW
is "... nginx serves the previous release" "$(get "$np")" "version 1"
run zdd-link --list
like "... the failed release is marked bad" "$out" 'd-A7X2K9Q1E bad'
like "... revisions.log has the rollback" "$(tail -n 1 "$R/revisions.log")" \
	'rolled back to release d-RPCR1U3TW$'
is "... notified the rollback, from the failed release to the live one" \
	"$(wf_events status previous release lifecycle_event)" \
	"rollback d-A7X2K9Q1E d-RPCR1U3TW ValidateService"

agent d-0ZQ4M8N2B "$T/rev3" "$T/rev1"
is "the next good revision: succeeds" "$rc" 0
like "... ApplicationStop (from the previous revision) named what was live" "$err" \
	"ApplicationStop of d-0ZQ4M8N2B .*live: $R/releases/d-RPCR1U3TW"
is "... current is the new release" "$(readlink "$R/current")" releases/d-0ZQ4M8N2B
is "... nginx serves it" "$(get "$np")" "version 3"
wf_events >/dev/null

# A failing revision after that goes back to the release that was live
# before it, whatever the ids' order (by id it would be d-RPCR1U3TW).
agent d-ZQ3N8V1KD "$T/rev2" "$T/rev3"
is "a failing revision after d-0ZQ4M8N2B: the deployment fails" "$rc" 1
is "... the release live before it is live again, not the one before by id" \
	"$(readlink "$R/current")" releases/d-0ZQ4M8N2B
wf_events >/dev/null

# Another deploy holds the root's lock: the hooks wait for it, or fail
# with 75 naming it; nothing moves.
spawn zdd-lock -r "$R" --lock-wait 10 sleep 30
holder=$last_pid
i=0
until ! flock -n "$R/.zdd/lock" true || [ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done
LOCK_WAIT=0 agent d-K4P7W2M9X "$T/rev1" "$T/rev3"
stop "$holder"
is "the root locked by another deploy: the deployment fails" "$rc" 1
like "... its first hook says who holds the lock" "$err" "zdd-lock: $R is locked: pid $holder "
is "... current untouched" "$(readlink "$R/current")" releases/d-0ZQ4M8N2B
wf_events >/dev/null
# A revision signed with another key fails in AfterInstall, before
# anything is unpacked.
revision "$T/rev4" "$T/a1.tgz" other
agent d-DDDDDDDD4 "$T/rev4" "$T/rev3"
is "a revision signed with another key: fails" "$rc" 1
like "... zdd-release refused it" "$err" 'zdd-release: .*/app.tgz: not verified: signed by another key'
like "... in AfterInstall" "$err" 'LifecycleEvent - AfterInstall'
is "... current untouched, nothing made" "$(readlink "$R/current") $(ls "$R/releases" | grep -c d-DDDDDDDD4)" \
	"releases/d-0ZQ4M8N2B 0"

# A redeployed deployment id (the same release name twice) fails in
# AfterInstall, before anything goes live.
agent d-0ZQ4M8N2B "$T/rev1" "$T/rev3"
is "a deployment id already used: fails" "$rc" 1
like "... in AfterInstall" "$err" 'LifecycleEvent - AfterInstall'
is "... current untouched" "$(readlink "$R/current")" releases/d-0ZQ4M8N2B
is "... no hook after it ran" "$(grep -c 'ApplicationStart\|ValidateService' <<<"$err")" 0

done_testing
