# zdd-release's verified artifacts: a pinned SHA-256, minisign (prehashed
# and legacy) and signify signatures made here by the real tools; a
# tampered artifact, another key, a signature of another file, truncated
# and garbage keys and signatures all refused with exit 65 and nothing
# left; stdin spooled, verified, then unpacked; a compressed bomb signed by
# the wrong key refused without a byte of it decompressed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/verify-lib.sh"

R=$T/root
K=$T/keys
mkdir -p "$K" "$T/src/app/public"
echo '<h1>build 7</h1>' >"$T/src/app/public/index.html"
echo 'APP=example' >"$T/src/app/.env"
(cd "$T/src" && tar -czf "$T/app.tgz" app)
(cd "$T/src" && tar -cf "$T/other.tar" app/.env)
cp "$T/app.tgz" "$T/copy.tgz"

(cd "$K" && minisign -G -W -p m.pub -s m.key &&
	minisign -G -W -p m2.pub -s m2.key &&
	signify-openbsd -G -n -p s.pub -s s.sec &&
	signify-openbsd -G -n -p s2.pub -s s2.sec) >/dev/null 2>&1 ||
	echo "# cannot make keys: sh tests/deps.sh installs minisign and signify-openbsd"
sign() { minisign -S -s "$K/$1.key" -m "$2" -t "${3:-build 7 of app}" >/dev/null; }
sign m "$T/app.tgz" 'timestamp:1796214996	file:app.tgz	build 7'
keyid=$(sed -n 's/^untrusted comment: minisign public key //p' "$K/m.pub")
keyid2=$(sed -n 's/^untrusted comment: minisign public key //p' "$K/m2.pub")
sha=$(sha256sum "$T/app.tgz" | cut -d' ' -f1)

# --- usage -------------------------------------------------------------
run zdd-release -r "$R" --sha256 1234 "$T/app.tgz"
is "--sha256 of 4 digits: 64" "$rc" 64
like "--sha256 of 4 digits: says so" "$err" '^zdd-release: --sha256 1234: not 64 hex digits$'
run zdd-release -r "$R" --signature "$T/app.tgz.minisig" "$T/app.tgz"
is "--signature without --pubkey: 64" "$rc" 64
like "--signature without --pubkey: says so" "$err" '^zdd-release: --signature needs --pubkey$'
run zdd-release -r "$R" --pubkey "$K/m.pub" "$T/src"
is "--pubkey with a directory: 64" "$rc" 64
like "--pubkey with a directory: says so" "$err" "^zdd-release: $T/src: a directory cannot be verified; give an artifact"
run zdd-release -r "$R" --pubkey "$K/m.pub" - <"$T/app.tgz"
is "--pubkey with stdin and no --signature: 64" "$rc" 64
like "... says so" "$err" '^zdd-release: stdin has no signature file next to it: give --signature$'
run zdd-release -r "$R" --pubkey https://ci.example/ci.pub "$T/app.tgz"
is "--pubkey of a URL: 64" "$rc" 64
like "... says so" "$err" '^zdd-release: --pubkey: a file on this host, not a URL$'
ok "usage errors made no root" test ! -e "$R"

# --- a pinned digest ---------------------------------------------------
run zdd-release -r "$R" --id pinned --sha256 "$sha" "$T/app.tgz"
is "--sha256 of the artifact: 0" "$rc" 0
is "... prints the release" "$out" "$R/releases/pinned"
is "... unpacked" "$(cat "$R/releases/pinned/app/public/index.html")" '<h1>build 7</h1>'
is "... the manifest has the digest" "$(mf pinned sha256)" "$sha"
is "... and that it was pinned" "$(mf pinned sha256_pinned)" true
is "... so does the event log" \
	"$(jf "$(grep '"release":"pinned"' "$R/.zdd/events.jsonl")" sha256_pinned)" true
upper=$(echo "$sha" | tr a-f A-F)
run zdd-release -r "$R" --id upper --sha256 "$upper" "$T/app.tgz"
is "--sha256 in upper case: 0" "$rc" 0
refused "--sha256 of another artifact" 65 \
	"^zdd-release: $T/other.tar: not verified: its SHA-256 is not the one pinned \\(it is [0-9a-f]{64}\\)\$" \
	zdd-release -r "$R" --sha256 "$sha" "$T/other.tar"

# --- minisign ----------------------------------------------------------
run zdd-release -r "$R" --id signed --json --pubkey "$K/m.pub" "$T/app.tgz"
is "minisign, prehashed, default signature name: 0" "$rc" 0
is "... --json: the key id" "$(jf "$out" signature.key_id)" "$keyid"
is "... --json: the kind" "$(jf "$out" signature.type)" minisign
is "... --json: the trusted comment" "$(jf "$out" signature.trusted_comment)" \
	"timestamp:1796214996	file:app.tgz	build 7"
is "... the manifest: the key id" "$(mf signed signature.key_id)" "$keyid"
is "... the manifest: the trusted comment" "$(mf signed signature.trusted_comment)" \
	"timestamp:1796214996	file:app.tgz	build 7"
is "... the manifest: the digest" "$(mf signed sha256)" "$sha"
is "... the manifest: not pinned" "$(mf signed sha256_pinned)" null
ev=$(grep '"release":"signed"' "$R/.zdd/events.jsonl")
is "... the event log's release event: the key id" "$(jf "$ev" signature.key_id)" "$keyid"
is "... its trusted comment" "$(jf "$ev" signature.trusted_comment)" \
	"timestamp:1796214996	file:app.tgz	build 7"
is "... its digest" "$(jf "$ev" sha256)" "$sha"

minisign -S -l -s "$K/m.key" -m "$T/app.tgz" -x "$T/legacy.minisig" -t legacy >/dev/null
run zdd-release -r "$R" --id legacy --pubkey "$K/m.pub" --signature "$T/legacy.minisig" "$T/app.tgz"
is "minisign, legacy signature: 0" "$rc" 0
is "... its trusted comment" "$(mf legacy signature.trusted_comment)" legacy

run zdd-release -v -r "$R" --id both --pubkey "$K/m.pub" --sha256 "$sha" "$T/app.tgz"
is "a signature and a pinned digest: 0" "$rc" 0
like "... -v says what was verified" "$err" \
	"^zdd-release: $T/app.tgz: SHA-256 $sha, signed by key $keyid, as pinned\$"
like "... and the trusted comment" "$err" \
	"^zdd-release: trusted comment: timestamp:1796214996	file:app.tgz	build 7\$"
run zdd-release -r "$R" --id whole --file --pubkey "$K/m.pub" "$T/app.tgz"
is "--file, signed: 0" "$rc" 0
ok "... the artifact is in the release whole" cmp "$R/releases/whole/app.tgz" "$T/app.tgz"
is "... verified" "$(mf whole signature.key_id)" "$keyid"

# --- signify -----------------------------------------------------------
signify-openbsd -S -s "$K/s.sec" -m "$T/app.tgz"
run zdd-release -r "$R" --id signify --pubkey "$K/s.pub" "$T/app.tgz"
is "signify, default signature name .sig: 0" "$rc" 0
is "... the manifest: the kind" "$(mf signify signature.type)" signify
is "... no trusted comment" "$(mf signify signature.trusted_comment)" null

# --- refused -----------------------------------------------------------
cp "$T/app.tgz" "$T/tampered.tgz"
printf 'X' | dd of="$T/tampered.tgz" bs=1 seek=100 conv=notrunc 2>/dev/null
cp "$T/app.tgz.minisig" "$T/tampered.tgz.minisig"
cp "$T/app.tgz.sig" "$T/tampered.tgz.sig"
refused "minisign: one byte tampered" 65 \
	"^zdd-release: $T/tampered.tgz: not verified: the signature does not verify\$" \
	zdd-release -r "$R" --pubkey "$K/m.pub" "$T/tampered.tgz"
refused "signify: one byte tampered" 65 "not verified: the signature does not verify" \
	zdd-release -r "$R" --pubkey "$K/s.pub" "$T/tampered.tgz"

sign m2 "$T/copy.tgz"
refused "minisign: signed by another key" 65 \
	"^zdd-release: $T/copy.tgz: not verified: signed by another key \\(key id $keyid2, not $keyid\\)\$" \
	zdd-release -r "$R" --pubkey "$K/m.pub" "$T/copy.tgz"
signify-openbsd -S -s "$K/s2.sec" -m "$T/copy.tgz"
refused "signify: signed by another key" 65 "not verified: signed by another key" \
	zdd-release -r "$R" --pubkey "$K/s.pub" "$T/copy.tgz"

sign m "$T/other.tar"
refused "minisign: the signature of another file" 65 "not verified: the signature does not verify" \
	zdd-release -r "$R" --pubkey "$K/m.pub" --signature "$T/other.tar.minisig" "$T/app.tgz"
signify-openbsd -S -s "$K/s.sec" -m "$T/other.tar"
refused "signify: the signature of another file" 65 "not verified: the signature does not verify" \
	zdd-release -r "$R" --pubkey "$K/s.pub" --signature "$T/other.tar.sig" "$T/app.tgz"

# The trusted comment rewritten by hand: its global signature fails.
sed 's/^trusted comment: .*/trusted comment: build 8 of app/' "$T/app.tgz.minisig" >"$T/forged.minisig"
refused "minisign: a forged trusted comment" 65 \
	"not verified: the trusted comment's signature does not verify" \
	zdd-release -r "$R" --pubkey "$K/m.pub" --signature "$T/forged.minisig" "$T/app.tgz"

refused "a signify signature for a minisign key" 65 \
	"^zdd-release: $T/app.tgz.sig: a signify signature, but the key is minisign's\$" \
	zdd-release -r "$R" --pubkey "$K/m.pub" --signature "$T/app.tgz.sig" "$T/app.tgz"

# Truncated and garbage keys and signatures: bad data, named.
head -c 40 "$K/m.pub" >"$T/short.pub"
head -c 120 "$T/app.tgz.minisig" >"$T/short.minisig"
head -c 100 /dev/urandom >"$T/garbage"
printf 'untrusted comment: x\nRWQ=\n' >"$T/bad64.pub"
refused "a truncated public key" 65 "^zdd-release: $T/short.pub: not a public key: the key is not 42 bytes of base64\$" \
	zdd-release -r "$R" --pubkey "$T/short.pub" "$T/app.tgz"
refused "a garbage public key" 65 "^zdd-release: $T/garbage: not a public key" \
	zdd-release -r "$R" --pubkey "$T/garbage" "$T/app.tgz"
refused "a public key of 1 byte of base64" 65 "not a public key: the key is not 42 bytes" \
	zdd-release -r "$R" --pubkey "$T/bad64.pub" "$T/app.tgz"
refused "a truncated signature" 65 "^zdd-release: $T/short.minisig: not a signature" \
	zdd-release -r "$R" --pubkey "$K/m.pub" --signature "$T/short.minisig" "$T/app.tgz"
refused "a garbage signature" 65 "^zdd-release: $T/garbage: not a signature" \
	zdd-release -r "$R" --pubkey "$K/m.pub" --signature "$T/garbage" "$T/app.tgz"
head -c 100000 /dev/zero >"$T/huge.minisig"
refused "a signature file of 100 kB" 65 "too long for a signature file" \
	zdd-release -r "$R" --pubkey "$K/m.pub" --signature "$T/huge.minisig" "$T/app.tgz"

# Missing input: 66.
cp "$T/app.tgz" "$T/unsigned.tgz"
refused "no signature next to the artifact" 66 \
	"^zdd-release: cannot read signature $T/unsigned.tgz.minisig: No such file or directory\$" \
	zdd-release -r "$R" --pubkey "$K/m.pub" "$T/unsigned.tgz"
refused "no such public key" 66 "^zdd-release: cannot read $T/nope.pub: No such file or directory\$" \
	zdd-release -r "$R" --pubkey "$T/nope.pub" "$T/app.tgz"

# --- stdin: spooled under .zdd/tmp, verified, then unpacked --------------
run zdd-release -r "$R" --id stdin --pubkey "$K/m.pub" --signature "$T/app.tgz.minisig" - <"$T/app.tgz"
is "stdin with a signature: 0" "$rc" 0
is "... unpacked" "$(cat "$R/releases/stdin/app/public/index.html")" '<h1>build 7</h1>'
is "... the manifest: source stdin" "$(mf stdin source)" stdin
is "... the manifest: the digest" "$(mf stdin sha256)" "$sha"
is "... the manifest: the key id" "$(mf stdin signature.key_id)" "$keyid"
is "... no spool left" "$(ntmp)" 0
refused "stdin tampered" 65 "^zdd-release: stdin: not verified: the signature does not verify\$" \
	sh -c 'zdd-release -r "$1" --pubkey "$2" --signature "$3" - <"$4"' sh \
	"$R" "$K/m.pub" "$T/app.tgz.minisig" "$T/tampered.tgz"
refused "stdin of the wrong digest" 65 "^zdd-release: stdin: not verified: its SHA-256" \
	sh -c 'zdd-release -r "$1" --sha256 "$2" - <"$3"' sh "$R" "$sha" "$T/other.tar"
run sh -c 'cat "$3" | zdd-release -r "$1" --id piped --sha256 "$2" -' sh "$R" "$sha" "$T/app.tgz"
is "a pipe on stdin, pinned: 0" "$rc" 0
refused "a pipe larger than --max-bytes" 65 "^zdd-release: stdin: larger than 100 bytes\$" \
	sh -c 'cat "$3" | zdd-release -r "$1" --max-bytes 100 --sha256 "$2" -' sh "$R" "$sha" "$T/app.tgz"

# A FIFO on disk is spooled like stdin.
mkfifo "$T/fifo.tgz"
cp "$T/app.tgz.minisig" "$T/fifo.tgz.minisig"
(cat "$T/app.tgz" >"$T/fifo.tgz") &
run zdd-release -r "$R" --id fifo --pubkey "$K/m.pub" "$T/fifo.tgz"
wait
is "a FIFO with a signature: 0" "$rc" 0

# --dry-run verifies and changes nothing.
refused "--dry-run, tampered" 65 "not verified" \
	zdd-release -n -r "$R" --pubkey "$K/m.pub" "$T/tampered.tgz"
b=$(nrel)
run zdd-release -n -r "$R" --pubkey "$K/m.pub" "$T/app.tgz"
is "--dry-run, signed: 0" "$rc" 0
is "--dry-run, signed: nothing made" "$(nrel) $(ntmp)" "$b 0"

# --- a bomb signed by the wrong key: refused before it is decompressed ---
# A shared object that writes the process's /proc/self/io as it exits:
# how many bytes it read(2) and write(2).  The signature check maps the
# file; only unpacking would read it and write the release.
cat >"$T/io.c" <<'EOF'
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
__attribute__((destructor)) static void
dump(void)
{
	char buf[1024];
	const char *p = getenv("IO_LOG");
	int in, out;
	ssize_t n;

	if (p == NULL || (in = open("/proc/self/io", O_RDONLY)) == -1)
		return;
	n = read(in, buf, sizeof buf);
	out = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (n > 0 && out != -1 && write(out, buf, (size_t)n) != n)
		n = 0;
	close(in);
	close(out);
}
EOF
cc -shared -fPIC -o "$T/io.so" "$T/io.c"
mkdir -p "$T/bomb"
truncate -s 64M "$T/bomb/zeros"
(cd "$T/bomb" && tar -cf - zeros | gzip -1 >"$T/bomb.tgz")
rm -rf "$T/bomb"
sign m2 "$T/bomb.tgz"
bsize=$(stat -c %s "$T/bomb.tgz")
io() { sed -n "s/^$1: //p" "$T/io.log" 2>/dev/null; }
# An ASan build must load its runtime first: no probe there.
probe="env LD_PRELOAD=$T/io.so IO_LOG=$T/io.log"
ldd "$(command -v zdd-release)" | grep -q libasan && probe=env
# shellcheck disable=SC2086
refused "a 64 MiB bomb signed by another key" 65 "not verified: signed by another key" \
	$probe zdd-release -r "$R" --pubkey "$K/m.pub" "$T/bomb.tgz"
if [ "$probe" != env ]; then
	ok "... read(2) less than the $bsize-byte artifact ($(io rchar) bytes)" test "$(io rchar)" -lt "$bsize"
	ok "... wrote less than 64 KiB ($(io wchar) bytes)" test "$(io wchar)" -lt 65536
fi
# The same bomb with the right key is unpacked: the probe can tell.
sign m "$T/bomb.tgz"
# shellcheck disable=SC2086
run $probe zdd-release -r "$R" --id bomb --pubkey "$K/m.pub" "$T/bomb.tgz"
is "the bomb signed by the right key: unpacked" "$rc" 0
[ "$probe" = env ] ||
	ok "... and then 64 MiB were written ($(io wchar) bytes)" test "$(io wchar)" -ge 67108864
rm -rf "$R/releases/bomb"

# --- an artifact someone else could rewrite is verified in a copy ---------
# Verified where it lies, a file is read(2) once, by the unpack; copied
# into the spool first, it is read twice: the copy, then the unpack of
# the copy.  Only the deploying user's file that no one else can write is
# trusted to stay as it was checked.
if [ "$probe" != env ]; then
	mkdir -p "$T/rand"
	head -c 1048576 /dev/urandom >"$T/rand/noise"
	tar -C "$T" -cf "$T/rand.tar" rand
	sign m "$T/rand.tar"
	twice=$((2 * $(stat -c %s "$T/rand.tar")))
	reads() {
		run env LD_PRELOAD="$T/io.so" IO_LOG="$T/io.log" \
			zdd-release -r "$R" --pubkey "$K/m.pub" "$T/rand.tar"
		echo "$rc $(io rchar)"
	}
	chmod 644 "$T/rand.tar"
	set -- $(reads)
	ok "mode 0644, the user's own: verified in place, read once ($2 bytes)" \
		test "$1" = 0 -a "$2" -lt "$twice"
	chmod 666 "$T/rand.tar"
	set -- $(reads)
	ok "mode 0666: verified in a copy, read twice ($2 bytes)" \
		test "$1" = 0 -a "$2" -ge "$twice"
	chmod 644 "$T/rand.tar"
	if chown 65534 "$T/rand.tar" 2>/dev/null; then
		set -- $(reads)
		ok "another user's file: verified in a copy, read twice ($2 bytes)" \
			test "$1" = 0 -a "$2" -ge "$twice"
	fi
	is "... no spool left" "$(ntmp)" 0
fi

# --- zdd-release(1)'s EXAMPLES of the signed path, run as printed -----------
# exlines ERE: the lines of the EXAMPLES section that match, with the
# mdoc escapes undone.
exlines() {
	sed -n '/^\.Sh EXAMPLES/,/^\.Sh SEE/p' "$TOP/man/zdd-release.1" |
		sed 's/^\.Dl //; s/\\e/\\/g; s/\\(dq/"/g' | grep -E "$1"
}
mkdir -p "$T/doc"
cp "$K/m.key" "$T/doc/ci.key"
cp "$K/m.pub" "$T/doc/ci.pub"
cp "$T/app.tgz" "$T/doc/app.tgz"
chain=$(exlines '^(minisign -S -s ci.key|zdd-release -r app --pubkey ci.pub app.tgz)')
is "zdd-release(1): the signed example is two lines" "$(printf '%s\n' "$chain" | wc -l)" 2
run env -C "$T/doc" BUILD_NUMBER=41 sh -ec "$chain"
is "zdd-release(1): sign, then verify and link: 0" "$rc" 0
is "... current is the signed release" "$(readlink "$T/doc/app/current" | cut -c1-9)" releases/
id=$(basename "$(readlink "$T/doc/app/current")")
is "... whose manifest names the build" \
	"$(jf "$(cat "$T/doc/app/.zdd/manifests/$id.json")" signature.trusted_comment)" "build 41"
chain=$(exlines '^zdd-release -r app --sha256')
run env -C "$T/doc" APP_SHA256="$sha" sh -ec "$chain"
is "zdd-release(1): the pinned example: 0" "$rc" 0
run env -C "$T/doc" APP_SHA256="$(echo "$sha" | tr 0-9a-f 1-9a-f0)" sh -ec "$chain"
is "zdd-release(1): the pinned example, another digest: 65" "$rc" 65

done_testing
