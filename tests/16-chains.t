#!/bin/bash
# The chains that zdd(7) and the tools' pages print, run exactly as
# printed (paths, ports, URLs' hosts and deadlines aside) against real
# roots, real nginx, real backends, a real HTTP server, a real webhook
# receiver, the CodeDeploy agent's order of hooks and ansible-playbook,
# with their failure paths: a corrupt artifact, an unhealthy release, a
# failed hook, a held lock, a switch that nginx -t refuses.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/workflows-lib.sh"

# chain SECTION N [PAGE]: the Nth literal block (.Bd -literal, or a .Dl
# line) of the section SECTION of PAGE (default zdd.7), with mdoc's
# escapes undone, as a user copies it from the page.
chain() {
	awk -v sec="$1" -v want="$2" '
		/^\.S[sh] / { insec = index($0, sec) > 0; k = 0 }
		insec && /^\.Dl / { k++; if (k == want) print substr($0, 5); next }
		insec && /^\.Bd -literal/ { k++; inblk = (k == want); next }
		inblk && /^\.Ed/ { inblk = 0 }
		inblk { print }
	' "$TOP/man/${3:-zdd.7}" | sed -e 's/\\e/\\/g' -e 's/\\&//g' -e 's/\\(dq/"/g'
}

# artifact OUT HEALTH [hookfail]: a tar.gz whose public/health says HEALTH.
artifact() {
	s=$T/art
	rm -rf "$s" && mkdir -p "$s/public" "$s/storage"
	printf '{"status":"%s"}\n' "$2" >"$s/public/health"
	printf '{"fail": %s}\n' "$([ "${3:-}" = hookfail ] && echo true || echo false)" \
		>"$s/composer.json"
	tar -czf "$1" -C "$s" .
}
# The application's own tools, as the chains call them.
cat >"$T/bin/composer" <<'SH'
#!/bin/sh
grep -q '"fail": true' composer.json && { echo "composer: install failed" >&2; exit 1; }
mkdir -p vendor
SH
printf '#!/bin/sh\nexit 0\n' >"$T/bin/php"
# systemctl: app@COLOUR is the colour's backend (app-service, on the port
# in PORT_COLOUR, from the colour's link in $ZDD_ROOT); the rest succeeds.
cat >"$T/bin/systemctl" <<'SH'
#!/bin/sh
case ${2:-} in
app@*)
	c=${2#app@}
	eval "p=\${PORT_$c}"
	exec app-service "$1" "$c" "$p" "$ZDD_ROOT/$c" ;;
esac
exit 0
SH
printf '#!/bin/sh\nexec "$@"\n' >"$T/bin/sudo"
chmod 755 "$T/bin/"*
PATH=$T/bin:$PATH

# A web server for the health checks: /ENV/health is ENV's live release.
port=$(free_port)
mkdir -p "$T/www"
spawn python3 -m http.server -b 127.0.0.1 -d "$T/www" "$port"
wait_port "$port"
wf_receiver
held() {
	i=0
	while flock -n "$1" true 2>/dev/null && [ $i -lt 250 ]; do
		sleep 0.02; i=$((i + 1))
	done
}

# --- Jenkins post-build ----------------------------------------------------
jenkins=$(chain "Jenkins post-build" 1)
like "zdd(7): the Jenkins chain releases, links, then checks" "$jenkins" 'zdd-link -r \$root "\$rel" \|\|'
lockline=$(chain "Jenkins post-build" 2)
like "zdd(7): the Jenkins step runs under both roots' locks" "$lockline" '^zdd-lock -r /srv/develop/app'
W=$T/ws
mkdir -p "$W" "$T/srv/develop/app" "$T/srv/production/app"
# The build stage's signing key; the chain verifies with ci.pub.
(cd "$W" && minisign -G -W -p ci.pub -s "$T/ci.key") >/dev/null
ln -s "$T/srv/develop/app/current/public" "$T/www/develop"
ln -s "$T/srv/production/app/current/public" "$T/www/production"
sed -e "s|/srv/|$T/srv/|g" -e "s|http://127.0.0.1/|http://127.0.0.1:$port/|" \
	-e 's|-d 60 |-d 2 |' <<<"$jenkins" >"$W/post-build.sh"
# jenkins ID ARTIFACT [LOCK-WAIT]: build ID's post-build step, as printed.
jenkins() {
	cp "$2" "$W/app.tar.gz"
	minisign -S -s "$T/ci.key" -m "$W/app.tar.gz" -t "build $1" >/dev/null
	run env id="$1" sh -c "cd '$W' && $(sed -e "s|/srv/|$T/srv/|g" \
		-e "s|--lock-wait 600|--lock-wait ${3:-600}|g" <<<"$lockline")"
}
D=$T/srv/develop/app P=$T/srv/production/app
artifact "$T/good.tgz" UP
jenkins 41 "$T/good.tgz"
is "Jenkins, build 41: exit 0" "$rc:$err" "0:"
is "... verified: the signature's trusted comment in production's manifest" \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["signature"]["trusted_comment"])' \
	"$T/srv/production/app/.zdd/manifests/41.json")" "build 41"
is "... live on develop and production" "$(readlink "$D/current") $(readlink "$P/current")" \
	"releases/41 releases/41"
is "... notified" "$(wf_events status env)" "success develop
success production"
jenkins 42 "$T/good.tgz"
is "Jenkins, build 42: promoted" "$rc:$(readlink "$P/current")" "0:releases/42"
wf_events >/dev/null

artifact "$T/down.tgz" DOWN
jenkins 43 "$T/down.tgz"
is "unhealthy build 43: exit 1" "$rc" 1
like "... zdd-health says why" "$err" "zdd-health: http://127.0.0.1:$port/develop/health: "
is "... develop rolled back to 42" "$(readlink "$D/current")" "releases/42"
is "... 43 is bad on develop" "$(zdd-link -r "$D" --list | tail -n 1)" "43 bad"
is "... production untouched" "$(readlink "$P/current"):$(ls "$P/releases" | tr '\n' ' ')" \
	"releases/42:41 42 "
is "... notified the rollback" "$(wf_events status env)" "rollback develop"

head -c 3000 /dev/urandom >"$T/corrupt.tgz"
jenkins 44 "$T/corrupt.tgz"
is "corrupt artifact 44: exit 1" "$rc" 1
is "... the live release is not rolled back" "$(readlink "$D/current")" "releases/42"
is "... nor marked bad" "$(zdd-link -r "$D" --list | grep '^42 ')" "42 current"
is "... notified the failure" "$(wf_events status env)" "failure develop"

# held() takes the lock for an instant: the holder waits out that instant.
spawn zdd-lock -r "$P" --lock-wait 10 sleep 1
holder=$last_pid
held "$P/.zdd/lock"
jenkins 45 "$T/good.tgz"
is "another build holds production: build 45 waits, then deploys" \
	"$rc:$(readlink "$D/current") $(readlink "$P/current")" "0:releases/45 releases/45"
wait "$holder"
wf_events >/dev/null
spawn zdd-lock -r "$P" --lock-wait 10 sleep 5
holder=$last_pid
held "$P/.zdd/lock"
jenkins 46 "$T/good.tgz" 0
is "production locked, no wait: exit 75" "$rc" 75
like "... naming the holder" "$err" "^zdd-lock: $P is locked: pid $holder on "
is "... nothing made or moved on either root" \
	"$(readlink "$D/current") $(readlink "$P/current") $(ls "$D/releases" | grep -c 46)" \
	"releases/45 releases/45 0"
is "... nothing notified" "$(wf_events)" ""
stop "$holder"

# --- Envoyer-style releases ------------------------------------------------
envoyer=$(chain "Envoyer-style releases" 1)
like "zdd(7): a failed hook marks the release bad" "$envoyer" 'zdd-link --bad "\$id"'
unlike "zdd(7): nothing reaches into .zdd" "$envoyer" '\.zdd'
elock=$(chain "Envoyer-style releases" 2)
is "zdd(7): the Envoyer script runs under the lock" "$elock" \
	"zdd-lock -r /var/www/app --lock-wait 300 sh deploy.sh"
E=$T/var/www/app
mkdir -p "$E/shared"
echo APP_KEY=x >"$E/shared/.env"
ln -s "$E/current/public" "$T/www/envoyer"
sed -e "s|/var/www/app|$E|g" -e "s|http://127.0.0.1/health|http://127.0.0.1:$port/envoyer/health|" \
	-e 's|-d 60 |-d 2 |' <<<"$envoyer" >"$W/deploy.sh"
envoyer() {
	cp "$2" "$W/app.tgz"
	run env id="$1" sh -c "cd '$W' && $(sed -e "s|/var/www/app|$E|g" <<<"$elock")"
}
envoyer e1 "$T/good.tgz"
is "Envoyer, e1: exit 0, live" "$rc:$(readlink "$E/current")" "0:releases/e1"
ok "... storage and .env from shared/" test -L "$E/current/storage" -a -L "$E/current/.env"
artifact "$T/hookfail.tgz" UP hookfail
envoyer e2 "$T/hookfail.tgz"
is "a failed hook: exit 1" "$rc" 1
is "... e1 stays live" "$(readlink "$E/current")" "releases/e1"
is "... e2 is marked bad, not deleted" "$(zdd-link -r "$E" --list | tr '\n' ' ')" "e1 current e2 bad "
envoyer e3 "$T/down.tgz"
is "an unhealthy release: exit 1" "$rc" 1
is "... rolled back to e1, not to the failed e2" "$(readlink "$E/current")" "releases/e1"
envoyer e4 "$T/good.tgz"
zdd-link -q -r "$E" --rollback >/dev/null
is "a rollback after all that lands on e1" "$(readlink "$E/current")" "releases/e1"
is "notified along" "$(wf_events status)" "started
success
started
failure
started
rollback
started
success"

# --- zdd-lock(1) -------------------------------------------------------------
lk=$(chain EXAMPLES 1 zdd-lock.1)
like "zdd-lock(1): a deploy under the lock" "$lk" '^zdd-lock -r /srv/app --lock-wait 300 sh -ec'
L=$T/lk/srv/app
cp "$T/good.tgz" "$W/app.tgz"
run sh -c "cd '$W' && $(sed "s|/srv/app|$L|g" <<<"$lk")"
is "zdd-lock(1)'s example: exit 0, live" "$rc:$(ls "$L/releases" | wc -l):$(readlink "$L/current" | cut -c1-9)" "0:1:releases/"
spawn zdd-lock -r "$L" --lock-wait 10 sleep 1
holder=$last_pid
held "$L/.zdd/lock"
run sh -c "cd '$W' && $(sed "s|/srv/app|$L|g" <<<"$lk")"
is "... a second run waits for the first, then deploys" "$rc:$(ls "$L/releases" | wc -l)" "0:2"
wait "$holder"
fl=$(chain EXAMPLES 2 zdd-lock.1)
is "zdd-lock(1): the same with flock(1)" "$fl" "flock -w 300 /srv/app/.zdd/lock ./deploy.sh"
printf '#!/bin/sh\nzdd-release -r %s app.tgz | zdd-link -r %s -\n' "$L" "$L" >"$W/deploy.sh"
chmod +x "$W/deploy.sh"
run sh -c "cd '$W' && $(sed "s|/srv/app|$L|g" <<<"$fl")"
is "... flock(1) around a deploy: the tools work under it" "$rc:$(ls "$L/releases" | wc -l)" "0:3"

# --- zdd-link(1) -------------------------------------------------------------
K=$T/linkpage
mkdir -p "$K"
ln -s "$K/current/public" "$T/www/linkpage"
l1=$(chain EXAMPLES 1 zdd-link.1)
is "zdd-link(1): release and link in a pipe" "$l1" "zdd-release -r /var/www/app app.tgz | zdd-link -r /var/www/app -"
cp "$T/good.tgz" "$W/app.tgz"
run sh -c "cd '$W' && $(sed "s|/var/www/app|$K|g" <<<"$l1")"
is "... exit 0, prints the live release" "$rc:$out" "0:$K/$(readlink "$K/current")"
good=$(basename "$(readlink "$K/current")")
zdd-release -q -r "$K" --id 20261123084013 "$T/good.tgz" >/dev/null
l3=$(chain EXAMPLES 3 zdd-link.1)
run env ZDD_ROOT="$K" sh -c "$l3"
is "zdd-link(1): --bad, then --history" "$rc:$(echo "$out" | head -n 1)" "0:$K/releases/20261123084013"
like "... the history follows" "$(echo "$out" | tail -n 1)" "Z $good deploy -\$"
is "... the failed release is listed bad" "$(zdd-link -r "$K" --list | tail -n 1)" "20261123084013 bad"
l4=$(chain EXAMPLES 4 zdd-link.1)
run env ZDD_ROOT="$K" sh -c "$l4"
is "zdd-link(1): --name green" "$rc:$(readlink "$K/green")" "0:releases/20261123084013"
# A build without its health page: the check gets 404.
mkdir -p "$T/nohealth/public" && echo v >"$T/nohealth/public/index.html"
tar -czf "$W/app.tgz" -C "$T/nohealth" .
run sh -c "cd '$W' && $(sed "s|/var/www/app|$K|g" <<<"$l1")"
l2=$(chain EXAMPLES 2 zdd-link.1)
run sh -c "$(sed -e "s|/var/www/app|$K|g" -e "s|http://127.0.0.1:8080/health|http://127.0.0.1:$port/linkpage/health|" \
	-e 's|-d 30 |-d 2 |' <<<"$l2")"
is "zdd-link(1): an unhealthy release rolls back" "$(readlink "$K/current")" "releases/$good"
like "... and --list shows the state" "$out" "^$good current
.*bad\$"

# zdd-lock(1): whether a deploy is running, and whose.
wr=$(chain EXAMPLES 3 zdd-lock.1)
like "zdd-lock(1): -n and --json" "$wr" '^zdd-lock -n -r /srv/app >/dev/null \|\|$'
run sh -c "$(sed "s|/srv/app|$L|g" <<<"$wr")"
is "... nothing running: silent, exit 0" "$rc:$out:$err" "0::"
BUILD_NUMBER=77 BUILD_URL=https://ci.example.com/job/app/77/ \
	spawn zdd-lock -r "$L" --lock-wait 10 sleep 30
holder=$last_pid
held "$L/.zdd/lock"
run sh -c "$(sed "s|/srv/app|$L|g" <<<"$wr")"
is "... a deploy running: says whose" "$rc:$out" "0:deploy of build 77 running"
stop "$holder"

# --- zdd-link(1) -------------------------------------------------------------
d1=$(chain DESCRIPTION 1 zdd-link.1)
is "zdd-link(1): the pipe of its DESCRIPTION" "$d1" "zdd-release app.tgz | zdd-link -"
DL=$T/dl
cp "$T/good.tgz" "$W/app.tgz"
run env ZDD_ROOT="$DL" sh -c "cd '$W' && $d1"
is "... with ZDD_ROOT: exit 0, prints the live release" "$rc:$out" "0:$DL/$(readlink "$DL/current")"

# --- zdd-health(1) -----------------------------------------------------------
HW=$T/hw
mkdir -p "$HW/actuator"
hp=$(free_port)
spawn python3 -m http.server -b 127.0.0.1 -d "$HW" "$hp" >/dev/null 2>&1
wait_port "$hp"
h1=$(chain EXAMPLES 1 zdd-health.1)
like "zdd-health(1): an actuator, its database included" "$h1" 'components.db.status=UP'
h1=$(sed -e "s|127.0.0.1:8081|127.0.0.1:$hp|" -e 's|-d 120 |-d 2 |' <<<"$h1")
echo '{"status":"UP","components":{"db":{"status":"UP"}}}' >"$HW/actuator/health"
run sh -c "$h1"
is "... up with its database: exit 0" "$rc:$err" "0:"
echo '{"status":"UP","components":{"db":{"status":"DOWN"}}}' >"$HW/actuator/health"
run sh -c "$h1"
is "... its database down: exit 1, says why" "$rc:$(tail -n 1 <<<"$err")" \
	"1:zdd-health: http://127.0.0.1:$hp/actuator/health: components.db.status is \"DOWN\", want \"UP\""
h3=$(chain EXAMPLES 3 zdd-health.1)
is "zdd-health(1): PostgreSQL and Redis" "$h3" "zdd-health -d 30 tcp://127.0.0.1:5432 tcp://127.0.0.1:6379"
pg=$(free_port)
run sh -c "$(sed -e "s|:5432|:$pg|" -e "s|:6379|:$hp|" -e 's|-d 30 |-d 1 |' <<<"$h3")"
is "... one of them not listening: exit 1" "$rc" 1
spawn python3 -m http.server -b 127.0.0.1 -d "$HW" "$pg" >/dev/null 2>&1
wait_port "$pg"
run sh -c "$(sed -e "s|:5432|:$pg|" -e "s|:6379|:$hp|" <<<"$h3")"
is "... both listening: exit 0" "$rc:$err" "0:"
h5=$(chain EXAMPLES 5 zdd-health.1)
like "zdd-health(1): Kubernetes' readiness defaults" "$h5" '^zdd-health -s 200-399 -t 1 -i 10 --attempts 3 '
run sh -c "$(sed "s|127.0.0.1:8080|127.0.0.1:$hp|" <<<"$h5")"
is "... no /ready yet: three attempts, exit 1" "$rc:$(grep -c 'status 404' <<<"$err")" "1:1"
echo ready >"$HW/ready"
run sh -c "$(sed "s|127.0.0.1:8080|127.0.0.1:$hp|" <<<"$h5")"
is "... /ready answers: exit 0" "$rc" 0

# --- zdd-release(1) ----------------------------------------------------------
RW=$T/rw
RR=$T/rr/var/www/app
mkdir -p "$RW/build" "$RW/src/app-1.0/storage/logs" "$RR/shared"
echo APP_KEY=x >"$RR/shared/.env"
echo v1 >"$RW/src/app-1.0/index.html"
tar -czf "$RW/build/app.tgz" -C "$RW/src" app-1.0
r1=$(chain EXAMPLES 1 zdd-release.1)
like "zdd-release(1): a CI deploy step" "$r1" '--strip 1 --dedupe'
run sh -c "cd '$RW' && $(sed "s|/var/www/app|$RR|g" <<<"$r1")"
is "... exit 0, live" "$rc:$out" "0:$RR/$(readlink "$RR/current")"
is "... stripped, storage and .env shared" \
	"$(cat "$RR/current/index.html"):$(readlink "$RR/current/storage"):$(readlink "$RR/current/.env")" \
	"v1:../../shared/storage:../../shared/.env"
run sh -c "cd '$RW' && $(sed "s|/var/www/app|$RR|g" <<<"$r1")"
is "... again, deduplicated against current: exit 0" "$rc:$(ls "$RR/releases" | wc -l)" "0:2"
r2=$(chain EXAMPLES 2 zdd-release.1)
is "zdd-release(1): one release name for the fleet" "$r2" 'zdd-release -r /srv/app --id "$BUILD_ID" app.tar.zst'
RS=$T/rs/srv/app
tar --zstd -cf "$RW/app.tar.zst" -C "$RW/src/app-1.0" .
run env BUILD_ID=build-41 sh -c "cd '$RW' && $(sed "s|/srv/app|$RS|g" <<<"$r2")"
is "... exit 0, the release named by the build" "$rc:$out" "0:$RS/releases/build-41"
r3=$(chain EXAMPLES 3 zdd-release.1)
like "zdd-release(1): straight from an artifact store" "$r3" '^curl -fsS https://ci.example/app.tgz \| '
cp "$T/good.tgz" "$T/www/app.tgz"
run sh -c "$(sed -e "s|/srv/app|$RS|g" -e "s|https://ci.example/|http://127.0.0.1:$port/|" <<<"$r3")"
is "... exit 0, a release made" "$rc:$(ls "$RS/releases" | wc -l)" "0:2"
run sh -c "$(sed -e "s|/srv/app|$RS|g" -e "s|https://ci.example/|http://127.0.0.1:$port/|" \
	-e 's|--max-bytes 2G |--max-bytes 10 |' <<<"$r3")"
is "... past --max-bytes: 65, nothing made" "$rc:$(ls "$RS/releases" | wc -l)" "65:2"
r5=$(chain EXAMPLES 5 zdd-release.1)
is "zdd-release(1): a check that makes nothing" "$r5" "zdd-release -r /srv/app -n --json app.zip"
(cd "$RW/src/app-1.0" && zip -qr "$RW/app.zip" .)
before=$(tree "$RS")
run sh -c "cd '$RW' && $(sed "s|/srv/app|$RS|g" <<<"$r5")"
is "... exit 0, one JSON object, nothing made" "$rc:$(jq -r '.dry_run' <<<"$out"):$(tree "$RS")" "0:true:$before"

# --- zdd-prune(1) ------------------------------------------------------------
for i in 1 2 3; do
	zdd-release -q -r "$K" --id "old$i" "$T/good.tgz" >/dev/null
	zdd-link -q -r "$K" --bad "old$i" >/dev/null
done
before=$(ls "$K/releases" | tr '\n' ' ')
run sh -c "$(sed "s|/var/www/app|$K|g" <<<"$(chain EXAMPLES 2 zdd-prune.1)")"
is "zdd-prune(1): a dry run of -k 10 changes nothing" "$rc:$(ls "$K/releases" | tr '\n' ' ')" "0:$before"
run sh -c "$(sed "s|/var/www/app|$K|g" <<<"$(chain EXAMPLES 3 zdd-prune.1)")"
is "zdd-prune(1): --keep-bad 2 keeps the two newest failed ones" "$rc:$(ls "$K/releases" | grep -c old)" "0:2"
ok "... and what the links point at" test -d "$K/current/" -a -d "$K/green/"
run sh -c "$(sed "s|/var/www/app|$K|g" <<<"$(chain EXAMPLES 1 zdd-prune.1)")"
is "zdd-prune(1): keep five: the failed ones go" "$rc:$(ls "$K/releases" | grep -c old)" "0:0"

# --- nginx blue/green, an include file and sites-enabled --------------------
# Real nginx in front, the colours' backends started and stopped by the
# chains' own systemctl lines.
export PORT_blue PORT_green
PORT_blue=$(free_port)
PORT_green=$(free_port)
colours() {
	r=
	for c in blue green; do
		[ -f "$T/run/$c.pid" ] && kill -0 "$(cat "$T/run/$c.pid")" 2>/dev/null && r="$r $c"
	done
	echo "${r# }"
}
BW=$T/wsbg
mkdir -p "$BW"
cp "$W/ci.pub" "$BW/"
# bgart VERSION [broken]: the build, signed by the build stage.
bgart() {
	wf_artifact "$BW/app.tgz" "$@"
	minisign -S -s "$T/ci.key" -m "$BW/app.tgz" >/dev/null
}
inp=$(free_port)
IN=$T/nginx-inc
mkdir -p "$IN/conf/conf.d"
INC=$IN/conf/conf.d/service-url.inc
printf 'set $service_url http://127.0.0.1:%s;\n' "$PORT_blue" >"$INC"
wf_nginx "$IN" "$inp" "server {
		listen 127.0.0.1:$inp;
		location / { include $INC; proxy_pass \$service_url; }
	}"
inc=$(chain "nginx blue/green with an include file" 1)
like "zdd(7): the include-file chain" "$inc" 'zdd-switch --drain "\$\{idle% \*\}" \|\| exit'
inclock=$(chain "nginx blue/green with an include file" 2)
is "zdd(7): ... runs under the deploy lock" "$inclock" "zdd-lock -r /srv/app --lock-wait 300 sh deploy.sh"
BG=$T/bg/srv/app
sed -e "s|/srv/app|$BG|g" -e 's|-d 60 |-d 20 |' \
	-e "s|zdd-switch |zdd-switch -t blue=127.0.0.1:$PORT_blue -t green=127.0.0.1:$PORT_green -f $INC $NGX_ARGS |g" \
	<<<"$inc" >"$BW/deploy.sh"
# bg [LOCK-WAIT]: the deploy, as zdd(7) runs it.
bg() {
	run sh -c "cd '$BW' && $(sed -e "s|/srv/app|$BG|g" -e "s|--lock-wait 300|--lock-wait ${1:-300}|" <<<"$inclock")"
}
bgart 1
bg
is "include file, first deploy: exit 0" "$rc" 0
is "... nginx serves it from green" "$(get "$inp")" "1 green"
is "... the include file names green" "$(grep -v '^#' "$INC")" "set \$service_url http://127.0.0.1:$PORT_green;"
is "... only green runs" "$(colours)" green
g1=$(readlink "$BG/green")
bgart 2
bg
is "include file, second deploy: exit 0, blue serves" "$rc:$(get "$inp")" "0:2 blue"
is "... green was stopped after the drain" "$(colours)" blue
bgart 3 broken
bg
is "an unhealthy build: exit 1" "$rc" 1
like "... zdd-health says why" "$err" "zdd-health: http://127.0.0.1:$PORT_green/health: .*503"
is "... blue still serves, green stopped again" "$(get "$inp"):$(colours)" "2 blue:blue"
is "... green's link is back on its release" "$(readlink "$BG/green")" "$g1"
like "... the unhealthy release is marked bad" "$(zdd-link -r "$BG" --list | tail -n 1)" ' bad$'
# nginx -t refuses the switch: the live colour is never stopped.
bgart 4
echo "syntax error {" >"$IN/conf/conf.d/broken.conf"
sed -i "s|include $INC;|include $INC; include $IN/conf/conf.d/*.conf;|" "$IN/conf/nginx.conf"
bg
is "nginx -t refuses the switch: zdd-switch's 78" "$rc" 78
is "... blue still serves, and still runs" "$(get "$inp"):$(colours | grep -c blue)" "2 blue:1"
rm "$IN/conf/conf.d/broken.conf"
sed -i "s| include $IN/conf/conf.d/\*.conf;||" "$IN/conf/nginx.conf"
spawn zdd-lock -r "$BG" --lock-wait 10 sleep 30
holder=$last_pid
held "$BG/.zdd/lock"
bg 0
is "another deploy holds the root: exit 75, nothing changed" "$rc:$(get "$inp")" "75:2 blue"
like "... naming it" "$err" "^zdd-lock: $BG is locked: pid $holder "
stop "$holder"
bg
is "then the deploy goes through: green serves" "$rc:$(get "$inp"):$(colours)" "0:4 green:green"
for c in blue green; do app-service stop "$c"; done

sen=$(chain "nginx blue/green with sites-enabled" 1)
like "zdd(7): the sites-enabled chain" "$sen" '^SW="-l /etc/nginx/sites-enabled/app -a /etc/nginx/sites-available"$'
sp=$(free_port)
S=$T/etc-nginx
mkdir -p "$S/sites-available" "$S/sites-enabled"
for c in blue green; do
	eval "a=\${PORT_$c}"
	sed -e "s|listen 80;|listen 127.0.0.1:$sp;|" -e "s|127.0.0.1:808[12]|127.0.0.1:$a|" \
		-e "s|server_name .*;|server_name _;|" \
		"$EX/sites-enabled/sites-available/$c" >"$S/sites-available/$c"
done
ln -s "$S/sites-available/blue" "$S/sites-enabled/app"
wf_nginx "$S" "$sp" "include $S/sites-enabled/*;"
SE=$T/se/srv/app
sed -e "s|/srv/app|$SE|g" -e "s|/etc/nginx|$S|g" -e 's|-d 60 |-d 20 |' \
	-e "s|zdd-switch |zdd-switch -t blue=127.0.0.1:$PORT_blue -t green=127.0.0.1:$PORT_green $NGX_ARGS |g" \
	<<<"$sen" >"$BW/sites.sh"
se() {
	run sh -c "cd '$BW' && zdd-lock -r '$SE' sh sites.sh"
}
bgart 5
se
is "sites-enabled, first deploy: exit 0, green serves" "$rc:$(get "$sp")" "0:5 green"
is "... sites-enabled/app points at sites-available/green" "$(readlink "$S/sites-enabled/app")" "$S/sites-available/green"
bgart 6
se
is "sites-enabled, second deploy: blue serves, green stopped" "$rc:$(get "$sp"):$(colours)" "0:6 blue:blue"
bgart 7 broken
se
is "sites-enabled, unhealthy: exit 1, blue serves on" "$rc:$(get "$sp"):$(colours)" "1:6 blue:blue"
is "... the link still points at blue" "$(readlink "$S/sites-enabled/app")" "$S/sites-available/blue"
for c in blue green; do app-service stop "$c"; done

# --- AWS CodeDeploy ----------------------------------------------------------
# The hook script zdd(7) prints, as every hook of examples/codedeploy's
# appspec.yml, run as the agent runs hooks.
hook=$(chain "AWS CodeDeploy" 1)
like "zdd(7): one hook script, under the lock" "$hook" 'exec zdd-lock --lock-wait 60 sh "\$0"'
CR=$T/srv/shop
FS=$T/fs
cnp=$(free_port)
wf_nginx "$T/cdnginx" "$cnp" "server { listen 127.0.0.1:$cnp; root $CR/current/public; }"
# cdrev DIR VERSION [broken]: a revision: appspec.yml, the hook as every
# script, app.tgz and its signature.
cdrev() {
	mkdir -p "$1/scripts"
	cp "$EX/codedeploy/appspec.yml" "$1/"
	for h in application-stop after-install application-start validate-service; do
		sed -e "s|/srv/shop|$CR|g" -e "s|/etc/zdd/shop.pub|$W/ci.pub|" \
			-e "s|/opt/codedeploy/shop/app.tgz|$FS/opt/codedeploy/shop/app.tgz|" \
			-e "s|http://127.0.0.1/health|http://127.0.0.1:$cnp/health.json|" \
			-e 's|-d 120 |-d 3 |' <<<"$hook" >"$1/scripts/$h.sh"
		chmod 755 "$1/scripts/$h.sh"
	done
	wf_artifact "$1/app.tgz" "$2" ${3:+"$3"}
	minisign -S -s "$T/ci.key" -m "$1/app.tgz" >/dev/null
}
agent() {
	run env DEPLOYMENT_ID="$1" APPLICATION_NAME=shop DEPLOYMENT_GROUP_NAME=production \
		python3 "$TOP/tests/workflows-ci.py" codedeploy "$2" "$FS" ${3:+"$3"}
}
cdrev "$T/rev1" 1
cdrev "$T/rev2" 2 broken
cdrev "$T/rev3" 3
agent d-RPCR1U3TW "$T/rev1"
is "CodeDeploy, first deployment: succeeds, live, served" \
	"$rc:$(readlink "$CR/current"):$(get "$cnp")" "0:releases/d-RPCR1U3TW:version 1"
agent d-A7X2K9Q1E "$T/rev2" "$T/rev1"
is "a revision that fails ValidateService: the deployment fails" "$rc" 1
like "... in ValidateService" "$err" 'LifecycleEvent - ValidateService: script scripts/validate-service.sh failed with exit code 1'
is "... the previous release is live and served again" "$(readlink "$CR/current"):$(get "$cnp")" \
	"releases/d-RPCR1U3TW:version 1"
like "... the failed one is bad" "$(zdd-link -r "$CR" --list)" 'd-A7X2K9Q1E bad'
agent d-0ZQ4M8N2B "$T/rev3" "$T/rev1"
is "the next revision: succeeds" "$rc:$(get "$cnp")" "0:version 3"
like "... ApplicationStop said what was live" "$out" "^$CR/releases/d-RPCR1U3TW$"
agent d-ZQ3N8V1KD "$T/rev2" "$T/rev3"
is "a failing one after it: back to d-0ZQ4M8N2B, not the one before by id" \
	"$rc:$(readlink "$CR/current")" "1:releases/d-0ZQ4M8N2B"
spawn zdd-lock -r "$CR" --lock-wait 10 sleep 30
holder=$last_pid
held "$CR/.zdd/lock"
sed -i 's|--lock-wait 60 |--lock-wait 0 |' "$T/rev1/scripts/"*.sh "$T/rev3/scripts/"*.sh
agent d-K4P7W2M9X "$T/rev1" "$T/rev3"
stop "$holder"
is "another deploy holds the root: the deployment fails, current untouched" \
	"$rc:$(readlink "$CR/current")" "1:releases/d-0ZQ4M8N2B"
like "... its first hook names the holder" "$err" "zdd-lock: $CR is locked: pid $holder "

# --- A fleet with Ansible ----------------------------------------------------
# The tasks zdd(7) prints, in examples/ansible's playbook in place of its
# own, run by the command zdd(7) prints against three local hosts, each
# with its own root, nginx and app, as tests/74-ansible.t runs them.
tasks=$(chain "A fleet with Ansible" 1)
like "zdd(7): the fleet's tasks" "$tasks" "^- name: Make the release, with the fleet's id"
cmdline=$(chain "A fleet with Ansible" 2)
like "zdd(7): the rollout's command" "$cmdline" '^ansible-playbook -i inventory.yml deploy.yml \\$'
AW=$T/ansible
mkdir -p "$AW"
cp "$EX/ansible/inventory.yml" "$AW/"
printf '%s\n' "$tasks" >"$T/page-tasks.yml"
run python3 - "$EX/ansible/deploy.yml" "$T/page-tasks.yml" "$AW/deploy.yml" <<'PY'
import sys
book = open(sys.argv[1]).read()
page = open(sys.argv[2]).read()
start = book.index("    - name: Make the release")
last = "      register: rollback\n"
end = book.index(last) + len(last)
mine = "".join(("    " + l if l.strip() else l) for l in page.splitlines(True))
print("same" if book[start:end] == mine else "differs")
open(sys.argv[3], "w").write(book[:start] + mine + book[end:])
PY
is "... the tasks are examples/ansible's, word for word" "$rc:$out" "0:same"
export FLEET_DIR=$T/fleet HEALTH_DEADLINE=20 HOME=$T/home \
	ANSIBLE_HOME=$T/home/.ansible ANSIBLE_LOCAL_TEMP=$T/home/tmp \
	ANSIBLE_REMOTE_TMP=$T/home/tmp ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 \
	ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_LOAD_CALLBACK_PLUGINS=0
mkdir -p "$HOME"
for h in web1 web2 web3; do
	hnp=$(free_port)
	hap=$(free_port)
	H=$(echo "$h" | tr a-z A-Z)
	export "${H}_NGINX_PORT=$hnp" "${H}_APP_PORT=$hap"
	mkdir -p "$FLEET_DIR/$h/app/shared"
	echo "HOST=$h" >"$FLEET_DIR/$h/app/shared/.env"
	wf_nginx "$FLEET_DIR/$h/nginx" "$hnp" "server {
		listen 127.0.0.1:$hnp;
		location / { proxy_pass http://127.0.0.1:$hap; }
	}"
done
fleet() {
	for h in web1 web2 web3; do
		printf '%s:%s ' "$h" "$(basename "$(readlink "$FLEET_DIR/$h/app/current")")"
	done
}
# rollout ID VERSION: the command as printed (the paths aside), the
# release id given.
rollout() {
	wf_artifact "$AW/app.tgz" "$2"
	minisign -S -s "$T/ci.key" -m "$AW/app.tgz" >/dev/null
	run sh -c "cd '$AW' && $(sed -e "s|/tmp/app.tgz|$AW/app.tgz|" \
		-e "s|/etc/zdd/ci.pub|$W/ci.pub|" <<<"$cmdline") -e release_id=$1"
}
rollout 20990101000101 1
is "Ansible, the printed tasks: the rollout passes" "$rc" 0
is "... every host live on the fleet's release" "$(fleet)" \
	"web1:20990101000101 web2:20990101000101 web3:20990101000101 "
echo "HEALTH=fail" >>"$FLEET_DIR/web2/app/shared/.env"
HEALTH_DEADLINE=4 rollout 20990101000102 2
is "one host unhealthy: the rollout fails (exit 2)" "$rc" 2
is "... its batch rolled back, the next batch untouched" "$(fleet)" \
	"web1:20990101000101 web2:20990101000101 web3:20990101000101 "
is "... the release is bad on both hosts of the batch, never made on web3" \
	"$(zdd-link -r "$FLEET_DIR/web1/app" --list | grep -c '20990101000102 bad'):$(zdd-link -r "$FLEET_DIR/web2/app" --list | grep -c '20990101000102 bad'):$(ls "$FLEET_DIR/web3/app/releases" | grep -c 20990101000102)" \
	"1:1:0"

done_testing
