# zdd-health: each case a command against real servers on loopback
# (tests/health-server.py in one of its modes), then its exit status, what
# it printed, and what reached the server.
. "$(dirname "$0")/lib.sh"

SRV=$TOP/tests/health-server.py
# The servers are on loopback; a proxy from the environment must not
# stand in between.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
	no_proxy NO_PROXY

# serve NAME MODE [ARGS...]: start a server; its port in $port_NAME.
serve() {
	name=$1
	shift
	p=$(free_port)
	spawn python3 "$SRV" "$p" "$@" --log "$T/$name.log"
	eval "port_$name=$p"
	wait_port "$p" || exit 1
}

# jget JSONPATH-EXPR: a value of the JSON on $out, by a python expression.
jget() {
	printf '%s' "$out" | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(json.dumps(eval(sys.argv[1]), separators=(",", ":")))' "$1"
}

# Usage, help and version.
run zdd-health
is "no target: exit 64" "$rc" 64
like "no target: usage on stderr" "$err" '^usage: zdd-health'
run zdd-health -h
is "-h: exit 0" "$rc" 0
like "-h: usage on stdout" "$out" '^usage: zdd-health \[-kqv\]'
run zdd-health --version
is "--version" "$out" "zdd-health 0.1.0"
run zdd-health --bogus http://127.0.0.1:1/
is "unknown option: 64" "$rc" 64

# A malformed --expect or --status is a usage error that points at the
# bad part.
run zdd-health -e 'components..status=UP' http://127.0.0.1:1/
is "--expect empty key: 64" "$rc" 64
is "--expect empty key: where" "$err" \
	"zdd-health: --expect 'components..status=UP': a key expected at character 12: '.status=UP'"
run zdd-health -e 'items[x]=1' http://127.0.0.1:1/
is "--expect bad index: 64" "$rc" 64
like "--expect bad index: where" "$err" "an index \(digits\) expected at character 7: 'x\]=1'"
run zdd-health -e 'items[1=2' http://127.0.0.1:1/
like "--expect unclosed index" "$err" "'\]' expected at character 8"
run zdd-health -e '' http://127.0.0.1:1/
is "--expect empty: 64" "$rc" 64
like "--expect empty: says so" "$err" "a key expected at the end"
run zdd-health -e 'status=' -e 'a\.b!=x' -e '[0].id' --attempts 1 tcp://127.0.0.1:1
is "--expect well formed: not a usage error" "$rc" 1
run zdd-health -e 'a]b' http://127.0.0.1:1/
like "--expect stray ]" "$err" "'.', '\[', '=', '!=' or end expected at character 2"
run zdd-health -e 'status\' http://127.0.0.1:1/
like "--expect trailing backslash" "$err" "a character expected after '\\\\'"
run zdd-health -s 200,2x9 http://127.0.0.1:1/
is "--status bad item: 64" "$rc" 64
is "--status bad item: where" "$err" \
	"zdd-health: --status '200,2x9': a three-digit status expected at character 5: '2x9'"
run zdd-health -s 600 http://127.0.0.1:1/
like "--status 600" "$err" "a status is 100 to 599 at character 1"
run zdd-health -s 300-200 http://127.0.0.1:1/
like "--status backwards range" "$err" "range ends before it starts at character 5"
run zdd-health -s 200, http://127.0.0.1:1/
like "--status trailing comma" "$err" "a three-digit status expected at the end"
run zdd-health -s '200 ' http://127.0.0.1:1/
like "--status trailing space" "$err" "',' or end expected at character 4"
run zdd-health -s '' http://127.0.0.1:1/
is "--status empty: 64" "$rc" 64

# Bad values of the other options.
for a in "-t 0" "-t x" "-d 0" "-d -1" "-i 1s" "--attempts 0" \
	"--successes x" "--attempts 1 --successes 2"; do
	# shellcheck disable=SC2086
	run zdd-health $a http://127.0.0.1:1/
	is "$a: 64" "$rc" 64
done
run zdd-health --resolve health.test:80 http://health.test/
is "--resolve without address: 64" "$rc" 64
like "--resolve without address: where" "$err" "':ADDR' expected at the end"
run zdd-health --resolve health.test:x:127.0.0.1 http://health.test/
like "--resolve bad port" "$err" "a port from 1 to 65535 expected at character 13"
run zdd-health -H 'X Token: 1' http://127.0.0.1:1/
like "--header with a space in the name" "$err" "not a character of a header name at character 2"
run zdd-health -H "$(printf 'X-A: b\r\nEvil: 1')" http://127.0.0.1:1/
is "--header with a line break: 64" "$rc" 64
like "--header with a line break: where" "$err" "a line break at character 7"
run zdd-health -H 'Authorization Bearer s3cret' http://127.0.0.1:1/
is "--header without colon: 64" "$rc" 64
is "--header without colon: token not echoed" "$err" \
	"zdd-health: --header: not a character of a header name at character 14"
run zdd-health -H 'X-Token' http://127.0.0.1:1/
is "--header without colon" "$err" "zdd-health: --header: ':' expected at the end"
run zdd-health --cacert "$T/nonexistent.pem" https://127.0.0.1:1/
is "--cacert missing: 66" "$rc" 66
like "--cacert missing: says which" "$err" "nonexistent.pem: No such file"

# Bad targets; a malformed URL's secret is not echoed.
run zdd-health ftp://127.0.0.1/
is "ftp://: 64" "$rc" 64
like "ftp://: why" "$err" "http://, https:// or tcp:// expected"
run zdd-health localhost:8080
is "no scheme: shown as given" "$err" \
	"zdd-health: localhost:8080: not a target: http://, https:// or tcp:// expected"
run zdd-health tcp://127.0.0.1
like "tcp:// without port" "$err" "':PORT' expected at character 16"
run zdd-health tcp://127.0.0.1:99999
like "tcp:// port too large" "$err" "not a port from 1 to 65535"
run zdd-health 'http://admin:hunter2@bad host/health?token=s3cret'
is "bad URL with secrets: 64" "$rc" 64
unlike "bad URL: no password" "$err" "hunter2|s3cret"

# Healthy at once: exit 0, nothing on stdout or stderr.
serve up up

# A password whose '/', '?', '#' or '@' is not percent-encoded: libcurl,
# which connects, would read another host, so the URL is refused at once
# (64, not a minute of retries) and the password is printed nowhere.
for u in "http://admin:8080/s3cret@127.0.0.1:$port_up/health" \
	"http://admin:s3cret/x@127.0.0.1:$port_up/" \
	"http://admin:1?s3cret@127.0.0.1:$port_up/" \
	"http://admin:s3cret#x@127.0.0.1:$port_up/" \
	"http://a@b@127.0.0.1:$port_up/s3cret" \
	"http:/admin:s3cret@127.0.0.1:$port_up/" \
	"https://admin:s3cret@127.0.0.1:99999/" \
	"tcp://admin:s3cret@127.0.0.1:$port_up"; do
	run zdd-health --json -d 30 "$u"
	is "refused at once: ${u%%s3cret*}…" "$rc" 64
	unlike "…and the password is not printed" "$out$err" "s3cret"
	is "…and says why on one line" "$(printf '%s\n' "$err" | wc -l)" 1
done
is "no request reached the server" "$(cat "$T/up.log" 2>/dev/null)" ""
run zdd-health "http://admin:8080/s3cret@127.0.0.1:$port_up/health"
is "the reason names the '@'" "$err" \
	"zdd-health: http://admin:8080/…: not a target: a '@' after the host (percent-encode '/', '?', '#' and '@' in a password)"
run zdd-health "https://u:p@127.0.0.1:99999/"
is "libcurl's refusal in our words" "$err" \
	"zdd-health: https://…: not a target: not a port from 1 to 65535"
# Encoded, the same password is fine.
run zdd-health --attempts 1 "http://admin:8080%2Fs3cret@127.0.0.1:$port_up/health"
is "an encoded password: exit 0" "$rc" 0
is "…and not shown" "$err" ""
# A credential crosses no network in clear text: over plain http it goes
# to this host only, and past no proxy.  192.0.2.1 (TEST-NET-1) is never
# contacted: the refusal comes before any connection.
run zdd-health --attempts 1 "http://admin:s3cret@192.0.2.1/health"
is "a password over http to another host: 64, one line" "$rc:$err" \
	"64:zdd-health: http://192.0.2.1/health: credentials in the URL go over https only, or to this host"
run zdd-health --attempts 1 "http://admin@192.0.2.1/health"
is "a user alone, the same" "$rc" 64
run zdd-health --attempts 1 --resolve "localhost:$port_up:192.0.2.1" \
	"http://admin:s3cret@localhost:$port_up/health"
is "localhost that --resolve sends elsewhere: 64" "$rc:$err" \
	"64:zdd-health: http://localhost:$port_up/health: credentials in the URL go over https only, or to this host"
run env http_proxy=http://127.0.0.1:$(free_port) zdd-health --attempts 1 \
	"http://admin:s3cret@127.0.0.1:$port_up/health"
is "a password to this host goes straight, not through a proxy" "$rc:$err" "0:"
run env http_proxy=http://127.0.0.1:$(free_port) zdd-health --attempts 1 \
	"http://127.0.0.1:$port_up/health"
is "... which a URL without one uses (the proxy is down)" "$rc" 1
run zdd-health "http://127.0.0.1:$port_up/health"
is "up: exit 0" "$rc" 0
is "up: stdout empty" "$out" ""
is "up: stderr empty" "$err" ""
like "up: a GET reached the server" "$(cat "$T/up.log")" "^GET /health HTTP/1.1"
like "up: user agent" "$(cat "$T/up.log")" "User-Agent: zdd-health/0.1.0"
run zdd-health --json "http://127.0.0.1:$port_up/health" "tcp://127.0.0.1:$port_up"
is "up --json: exit 0" "$rc" 0
is "up --json: one line" "$(printf '%s\n' "$out" | wc -l)" 1
is "up --json: healthy" "$(jget 'd["healthy"]')" true
is "up --json: targets" "$(jget '[t["target"] for t in d["targets"]]')" \
	"[\"http://127.0.0.1:$port_up/health\",\"tcp://127.0.0.1:$port_up\"]"
is "up --json: statuses" "$(jget '[t["status"] for t in d["targets"]]')" "[200,null]"
is "up --json: no reasons" "$(jget '[t["reason"] for t in d["targets"]]')" "[null,null]"
run sh -c "echo tcp://127.0.0.1:$port_up | zdd-health - http://127.0.0.1:$port_up/"
is "target - from stdin: exit 0" "$rc" 0
run sh -c ": | zdd-health -"
is "target - from empty stdin: exit 64" "$rc" 64
run sh -c "echo tcp://127.0.0.1:$port_up | zdd-health - -"
is "two targets -: exit 64" "$rc" 64
run zdd-health -v "tcp://127.0.0.1:$port_up"
like "tcp -v: attempt line" "$err" "^zdd-health: tcp://127.0.0.1:$port_up: attempt 1: connected in [0-9.]+ ms: ok"

# Turns healthy after a delay: attempts every --interval until it does.
serve flag flag "$T/flag"
(sleep 0.7 && : >"$T/flag") &
run zdd-health -v -i 0.2 -e status=UP "http://127.0.0.1:$port_flag/ready"
is "turns healthy: exit 0" "$rc" 0
like "turns healthy: 503 attempts first" "$err" \
	"attempt 1: 503 in [0-9.]+ ms: status 503, want 200-299"
like "turns healthy: then ok" "$err" "attempt [3-9]: 200 in [0-9.]+ ms: ok"
like "turns healthy: last line" "$(printf '%s\n' "$err" | tail -n 1)" \
	"^zdd-health: http://127.0.0.1:$port_flag/ready: healthy after [3-9] attempts$"

# 503 {"status":"DOWN"}: exit 1 at the deadline, the reason names the target.
serve down down
run zdd-health -d 1 -i 0.2 "http://127.0.0.1:$port_down/health"
is "down: exit 1" "$rc" 1
is "down: reason" "$err" \
	"zdd-health: http://127.0.0.1:$port_down/health: status 503, want 200-299"
is "down: stdout empty" "$out" ""
run zdd-health -d 1 -s 200,500-503 "http://127.0.0.1:$port_down/health"
is "down, 503 accepted by --status: exit 0" "$rc" 0
run zdd-health -d 1 -s 5xx -e status=UP "http://127.0.0.1:$port_down/health"
is "down, 5xx accepted but status=UP: exit 1" "$rc" 1
like "down: body reason" "$err" ": status is \"DOWN\", want \"UP\"$"
run zdd-health -d 1 -s 503 -e 'status!=UP' -c DOWN "http://127.0.0.1:$port_down/health"
is "down: status!=UP and --contains DOWN pass" "$rc" 0
run zdd-health -q -d 0.5 "http://127.0.0.1:$port_down/health"
is "-q: exit 1" "$rc" 1
is "-q: stderr empty" "$err" ""
run zdd-health --attempts 3 -i 0.1 --json "http://127.0.0.1:$port_down/health"
is "--attempts 3: exit 1" "$rc" 1
is "--attempts 3: three attempts" "$(jget 'd["targets"][0]["attempts"]')" 3
is "--attempts 3: reason in JSON" "$(jget 'd["targets"][0]["reason"]')" '"status 503, want 200-299"'
is "--attempts 3: healthy false" "$(jget 'd["healthy"]')" false

# Secrets in a URL never show: not in the reason, -v lines or JSON.
run zdd-health -v --json -d 0.5 \
	"http://admin:hunter2@127.0.0.1:$port_down/health?token=s3cret#frag"
is "secret URL: exit 1" "$rc" 1
unlike "secret URL: no secret on stderr" "$err" "hunter2|s3cret|admin|frag"
unlike "secret URL: no secret on stdout" "$out" "hunter2|s3cret|admin|frag"
like "secret URL: shown redacted" "$err" \
	"zdd-health: http://127.0.0.1:$port_down/health\?…: status 503"
like "secret URL: credentials reached the server" "$(cat "$T/down.log")" \
	"Authorization: Basic YWRtaW46aHVudGVyMg=="

# Several targets, one failing: exit 1 and only that one is named.
run zdd-health -d 1 --json "http://127.0.0.1:$port_up/" \
	"http://127.0.0.1:$port_down/" "tcp://127.0.0.1:$port_up"
is "several, one down: exit 1" "$rc" 1
is "several, one down: one reason" "$err" \
	"zdd-health: http://127.0.0.1:$port_down/: status 503, want 200-299"
is "several, one down: per target" "$(jget '[t["healthy"] for t in d["targets"]]')" \
	"[true,false,true]"

# Refused port, HTTP and TCP.
dead=$(free_port)
run zdd-health -d 0.6 -i 0.1 "http://127.0.0.1:$dead/" "tcp://127.0.0.1:$dead"
is "refused: exit 1" "$rc" 1
is "refused: reasons" "$err" \
"zdd-health: http://127.0.0.1:$dead/: cannot connect: Connection refused
zdd-health: tcp://127.0.0.1:$dead: cannot connect: Connection refused"

# A server that accepts and never answers cannot hold zdd-health past the
# deadline, nor past --attempts times --timeout.
serve hang hang
run timeout 20 zdd-health -d 1 -t 30 "http://127.0.0.1:$port_hang/"
is "hang, deadline: exit 1 (not killed by timeout)" "$rc" 1
like "hang, deadline: reason" "$err" \
	"^zdd-health: http://127.0.0.1:$port_hang/: no response (within 1 s|by the deadline)$"
run timeout 20 zdd-health --attempts 2 -t 0.3 -i 0 "http://127.0.0.1:$port_hang/"
is "hang, --attempts 2: exit 1" "$rc" 1
like "hang, --attempts 2: reason" "$err" "no response within 0.3 s$"
run timeout 20 zdd-health -d 1 -t 0.4 "http://127.0.0.1:$port_hang/" \
	"http://127.0.0.1:$port_hang/other" "http://127.0.0.1:$port_up/"
is "two hanging, one up: exit 1" "$rc" 1
is "two hanging, one up: two reasons" "$(printf '%s\n' "$err" | wc -l)" 2

# Targets are probed at once: eight that never answer, one attempt of a
# second each, are done long before eight seconds.
set --
for i in 1 2 3 4 5 6 7 8; do
	set -- "$@" "http://127.0.0.1:$port_hang/$i"
done
run timeout 6 zdd-health --attempts 1 -t 1 "$@"
is "eight hanging at once: exit 1 (not killed by timeout)" "$rc" 1
is "eight hanging at once: eight reasons" "$(printf '%s\n' "$err" | grep -c ': no response within 1 s$')" 8

run timeout 20 zdd-health -v -d 0.5 -t 5 "http://127.0.0.1:$port_hang/"
like "hang -v: the cut attempt is told" "$err" \
	": attempt 1: - in [0-9.]+ ms: no response by the deadline$"

# A trickling server: the per-attempt timeout cuts each attempt.
serve trickle trickle
run timeout 20 zdd-health -d 1.5 -t 0.6 "http://127.0.0.1:$port_trickle/"
is "trickle: exit 1" "$rc" 1
like "trickle: reason" "$err" "/: no response (within 0.6 s|by the deadline)$"
serve tbody trickle-body
run timeout 20 zdd-health -d 1 "http://127.0.0.1:$port_tbody/"
is "trickled body, status only: exit 0 (the body is not read)" "$rc" 0
run timeout 20 zdd-health -d 1.5 -t 0.6 -c UP "http://127.0.0.1:$port_tbody/"
is "trickled body, --contains: exit 1" "$rc" 1
like "trickled body: reason" "$err" "status 200, body incomplete (within 0.6 s|by the deadline)$"

serve stall stall-body
run timeout 20 zdd-health -d 2 -t 1 "http://127.0.0.1:$port_stall/"
is "stalled body, status only: exit 0 (the header is enough)" "$rc" 0
run timeout 20 zdd-health -d 1.5 -t 0.6 -c UP "http://127.0.0.1:$port_stall/"
is "stalled body, --contains: exit 1" "$rc" 1
like "stalled body: reason" "$err" "status 200, body incomplete (within 0.6 s|by the deadline)$"

# Huge and endless bodies: read at most 1 MiB.
serve huge huge
run timeout 20 zdd-health -d 1 "http://127.0.0.1:$port_huge/"
is "huge body, status only: exit 0" "$rc" 0
run timeout 20 zdd-health -d 1 -e status=UP "http://127.0.0.1:$port_huge/"
is "huge body, --expect: exit 1" "$rc" 1
like "huge body: reason" "$err" "/: body larger than 1 MiB$"
serve endless endless
run timeout 20 zdd-health -d 1 "http://127.0.0.1:$port_endless/"
is "endless body, status only: exit 0" "$rc" 0
run timeout 20 zdd-health -d 1 -c never "http://127.0.0.1:$port_endless/"
is "endless body, --contains: exit 1" "$rc" 1
like "endless body: reason" "$err" "/: body larger than 1 MiB$"

# Valid JSON is JSON, whatever its numbers and strings hold: integers
# past 64 bits, reals past a double, NUL in a string.  A VALUE is a JSON
# number, never C's hex or "inf".
printf '%s' '{"status":"UP","total":16,"big":18446744073709551615,' \
	'"max":1e400,"min":-1e400,"tiny":1e-400,"name":"a\u0000b","n":[1e999]}' \
	>"$T/odd.json"
serve odd file "$T/odd.json"
for e in status=UP total=16 total=1.6e1 big=18446744073709551615 max=1e400 \
	min=-1e400 tiny=0 'n[0]' name; do
	run zdd-health --attempts 1 -e "$e" "http://127.0.0.1:$port_odd/"
	is "odd but valid JSON, -e $e: exit 0" "$rc" 0
	is "…nothing on stderr" "$err" ""
done
for e in total=0x10 total=0X10 'total= 16' total=16. total=+16 total=inf \
	max=inf big=1e400 total=016; do
	run zdd-health --attempts 1 -e "$e" "http://127.0.0.1:$port_odd/"
	is "-e $e does not match: exit 1" "$rc" 1
	like "…a reason, not 'not JSON'" "$err" "is [0-9.e+-]+, want "
done

# Server text reaches the terminal only through the sanitiser: no
# escape, C1 control, carriage return or bidi override from a body.
printf '%s' '{"status":"D\u001b[2J\u009b31m\u202eNWOD\r\nzdd-health: all good\u2066"}' \
	>"$T/nasty.json"
serve nasty file "$T/nasty.json"
run zdd-health --attempts 1 -e status=UP "http://127.0.0.1:$port_nasty/"
is "a hostile body: exit 1" "$rc" 1
is "…one line on stderr" "$(printf '%s\n' "$err" | wc -l)" 1
is "…with no control or bidi character in it" "$(printf '%s' "$err" |
	python3 -c 'import re, sys
s = sys.stdin.buffer.read().decode()
print(len(re.findall("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]", s)))')" 0
like "…and still says what came" "$err" 'status is "D.u001B.2J.31m.NWOD.r.nzdd-health: all good.", want "UP"$'
printf '\033]0;pwned\007\302\233\342\200\256 not json' >"$T/nasty.txt"
serve nastytext file "$T/nasty.txt"
run zdd-health --attempts 1 -v -e status=UP "http://127.0.0.1:$port_nastytext/"
is "a hostile non-JSON body: exit 1" "$rc" 1
is "…no control or bidi character on stderr, -v included" "$(printf '%s' "$err" |
	python3 -c 'import re, sys
s = sys.stdin.buffer.read().decode("utf-8", "replace")
print(len(re.findall("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", s)))')" 0

# A body that is not JSON fails an expectation, and says so.
serve text text
run zdd-health -d 0.5 -e status=UP "http://127.0.0.1:$port_text/"
is "text body, --expect: exit 1" "$rc" 1
like "text body: reason" "$err" "/: body is not JSON: .* \(line 1, column [0-9]+\)$"
run zdd-health -d 0.5 -c 'not json' "http://127.0.0.1:$port_text/"
is "text body, --contains: exit 0" "$rc" 0
run zdd-health -d 0.5 -c 'UP' "http://127.0.0.1:$port_text/"
is "text body, --contains missing: exit 1" "$rc" 1
like "text body, --contains: reason" "$err" '/: body does not contain "UP"$'

# Redirects are not followed: a 3xx is a status like any other.
serve redirect redirect
run zdd-health -d 0.5 "http://127.0.0.1:$port_redirect/"
is "redirect: exit 1" "$rc" 1
like "redirect: reason" "$err" "/: status 301, want 200-299$"
run zdd-health -d 0.5 -s 200-399 "http://127.0.0.1:$port_redirect/"
is "redirect accepted by -s 200-399: exit 0" "$rc" 0
unlike "redirect: not followed" "$(cat "$T/redirect.log")" "elsewhere"

# Connection closed without an answer.
serve close close
run zdd-health -d 0.5 "http://127.0.0.1:$port_close/"
is "closed: exit 1" "$rc" 1
like "closed: reason" "$err" "/: connection closed without a response$"

# Spring Boot actuator shapes, as users write them.
serve spring spring
S=http://127.0.0.1:$port_spring/actuator/health
run zdd-health -d 1 -e status=UP -e components.db.status=UP "$S"
is "spring: status=UP components.db.status=UP: exit 0" "$rc" 0
run zdd-health -d 1 -e components.db.details.validationQuery -e 'groups[1]=readiness' \
	-e components.diskSpace.details.total=1000 -e 'components.ping!=DOWN' "$S"
is "spring: exists, index, number, !=: exit 0" "$rc" 0
run zdd-health -d 0.5 -e components.redis.status=UP "$S"
is "spring: missing component: exit 1" "$rc" 1
like "spring: missing component: reason" "$err" \
	'components.redis.status missing \(components has no "redis"\)$'
run zdd-health -d 0.5 -e 'groups[2]' "$S"
like "spring: index past the end" "$err" 'groups\[2\] missing \(groups has 2 elements\)$'
run zdd-health -d 0.5 -e 'status.code=UP' "$S"
like "spring: key into a string" "$err" 'status.code missing \(status is "UP", not an object\)$'
run zdd-health -d 0.5 -e 'components.diskSpace.details.free=501' "$S"
like "spring: number differs" "$err" 'components.diskSpace.details.free is 500, want "501"$'
serve sdown spring-dbdown
run zdd-health -d 0.5 -e status=UP -e components.db.status=UP \
	"http://127.0.0.1:$port_sdown/actuator/health"
is "spring db down: exit 1" "$rc" 1
like "spring db down: status first" "$err" ": status 503, want 200-299$"
run zdd-health -d 0.5 -s 200-599 -e components.db.status=UP \
	"http://127.0.0.1:$port_sdown/actuator/health"
like "spring db down: body reason" "$err" \
	': components.db.status is "DOWN", want "UP"$'

# --successes N needs N passes in a row.
: >"$T/up.log"
run zdd-health --successes 3 -i 0.05 "http://127.0.0.1:$port_up/s"
is "--successes 3: exit 0" "$rc" 0
is "--successes 3: three requests" "$(grep -c '^GET /s ' "$T/up.log")" 3
serve flap flap
run zdd-health --successes 2 --attempts 6 -i 0.05 --json "http://127.0.0.1:$port_flap/"
is "flapping, --successes 2: exit 1" "$rc" 1
is "flapping: six attempts" "$(jget 'd["targets"][0]["attempts"]')" 6
like "flapping: reason" "$err" ": status 503, want 200-299$"
run zdd-health --successes 3 -d 0.5 -i 0.3 "http://127.0.0.1:$port_up/"
is "not enough passes by the deadline: exit 1" "$rc" 1
like "not enough passes: reason" "$err" \
	": [12] of 3 passes in a row(, then no (connection|response) by the deadline)?$"

# --resolve and --header reach the server.
: >"$T/up.log"
run zdd-health -H 'X-Probe: zdd test' -H 'Accept: application/json' \
	--resolve "health.test:$port_up:127.0.0.1" "http://health.test:$port_up/r"
is "--resolve: exit 0" "$rc" 0
like "--resolve: Host header" "$(cat "$T/up.log")" "^Host: health.test:$port_up$"
like "--header: reached the server" "$(cat "$T/up.log")" "^X-Probe: zdd test$"
like "--header: Accept replaced" "$(cat "$T/up.log")" "^Accept: application/json$"
run zdd-health --resolve "health.test:$port_up:127.0.0.1" "tcp://health.test:$port_up"
is "--resolve with tcp://: exit 0" "$rc" 0
run zdd-health -d 1 http://host.invalid/
is "unresolvable: exit 1" "$rc" 1
like "unresolvable: reason" "$err" "host.invalid/: (cannot resolve the host name|no connection)"

# TLS with a self-signed certificate made here.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
	-keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1
p=$(free_port)
spawn python3 "$SRV" "$p" up --tls "$T/cert.pem" "$T/key.pem" --log "$T/tls.log"
wait_port "$p"
run zdd-health -d 1 --cacert "$T/cert.pem" -e status=UP "https://localhost:$p/health"
is "TLS --cacert: exit 0" "$rc" 0
run zdd-health -d 2 "https://localhost:$p/health"
is "TLS untrusted: exit 1" "$rc" 1
like "TLS untrusted: reason" "$err" "https://localhost:$p/health: TLS: .*self-signed certificate"
run zdd-health -d 0.5 -k "https://localhost:$p/health"
is "TLS --insecure: exit 0" "$rc" 0
run zdd-health -d 0.5 --cacert "$T/cert.pem" --resolve "other.test:$p:127.0.0.1" \
	"https://other.test:$p/health"
is "TLS wrong name: exit 1" "$rc" 1
like "TLS wrong name: reason" "$err" "TLS: .*other.test"
run zdd-health -d 0.5 "http://127.0.0.1:$p/health"
is "plain HTTP to TLS port: exit 1" "$rc" 1

done_testing
