#!/bin/bash
# The lifecycle chains that zdd(7), zdd-link(1) and zdd-lock(1) print, run
# exactly as printed (paths, ports and deadlines aside) against real
# roots, a real HTTP server and a real webhook receiver, with their
# failure paths: a corrupt artifact, an unhealthy release, a failed hook,
# a held lock.
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
	' "$TOP/man/${3:-zdd.7}" | sed -e 's/\\e/\\/g' -e 's/\\&//g'
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
printf '#!/bin/sh\nexit 0\n' >"$T/bin/systemctl"
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

done_testing
