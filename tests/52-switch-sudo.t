# zdd-switch as a deploy user who is not root, set up as zdd-switch(1)
# documents it: nginx runs as root, the include file sits in a directory
# the deploy group may write, and nginx -t and the reload go through
# sudo -n with a sudoers rule for exactly those two commands.  The deploy
# user is 65534, the rule a drop-in in /etc/sudoers.d that a trap removes
# however the file ends.  The nginx is a private one, so the rule names
# its -p and -c as the man page's rule names /usr/sbin/nginx alone.
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

NGINX=/usr/sbin/nginx
[ -x "$NGINX" ] || NGINX=$(command -v nginx)
if [ "$(id -u)" != 0 ] || ! command -v sudo >/dev/null ||
	! command -v visudo >/dev/null; then
	echo "# needs root and sudo (tests/deps.sh installs it)"
	fail "root and sudo are here" "uid $(id -u), sudo: $(command -v sudo)"
	done_testing
fi

# The drop-in goes whether the file passes, fails or is killed.  sudo
# skips names with a dot, so the pid makes it unique.
SUDOERS=/etc/sudoers.d/zdd-test-$$
trap 'rm -f "$SUDOERS"; cleanup' EXIT

bp=$(free_port)
gp=$(free_port)
spawn python3 "$TOP/tests/switch-backend.py" "$bp" blue
spawn python3 "$TOP/tests/switch-backend.py" "$gp" green
wait_port "$bp"
wait_port "$gp"

# The directory of its own, group-writable by the deploy user's group.
D=$T/deploy
dp=$(free_port)
mkdir -p "$D/conf" "$D/logs"
install -d -o root -g 65534 -m 2775 "$D/conf/zdd"
printf 'set $service_url http://127.0.0.1:%s;\n' "$bp" >"$D/conf/zdd/service-url.inc"
NGINX_WORKERS=2 start_nginx "$D" "$dp" "server {
		listen 127.0.0.1:$dp;
		location / {
			include $D/conf/zdd/service-url.inc;
			proxy_pass \$service_url;
		}
	}"
is "nginx runs as root" "$(stat -c %u "/proc/$NGINX_PID")" 0

AS="setpriv --reuid=65534 --regid=65534 --clear-groups"
# The man page's command, with the private nginx's -p and -c added.
SW="zdd-switch -t blue=127.0.0.1:$bp -t green=127.0.0.1:$gp \
-f $D/conf/zdd/service-url.inc --nginx 'sudo -n $NGINX' \
--nginx-arg=-p --nginx-arg=$D --nginx-arg=-c \
--nginx-arg=$D/conf/nginx.conf --pid-file $D/nginx.pid --drain flip"
cp "$D/conf/zdd/service-url.inc" "$T/before"

# No rule yet: sudo -n refuses, which is no verdict on the configuration.
run $AS sh -c "$SW"
is "without the sudoers rule: 77" "$rc" 77
like "... with sudo's own words" "$err" 'sudo: .*password is required'
like "... not called a refusal" "$err" 'nginx -t could not run as this user \(not a refusal of the configuration\)'
ok "... the file is as it was" cmp -s "$D/conf/zdd/service-url.inc" "$T/before"

# The rule: exactly nginx -t and the reload, nothing else.
cat >"$T/rule" <<RULE
nobody ALL=(root) NOPASSWD: $NGINX -p $D -c $D/conf/nginx.conf -t, $NGINX -p $D -c $D/conf/nginx.conf -s reload
RULE
ok "the rule is valid sudoers" visudo -cq -f "$T/rule"
install -o root -g root -m 0440 "$T/rule" "$SUDOERS"
run $AS sudo -n "$NGINX" -V
ok "... and allows no other nginx command" test "$rc" != 0

run $AS sh -c "$SW"
is "deploy user through sudo: flip and drain, exit 0" "$rc" 0
is "... prints the new backend" "$out" "green 127.0.0.1:$gp"
like "... drained the old workers" "$err" 'drained: the 2 old nginx workers exited'
is "... nginx serves green" "$(soon "$dp" green)" green
like "... the file names green" "$(cat "$D/conf/zdd/service-url.inc")" \
	"set \\\$service_url http://127.0.0.1:$gp;"
is "... nothing else left in the directory" "$(ls -A "$D/conf/zdd")" service-url.inc
is "... the master is the same root nginx" "$(cat "$D/nginx.pid")" "$NGINX_PID"
run $AS sh -c "$SW"
is "... and flips back" "$rc:$out" "0:blue 127.0.0.1:$bp"
is "... nginx serves blue" "$(soon "$dp" blue)" blue

rm -f "$SUDOERS"
ok "the drop-in is gone" test ! -e "$SUDOERS"
done_testing
