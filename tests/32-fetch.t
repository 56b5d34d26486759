# zdd-release with an http(s) URL for its artifact, against a loopback
# artifact store (tests/artifact-server.py): fetched, spooled, verified
# with a signature fetched beside it, unpacked; 404 is 66, a server that
# keeps failing or hangs is 69 after the retries, 500 then 200 works, a
# redirect is followed (never from https down to http), TLS is verified,
# the proxy variables are obeyed, a progress line shows on a terminal
# only, and a token in the URL appears nowhere.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/verify-lib.sh"

SRV=$TOP/tests/artifact-server.py
R=$T/root
D=$T/store
K=$T/keys
mkdir -p "$D" "$K" "$T/src/app"
echo '<h1>build 9</h1>' >"$T/src/app/index.html"
(cd "$T/src" && tar -czf "$D/app.tgz" app)
cp "$D/app.tgz" "$D/unsigned.tgz"
(cd "$K" && minisign -G -W -p m.pub -s m.key && minisign -G -W -p m2.pub -s m2.key) >/dev/null 2>&1
minisign -S -s "$K/m.key" -m "$D/app.tgz" -t 'build 9' >/dev/null
cp "$D/app.tgz" "$D/tampered.tgz"
cp "$D/app.tgz.minisig" "$D/tampered.tgz.minisig"
printf 'X' | dd of="$D/tampered.tgz" bs=1 seek=100 conv=notrunc 2>/dev/null
head -c 3000000 /dev/urandom >"$T/src/app/noise"
(cd "$T/src" && tar -cf "$D/big.tar" app)
sha=$(sha256sum "$D/app.tgz" | cut -d' ' -f1)
keyid=$(sed -n 's/^untrusted comment: minisign public key //p' "$K/m.pub")

p=$(free_port)
spawn python3 "$SRV" "$p" "$D" --log "$T/req.log"
wait_port "$p"
U=http://127.0.0.1:$p

requests() { grep -c "^GET /$1 " "$T/req.log"; }

# --- fetched, verified, unpacked ----------------------------------------
run zdd-release -r "$R" --id plain "$U/files/app.tgz"
is "a URL: 0" "$rc" 0
is "... prints the release" "$out" "$R/releases/plain"
is "... unpacked" "$(cat "$R/releases/plain/app/index.html")" '<h1>build 9</h1>'
is "... the manifest's source is the URL" "$(mf plain source)" "$U/files/app.tgz"
is "... the manifest's digest" "$(mf plain sha256)" "$sha"
is "... no spool left" "$(ntmp)" 0

: >"$T/req.log"
run zdd-release -r "$R" --id signed --pubkey "$K/m.pub" "$U/files/app.tgz"
is "a URL and --pubkey: 0" "$rc" 0
is "... the signature came from URL.minisig" "$(requests files/app.tgz.minisig)" 1
is "... the manifest's key id" "$(mf signed signature.key_id)" "$keyid"
is "... the manifest's trusted comment" "$(mf signed signature.trusted_comment)" 'build 9'
run zdd-release -r "$R" --id localsig --pubkey "$K/m.pub" \
	--signature "$D/app.tgz.minisig" "$U/files/app.tgz"
is "a URL and a local --signature: 0" "$rc" 0
run zdd-release -r "$R" --id urlsig --pubkey "$K/m.pub" \
	--signature "$U/redirect/app.tgz.minisig" "$U/files/app.tgz"
is "a URL and a --signature URL: 0" "$rc" 0
run zdd-release -r "$R" --id remotesig --pubkey "$K/m.pub" \
	--signature "$U/files/app.tgz.minisig" "$D/app.tgz"
is "a file and a --signature URL: 0" "$rc" 0
mkdir -p "$T/tmp"
run env TMPDIR="$T/tmp" zdd-release -n -r "$T/fresh" --pubkey "$K/m.pub" "$U/files/app.tgz"
is "--dry-run with a URL: 0" "$rc" 0
is "... no root made, no spool left in TMPDIR" "$(ls -A "$T/tmp")$(test -e "$T/fresh" && echo made)" ""
run zdd-release -r "$R" --id pinned --sha256 "$sha" "$U/files/app.tgz"
is "a URL and --sha256: 0" "$rc" 0

refused "a URL, tampered" 65 "^zdd-release: $U/files/tampered.tgz: not verified: the signature does not verify\$" \
	zdd-release -r "$R" --pubkey "$K/m.pub" "$U/files/tampered.tgz"
refused "a URL, another key" 65 "not verified: signed by another key" \
	zdd-release -r "$R" --pubkey "$K/m2.pub" "$U/files/app.tgz"
refused "a URL, wrong digest" 65 "not verified: its SHA-256 is not the one pinned" \
	zdd-release -r "$R" --sha256 "$sha" "$U/files/tampered.tgz"
refused "a URL larger than --max-bytes" 65 "^zdd-release: cannot fetch $U/files/big.tar: larger than 1048576 bytes\$" \
	zdd-release -r "$R" --max-bytes 1M "$U/files/big.tar"

# --- HTTP errors --------------------------------------------------------
refused "404" 66 "^zdd-release: cannot fetch $U/gone/app.tgz: not found \\(404\\)\$" \
	zdd-release -r "$R" --retries 0 "$U/gone/app.tgz"
refused "no signature at URL.minisig" 66 \
	"^zdd-release: cannot fetch signature $U/files/unsigned.tgz.minisig: not found \\(404\\)\$" \
	zdd-release -r "$R" --pubkey "$K/m.pub" "$U/files/unsigned.tgz"
refused "403" 77 "^zdd-release: cannot fetch $U/deny/app.tgz: refused \\(403\\)\$" \
	zdd-release -r "$R" "$U/deny/app.tgz"
: >"$T/req.log"
refused "503 every time" 69 \
	"^zdd-release: cannot fetch $U/down/app.tgz: the server answered 503, given up after 3 attempts\$" \
	zdd-release -r "$R" --retries 2 "$U/down/app.tgz"
is "... three requests" "$(requests down/app.tgz)" 3
like "... each retry said" "$err" "zdd-release: $U/down/app.tgz: the server answered 503, retrying in [0-9.]+ s"

: >"$T/req.log"
run zdd-release -r "$R" --id flaky --retries 2 "$U/flaky/app.tgz"
is "500, 500, then 200: 0" "$rc" 0
is "... after three requests" "$(requests flaky/app.tgz)" 3
is "... unpacked whole" "$(cat "$R/releases/flaky/app/index.html")" '<h1>build 9</h1>'
refused "500 then 200, but one retry only" 69 "given up after 2 attempts" \
	zdd-release -r "$R" --retries 1 "$U/flaky/other.tgz"

refused "a server that never answers" 69 \
	"^zdd-release: cannot fetch $U/hang/app.tgz: no response within 1 s\$" \
	zdd-release -r "$R" --timeout 1 --retries 0 "$U/hang/app.tgz"
q=$(free_port)
refused "nothing listening" 69 "^zdd-release: cannot fetch http://127.0.0.1:$q/files/app.tgz: cannot connect" \
	zdd-release -r "$R" --retries 1 "http://127.0.0.1:$q/files/app.tgz"

run zdd-release -r "$R" --id redirected --pubkey "$K/m.pub" "$U/redirect/app.tgz"
is "a redirect: followed, 0" "$rc" 0
is "... the manifest names the URL asked for" "$(mf redirected source)" "$U/redirect/app.tgz"

refused "not a URL libcurl takes" 64 "^zdd-release: http://…: " \
	zdd-release -r "$R" "http://[::1"

# --- a token in the URL appears nowhere -------------------------------------
secret=X-Amz-Signature=5ec7e7deadbeef
tok="http://ci:hunter2@127.0.0.1:$p/files/app.tgz?$secret&X-Amz-Expires=300"
: >"$T/req.log"
run zdd-release -v -r "$R" --id token --json --pubkey "$K/m.pub" "$tok"
is "a presigned URL with userinfo: 0" "$rc" 0
like "... the query reached the server" "$(cat "$T/req.log")" "GET /files/app.tgz\\?$secret"
like "... the signature was fetched with the same query" "$(cat "$T/req.log")" "GET /files/app.tgz.minisig\\?$secret"
is "... the manifest shows the URL without them" "$(mf token source)" "http://127.0.0.1:$p/files/app.tgz?…"
unlike "... not on stdout" "$out" "5ec7e7|hunter2"
unlike "... not on stderr (-v)" "$err" "5ec7e7|hunter2"
nok "... not anywhere in the deploy root" grep -rqE '5ec7e7|hunter2' "$R"
like "... whose event log records the release" "$(cat "$R/.zdd/events.jsonl")" '"release":"token"'
run zdd-release -r "$R" --id whole --file "$tok"
is "... --file: 0" "$rc" 0
is "... the file is named after the URL's path only" "$(ls "$R/releases/whole")" app.tgz
run zdd-release -v -r "$R" "http://ci:hunter2@127.0.0.1:$p/gone/app.tgz?$secret"
is "... a 404 of it: 66" "$rc" 66
unlike "... a 404 of it: no secret with -v" "$err" "5ec7e7|hunter2"
is "... said without the secrets" "$(printf '%s\n' "$err" | tail -n 1)" \
	"zdd-release: cannot fetch http://127.0.0.1:$p/gone/app.tgz?…: not found (404)"
run zdd-release -r "$R" --retries 0 "http://ci:hunter2@127.0.0.1:$q/a.tgz?$secret"
unlike "... unreachable: said without the secrets" "$err" "5ec7e7|hunter2"

# --- the proxy variables --------------------------------------------------
: >"$T/req.log"
run env http_proxy="http://127.0.0.1:$p" zdd-release -r "$R" --id proxied \
	http://artifacts.invalid/files/app.tgz
is "http_proxy: 0" "$rc" 0
like "... the request went through the proxy" "$(cat "$T/req.log")" '^GET http://artifacts.invalid/files/app.tgz '
run env http_proxy="http://127.0.0.1:$p" no_proxy=127.0.0.1 zdd-release -r "$R" \
	--id direct "$U/files/app.tgz"
is "no_proxy: 0, straight to the server" "$rc" 0

# --- TLS --------------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
	-keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1
s=$(free_port)
spawn python3 "$SRV" "$s" "$D" --tls "$T/cert.pem" "$T/key.pem"
wait_port "$s"
refused "https, a self-signed certificate" 69 "^zdd-release: cannot fetch https://localhost:$s/files/app.tgz: TLS: .*self-signed" \
	zdd-release -r "$R" --retries 0 "https://localhost:$s/files/app.tgz"
run zdd-release -r "$R" --id tls --cacert "$T/cert.pem" --pubkey "$K/m.pub" "https://localhost:$s/files/app.tgz"
is "https, --cacert: 0" "$rc" 0
run zdd-release -r "$R" --id insecure --insecure "https://localhost:$s/files/app.tgz"
is "https, --insecure: 0" "$rc" 0
refused "https redirected to http" 69 "^zdd-release: cannot fetch https://localhost:$s/insecure/app.tgz: a redirect away from https refused\$" \
	zdd-release -r "$R" --retries 0 --cacert "$T/cert.pem" "https://localhost:$s/insecure/app.tgz"
# zdd-release(1)'s URL example, its host made this server's.
cp "$K/m.pub" "$T/ci.pub"
ex=$(sed -n 's/^\.Dl \(zdd-release -r app --pubkey ci.pub https:.*\)/\1/p' "$TOP/man/zdd-release.1")
like "zdd-release(1) has the URL example" "$ex" '^zdd-release -r app --pubkey ci.pub https://ci.example/builds/app.tgz$'
run env -C "$T" sh -ec "${ex%% https:*} --cacert cert.pem https://localhost:$s/files/app.tgz"
is "... run against this store: 0" "$rc" 0

# --- a fetch interrupted: the spool goes with the process ------------------
: >"$T/req.log"
b_rel=$(nrel)
zdd-release -r "$R" "$U/slow/big.tar" >/dev/null 2>"$T/kill.err" &
kpid=$!
i=0
while ! grep -q '^GET /slow/big.tar ' "$T/req.log" && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
kill -TERM "$kpid"
wait "$kpid"
is "SIGTERM during a fetch: dies of it" "$?" 143
is "... no release, no spool, no staging left" "$(nrel) $(ntmp)" "$b_rel 0"
is "... and says so" "$(cat "$T/kill.err")" "zdd-release: interrupted, nothing made"

# --- a progress line on a terminal, and only there ----------------------------
run script -qec "zdd-release -r $R --id tty $U/slow/big.tar" /dev/null
is "on a terminal: 0" "$rc" 0
like "... a progress line" "$out" "zdd-release: fetching $U/slow/big.tar: [0-9.]+ (KiB|MiB) of 2.9 MiB"
run zdd-release -r "$R" --id notty "$U/slow/big.tar"
is "not on a terminal: 0" "$rc" 0
is "... no progress line" "$err" ""
run script -qec "zdd-release -q -r $R --id quiet $U/slow/big.tar" /dev/null
unlike "-q: no progress line" "$out" "fetching"

done_testing
