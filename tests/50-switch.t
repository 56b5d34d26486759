# zdd-switch against a real nginx (include file in both formats, and a
# sites-enabled link) and a real HAProxy, with real backends: what it
# prints, how it exits, what the configuration directory holds after, and
# which backend answers through the proxy.
. "$(dirname "$0")/lib.sh"
cp=

backend() {
	spawn python3 "$TOP/tests/switch-backend.py" "$1" "$2"
}
get() {
	curl -s --max-time 10 "http://127.0.0.1:$1${2:-/}"
}
# soon PORT WANT: what nginx answers once WANT comes, or after 3 s.  A
# switch without --drain returns once the new workers are up, and nginx
# lets its old workers take connections for another 100 ms.
soon() {
	i=0
	while [ "$i" -lt 60 ]; do
		got=$(get "$1")
		[ "$got" = "$2" ] && break
		sleep 0.05
		i=$((i + 1))
	done
	echo "$got"
}

bp=$(free_port)
gp=$(free_port)
backend "$bp" blue
bluepid=$last_pid
backend "$gp" green
greenpid=$last_pid
wait_port "$bp"
wait_port "$gp"
TG="-t blue=127.0.0.1:$bp -t green=127.0.0.1:$gp"

# nginx_at DIR PORT HTTPBLOCK LOCATIONBLOCK: a two-worker nginx under DIR
# with one server on PORT.
nginx_at() {
	NGINX_WORKERS=2 start_nginx "$1" "$2" "$3
	server {
		listen 127.0.0.1:$2;
		location / {
			$4
		}
	}"
}
nargs() {
	echo "--nginx-arg=-p --nginx-arg=$1 --nginx-arg=-c \
--nginx-arg=$1/conf/nginx.conf --pid-file $1/nginx.pid"
}

# --- usage ---------------------------------------------------------------
run zdd-switch -h
is "-h exits 0" "$rc" 0
like "-h prints the synopsis on stdout" "$out" '^usage: zdd-switch'
run zdd-switch -V
is "-V exits 0" "$rc" 0
run zdd-switch --bogus
is "unknown option: 64" "$rc" 64
run zdd-switch -t blue flip
is "-t without =ADDR: 64" "$rc" 64
like "... says why" "$err" 'not NAME=ADDR'
run zdd-switch -t 'blue=1.2.3.4:80;evil' status
is "-t with ';' in ADDR: 64 (nothing pasted into nginx's file)" "$rc" 64
run zdd-switch -t status=127.0.0.1:1 status
is "a target named status: 64" "$rc" 64
run zdd-switch -t a=1.1.1.1:1 -t b=1.1.1.1:2 -t c=1.1.1.1:3 flip
is "flip with three targets: 64" "$rc" 64
run zdd-switch purple
is "an unknown target: 64" "$rc" 64
run zdd-switch -l /tmp/x status
is "--link without --available: 64" "$rc" 64
run zdd-switch --haproxy /tmp/x status
is "--haproxy without --backend: 64" "$rc" 64
run zdd-switch --format json status
is "--format json: 64" "$rc" 64
run zdd-switch --drain=soon status
is "--drain=soon: 64" "$rc" 64
run env ZDD_RELOAD_WAIT=soon zdd-switch status
is "ZDD_RELOAD_WAIT=soon: 64" "$rc" 64
like "... says which variable" "$err" 'ZDD_RELOAD_WAIT: not a number'
run zdd-switch --drain --no-reload flip
is "--drain with --no-reload: 64" "$rc" 64

# --- include file, --format set (the seed's service-url.inc) -----------
N=$T/set
np=$(free_port)
mkdir -p "$N/conf/conf.d"
printf 'set $service_url http://127.0.0.1:%s;\n' "$bp" \
	>"$N/conf/conf.d/service-url.inc"
nginx_at "$N" "$np" "" "include $N/conf/conf.d/service-url.inc;
			proxy_pass \$service_url;"
nginxpid=$last_pid
INC=$N/conf/conf.d/service-url.inc
S="zdd-switch $TG -f $INC $(nargs "$N")"
is "nginx serves blue at first" "$(get "$np")" blue

run $S status
is "status of the seed's file: exit 0" "$rc" 0
is "status prints NAME ADDR" "$out" "blue 127.0.0.1:$bp"
run $S
is "status is the default operand" "$out" "blue 127.0.0.1:$bp"
run $S idle
is "idle prints the other one" "$out" "green 127.0.0.1:$gp"
before=$(cat "$INC")
run $S -n flip
is "flip -n: exit 0" "$rc" 0
is "flip -n prints where it would go" "$out" "green 127.0.0.1:$gp"
like "flip -n says what it would do" "$err" 'would write'
is "flip -n changes nothing" "$(cat "$INC")" "$before"
run $S flip
is "flip: exit 0" "$rc" 0
is "flip prints the new live backend" "$out" "green 127.0.0.1:$gp"
like "flip says what it did on stderr" "$err" "from blue to green in [0-9.]+ s"
is "the file is zdd's set line" "$(grep -v '^#' "$INC")" \
	"set \$service_url http://127.0.0.1:$gp;"
is "nginx serves green soon after" "$(soon "$np" green)" green
is "no stray file beside the include" "$(ls -A "$N/conf/conf.d")" \
	service-url.inc
run $S status
is "status reads the new file" "$out" "green 127.0.0.1:$gp"
cp "$INC" "$T/inc.green"
run $S green
is "switching to the live target: exit 0" "$rc" 0
is "... prints it" "$out" "green 127.0.0.1:$gp"
ok "... and leaves the file alone" cmp -s "$INC" "$T/inc.green"
run $S --json blue
is "--json blue: exit 0" "$rc" 0
like "--json is one object with the fields" "$out" \
	'^\{"action":"switch","mode":"file","name":"blue","addr":"127.0.0.1:[0-9]+","previous":"green","changed":true,"dry_run":false,"seconds":[0-9.e-]+\}$'
is "nginx serves blue" "$(soon "$np" blue)" blue
run $S -q green
is "-q: nothing on stderr" "$err" ""
run sh -c "$S idle | $S -"
is "'-' reads the target from stdin (NAME ADDR, as idle prints it)" "$out" \
	"blue 127.0.0.1:$bp"
run $S --nginx /nonexistent/nginx green
is "--nginx that cannot run: 69" "$rc" 69
is "... the file names blue still" "$($S status 2>/dev/null)" "blue 127.0.0.1:$bp"
run $S --nginx "$(command -v nginx)" -q green
is "--nginx PATH: exit 0" "$rc" 0
run $S --json status
like "--json status" "$out" '"action":"status".*"name":"green"'

# --- the guard: never switch to a dead backend --------------------------
# After a failed deploy, "flip" back to a colour whose backend is down
# would send every request to a 502.  The target must accept a
# connection first; --probe runs zdd-health's checks instead.
dp=$(free_port)
SD="zdd-switch -t blue=127.0.0.1:$bp -t green=127.0.0.1:$dp -f $INC $(nargs "$N")"
$S -q blue
soon "$np" blue >/dev/null
cp "$INC" "$T/inc.before"
run $SD flip
is "flip to a dead backend: exit 1" "$rc" 1
is "... prints nothing on stdout" "$out" ""
like "... says why" "$err" \
	"refusing to switch to green \(127.0.0.1:$dp\): cannot connect: Connection refused; nothing changed"
ok "... the file is as it was" cmp -s "$INC" "$T/inc.before"
is "... nginx serves blue" "$(get "$np")" blue
is "... no stray file" "$(ls -A "$N/conf/conf.d")" service-url.inc
run $SD -n green
is "... a dry run checks too: 1" "$rc" 1
run $SD --probe "http://127.0.0.1:$gp/" green
is "--probe that passes lets a switch go on" "$rc" 0
$S -q --force blue
soon "$np" blue >/dev/null
run $S --probe "http://127.0.0.1:$dp/up" green
is "--probe that fails: exit 1" "$rc" 1
like "... with zdd-health's reason" "$err" \
	"refusing to switch to green \(http://127.0.0.1:$dp/up\): .*cannot connect"
ok "... the file is as it was" cmp -s "$INC" "$T/inc.before"
run $S --probe "http://127.0.0.1:$gp/" -n green
is "... a dry run with a passing probe: 0" "$rc" 0
run $SD --force green
is "--force skips the guard" "$rc" 0
is "... and nginx sends the dead backend's 502" \
	"$(sleep 0.3; curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$np/")" 502
$S -q blue
is "a switch back from the dead backend is allowed" "$(soon "$np" blue)" blue

# -r ROOT: each change is recorded in the deploy root's event log, under
# its lock.
R=$T/root
mkdir -p "$R"
$S -q -r "$R" blue
soon "$np" blue >/dev/null
run $S -r "$R" green
is "-r ROOT: the switch, exit 0" "$rc:$out" "0:green 127.0.0.1:$gp"
like "... recorded as a switch event" "$(tail -n 1 "$R/.zdd/events.jsonl")" \
	"^\\{\"time\":\"[0-9T:Z-]+\",\"event\":\"switch\",\"backend\":\"green\",\"addr\":\"127.0.0.1:$gp\",\"from\":\"blue\",\"mode\":\"file\",\"user\":"
n_ev=$(wc -l <"$R/.zdd/events.jsonl")
run env ZDD_ROOT="$R" $S status
run env ZDD_ROOT="$R" $S -n blue
run env ZDD_ROOT="$R" $S green
is "... status, a dry run and no change record nothing" \
	"$(wc -l <"$R/.zdd/events.jsonl")" "$n_ev"
flock "$R/.zdd/lock" sleep 3 &
holder=$!
sleep 0.3
run env ZDD_ROOT="$R" $S blue
is "... while a deploy holds the root's lock: 75" "$rc" 75
is "... and nothing changed" "$($S status 2>/dev/null)" "green 127.0.0.1:$gp"
wait "$holder"
run env ZDD_ROOT="$R" $S blue
is "\$ZDD_ROOT works as -r" "$(tail -n 1 "$R/.zdd/events.jsonl" | grep -c '"event":"switch","backend":"blue"')" 1
run zdd-link -r "$R" --list
is "... and zdd-link still reads the log" "$rc:$err" "0:"

# A file whose address is no target: status says no, a switch rewrites.
printf 'set $service_url http://127.0.0.1:1;\n' >"$INC"
run $S status
is "status of an unknown address: exit 1" "$rc" 1
like "... says which address" "$err" 'names no known target: 127.0.0.1:1'
run $S flip
is "flip from an unknown address: exit 1" "$rc" 1
run $S blue
is "a named switch from an unknown address works" "$rc" 0

# Content zdd did not write: refused with 65, untouched; --force.
printf 'set $service_url http://127.0.0.1:%s;\nproxy_set_header X-A b;\n' \
	"$bp" >"$INC"
cp "$INC" "$T/inc.hand"
run $S status
is "status of a hand-edited file: 65" "$rc" 65
run $S green
is "switch over a hand-edited file: 65" "$rc" 65
like "... says it is left alone" "$err" 'left alone \(--force overwrites it\)'
ok "... and it is byte for byte as it was" cmp -s "$INC" "$T/inc.hand"
printf 'upstream backend { server 127.0.0.1:%s; }\n' "$bp" >"$INC"
cp "$INC" "$T/inc.up"
run $S green
is "an upstream file under --format set: 65" "$rc" 65
ok "... untouched" cmp -s "$INC" "$T/inc.up"
printf 'set $other http://127.0.0.1:%s;\n' "$bp" >"$INC"
run $S green
is "a file that sets another variable: 65" "$rc" 65
cp "$T/inc.hand" "$INC"
run $S --force green
is "--force overwrites it: exit 0" "$rc" 0
like "... with a warning" "$err" 'overwritten, as --force asks'
is "nginx serves green" "$(soon "$np" green)" green
printf '\0\0\0' >"$INC"
run $S status
is "binary junk: 65" "$rc" 65
: >"$INC"
run $S status
is "an empty file: status exits 1" "$rc" 1
run $S blue
is "an empty file is written without --force" "$rc" 0
is "... and nginx serves blue" "$(soon "$np" blue)" blue

# A missing file is created (the first deploy).
mv "$INC" "$T/inc.saved"
run $S status
is "status without the file: 1" "$rc" 1
cp "$T/inc.saved" "$INC"

# nginx -t refuses: the file goes back byte for byte, exit 78.
cp "$INC" "$T/inc.before"
run zdd-switch -t blue=127.0.0.1:$bp -t green=127.0.0.1:$gp \
	-f "$INC" --format set --var 'no_such_var' $(nargs "$N") --force green
is "nginx -t refuses an unknown variable: 78" "$rc" 78
like "... with nginx's own message" "$err" '\[emerg\].*unknown "service_url" variable'
like "... and says the file is as it was" "$err" 'is as it was'
ok "... the file is back byte for byte" cmp -s "$INC" "$T/inc.before"
is "... nginx still serves the old backend" "$(get "$np")" blue
is "... no stray file" "$(ls -A "$N/conf/conf.d")" service-url.inc

# A file another user owns keeps its owner, group and mode, rewritten
# or put back.
chown 65534:65534 "$INC" && chmod 0640 "$INC"
run $S --reload-cmd 'exit 3' green
is "a file of another owner, put back after a failed reload" \
	"$rc $(stat -c '%u:%g %a' "$INC")" "69 65534:65534 640"
run $S green
is "... and rewritten: its owner, group and mode are kept" \
	"$rc $(stat -c '%u:%g %a' "$INC")" "0 65534:65534 640"
run $S -q blue
soon "$np" blue >/dev/null
chown 0:0 "$INC" && chmod 0644 "$INC"

# --reload-cmd that fails: 69, restored.  --no-reload: written, no reload.
run $S --reload-cmd 'echo cannot reach it >&2; exit 3' green
is "a failing --reload-cmd: 69" "$rc" 69
like "... relays its words" "$err" 'cannot reach it'
ok "... the file is back" cmp -s "$INC" "$T/inc.before"
run $S --no-reload green
is "--no-reload: exit 0" "$rc" 0
is "... the file names green" "$($S status 2>/dev/null)" "green 127.0.0.1:$gp"
is "... nginx still serves blue" "$(get "$np")" blue
run $S --reload-cmd "kill -HUP \$(cat $N/nginx.pid)" blue
run $S --reload-cmd "kill -HUP \$(cat $N/nginx.pid)" green
is "--reload-cmd that works: exit 0" "$rc" 0
is "... nginx serves green" "$(soon "$np" green)" green

# A hung nginx -t: SIGTERM puts the old file back at once and
# zdd-switch dies of it, with the hung command's whole process group.
cat >"$T/hung-nginx" <<SH
#!/bin/sh
case "\$*" in
*-t*)	echo \$\$ >"$T/hung.pid"
	sleep 60 ;;
esac
exec nginx "\$@"
SH
chmod +x "$T/hung-nginx"
# wait_file FILE: until FILE exists (at most 10 s).
wait_file() {
	i=0
	while [ ! -s "$1" ] && [ "$i" -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}
$S -q --drain blue
cp "$INC" "$T/inc.before"
rm -f "$T/hung.pid"
$S --nginx "$T/hung-nginx" green >/dev/null 2>"$T/hung.err" &
swpid=$!
wait_file "$T/hung.pid"
kill -TERM "$swpid"
wait "$swpid"
is "SIGTERM during a hung nginx -t: zdd-switch dies of it" "$?" 143
like "... saying the file is as it was" "$(cat "$T/hung.err")" \
	'interrupted by SIGTERM, .*service-url.inc is as it was'
ok "... the old file is back byte for byte" cmp -s "$INC" "$T/inc.before"
nok "... the hung nginx -t is gone too" kill -0 "$(cat "$T/hung.pid")"
is "... nginx serves blue" "$(get "$np")" blue
is "... no stray file" "$(ls -A "$N/conf/conf.d")" service-url.inc
rm -f "$T/hung.pid"
$S --nginx "$T/hung-nginx" green >/dev/null 2>"$T/hung.err" &
swpid=$!
wait_file "$T/hung.pid"
kill -INT "$swpid"
wait "$swpid"
is "SIGINT the same: 130" "$?" 130
ok "... the old file is back" cmp -s "$INC" "$T/inc.before"
run $S --nginx "$T/hung-nginx" --timeout 0.5 green
is "a hung nginx -t past --timeout: 69" "$rc" 69
like "... says so" "$err" 'nginx -t did not finish within 0.5 s and was killed'
ok "... the old file is back" cmp -s "$INC" "$T/inc.before"
nok "... the hung nginx -t is gone" kill -0 "$(cat "$T/hung.pid")"
run $S --timeout soon green
is "--timeout soon: 64" "$rc" 64

# A hung reload: SIGTERM puts the old file back, nginx is told to reload
# it (it may have taken the new one), and zdd-switch dies of the signal.
rm -f "$T/hung.pid"
$S --reload-cmd "echo \$\$ >$T/hung.pid; sleep 60" green \
	>/dev/null 2>"$T/hung.err" &
swpid=$!
wait_file "$T/hung.pid"
kill -TERM "$swpid"
wait "$swpid"
is "SIGTERM during a hung --reload-cmd: 143" "$?" 143
ok "... the old file is back" cmp -s "$INC" "$T/inc.before"
nok "... the reload command is gone" kill -0 "$(cat "$T/hung.pid")"
is "... nginx serves blue" "$(soon "$np" blue)" blue
run $S --reload-cmd 'sleep 60' --timeout 0.3 green
is "a hung --reload-cmd past --timeout: 69" "$rc" 69
like "... says so" "$err" 'reload did not finish within 0.3 s'
ok "... the old file is back" cmp -s "$INC" "$T/inc.before"

# A user who may not write the directory: 77, nothing changed.
cp "$INC" "$T/inc.before"
run setpriv --reuid=65534 --regid=65534 --clear-groups $S green
is "no write permission: 77" "$rc" 77
ok "... the file is as it was" cmp -s "$INC" "$T/inc.before"

# Two switches at once: the lock on the directory serialises them.
flock "$N/conf/conf.d" sleep 3 &
holder=$!
sleep 0.3
run $S blue
is "while another switch holds the lock: 75 at once" "$rc" 75
like "... naming the lock" "$err" 'another switch holds the lock'
run $S status
is "... status needs no lock" "$rc" 0
run $S --lock-wait 20 blue
is "--lock-wait waits its turn: exit 0" "$rc" 0
wait "$holder"
$S --lock-wait 30 flip >"$T/a.out" 2>"$T/a.err" &
a=$!
$S --lock-wait 30 flip >"$T/b.out" 2>"$T/b.err" &
b=$!
wait "$a"
ra=$?
wait "$b"
rb=$?
is "two flips at once: both exit 0" "$ra $rb" "0 0"
is "... and the second flipped back" "$(cat "$T/a.out" "$T/b.out" | sort)" \
	"$(printf 'blue 127.0.0.1:%s\ngreen 127.0.0.1:%s' "$bp" "$gp")"
run $S status
is "... the file is whole" "$rc" 0
is "... nothing left in the directory" "$(ls -A "$N/conf/conf.d")" \
	service-url.inc

# --drain: slow requests in flight on blue, the old backend stopped right
# after zdd-switch returns; every request still succeeds.
$S -q --drain blue
bp2=$(free_port)
backend "$bp2" blue2
b2pid=$last_pid
wait_port "$bp2"
S2="zdd-switch -t blue2=127.0.0.1:$bp2 -t green=127.0.0.1:$gp -f $INC $(nargs "$N")"
$S2 -q --drain --force blue2
for i in 1 2 3 4 5; do
	curl -s -o "$T/slow.$i" -w '%{http_code}' --max-time 20 \
		"http://127.0.0.1:$np/slow?ms=1500" >"$T/slow.$i.code" &
	cp="$cp $!"
done
sleep 0.4
run $S2 --drain=30 green
is "--drain with slow requests in flight: exit 0" "$rc" 0
like "... says how long draining took" "$err" \
	'drained: the [0-9]+ old nginx workers? exited in [0-9.]+ s'
stop "$b2pid"
wait $cp
cp=
codes=$(cat "$T"/slow.?.code | tr -d '\n')
is "... every slow request succeeded after the old backend stopped" \
	"$codes" 200200200200200
is "... and each was answered by the old backend" \
	"$(cat "$T"/slow.? | sort -u)" blue2
is "... new requests go to green" "$(get "$np")" green

# The same without --drain loses the requests in flight: the test above
# can fail.
backend "$bp2" blue2
b2pid=$last_pid
wait_port "$bp2"
$S2 -q --drain blue2
for i in 1 2 3; do
	curl -s -o /dev/null -w '%{http_code}' --max-time 20 \
		"http://127.0.0.1:$np/slow?ms=1500" >"$T/slow.$i.code" &
	cp="$cp $!"
done
sleep 0.4
$S2 -q green
stop "$b2pid"
wait $cp
cp=
unlike "without --drain, stopping the old backend at once loses them" \
	"$(cat "$T"/slow.[123].code | tr -d '\n')" '^200200200$'

# A drain bound that runs out: the switch stands, but the exit code (3)
# says that the old backend still serves, so "&& stop-old" does not run.
$S -q blue
curl -s -o /dev/null --max-time 20 "http://127.0.0.1:$np/slow?ms=2500" &
cp="$cp $!"
sleep 0.4
run sh -c "$S --drain=0.3 green && echo stopped-old"
is "--drain=0.3 with a 2.5 s request: exit 3" "$rc" 3
like "... saying it ran out" "$err" 'drain timed out after 0.[0-9]+ s: 1 old nginx worker is still running'
is "... prints the live backend, and '&& stop-old' does not run" "$out" \
	"green 127.0.0.1:$gp"
is "... the switch stands" "$($S status 2>/dev/null)" "green 127.0.0.1:$gp"
wait $cp
cp=

# A drain that cannot be watched (no pid file, so no old workers known):
# switched, exit 3.
run zdd-switch $TG -f "$INC" --nginx-arg=-p --nginx-arg="$N" \
	--nginx-arg=-c --nginx-arg="$N/conf/nginx.conf" \
	--pid-file "$T/no.pid" --reload-cmd "kill -HUP $nginxpid" \
	--drain blue
is "--drain without a pid file: exit 3" "$rc" 3
like "... says it cannot drain" "$err" 'cannot drain: .*no.pid names no running nginx master'
is "... the switch stands" "$(soon "$np" blue)" blue
run zdd-switch $TG -f "$INC" --nginx-arg=-p --nginx-arg="$N" \
	--nginx-arg=-c --nginx-arg="$N/conf/nginx.conf" \
	--pid-file "$T/no.pid" --reload-cmd "kill -HUP $nginxpid" green
is "... without --drain it is no error" "$rc" 0
soon "$np" green >/dev/null
$S -q blue

# A pid file naming a process that only calls itself nginx (exec -a) is
# not nginx's master: never signalled, the switch fails with 69.
bash -c 'exec -a "nginx: master process /usr/sbin/nginx" sleep 60' &
fake=$!
echo "$fake" >"$T/fake.pid"
run zdd-switch $TG -f "$INC" --nginx-arg=-p --nginx-arg="$N" \
	--nginx-arg=-c --nginx-arg="$N/conf/nginx.conf" \
	--pid-file "$T/fake.pid" green
is "a forged master (exec -a): nginx -s reload instead, exit 0" "$rc" 0
like "... with a warning that it names no nginx master" "$err" \
	'fake.pid names no running nginx master'
ok "... and the forged one was never signalled" kill -0 "$fake"
is "... nginx serves green" "$(soon "$np" green)" green
kill "$fake"
wait "$fake" 2>/dev/null
$S -q blue

# --- nginx's lexer: zdd-switch reads an include file as nginx does -------
# Every seed of the include-file fuzzer: what zdd-switch reads, nginx -t
# accepts, in the context each shape goes in.
X=$T/lex
mkdir -p "$X/logs"
ngt() {
	printf 'pid %s/nginx.pid;\nerror_log %s/logs/error.log;\nevents { }\nhttp {\n%s\n}\n' \
		"$X" "$X" "$1" >"$X/nginx.conf"
	nginx -t -q -p "$X" -c "$X/nginx.conf" >/dev/null 2>&1
}
read=
for f in "$TOP"/tests/fuzz/corpus/nginx/*; do
	s=$(basename "$f")
	zdd-switch -f "$f" status >/dev/null 2>&1
	[ $? -eq 65 ] && continue
	read="$read $s"
	# A set line goes in a location, an upstream block in http.
	ngt "server { listen 127.0.0.1:1; location / { include $f; } }" ||
		ngt "include $f;" ||
		note "$s: zdd-switch reads it, nginx -t refuses it"
done
report "what zdd-switch reads of the seeds, nginx -t accepts"
is "the seeds zdd-switch reads" "$read" \
	" brace-tight canary comment empty hash-after quoted-var set squote unix unix-upstream upstream v6"

# The issue's file: '#' inside a word is no comment, so nginx serves the
# second set line's green.  zdd-switch must not say blue, nor overwrite
# what it did not write.
$S -q blue
soon "$np" blue >/dev/null
printf 'set $service_url http://127.0.0.1:%s#;set $service_url http://127.0.0.1:%s;\n' \
	"$bp" "$gp" >"$INC"
cp "$INC" "$T/inc.hash"
nginx -s reload -p "$N" -c "$N/conf/nginx.conf" 2>/dev/null
is "'#' inside a word: nginx serves the second line's green" \
	"$(soon "$np" green)" green
run $S status
is "... status does not say blue: 65" "$rc:$out" "65:"
run $S green
is "... a switch refuses to overwrite it: 65" "$rc" 65
ok "... and leaves it byte for byte" cmp -s "$INC" "$T/inc.hash"
$S -q --force blue
is "... --force replaces it" "$(soon "$np" blue)" blue

# unix: addresses, read back in both formats, behind a real nginx.
rm -f "$T/green.sock"
backend "unix:$T/green.sock" green-unix
i=0
while [ ! -S "$T/green.sock" ] && [ "$i" -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
SX="zdd-switch -t blue=127.0.0.1:$bp -t green=unix:$T/green.sock -f $INC $(nargs "$N")"
run $SX green
is "--format set to a unix: target: exit 0" "$rc:$out" "0:green unix:$T/green.sock"
is "... nginx serves it" "$(soon "$np" green-unix)" green-unix
run $SX status
is "... and status reads it back" "$rc:$out" "0:green unix:$T/green.sock"
run $SX flip
is "... flip from it" "$rc:$out" "0:blue 127.0.0.1:$bp"
stop "$last_pid"
run $SX green
is "a dead unix: target is refused by the guard: 1" "$rc" 1
like "... says why" "$err" "refusing to switch to green \\(unix:$T/green.sock\\): cannot connect"

# nginx stopped: 69, the file back.  A stale pid file: the same.
$S -q blue
cp "$INC" "$T/inc.before"
stop "$nginxpid"
run $S green
is "nginx not running: 69" "$rc" 69
ok "... the file is back byte for byte" cmp -s "$INC" "$T/inc.before"
is "... no stray file" "$(ls -A "$N/conf/conf.d")" service-url.inc
sh -c 'exit 0' &
dead=$!
wait "$dead"
echo "$dead" >"$N/nginx.pid"
run $S green
is "a stale pid file: 69" "$rc" 69
ok "... the file is back" cmp -s "$INC" "$T/inc.before"

# --- include file, --format upstream ------------------------------------
U=$T/up
up=$(free_port)
mkdir -p "$U/conf/conf.d"
UINC=$U/conf/conf.d/backend.conf
printf 'upstream backend {\n\tserver 127.0.0.1:%s;\n\tkeepalive 16;\n}\n' \
	"$bp" >"$UINC"
# The access log in the format zdd-switch(1) gives for --watch.
nginx_at "$U" "$up" "include $U/conf/conf.d/*.conf;
	log_format zdd '\$upstream_addr \$upstream_status';" \
	"proxy_http_version 1.1;
			proxy_set_header Connection \"\";
			access_log $U/logs/zdd.log zdd;
			proxy_pass http://backend;"
SU="zdd-switch $TG -f $UINC --format upstream $(nargs "$U")"
run $SU status
is "upstream format: status" "$out" "blue 127.0.0.1:$bp"
run $SU --drain flip
is "upstream format: flip exits 0" "$rc" 0
is "upstream format: nginx serves green" "$(get "$up")" green
like "upstream format: keepalive kept" "$(cat "$UINC")" 'keepalive 16;'
is "upstream format: only backend.conf in conf.d" \
	"$(ls -A "$U/conf/conf.d")" backend.conf
cp "$UINC" "$T/up.before"
run zdd-switch -t blue=127.0.0.1:99999 -t green=127.0.0.1:$gp -f "$UINC" \
	--format upstream $(nargs "$U") --force blue
is "upstream format: nginx -t refuses a bad port: 78" "$rc" 78
like "... nginx's message" "$err" 'invalid port'
ok "... file back byte for byte" cmp -s "$UINC" "$T/up.before"
is "... nginx still serves green" "$(get "$up")" green
is "... no stray file" "$(ls -A "$U/conf/conf.d")" backend.conf
run zdd-switch $TG -f "$UINC" $(nargs "$U") blue
is "an upstream file under --format set: 65" "$rc" 65

# unix: addresses in the upstream format too.
rm -f "$T/green.sock"
backend "unix:$T/green.sock" green-unix
i=0
while [ ! -S "$T/green.sock" ] && [ "$i" -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
SXU="zdd-switch -t blue=127.0.0.1:$bp -t green=unix:$T/green.sock -f $UINC --format upstream $(nargs "$U")"
run $SXU green
is "--format upstream to a unix: target: exit 0" "$rc" 0
is "... nginx serves it" "$(soon "$up" green-unix)" green-unix
run $SXU status
is "... and status reads it back" "$rc:$out" "0:green unix:$T/green.sock"
run $SXU blue
is "... and back" "$rc" 0
stop "$last_pid"

# --- canary: --weight NAME=PCT (nginx upstream format) --------------------
# 200 clients from their own addresses 127.0.0.N; each asks twice.
clients() {
	python3 "$TOP/tests/switch-clients.py" "$up" / 200 "$T/clients.$1"
	n_green=$(awk '$2 == "green"' "$T/clients.$1" | wc -l)
	n_unstuck=$(awk '$2 != $3' "$T/clients.$1" | wc -l)
	n_error=$(grep -c error "$T/clients.$1")
}
run $SU status
is "canary: blue is live first" "$out" "blue 127.0.0.1:$bp"
run $SU -r "$R" --drain --weight green=20
is "--weight green=20: exit 0" "$rc" 0
like "... -r: a canary event" "$(tail -n 1 "$R/.zdd/events.jsonl")" \
	'"event":"canary","backend":"green","addr":"127.0.0.1:[0-9]+","percent":20,"main":"blue","mode":"file"'

is "... prints the main backend" "$out" "blue 127.0.0.1:$bp"
like "... says what it did" "$err" 'green takes 20% of the clients, blue the rest in [0-9.]+ s'
is "... the file: hash on the client address, weights 80 and 20" \
	"$(grep -v '^#' "$UINC")" "$(printf 'upstream backend {\n\thash $remote_addr consistent;\n\tserver 127.0.0.1:%s weight=80;\n\tserver 127.0.0.1:%s weight=20;\n\tkeepalive 16;\n}' "$bp" "$gp")"
run $SU status
is "... status prints the main backend" "$out" "blue 127.0.0.1:$bp"
run $SU --json status
like "... --json shows the canary and its share" "$out" \
	"\"name\":\"blue\".*\"canary\":\\{\"name\":\"green\",\"addr\":\"127.0.0.1:$gp\",\"percent\":20\\}"
clients 20
echo "# canary 20%: $n_green of 200 clients on green"
is "... 200 clients: no error, each sticks to one side" "$n_error $n_unstuck" "0 0"
if [ "$n_green" -ge 20 ] && [ "$n_green" -le 60 ]; then
	pass "... about 20% of them go to green ($n_green of 200)"
else
	fail "... about 20% of them go to green" "got $n_green of 200"
fi
run $SU --drain --weight green=50
is "--weight green=50: exit 0" "$rc" 0
clients 50
echo "# canary 50%: $n_green of 200 clients on green"
is "... no error, each sticks" "$n_error $n_unstuck" "0 0"
if [ "$n_green" -ge 70 ] && [ "$n_green" -le 130 ]; then
	pass "... about half go to green ($n_green of 200)"
else
	fail "... about half go to green" "got $n_green of 200"
fi
is "... every client that was on green at 20% stays there" \
	"$(awk 'NR == FNR { was[$1] = $2; next }
		was[$1] == "green" && $2 != "green"' "$T/clients.20" "$T/clients.50" | wc -l)" 0
run $SU --weight green=50
is "... the same share again changes nothing" "$rc:$(grep -c weight=50 "$UINC")" "0:2"
run $SU --weight green=30 --sticky '$cookie_user'
is "--sticky: another hash key" "$rc:$(grep -c 'hash $cookie_user consistent;' "$UINC")" "0:1"
run $SU --weight green=30
is "... kept by the next --weight" "$(grep -c 'hash $cookie_user consistent;' "$UINC")" 1
run $SU --drain blue
is "switching to the main backend aborts the canary" "$rc:$out" "0:blue 127.0.0.1:$bp"
like "... says so" "$err" 'the canary green is off, blue takes every client'
is "... one server again" "$(grep -c server "$UINC"):$(grep -c hash "$UINC")" "1:0"
clients 0
is "... every client on blue" "$n_green $n_error" "0 0"
$SU -q --weight green=10
run $SU --drain green
is "switching to the canary promotes it" "$rc:$out" "0:green 127.0.0.1:$gp"
is "... one server, green" "$(grep server "$UINC" | tr -d '\t')" "server 127.0.0.1:$gp;"
clients 100
is "... every client on green" "$n_green $n_error" "200 0"
$SU -q --weight blue=5
run $SU --weight blue=100
is "--weight NAME=100 promotes" "$rc:$out" "0:blue 127.0.0.1:$bp"
$SU -q --weight green=5
run $SU --weight green=0
is "--weight NAME=0 aborts" "$rc:$out:$(grep -c server "$UINC")" "0:blue 127.0.0.1:$bp:1"
cp "$UINC" "$T/up.before"
dpx=$(free_port)
run zdd-switch -t blue=127.0.0.1:$bp -t green=127.0.0.1:$dpx -f "$UINC" \
	--format upstream $(nargs "$U") --weight green=5
is "--weight to a dead backend: the guard refuses, 1" "$rc" 1
ok "... the file is as it was" cmp -s "$UINC" "$T/up.before"
run $SU --weight green=5 flip
is "--weight with an operand: 64" "$rc" 64
run $SU --weight green=101
is "--weight green=101: 64" "$rc" 64
run $SU --weight purple=5
is "--weight of no target: 64" "$rc" 64
run $SU --weight blue=5
is "--weight of the live backend: 64" "$rc" 64
run $SU --sticky '$remote_addr' blue
is "--sticky without --weight: 64" "$rc" 64
run $SU --weight green=5 --sticky 'remote_addr'
is "--sticky without a \$: 64" "$rc" 64
run $S --weight green=5
is "--weight with --format set: 64" "$rc" 64
is "... the upstream file is as it was" "$(cat "$UINC")" "$(cat "$T/up.before")"

# zdd-switch(1)'s canary pipeline, as printed there (the file, nginx and
# the targets given by a wrapper; no five-minute sleeps).
ex=$(awk '/^\.Bd -literal/ { blk = ""; inb = 1; next }
	inb && /^\.Ed/ { inb = 0; if (blk ~ /for pct in/) print blk; next }
	inb { blk = blk $0 "\n" }' "$TOP/man/zdd-switch.1" |
	sed -e 's/\\e/\\/g' -e 's/^\(.*\)sleep 300\(.*\)$/\1sleep 0\2/' \
		-e "s|/etc/nginx/conf.d/backend.conf|$UINC|g")
like "zdd-switch(1) has the canary pipeline" "$ex" 'for pct in 5 25; do'
mkdir -p "$T/wrap"
cat >"$T/wrap/zdd-switch" <<SH
#!/bin/sh
exec "$B/zdd-switch" $TG $(nargs "$U") "\$@"
SH
chmod +x "$T/wrap/zdd-switch"
$SU -q --drain blue
run env PATH="$T/wrap:$PATH" sh -ec "$ex"
is "... runs: exit 0" "$rc" 0
is "... green takes every client at the end" "$($SU status 2>/dev/null):$(grep -c server "$UINC")" \
	"green 127.0.0.1:$gp:1"
$SU -q --drain blue

# --- --watch: a new backend that fails under real traffic goes back -----
fp=$(free_port)
spawn python3 "$TOP/tests/switch-backend.py" "$fp" flaky 50
flakypid=$last_pid
wait_port "$fp"
# load PORT: requests one after the other until stopped; sets loadpid.
load() {
	(while :; do curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$1/"; done) &
	loadpid=$!
}
SW3="zdd-switch -t blue=127.0.0.1:$bp -t green=127.0.0.1:$gp -t flaky=127.0.0.1:$fp -f $UINC --format upstream $(nargs "$U") --access-log $U/logs/zdd.log"
$SU -q blue
load "$up"
run $SW3 -r "$R" --watch 2 --json flaky
is "--watch 2 on a backend answering 50% 5xx: exit 1" "$rc" 1
like "... -r: a watch event, switched back" "$(tail -n 1 "$R/.zdd/events.jsonl")" \
	'"event":"watch","backend":"flaky","addr":"127.0.0.1:[0-9]+","answers":[1-9][0-9]*,"5xx":[1-9][0-9]*,"rolled_back":true,"mode":"file"'

like "... says what it counted" "$err" \
	'watch: [0-9]+ of [0-9]+ answers from flaky were 5xx \([0-9.]+%, more than 1%\); .*backend.conf is as it was and nginx was told to reload it'
like "... --json carries the counts and the rollback" "$out" \
	'"name":"blue",.*"watch":\{"seconds":2(\.0+)?,"answers":[1-9][0-9]*,"5xx":[1-9][0-9]*,"rolled_back":true\}'
is "... the file names blue again" "$($SU status 2>/dev/null)" "blue 127.0.0.1:$bp"
is "... and nginx serves blue" "$(soon "$up" blue)" blue
run $SW3 --watch 2 --max-5xx 60 flaky
is "... the same under --max-5xx 60: it stays, exit 0" "$rc:$out" "0:flaky 127.0.0.1:$fp"
like "... saying what it counted" "$err" 'watched flaky for 2 s: [0-9]+ of [0-9]+ answers 5xx'
$SU -q blue
run $SW3 --watch 2 --json --drain green
is "--watch 2 --drain on a healthy backend: exit 0" "$rc" 0
like "... counts and no rollback" "$out" \
	'"name":"green",.*"watch":\{"seconds":2(\.0+)?,"answers":[1-9][0-9]*,"5xx":0,"rolled_back":false\}.*"drained":true'
is "... nginx serves green" "$(soon "$up" green)" green
$SU -q blue
# A canary takes a share of the clients: the load comes from many.
kill "$loadpid"
wait "$loadpid" 2>/dev/null
(while :; do
	python3 "$TOP/tests/switch-clients.py" "$up" / 40 /dev/null
done) &
loadpid=$!
run $SW3 --watch 2 --weight flaky=50
is "--watch on a canary that fails: exit 1" "$rc:$out" "1:blue 127.0.0.1:$bp"
is "... the canary is gone" "$(grep -c server "$UINC")" 1
xp=$(free_port)
spawn python3 "$TOP/tests/switch-backend.py" "$xp" broken 100
brokenpid=$last_pid
wait_port "$xp"
run zdd-switch -t blue=127.0.0.1:$bp -t broken=127.0.0.1:$xp -f "$UINC" \
	--format upstream $(nargs "$U") --probe "http://127.0.0.1:$xp/" broken
is "a --probe answering 500 refuses the switch: 1" "$rc" 1
like "... with zdd-health's reason" "$err" 'status 500, want 200-299; nothing changed'
run zdd-switch -t blue=127.0.0.1:$bp -t broken=127.0.0.1:$xp -f "$UINC" \
	--format upstream $(nargs "$U") --probe "http://127.0.0.1:$xp/" \
	--force --watch 2 broken
is "with the guard skipped, --watch's --probe switches back: exit 1" "$rc" 1
like "... says the probe failed" "$err" "watch: --probe http://127.0.0.1:$xp/ failed: .*status 500"
stop "$brokenpid"
is "... blue again" "$($SU status 2>/dev/null)" "blue 127.0.0.1:$bp"
# SIGTERM during the watch: switched back, then death by the signal.
$SW3 --watch 30 green >/dev/null 2>"$T/w.err" &
wpid=$!
i=0
while ! grep -q watching "$T/w.err" && [ "$i" -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
kill -TERM "$wpid"
wait "$wpid"
is "SIGTERM during --watch: 143" "$?" 143
is "... switched back to blue" "$($SU status 2>/dev/null)" "blue 127.0.0.1:$bp"
kill "$loadpid"
wait "$loadpid" 2>/dev/null
run $SU --watch 2 green
is "--watch with nginx and nothing to watch: 64" "$rc" 64
run $SW3 --max-5xx 101 --watch 1 green
is "--max-5xx 101: 64" "$rc" 64
run $SW3 --watch soon green
is "--watch soon: 64" "$rc" 64

# --- a reload slower than ZDD_RELOAD_WAIT -------------------------------
# nginx reads the include file first, then spends a while on a big map.
# zdd-switch gives up waiting for the new workers, puts the old file back
# and reloads once more, so nginx ends serving what the disk says.
W=$T/slow
wp=$(free_port)
mkdir -p "$W/conf" "$W/logs"
python3 -c 'import sys
with open(sys.argv[1], "w") as f:
	for i in range(400000):
		f.write("/k%d v%d;\n" % (i, i))' "$W/conf/big.map"
cat >"$W/conf/nginx.conf" <<CONF
worker_processes 1;
pid $W/nginx.pid;
error_log $W/logs/error.log notice;
events { worker_connections 256; }
http {
	access_log off;
	include $W/conf/svc.inc;
	map_hash_max_size 1048576;
	map_hash_bucket_size 128;
	map \$uri \$slow { include $W/conf/big.map; }
	server {
		listen 127.0.0.1:$wp;
		location / { proxy_pass http://backend; }
	}
}
CONF
SW="zdd-switch $TG -f $W/conf/svc.inc --format upstream $(nargs "$W")"
run $SW --no-reload blue
is "slow reload: the first include file is written" "$rc" 0
spawn nginx -p "$W" -c "$W/conf/nginx.conf" -g 'daemon off;'
slowpid=$last_pid
wait_port "$wp"
is "slow reload: nginx serves blue" "$(get "$wp")" blue
run env ZDD_RELOAD_WAIT=0.05 $SW green
is "a reload slower than ZDD_RELOAD_WAIT: 69" "$rc" 69
like "... says so" "$err" 'no new workers within 0.05 s: the reload failed or is slow'
like "... and that nginx reloads the old file" "$err" 'told to reload it'
is "... the file names blue" "$($SW status 2>/dev/null)" "blue 127.0.0.1:$bp"
# Wait until nginx has acted on every SIGHUP: none pending (its master
# blocks signals while it loads a configuration), every one received
# followed by a reload whose workers started; twice in a row.
hup_pending() {
	awk '/^ShdPnd:/ { exit !(substr($2, length($2)) ~ /[13579bdf]/) }' \
		"/proc/$slowpid/status"
}
i=0 settled=0
while [ "$i" -lt 400 ] && [ "$settled" -lt 2 ]; do
	r=$(awk '/SIGHUP\) received/ { p = 1 }
		/: reconfiguring$/ { p = 0; r++ }
		/start worker processes/ { w++ }
		END { if (!p && r >= 1 && w == r + 1) print r }' "$W/logs/error.log")
	if [ -n "$r" ] && ! hup_pending; then
		settled=$((settled + 1))
	else
		settled=0
	fi
	sleep 0.05
	i=$((i + 1))
done
echo "# nginx reloaded $r times after the slow switch"
is "... and once nginx is done, it serves blue" "$(soon "$wp" blue)" blue
is "... still blue a moment later" "$(sleep 0.3; get "$wp")" blue
stop "$slowpid"

# --- a deploy user, not root ----------------------------------------------
# The setup zdd-switch(1) documents: the include file in a directory of
# its own that the deploy group may write (the file is replaced through
# a new one beside it, so the directory needs the permission, not the
# file).  Here the deploy user is 65534.
DU="setpriv --reuid=65534 --regid=65534 --clear-groups"
D=$T/deploy
dp=$(free_port)
mkdir -p "$D/conf/zdd" "$D/logs"
printf 'set $service_url http://127.0.0.1:%s;\n' "$bp" >"$D/conf/zdd/service-url.inc"
NGINX_WORKERS=2 start_nginx "$D" "$dp" "server {
		listen 127.0.0.1:$dp;
		location / {
			include $D/conf/zdd/service-url.inc;
			proxy_pass \$service_url;
		}
	}"
rootnginx=$NGINX_PID
SDU="zdd-switch $TG -f $D/conf/zdd/service-url.inc $(nargs "$D")"
cp "$D/conf/zdd/service-url.inc" "$T/du.before"
run $DU $SDU green
is "deploy user, directory not writable: 77" "$rc" 77
like "... says the directory needs write permission" "$err" \
	'cannot write .*service-url.inc: Permission denied; .* needs write permission on its directory \(not on the file\)'
ok "... the file is as it was" cmp -s "$D/conf/zdd/service-url.inc" "$T/du.before"
chgrp 65534 "$D/conf/zdd"
chmod 2775 "$D/conf/zdd"
# nginx runs as root: nginx -t as the deploy user cannot open root's pid
# file.  That is no refusal of the configuration: 77, not 78.
run $DU $SDU green
is "deploy user, nginx -t cannot run as this user: 77" "$rc" 77
like "... with nginx's own message" "$err" 'nginx.pid" failed \(13: Permission denied\)'
like "... not called a refusal" "$err" 'nginx -t could not run as this user \(not a refusal of the configuration\)'
ok "... the file is as it was" cmp -s "$D/conf/zdd/service-url.inc" "$T/du.before"
is "... nothing left in the directory" "$(ls -A "$D/conf/zdd")" service-url.inc
stop "$rootnginx"
# nginx run by the deploy user itself (or through sudo, as the man page
# shows): the whole switch works as that user, drain included.
chown -R 65534:65534 "$D/logs"
chown 65534:65534 "$D"
spawn $DU nginx -p "$D" -c "$D/conf/nginx.conf" -g 'daemon off;'
wait_port "$dp"
run $DU $SDU --drain green
is "deploy user running nginx: switch and drain, exit 0" "$rc" 0
like "... drained" "$err" 'drained: the 2 old nginx workers exited'
is "... nginx serves green" "$(soon "$dp" green)" green
is "... nothing left in the directory" "$(ls -A "$D/conf/zdd")" service-url.inc
run $DU $SDU status
is "... status as the deploy user" "$out" "green 127.0.0.1:$gp"
stop "$last_pid"

# --- symlink mode (sites-enabled/default) -------------------------------
L=$T/link
lp=$(free_port)
mkdir -p "$L/conf/sites-available" "$L/conf/sites-enabled"
for c in blue green; do
	p=$bp
	[ "$c" = green ] && p=$gp
	cat >"$L/conf/sites-available/$c" <<CONF
server {
	listen 127.0.0.1:$lp;
	location / { proxy_pass http://127.0.0.1:$p; }
}
CONF
done
printf 'server {\n\tlisten 127.0.0.1:%s;\n\tlocation / { proxy_pass http://127.0.0.1:1 }\n}\n' \
	"$lp" >"$L/conf/sites-available/broken"
ln -s "$L/conf/sites-available/blue" "$L/conf/sites-enabled/default"
NGINX_WORKERS=2 start_nginx "$L" "$lp" "include $L/conf/sites-enabled/*;"
SL="zdd-switch $TG -l $L/conf/sites-enabled/default -a $L/conf/sites-available $(nargs "$L")"
run $SL status
is "link mode: status" "$out" "blue 127.0.0.1:$bp"
run $SL idle
is "link mode: idle" "$out" "green 127.0.0.1:$gp"
run $SL -n flip
is "link mode: flip -n exits 0" "$rc" 0
is "... changes nothing" "$(readlink "$L/conf/sites-enabled/default")" \
	"$L/conf/sites-available/blue"
run $SL --drain flip
is "link mode: flip exits 0" "$rc" 0
is "link mode: the link points at sites-available/green" \
	"$(readlink "$L/conf/sites-enabled/default")" \
	"$L/conf/sites-available/green"
is "link mode: nginx serves green" "$(get "$lp")" green
is "link mode: nothing else in sites-enabled" \
	"$(ls -A "$L/conf/sites-enabled")" default
run zdd-switch $TG -t broken=127.0.0.1:1 \
	-l "$L/conf/sites-enabled/default" -a "$L/conf/sites-available" \
	$(nargs "$L") --force broken
is "link mode: nginx -t refuses a broken site: 78" "$rc" 78
like "... with nginx's message" "$err" '\[emerg\].*unexpected'
is "... the link is back" "$(readlink "$L/conf/sites-enabled/default")" \
	"$L/conf/sites-available/green"
is "... nginx still serves green" "$(get "$lp")" green
is "... no stray file" "$(ls -A "$L/conf/sites-enabled")" default
# nginx -t does not bind; a site whose port is taken passes it, and the
# reload fails in the master: no new workers, the link goes back, 69.
printf 'server {\n\tlisten 127.0.0.1:%s;\n}\n' "$bp" \
	>"$L/conf/sites-available/taken"
run env ZDD_RELOAD_WAIT=2 zdd-switch $TG -t taken=127.0.0.1:1 \
	-l "$L/conf/sites-enabled/default" -a "$L/conf/sites-available" \
	$(nargs "$L") --force taken
is "link mode: a reload that fails in the master: 69" "$rc" 69
like "... says nginx started no new workers" "$err" 'started no new workers'
is "... the link is back" "$(readlink "$L/conf/sites-enabled/default")" \
	"$L/conf/sites-available/green"
is "... nginx still serves green" "$(get "$lp")" green
run zdd-switch $TG -t purple=127.0.0.1:1 \
	-l "$L/conf/sites-enabled/default" -a "$L/conf/sites-available" \
	$(nargs "$L") purple
is "link mode: a target with no file in --available: 66" "$rc" 66
ln -sfn /etc/hostname "$L/conf/sites-enabled/default"
run $SL blue
is "link mode: a link pointing elsewhere: 65" "$rc" 65
is "... left alone" "$(readlink "$L/conf/sites-enabled/default")" \
	/etc/hostname
run $SL status
is "... status of it exits 1" "$rc" 1
run $SL --force blue
is "... --force re-points it" "$rc" 0
is "link mode: nginx serves blue" "$(soon "$lp" blue)" blue
(cd "$L/conf/sites-enabled" && ln -sfn ../sites-available/green default)
run $SL status
is "link mode: a relative link is read too" "$out" "green 127.0.0.1:$gp"

# --- HAProxy ------------------------------------------------------------
H=$T/hap
hp=$(free_port)
mkdir -p "$H"
cat >"$H/haproxy.cfg" <<CONF
global
	stats socket $H/admin.sock level admin
defaults
	mode http
	timeout connect 2s
	timeout client 30s
	timeout server 30s
frontend fe
	bind 127.0.0.1:$hp
	default_backend app
backend app
	server blue 127.0.0.1:$bp
	server green 127.0.0.1:$gp disabled
CONF
spawn haproxy -f "$H/haproxy.cfg" -db
wait_port "$hp"
SH="zdd-switch $TG --haproxy $H/admin.sock --backend app"
run $SH status
is "haproxy: status" "$out" "blue 127.0.0.1:$bp"
run $SH idle
is "haproxy: idle" "$out" "green 127.0.0.1:$gp"
run $SH -n flip
is "haproxy: flip -n exits 0" "$rc" 0
like "... says what it would do" "$err" 'would set app/green ready'
is "... and changes nothing" "$($SH status 2>/dev/null)" "blue 127.0.0.1:$bp"
run $SH flip
is "haproxy: flip exits 0" "$rc" 0
is "haproxy: it serves green" "$(get "$hp")" green
run $SH status
is "haproxy: status reads the servers' states" "$out" "green 127.0.0.1:$gp"
run $SH --json --maint blue
like "haproxy: --json --maint blue" "$out" \
	'"mode":"haproxy","name":"blue",.*"previous":"green","changed":true'
is "haproxy: it serves blue" "$(get "$hp")" blue
run $SH blue
is "haproxy: blue again changes nothing" "$rc" 0
is "haproxy: nothing left beside the socket" "$(ls -A "$H")" \
	"$(printf 'admin.sock\nhaproxy.cfg')"
bp3=$(free_port)
run zdd-switch -t blue=127.0.0.1:$bp -t purple=127.0.0.1:$bp3 \
	--haproxy "$H/admin.sock" --backend app purple
is "haproxy: a target with no server: 65" "$rc" 65
run zdd-switch -t blue=127.0.0.1:$bp -t green=127.0.0.1:$bp3 \
	--haproxy "$H/admin.sock" --backend app green
is "haproxy: a server at another address than its target: 65" "$rc" 65
like "... says where each is" "$err" \
	"app/green is at 127.0.0.1:$gp, not at 127.0.0.1:$bp3"
is "... and switches nothing" "$($SH status 2>/dev/null)" "blue 127.0.0.1:$bp"
run zdd-switch -t blue=127.0.0.1:$bp -t green=127.0.0.1:$bp3 \
	--haproxy "$H/admin.sock" --backend app status
is "... status refuses it too" "$rc" 65
run zdd-switch -t blue=127.0.0.1:$bp -t green=localhost:$bp3 \
	--haproxy "$H/admin.sock" --backend app status
is "... a host name is not compared" "$rc:$out" "0:blue 127.0.0.1:$bp"
run zdd-switch -t blue=127.0.0.1:$bp -t green=127.0.0.1:$bp3 \
	--haproxy "$H/admin.sock" --backend app --force -n green
is "... --force goes on" "$rc" 0
like "... with a warning" "$err" 'going on, as --force asks'
run zdd-switch $TG --haproxy "$H/admin.sock" --backend nosuch status
is "haproxy: no such backend: 65" "$rc" 65
run zdd-switch $TG --haproxy "$H/nosuch.sock" --backend app status
is "haproxy: no socket: 69" "$rc" 69
for i in 1 2 3 4 5; do
	curl -s -o "$T/hslow.$i" -w '%{http_code}' --max-time 20 \
		"http://127.0.0.1:$hp/slow?ms=1500" >"$T/hslow.$i.code" &
	cp="$cp $!"
done
sleep 0.4
run $SH --drain=30 green
is "haproxy: --drain with slow requests: exit 0" "$rc" 0
like "... says how long" "$err" 'drained: app/blue has no session left, after'
stop "$bluepid"
wait $cp
cp=
is "haproxy: every slow request succeeded, old backend stopped after" \
	"$(cat "$T"/hslow.?.code | tr -d '\n')" 200200200200200
is "... answered by blue" "$(cat "$T"/hslow.? | sort -u)" blue
is "haproxy: new requests go to green" "$(get "$hp")" green

# A HAProxy with more than 62 other servers in the backend: the targets'
# servers are found among them.
backend "$bp" blue
bluepid=$last_pid
wait_port "$bp"
H2=$T/hap2
hp2=$(free_port)
mkdir -p "$H2"
{
	cat <<CONF
global
	stats socket $H2/admin.sock level admin
defaults
	mode http
	timeout connect 2s
	timeout client 30s
	timeout server 30s
frontend fe
	bind 127.0.0.1:$hp2
	default_backend app
backend app
	balance source
	hash-type consistent
CONF
	i=1
	while [ "$i" -le 70 ]; do
		printf '\tserver other%d 127.0.0.1:%d disabled\n' "$i" "$i"
		i=$((i + 1))
	done
	printf '\tserver blue 127.0.0.1:%s\n\tserver green 127.0.0.1:%s disabled\n' \
		"$bp" "$gp"
	printf '\tserver flaky 127.0.0.1:%s disabled\n' "$fp"
} >"$H2/haproxy.cfg"
spawn haproxy -f "$H2/haproxy.cfg" -db
wait_port "$hp2"
SH2="zdd-switch $TG --haproxy $H2/admin.sock --backend app"
run $SH2 status
is "haproxy: a backend with 72 servers: status" "$rc:$out" "0:blue 127.0.0.1:$bp"
run $SH2 flip
is "... flip" "$rc:$out" "0:green 127.0.0.1:$gp"
is "... it serves green" "$(get "$hp2")" green

# The guard in HAProxy mode: a dead target's server is never made ready.
stop "$bluepid"
run $SH2 flip
is "haproxy: flip to a dead backend: exit 1" "$rc" 1
like "... says why" "$err" "refusing to switch to blue \\(127.0.0.1:$bp\\): cannot connect"
is "... green is still live" "$($SH2 status 2>/dev/null)" "green 127.0.0.1:$gp"
is "... and serves" "$(get "$hp2")" green
backend "$bp" blue
bluepid=$last_pid
wait_port "$bp"

# A canary through HAProxy: "set weight", both servers ready; "balance
# source" with "hash-type consistent" keeps each client on its side.
hclients() {
	python3 "$TOP/tests/switch-clients.py" "$hp2" / 200 "$T/hclients.$1"
	n_blue=$(awk '$2 == "blue"' "$T/hclients.$1" | wc -l)
	n_unstuck=$(awk '$2 != $3' "$T/hclients.$1" | wc -l)
	n_error=$(grep -c error "$T/hclients.$1")
}
run $SH2 --weight blue=20
is "haproxy --weight blue=20: exit 0" "$rc:$out" "0:green 127.0.0.1:$gp"
like "... says what it did" "$err" 'blue takes 20% of the clients, green the rest'
run $SH2 --json status
like "... status: green, with blue as a 20% canary" "$out" \
	'"name":"green".*"canary":\{"name":"blue","addr":"127.0.0.1:[0-9]+","percent":20\}'
hclients 20
echo "# haproxy canary 20%: $n_blue of 200 clients on blue"
is "... 200 clients: no error, each sticks to one side" "$n_error $n_unstuck" "0 0"
if [ "$n_blue" -ge 20 ] && [ "$n_blue" -le 60 ]; then
	pass "... about 20% of them go to blue ($n_blue of 200)"
else
	fail "... about 20% of them go to blue" "got $n_blue of 200"
fi
run $SH2 --weight blue=50
hclients 50
is "... at 50%: no error, each sticks" "$rc $n_error $n_unstuck" "0 0 0"
if [ "$n_blue" -ge 70 ] && [ "$n_blue" -le 130 ]; then
	pass "... about half go to blue ($n_blue of 200)"
else
	fail "... about half go to blue" "got $n_blue of 200"
fi
run $SH2 green
is "haproxy: switching to the main backend aborts the canary" \
	"$rc:$out:$($SH2 status 2>/dev/null)" \
	"0:green 127.0.0.1:$gp:green 127.0.0.1:$gp"
hclients 0
is "... every client on green" "$n_blue $n_error" "0 0"
$SH2 -q --weight blue=10
run $SH2 blue
is "haproxy: switching to the canary promotes it" "$rc:$out" "0:blue 127.0.0.1:$bp"
hclients 100
is "... every client on blue" "$n_blue $n_error" "200 0"
run $SH2 --json status
unlike "... and no canary is left" "$out" canary

# --watch through HAProxy: its counters for the server.
SH3="zdd-switch $TG -t flaky=127.0.0.1:$fp --haproxy $H2/admin.sock --backend app"
load "$hp2"
run $SH3 --watch 2 --json flaky
is "haproxy --watch on a backend answering 50% 5xx: exit 1" "$rc" 1
like "... says what it counted" "$err" \
	'watch: [0-9]+ of [0-9]+ answers from flaky were 5xx .*; every server of HAProxy backend app is as it was'
like "... --json: counts, rolled back, blue live" "$out" \
	'"name":"blue",.*"answers":[1-9][0-9]*,"5xx":[1-9][0-9]*,"rolled_back":true'
is "... blue is live again" "$($SH3 status 2>/dev/null)" "blue 127.0.0.1:$bp"
is "... and serves" "$(get "$hp2")" blue
run $SH3 --watch 2 --json --drain green
is "haproxy --watch on a healthy backend: exit 0" "$rc" 0
like "... counts, no rollback, drained" "$out" \
	'"name":"green",.*"5xx":0,"rolled_back":false.*"drained":true'
kill "$loadpid"
wait "$loadpid" 2>/dev/null

# All or nothing: HAProxy takes "ready" for the new server and refuses
# "drain" for the old one; the new one goes back to maint, exit 69.
F=$T/fake
mkdir -p "$F"
spawn python3 "$TOP/tests/fake-haproxy.py" "$F/admin.sock" "$F/log" drain \
	"$bp" "$gp"
i=0
while [ ! -S "$F/admin.sock" ] && [ "$i" -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
SF="zdd-switch $TG --haproxy $F/admin.sock --backend app"
run $SF status
is "fake haproxy: status" "$out" "blue 127.0.0.1:$bp"
run $SF green
is "HAProxy refuses drain: exit 69" "$rc" 69
like "... says it refused" "$err" 'HAProxy refused to set app/blue drain'
like "... and that nothing changed" "$err" 'no switch: every server of HAProxy backend app is as it was'
is "... the new server was put back" "$(grep '^set' "$F/log")" \
	"$(printf 'set server app/green state ready\nset server app/blue state drain\nset server app/green state maint')"
is "... status is blue, as before" "$($SF status 2>/dev/null)" "blue 127.0.0.1:$bp"
unlike "... HAProxy's answer reaches stderr without control bytes" \
	"$(printf '%s' "$err" | od -An -c)" '033|\\r'
like "... but readable" "$err" 'Refused\.'
is "... one line per line of the answer" \
	"$(printf '%s\n' "$err" | grep -c 'all good')" 1
like "... the forged line is not a line of its own" "$err" 'zdd-switch: .*Refused.*all good'

# HAProxy also refuses to take the new server back: it says so, 69.
stop "$last_pid"
: >"$F/log"
spawn python3 "$TOP/tests/fake-haproxy.py" "$F/admin.sock" "$F/log" \
	drain,maint "$bp" "$gp"
sleep 0.3
i=0
while ! $SF status >/dev/null 2>&1 && [ "$i" -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
run $SF green
is "HAProxy refuses the undo too: exit 69" "$rc" 69
like "... says which server it could not put back" "$err" \
	'HAProxy refused to put back app/green maint'
like "... and that the backend is half switched" "$err" \
	'HAProxy backend app is left half switched'

done_testing
