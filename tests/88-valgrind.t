# Every tool under valgrind's memcheck, for a representative set of
# command lines: the happy path, --json, --dry-run, usage errors, hostile
# input, and failures on the way (an unreachable service, a refused
# archive, an include file zdd did not write).  Each run must exit as it
# would without valgrind and leave no memcheck report: no invalid read or
# write, no use of uninitialised memory, no definitely lost block.
. "$(dirname "$0")/lib.sh"

if [ -n "${SANLOG:-}" ]; then
	echo "ok 1 # skip under make check-asan (valgrind cannot run ASan binaries; make check runs this)"
	echo "1..1"
	exit 0
fi
if ! command -v valgrind >/dev/null 2>&1; then
	fail "valgrind is installed" "install it: sh tests/deps.sh (it is in the list)"
	done_testing
	exit 1
fi

# vg WANT CMD...: CMD under memcheck exits WANT and memcheck is silent.
vg() {
	want=$1
	shift
	rm -f "$T"/vg.*
	run valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
	    --show-leak-kinds=definite --error-exitcode=99 \
	    --log-file="$T/vg.%p" "$@"
	report=$(cat "$T"/vg.* 2>/dev/null)
	if [ "$rc" = "$want" ] && [ -z "$report" ]; then
		pass "memcheck clean, exit $want: $*"
	else
		fail "memcheck clean, exit $want: $*" "exit $rc" \
		    "$(printf '%s\n' "$report" | grep -v '^==[0-9]*== *$' | head -n 25)" \
		    "stderr: $(echo "$err" | tail -n 2)"
	fi
}

R=$T/root
mkdir -p "$T/src/public" "$T/src/storage"
echo hi >"$T/src/public/index.html"
ln -s public/index.html "$T/src/index"
tar -C "$T/src" -czf "$T/app.tar.gz" .
python3 "$TOP/tests/release-archives.py" sym-abs "$T/evil.tar"

# --- zdd-release ------------------------------------------------------
vg 0 zdd-release -h
vg 64 zdd-release -r "$R" --bogus "$T/app.tar.gz"
vg 0 zdd-release -q -r "$R" --id one --link-dir storage "$T/app.tar.gz"
vg 0 zdd-release -q -r "$R" --id two --dedupe --json "$T/app.tar.gz"
vg 0 zdd-release -q -r "$R" --id three "$T/src"
vg 0 zdd-release -n -r "$R" "$T/app.tar.gz"
vg 65 zdd-release -r "$R" "$T/evil.tar"
vg 66 zdd-release -r "$R" "$T/missing.tar"

# --- zdd-link ---------------------------------------------------------
vg 0 zdd-link -q -r "$R" one
vg 0 zdd-link -q -r "$R" two
vg 0 zdd-link -r "$R" --show
vg 0 zdd-link -r "$R" --list --json
vg 0 zdd-link -q -r "$R" --rollback
vg 66 zdd-link -r "$R" nosuch
vg 64 zdd-link -r "$R" --steps x --rollback

# --- zdd-prune --------------------------------------------------------
vg 0 zdd-prune -n -r "$R" -k 1 --json
vg 0 zdd-prune -q -r "$R" -k 1
vg 64 zdd-prune -r "$R" -k -1

# --- zdd-health -------------------------------------------------------
hp=$(free_port)
spawn python3 "$TOP/tests/health-server.py" "$hp" spring
wait_port "$hp"
dead=$(free_port)
vg 0 zdd-health -d 10 -e status=UP -e components.db.status=UP -s 200-299 \
	"http://127.0.0.1:$hp/actuator/health" "tcp://127.0.0.1:$hp"
vg 0 zdd-health --json -d 10 "http://127.0.0.1:$hp/"
vg 1 zdd-health -d 10 -e status=DOWN --attempts 2 -i 0.05 "http://127.0.0.1:$hp/"
vg 1 zdd-health --attempts 2 -i 0.05 "http://127.0.0.1:$dead/"
vg 64 zdd-health -e 'a[x' "http://127.0.0.1:$hp/"
vg 64 zdd-health -s 700 "http://127.0.0.1:$hp/"

# --- zdd-switch: include file, checked by a real nginx -t -------------
N=$T/nginx
mkdir -p "$N/conf/conf.d" "$N/logs"
INC=$N/conf/conf.d/service-url.inc
printf 'set $service_url http://127.0.0.1:8081;\n' >"$INC"
cat >"$N/conf/nginx.conf" <<CONF
pid $N/nginx.pid;
error_log $N/logs/error.log;
events { worker_connections 16; }
http {
	access_log off;
	server {
		listen 127.0.0.1:$dead;
		location / {
			include $INC;
			proxy_pass \$service_url;
		}
	}
}
CONF
SW="zdd-switch -f $INC --nginx-arg=-p --nginx-arg=$N --nginx-arg=-c --nginx-arg=$N/conf/nginx.conf --no-reload"
# shellcheck disable=SC2086
{
vg 0 $SW status
# --force: nothing listens at the default targets, so the guard would
# refuse; it is run once below.
vg 0 $SW --force --json flip
vg 0 $SW --force -n blue
vg 0 $SW --force blue
vg 1 $SW -t blue=127.0.0.1:1 -t green=127.0.0.1:2 green
vg 1 $SW -t a=127.0.0.1:1 -t b=127.0.0.1:2 status
vg 64 $SW -t 'blue=1.2.3.4:80;x' status
}
printf 'set $service_url http://127.0.0.1:8081;\nproxy_set_header A b;\n' >"$INC"
# shellcheck disable=SC2086
vg 65 $SW green
mkdir -p "$T/avail" "$T/enabled"
touch "$T/avail/blue" "$T/avail/green"
ln -s "$T/avail/blue" "$T/enabled/default"
vg 0 zdd-switch -l "$T/enabled/default" -a "$T/avail" --no-reload \
	--nginx /bin/true --force flip

# --- zdd-notify -------------------------------------------------------
np=$(free_port)
spawn python3 "$TOP/tests/notify-receiver.py" "$np" "$T/notify.log"
wait_port "$np"
vg 0 zdd-notify -n -k slack -u "http://127.0.0.1:$np/slack/T/B/x" -s success \
	-a shop -e prod --release 20261123084013 'deployed <ok> & "done"'
vg 0 zdd-notify -u "http://127.0.0.1:$np/slack/T/B/x" -s success -a shop hi
vg 0 zdd-notify --json -k discord -u "http://127.0.0.1:$np/discord/1/x" -s started hi
vg 0 zdd-notify -k teams -u "http://127.0.0.1:$np/teams/x" -s 3 -f host=web1 hi
vg 1 zdd-notify -k slack -u "http://127.0.0.1:$np/slack-err/invalid_token/x" hi
vg 0 zdd-notify -k slack -u "http://127.0.0.1:$np/r429body/1/x" --retries 2 hi
vg 69 zdd-notify -k slack -u "http://127.0.0.1:$dead/x" --retries 1 -t 2 hi
vg 64 zdd-notify -s maybe -u "http://127.0.0.1:$np/slack/x" hi

done_testing
