#!/bin/bash
# Blue/green behind a real nginx with real backends: the include-file
# deploy (examples/nginx-include) run as its GitHub Actions workflow and
# its .travis.yml would run it on a self-hosted runner, and the
# sites-enabled deploy (examples/sites-enabled); what nginx serves, which
# backends run, what the links and the include file say, and that no
# request fails while the colours change.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/workflows-lib.sh"

for v in 1 2 4 5 6 7; do wf_artifact "$T/app-$v.tgz" "$v"; done
wf_artifact "$T/app-3.tgz" 3 broken
# The signing key: its secret line is the CI's secret, its public key the
# host's.  The artifacts deploy.sh is given directly are signed with it.
mkdir -p "$T/keys"
(cd "$T/keys" && minisign -G -W -p ci.pub -s ci.key && minisign -G -W -p other.pub -s other.key) >/dev/null
export PUBKEY=$T/keys/ci.pub
MINISIGN_SECRET=$(sed -n 2p "$T/keys/ci.key")
export MINISIGN_SECRET
for v in 1 2 3 4 5 6 7; do minisign -S -s "$T/keys/ci.key" -m "$T/app-$v.tgz" >/dev/null; done
keyid=$(sed -n 's/^untrusted comment: minisign public key //p' "$T/keys/ci.pub")
# Healthy deploys end as soon as the check passes; unhealthy ones wait
# out a short deadline.
export DEADLINE=20 DRAIN=10
# The backends are services: app-service starts NAME on ADDR's port from
# the colour's link in the deploy root, and stops it by its PID file.
export START_CMD='app-service start "$1" "${2##*:}" "$3"'
export STOP_CMD='app-service stop "$1"'
running() {
	r=
	for c in blue green; do
		[ -f "$T/run/$c.pid" ] && kill -0 "$(cat "$T/run/$c.pid")" 2>/dev/null &&
			r="$r $c"
	done
	echo "${r# }"
}
# load PORT FILE: requests through nginx, one connection each, until
# $T/stop-load appears; one line per request in FILE, its status code and
# the body that came back ("200 1 green").
load() {
	rm -f "$T/stop-load"
	(while [ ! -e "$T/stop-load" ]; do
		b=$(curl -s -o - -w ' %{http_code}' --max-time 5 "http://127.0.0.1:$1/" | tr -d '\n')
		echo "${b##* } ${b% *}"
	done >"$2") &
	loadpid=$!
}
unload() {
	touch "$T/stop-load"
	wait "$loadpid"
}

# --- include file ----------------------------------------------------------
np=$(free_port)
bp=$(free_port)
gp=$(free_port)
N=$T/nginx
mkdir -p "$N/conf/conf.d"
INC=$N/conf/conf.d/service-url.inc
printf 'set $service_url http://127.0.0.1:%s;\n' "$bp" >"$INC"
wf_nginx "$N" "$np" "server {
		listen 127.0.0.1:$np;
		location / { include $INC; proxy_pass \$service_url; }
	}"
export ZDD_ROOT=$T/app
export SWITCH_OPTS="-t blue=127.0.0.1:$bp -t green=127.0.0.1:$gp -f $INC $NGX_ARGS"
wf_receiver

# A workspace as a self-hosted runner checks it out: the app's sources
# and the example script, at the path the workflow names.
WS=$T/ws
mkdir -p "$WS/app" "$WS/examples" "$T/runner"
tar xzf "$T/app-1.tgz" -C "$WS/app"
cp -r "$EX/nginx-include" "$WS/examples/"
cd "$WS" || exit 1
run env RUNNER_TEMP="$T/runner" GITHUB_SHA=4b31f5c GITHUB_REF_NAME=main \
	GITHUB_REPOSITORY=acme/shop RELEASE_ID=20990101000001 \
	python3 "$TOP/tests/workflows-ci.py" github \
	"$EX/nginx-include/deploy.yml" deploy
is "GitHub Actions job: the first deploy passes" "$rc" 0
like "... it built and ran the example" "$err" 'nginx-include/deploy.sh "\$RUNNER_TEMP/app.tar.gz"'
unlike "... no failure step" "$err" 'Say it failed'
is "... nginx serves the new release from green" "$(get "$np")" "1 green"
is "... the include file names green" "$(grep -v "^#" "$INC")" "set \$service_url http://127.0.0.1:$gp;"
is "... only green runs" "$(running)" green
is "... green links the release" "$(readlink "$ZDD_ROOT/green")" releases/20990101000001
is "... which the job signed and the host verified" \
	"$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["signature"]; print(s["key_id"], s["trusted_comment"])' \
	"$ZDD_ROOT/.zdd/manifests/20990101000001.json")" "$keyid acme/shop 4b31f5c"
is "... current is not involved" "$(ls "$ZDD_ROOT")" "green
releases
revisions.log
shared"
like "... the branch and commit from GitHub's variables" "$(cat "$ZDD_ROOT/revisions.log")" \
	'^Branch main \(at 4b31f5c\) deployed as release 20990101000001 by '
is "... notified started and success" "$(wf_events status release revision)" \
	"started 20990101000001 4b31f5c
success 20990101000001 4b31f5c"
is "... the conf.d directory holds what it held" "$(ls -A "$N/conf/conf.d")" service-url.inc

# Travis, under load through nginx: the switch to blue loses no request.
rm -rf "$WS/app" && mkdir "$WS/app" && tar xzf "$T/app-2.tgz" -C "$WS/app"
load "$np" "$T/codes"
run env TRAVIS_BRANCH=main TRAVIS_COMMIT=9e8d7c6 TRAVIS_BUILD_NUMBER=12 \
	RELEASE_ID=20990101000002 \
	python3 "$TOP/tests/workflows-ci.py" travis "$EX/nginx-include/.travis.yml"
sleep 0.5
unload
is "Travis: the deploy step passes" "$rc" 0
like "... the script step built the artifact" "$err" '^\+ tar -czf app.tar.gz'
is "... nginx serves the new release from blue" "$(get "$np")" "2 blue"
is "... only blue runs: green was stopped after the drain" "$(running)" blue
is "... every request under load was answered 200" \
	"$(cut -d' ' -f1 "$T/codes" | sort -u)" 200
# For about 100 ms after a reload, nginx's old worker still takes new
# connections beside the new one: the two versions may alternate.
is "... what answered: green's release, then blue's" \
	"$(cut -d' ' -f2- "$T/codes" | sed -n '1p;$p' | tr '\n' ,)" "1 green,2 blue,"
is "... and nothing else" "$(cut -d' ' -f2- "$T/codes" | sort -u | tr '\n' ,)" "1 green,2 blue,"
is "... green still links the old release for a quick return" \
	"$(readlink "$ZDD_ROOT/green")" releases/20990101000001
wf_events >/dev/null

# A branch that does not deploy.
run env TRAVIS_BRANCH=feature RELEASE_ID=20990101000009 \
	python3 "$TOP/tests/workflows-ci.py" travis "$EX/nginx-include/.travis.yml"
is "Travis on another branch: passes without deploying" "$rc:$(get "$np")" "0:2 blue"
is "... no release made" "$(ls "$ZDD_ROOT/releases" | grep -c 20990101000009)" 0

# Travis with an unhealthy build: the deploy step fails, after_failure
# says so; blue serves on.
rm -rf "$WS/app" && mkdir "$WS/app" && tar xzf "$T/app-3.tgz" -C "$WS/app"
run env TRAVIS_BRANCH=main TRAVIS_COMMIT=7f6e5d4 TRAVIS_BUILD_NUMBER=13 \
	RELEASE_ID=20990101000011 DEADLINE=3 \
	python3 "$TOP/tests/workflows-ci.py" travis "$EX/nginx-include/.travis.yml"
is "Travis, unhealthy build: the build fails" "$rc" 1
like "... after_failure ran" "$err" '^\+ zdd-notify -s failure "build \$TRAVIS_BUILD_NUMBER failed"'
is "... nginx still serves blue" "$(get "$np")" "2 blue"
is "... notified started, rollback (from the build to green's old release), then the build's failure" \
	"$(wf_events status previous release revision)" "started - 20990101000011 7f6e5d4
rollback 20990101000011 20990101000001 7f6e5d4
failure - - 7f6e5d4"

# The GitHub Actions job with an unhealthy build: the deploy step fails,
# the job's failure step says so.
rm -rf "$WS/app" && mkdir "$WS/app" && tar xzf "$T/app-3.tgz" -C "$WS/app"
run env RUNNER_TEMP="$T/runner" GITHUB_SHA=5c6d7e8 GITHUB_REF_NAME=main \
	GITHUB_REPOSITORY=acme/shop RELEASE_ID=20990101000010 DEADLINE=3 \
	python3 "$TOP/tests/workflows-ci.py" github \
	"$EX/nginx-include/deploy.yml" deploy
is "GitHub Actions job, unhealthy build: the job fails" "$rc" 1
like "... its failure step ran" "$err" '^\+ zdd-notify -s failure'
is "... nginx still serves blue" "$(get "$np")" "2 blue"
is "... notified started, rollback (from the build to green's old release), then the job's failure" \
	"$(wf_events status previous release revision)" "started - 20990101000010 5c6d7e8
rollback 20990101000010 20990101000001 5c6d7e8
failure - - 5c6d7e8"

# An unhealthy build: green starts, fails its check, stops; blue serves on.
# The backend may take seconds to start on a busy machine: the deadline
# is long enough for it to answer 503 rather than refuse connections.
run env DEADLINE=10 RELEASE_ID=20990101000003 "$EX/nginx-include/deploy.sh" "$T/app-3.tgz"
is "unhealthy new colour: exit 1" "$rc" 1
like "... zdd-health says why" "$err" "zdd-health: http://127.0.0.1:$gp/health: .*503"
like "... the script says who still serves" "$err" 'green \(20990101000003\) is unhealthy; blue still serves'
is "... nginx still serves blue" "$(get "$np")" "2 blue"
is "... the include file still names blue" "$(grep -v "^#" "$INC")" "set \$service_url http://127.0.0.1:$bp;"
is "... green was stopped again" "$(running)" blue
is "... green's link is back on its old release" "$(readlink "$ZDD_ROOT/green")" releases/20990101000001
run zdd-link --list
like "... the unhealthy release is marked bad" "$out" '20990101000003 bad'
is "... notified: started, rollback from it to green's old release" \
	"$(wf_events status previous release)" "started - 20990101000003
rollback 20990101000003 20990101000001"

# A deploy with prune: blue's and green's releases stay, the rest go.
run env RELEASE_ID=20990101000004 KEEP=1 "$EX/nginx-include/deploy.sh" "$T/app-4.tgz"
is "deploy and prune -k 1: exit 0" "$rc" 0
is "... nginx serves green" "$(get "$np")" "4 green"
is "... the releases left are the two colours'" "$(ls "$ZDD_ROOT/releases" | tr '\n' ' ')" \
	"20990101000002 20990101000004 "
wf_events >/dev/null

# nginx -t refuses the switch: the new colour stops, the live one serves.
echo "syntax error {" >"$N/conf/conf.d/broken.conf"
sed -i "s|include $INC;|include $INC; include $N/conf/conf.d/*.conf;|" "$N/conf/nginx.conf"
run env RELEASE_ID=20990101000005 "$EX/nginx-include/deploy.sh" "$T/app-5.tgz"
is "nginx -t refuses: zdd-switch's 78" "$rc" 78
like "... nginx's own message" "$err" 'broken.conf'
is "... nginx still serves green" "$(get "$np")" "4 green"
is "... blue (the would-be new colour) was stopped" "$(running)" green
is "... and its link is back on its own release" "$(readlink "$ZDD_ROOT/blue")" releases/20990101000002
rm "$N/conf/conf.d/broken.conf"
sed -i "s| include $N/conf/conf.d/\*.conf;||" "$N/conf/nginx.conf"

# The README's second chain, as printed there, with systemctl's start and
# stop of app@COLOUR done by app-service on the colour's port.
cat >"$T/bin/readme-systemctl" <<SH
#!/bin/sh
c=\${2#app@}
[ "\$c" = blue ] && p=$bp || p=$gp
exec app-service "\$1" "\$c" "\$p" "$ZDD_ROOT/\$c"
SH
chmod 755 "$T/bin/readme-systemctl"
chain=$(wf_readme_chain 2)
like "README: the second chain is a blue/green switch" "$chain" 'zdd-switch --drain'
run sh -c "$(sed -e "s|zdd-switch |zdd-switch $SWITCH_OPTS |g" -e 's|systemctl |readme-systemctl |g' \
	-e 's|-d 60 |-d 20 |' <<<"$chain")"
is "README chain: exit 0" "$rc" 0
is "... nginx serves blue's release" "$(get "$np")" "2 blue"
is "... only blue runs" "$(running)" blue

run "$EX/nginx-include/deploy.sh"
is "no artifact: 64" "$rc" 64
run env -u ZDD_ROOT "$EX/nginx-include/deploy.sh" "$T/app-5.tgz"
like "no ZDD_ROOT: refused" "$rc:$err" '^[1-9][0-9]*:.*ZDD_ROOT'
run env -u PUBKEY "$EX/nginx-include/deploy.sh" "$T/app-5.tgz"
like "no PUBKEY: refused" "$rc:$err" '^[1-9][0-9]*:.*PUBKEY'
cp "$T/app-6.tgz" "$T/forged.tgz"
minisign -S -s "$T/keys/other.key" -m "$T/forged.tgz" >/dev/null
run env RELEASE_ID=20990101000012 "$EX/nginx-include/deploy.sh" "$T/forged.tgz"
is "an artifact signed with another key: 65" "$rc" 65
like "... refused before anything started" "$err" 'not verified: signed by another key'
is "... no release made, blue serves on" "$(ls "$ZDD_ROOT/releases" | grep -c 20990101000012):$(get "$np")" "0:2 blue"
for c in blue green; do app-service stop "$c"; done

# --- sites-enabled ---------------------------------------------------------
sp=$(free_port)
S=$T/sites
mkdir -p "$S/sites-available" "$S/sites-enabled"
for c in blue green; do
	[ $c = blue ] && a=$bp || a=$gp
	sed -e "s|listen 80;|listen 127.0.0.1:$sp;|" -e "s|127.0.0.1:808[12]|127.0.0.1:$a|" \
		-e "s|server_name .*;|server_name _;|" \
		"$EX/sites-enabled/sites-available/$c" >"$S/sites-available/$c"
done
ln -s "$S/sites-available/blue" "$S/sites-enabled/app"
wf_nginx "$S" "$sp" "include $S/sites-enabled/*;"
export ZDD_ROOT=$T/app2 SITES=$S TARGETS="-t blue=127.0.0.1:$bp -t green=127.0.0.1:$gp" \
	NGINX_OPTS="$NGX_ARGS"
unset SWITCH_OPTS
run env RELEASE_ID=20990101000006 "$EX/sites-enabled/deploy.sh" "$T/app-6.tgz"
is "sites-enabled: first deploy, exit 0" "$rc" 0
is "... nginx serves green" "$(get "$sp")" "6 green"
is "... sites-enabled/app points at sites-available/green" \
	"$(readlink "$S/sites-enabled/app")" "$S/sites-available/green"
is "... sites-enabled holds only the link" "$(ls -A "$S/sites-enabled")" app
load "$sp" "$T/codes2"
run env RELEASE_ID=20990101000007 "$EX/sites-enabled/deploy.sh" "$T/app-7.tgz"
sleep 0.5
unload
is "sites-enabled: second deploy, exit 0" "$rc" 0
is "... nginx serves blue" "$(get "$sp")" "7 blue"
is "... the link points at blue" "$(readlink "$S/sites-enabled/app")" "$S/sites-available/blue"
is "... only blue runs" "$(running)" blue
is "... every request under load was answered 200" \
	"$(cut -d' ' -f1 "$T/codes2" | sort -u)" 200
# For about 100 ms after a reload, nginx's old worker still takes new
# connections beside the new one: the two versions may alternate.
is "... what answered: green's release, then blue's" \
	"$(cut -d' ' -f2- "$T/codes2" | sed -n '1p;$p' | tr '\n' ,)" "6 green,7 blue,"
is "... and nothing else" "$(cut -d' ' -f2- "$T/codes2" | sort -u | tr '\n' ,)" "6 green,7 blue,"
run env DEADLINE=3 RELEASE_ID=20990101000008 "$EX/sites-enabled/deploy.sh" "$T/app-3.tgz"
is "sites-enabled, unhealthy: exit 1" "$rc" 1
is "... the link still points at blue" "$(readlink "$S/sites-enabled/app")" "$S/sites-available/blue"
is "... nginx serves blue" "$(get "$sp")" "7 blue"
is "... only blue runs" "$(running)" blue

done_testing
