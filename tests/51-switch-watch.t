# zdd-switch --watch judges the 5xx share as the answers come, not only
# when the window ends: a backend failing half its answers under a
# 600-second watch is switched back as soon as enough answers are
# counted.  The test bounds the run with timeout(1) at 300 s; an exit 1,
# not timeout's 124, says the watch judged early.  Real nginx, writing
# the access log in the format zdd-switch(1) gives, and a real backend.
. "$(dirname "$0")/lib.sh"

get() {
	curl -s --max-time 10 "http://127.0.0.1:$1/"
}
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
fp=$(free_port)
spawn python3 "$TOP/tests/switch-backend.py" "$bp" blue
spawn python3 "$TOP/tests/switch-backend.py" "$fp" flaky 50
wait_port "$bp"
wait_port "$fp"

U=$T/up
up=$(free_port)
mkdir -p "$U/conf/conf.d"
INC=$U/conf/conf.d/backend.conf
printf 'upstream backend {\n\tserver 127.0.0.1:%s;\n}\n' "$bp" >"$INC"
NGINX_WORKERS=2 start_nginx "$U" "$up" "include $U/conf/conf.d/*.conf;
	log_format zdd '\$upstream_addr \$upstream_status';
	server {
		listen 127.0.0.1:$up;
		location / {
			proxy_http_version 1.1;
			proxy_set_header Connection \"\";
			access_log $U/logs/zdd.log zdd;
			proxy_pass http://backend;
		}
	}"
is "nginx serves blue" "$(get "$up")" blue

# Real traffic: requests one after the other until the file ends.
spawn sh -c "while :; do curl -s -o /dev/null --max-time 5 http://127.0.0.1:$up/; done"

ST="zdd-switch -t blue=127.0.0.1:$bp -t flaky=127.0.0.1:$fp -f $INC \
--format upstream $NGINX_ARGS"
SW="$ST --access-log $U/logs/zdd.log"
run timeout 300 $SW --watch 600 --json flaky
is "--watch 600 on a backend answering 50% 5xx: exit 1, long before 600 s" \
	"$rc" 1
like "... says what it counted" "$err" \
	'watch: [0-9]+ of [0-9]+ answers from flaky were 5xx \([0-9.]+%, more than 1%\); .*backend.conf is as it was and nginx was told to reload it'
like "... at least the minimum the man page gives, 20 answers" "$err" \
	'watch: [0-9]+ of ([2-9][0-9]|[1-9][0-9][0-9]+) answers'
like "... --json: blue, the counts, rolled back" "$out" \
	'"name":"blue",.*"watch":\{"seconds":600(\.0+)?,"answers":[1-9][0-9]*,"5xx":[1-9][0-9]*,"rolled_back":true\}'
is "... the file names blue again" "$($ST status 2>/dev/null)" "blue 127.0.0.1:$bp"
is "... and nginx serves blue" "$(soon "$up" blue)" blue

# Under --max-5xx 60 the same backend holds: the share is judged as it
# stands, and 50% is not past 60%, however early it is judged.
run $SW --watch 3 --max-5xx 60 flaky
is "... under --max-5xx 60 it stays: exit 0" "$rc:$out" "0:flaky 127.0.0.1:$fp"
like "... saying what it counted" "$err" 'watched flaky for 3 s: [0-9]+ of [0-9]+ answers 5xx'
done_testing
