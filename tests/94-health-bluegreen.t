#!/bin/bash
# zdd-health(1)'s blue-green example, run as printed (zdd-switch's file
# and nginx options aside) against a real nginx and real backends: a
# healthy idle colour gets the traffic; an unhealthy one never does, and
# its link goes back to the release it ran before.
. "$(dirname "$0")/lib.sh"

# The example, as a user copies it from the page.
example=$(awk '/^A blue-green switch/ { f = 1 } f && /^\.Bd -literal/ { b = 1; next }
	b && /^\.Ed/ { exit } b' "$TOP/man/zdd-health.1" | sed 's/\\e/\\/g; s/\\&//g')
like "zdd-health(1) shows the example" "$example" '^idle=\$\(zdd-switch idle\)'

bp=$(free_port)
gp=$(free_port)
np=$(free_port)
N=$T/nginx
mkdir -p "$N/conf/conf.d" "$T/www/blue" "$T/www/green"
echo blue >"$T/www/blue/health"
echo green >"$T/www/green/health"
INC=$N/conf/conf.d/service-url.inc
printf 'set $service_url http://127.0.0.1:%s;\n' "$bp" >"$INC"
start_nginx "$N" "$np" "server {
		listen 127.0.0.1:$np;
		location / {
			include $INC;
			proxy_pass \$service_url;
		}
	}"
spawn python3 -m http.server -b 127.0.0.1 -d "$T/www/blue" "$bp" >/dev/null 2>&1
wait_port "$bp"
# zdd-switch reaches this nginx and these backends through a wrapper, so
# that the example runs word for word.
mkdir -p "$T/bin"
cat >"$T/bin/zdd-switch" <<SH
#!/bin/sh
exec "$B/zdd-switch" -t blue=127.0.0.1:$bp -t green=127.0.0.1:$gp -f "$INC" $NGINX_ARGS "\$@"
SH
chmod 755 "$T/bin/zdd-switch"

# A blue/green root: blue runs r1; green ran r2 and now links r3.
export ZDD_ROOT=$T/root
mkdir -p "$T/app"
for r in r1 r2 r3; do
	echo "$r" >"$T/app/VERSION"
	tar -C "$T/app" -czf "$T/$r.tgz" .
	zdd-release --id "$r" "$T/$r.tgz" >/dev/null
done
zdd-link --name blue r1 >/dev/null
zdd-link --name green r2 >/dev/null
zdd-link --name green r3 >/dev/null

# green's new release is not healthy: nothing listens on its port.
run env PATH="$T/bin:$PATH" bash -c "$example"
is "unhealthy green: the example ends" "$rc" 0
is "... nginx still sends traffic to blue" \
	"$(curl -s "http://127.0.0.1:$np/health")" blue
is "... green's link is back on r2" "$(basename "$(readlink "$ZDD_ROOT/green")")" r2
is "... blue's link is untouched" "$(basename "$(readlink "$ZDD_ROOT/blue")")" r1
like "... r3 is marked bad" "$(zdd-link --list)" '^r3 .*bad'

# Healthy green: the switch happens, drained.
zdd-link --name green r3 >/dev/null
spawn python3 -m http.server -b 127.0.0.1 -d "$T/www/green" "$gp" >/dev/null 2>&1
wait_port "$gp"
run env PATH="$T/bin:$PATH" bash -c "$example"
is "healthy green: the example ends" "$rc" 0
is "... nginx sends traffic to green" \
	"$(curl -s "http://127.0.0.1:$np/health")" green
is "... green's link stays on r3" "$(basename "$(readlink "$ZDD_ROOT/green")")" r3

done_testing
