# Sourced by tests/7N-*.t after lib.sh: what the workflow tests share.  A
# private nginx under a prefix of its own, the application artifact the
# examples deploy, backends that an example's own start and stop commands
# run (by PID file, as a service manager would), and a webhook receiver
# that records every notification.  Everything listens on 127.0.0.1 on
# ports from free_port and is stopped by PID when the test exits.
EX=$TOP/examples
mkdir -p "$T/run" "$T/bin"

# Backends that example scripts start outlive the command that started
# them, as services do; they are stopped here by the PIDs in their files,
# before lib.sh's cleanup removes $T.
wf_cleanup() {
	for f in "$T"/run/*.pid; do
		[ -f "$f" ] || continue
		kill "$(cat "$f")" 2>/dev/null
	done
	cleanup
}
trap wf_cleanup EXIT

# wf_nginx DIR PORT HTTP-BODY: start nginx under the prefix DIR with
# HTTP-BODY inside its http block.  Sets NGX (the command line that
# reaches it, for -t and -s reload) and NGX_ARGS (zdd-switch's options).
wf_nginx() {
	start_nginx "$1" "$2" "$3"
	NGX="nginx -p $1 -c $1/conf/nginx.conf"
	NGX_ARGS=$NGINX_ARGS
}

# wf_artifact OUT VERSION [broken|hookfail]: the application's build
# artifact, a tar.gz: app.py (the backend), VERSION, composer.json and a
# composer-install-like bin/install that fills vendor/, public/ (what
# nginx serves from current, with a health.json), storage/.  "broken"
# makes a build whose health check fails; "hookfail" one whose install
# hook fails.
wf_artifact() {
	s=$T/src-$2-${3:-ok}
	rm -rf "$s"
	mkdir -p "$s/bin" "$s/public" "$s/storage/logs"
	cp "$TOP/tests/workflows-app.py" "$s/app.py"
	v=$2
	[ "${3:-}" = broken ] && v="$2-broken"
	echo "$v" >"$s/VERSION"
	printf '{"require": {"monolog/monolog": "^3.0"}%s}\n' \
		"$([ "${3:-}" = hookfail ] && echo ', "fail": true')" >"$s/composer.json"
	cat >"$s/bin/install" <<'SH'
#!/bin/sh
# What "composer install" does for this app: vendor/ from composer.json,
# and a config cache built from the shared .env.
set -e
if grep -q '"fail"' composer.json; then
	echo "install: monolog/monolog: could not resolve dependencies" >&2
	exit 2
fi
mkdir -p vendor bootstrap/cache
echo "<?php // autoload for $(cat VERSION)" >vendor/autoload.php
cat .env >bootstrap/cache/config 2>/dev/null || true
if grep -qx HEALTH=fail .env 2>/dev/null; then
	echo '{"status":"DOWN"}' >public/health.json
fi
SH
	chmod 755 "$s/bin/install"
	echo "version $v" >"$s/public/index.html"
	if [ "${3:-}" = broken ]; then
		echo '{"status":"DOWN"}' >"$s/public/health.json"
	else
		printf '{"status":"UP","version":"%s"}\n' "$v" >"$s/public/health.json"
	fi
	echo keep >"$s/storage/logs/.keep"
	tar czf "$1" -C "$s" .
}

# An init-script-like service command the examples' start, stop and
# restart hooks call: app-service start|stop|restart NAME PORT DIR runs
# DIR/app.py on PORT in the background, its PID in $T/run/NAME.pid.
cat >"$T/bin/app-service" <<SH
#!/bin/sh
pidf=$T/run/\$2.pid
stop() {
	[ -f "\$pidf" ] || return 0
	p=\$(cat "\$pidf")
	kill "\$p" 2>/dev/null
	i=0
	while kill -0 "\$p" 2>/dev/null && [ \$i -lt 100 ]; do
		sleep 0.05; i=\$((i + 1))
	done
	rm -f "\$pidf"
}
start() {
	cd "\$4" || exit 1
	setsid python3 "\$4/app.py" "\$3" "\$2" </dev/null >>$T/run/\$2.log 2>&1 &
	echo \$! >"\$pidf"
}
case \$1 in
start) stop; start "\$@" ;;
stop) stop ;;
restart) stop; start "\$@" ;;
*) echo "usage: app-service start|stop|restart NAME PORT DIR" >&2; exit 64 ;;
esac
SH
chmod 755 "$T/bin/app-service"
PATH=$T/bin:$PATH

# wf_receiver: a webhook receiver on loopback; exports ZDD_NOTIFY_URL and
# sets HOOKLOG, one JSON line per request it got.
wf_receiver() {
	rp=$(free_port)
	HOOKLOG=$T/hooks.log
	: >"$HOOKLOG"
	spawn python3 "$TOP/tests/notify-receiver.py" "$rp" "$HOOKLOG"
	wait_port "$rp"
	ZDD_NOTIFY_URL=http://127.0.0.1:$rp/hook/T0KEN-secret
	export ZDD_NOTIFY_URL
}

# wf_events [FIELD...]: the notifications received since the last call,
# one a line, each FIELD of the event JSON separated by spaces (default:
# status and release).
wf_events() {
	python3 - "$HOOKLOG" "${@:-status release}" <<'PY'
import json, sys
fields = " ".join(sys.argv[2:]).split()
for line in open(sys.argv[1]):
    e = json.loads(line).get("json") or {}
    print(" ".join(str(e.get(f, "-")) for f in fields))
PY
	: >"$HOOKLOG"
}

# get PORT [PATH]: what answers on 127.0.0.1:PORT.
get() {
	curl -s --max-time 10 "http://127.0.0.1:$1${2:-/}"
}

# wf_readme_chain N: the Nth ```sh block of the README's section "The two
# shortest chains", as the user copies it.
wf_readme_chain() {
	awk -v want="$1" '
		/^## / { insec = ($0 ~ /The two shortest chains/) }
		insec && /^```sh$/ { k++; inblk = (k == want); next }
		inblk && /^```$/ { inblk = 0 }
		inblk { print }
	' "$TOP/README.md"
}
