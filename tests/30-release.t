# zdd-release: artifacts of every format in, whole releases out; hostile
# archives refused with nothing left behind; kills, races and --dedupe.
. "$(dirname "$0")/lib.sh"

mk() { python3 "$TOP/tests/release-archives.py" "$@"; }
R=$T/root
S=$T/sentinel
mkdir -p "$S" && echo keep >"$S/file"
sentinel=$(tree "$S")

# The source of the happy artifacts: files, nested dirs, a symlink, an
# executable, an empty file, a name with a space.
A=$T/src/app
mkdir -p "$A/public/css" "$A/storage/app/public" "$A/config" "$A/bin"
echo '<?php echo 1;' >"$A/public/index.php"
echo 'body{}' >"$A/public/css/app.css"
echo 'APP=example' >"$A/.env"
echo 'seed' >"$A/storage/app/public/seed.txt"
echo 'debug=0' >"$A/config/app.ini"
printf '#!/bin/sh\necho hi\n' >"$A/bin/run" && chmod 755 "$A/bin/run"
: >"$A/empty"
echo spaced >"$A/with space.txt"
ln -s ../public/index.php "$A/config/index-link"
touch -d '2024-01-02 03:04:05 UTC' "$A/public/index.php"
(cd "$T/src" && tar -cf "$T/app.tar" app && gzip -kc "$T/app.tar" >"$T/app.tar.gz" &&
	bzip2 -kc "$T/app.tar" >"$T/app.tar.bz2" && xz -kc "$T/app.tar" >"$T/app.tar.xz" &&
	zstd -qc "$T/app.tar" >"$T/app.tar.zst" &&
	zip -qry "$T/app.zip" app && cp "$T/app.zip" "$T/app.jar" &&
	find app | cpio --quiet -o -H newc >"$T/app.cpio")

nrel() { find "$R/releases" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
ntmp() { find "$R/.zdd/tmp" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
nman() { find "$R/.zdd/manifests" -name '*.json' 2>/dev/null | wc -l; }
mf() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]))' \
	"$R/.zdd/manifests/$1.json" "$2"; }
jf() { printf '%s' "$1" | python3 -c 'import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v=v[int(k)] if isinstance(v,list) else v[k]
print(json.dumps(v) if isinstance(v,(list,dict,bool)) or v is None else v)' "$2"; }
same() { diff -r --no-dereference "$1" "$2" >/dev/null 2>&1; }

# --- usage ------------------------------------------------------------
run zdd-release -h
is "-h exits 0" "$rc" 0
like "-h prints the synopsis on stdout" "$out" '^usage: zdd-release \[-nqv\] \[-r root\]'
run zdd-release -V
is "-V exits 0" "$rc" 0
run zdd-release -r "$R"
is "no operand: 64" "$rc" 64
run zdd-release -r "$R" --bogus "$T/app.tar"
is "unknown option: 64" "$rc" 64
run zdd-release "$T/app.tar"
is "no root: 64" "$rc" 64
like "no root: says so" "$err" '^zdd-release: no deploy root'
run zdd-release -r "$R" --id .hidden "$T/app.tar"
is "--id .hidden: 64" "$rc" 64
run zdd-release -r "$R" --strip x "$T/app.tar"
is "--strip x: 64" "$rc" 64
run zdd-release -r "$R" --max-bytes lots "$T/app.tar"
is "--max-bytes lots: 64" "$rc" 64
run zdd-release -r "$R" --link-dir ../up "$T/app.tar"
is "--link-dir ../up: 64" "$rc" 64
run zdd-release -r "$R" --link-file /etc/passwd "$T/app.tar"
is "--link-file /etc/passwd: 64" "$rc" 64
run zdd-release -r "$R" --link-dir storage --link-file storage/x "$T/app.tar"
is "nested shared links: 64" "$rc" 64
like "nested shared links: says so" "$err" 'storage/x and storage: one shared link inside another'
run zdd-release -r "$R" --link-dir a --link-dir a "$T/app.tar"
is "a shared link twice: 64" "$rc" 64
run zdd-release -r "$R" --link-dir ab --link-dir a "$T/app.tar.gz"
is "--link-dir ab and a: not nested" "$rc" 0
rm -rf "$R"
run zdd-release -r "$R" "$T/nope.tgz"
is "missing artifact: 66" "$rc" 66
like "missing artifact: named" "$err" "^zdd-release: cannot read $T/nope.tgz: No such file"
ok "missing artifact: no root made" test ! -e "$R"

# --- the happy path, every format --------------------------------------
run zdd-release -r "$R" --strip 1 "$T/app.tar.gz"
is "tar.gz: exit 0" "$rc" 0
like "tar.gz: prints the release's absolute path" "$out" "^$R/releases/[0-9]{14}\$"
is "tar.gz: stderr quiet" "$err" ""
id1=$(basename "$out")
ok "tar.gz: reads back identical" same "$A" "$out"
is "tar.gz: mtime kept" "$(stat -c %Y "$out/public/index.php")" \
	"$(stat -c %Y "$A/public/index.php")"
is "tar.gz: mode kept" "$(stat -c %a "$out/bin/run")" 755
is "tar.gz: release dir is 755" "$(stat -c %a "$out")" 755
is "tar.gz: symlink kept" "$(readlink "$out/config/index-link")" ../public/index.php
is "manifest: id" "$(mf "$id1" id)" "$id1"
is "manifest: sha256 of the artifact" "$(mf "$id1" sha256)" \
	"$(sha256sum "$T/app.tar.gz" | cut -d' ' -f1)"
is "manifest: source" "$(mf "$id1" source)" "$T/app.tar.gz"
is "manifest: files" "$(mf "$id1" files)" 8
is "manifest: bytes" "$(mf "$id1" bytes)" \
	"$(find "$A" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')"
is "manifest: branch unknown" "$(mf "$id1" branch)" unknown
is "manifest: revision unknown" "$(mf "$id1" revision)" unknown
is "manifest: user" "$(mf "$id1" user)" "$(id -un)"
is "manifest: host" "$(mf "$id1" host)" "$(hostname)"
like "manifest: created in UTC" "$(mf "$id1" created)" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$'
is "nothing left in .zdd/tmp" "$(ntmp)" 0
for f in app.tar app.tar.bz2 app.tar.xz app.tar.zst app.zip app.jar app.cpio; do
	run zdd-release -r "$R" --strip 1 "$T/$f"
	is "$f: exit 0" "$rc" 0
	ok "$f: reads back identical" same "$A" "$out"
done
is "each release its own id" "$(ls "$R/releases" | sort -u | wc -l)" 8

run zdd-release -r "$R" "$T/src/app"
is "directory: exit 0" "$rc" 0
ok "directory: copied identical" same "$A" "$out"
is "directory: mtime kept" "$(stat -c %Y "$out/public/index.php")" \
	"$(stat -c %Y "$A/public/index.php")"
is "directory: no sha256" "$(mf "$(basename "$out")" sha256)" None

mkdir -p "$T/ws/build" && echo x >"$T/ws/build/f"
run zdd-release -r "$T/ws/deploy" "$T/ws"
is "directory holding the root: 64" "$rc" 64
like "directory holding the root: says so" "$err" "the deploy root $T/ws/deploy lies inside it"
is "directory holding the root: nothing made" "$(find "$T/ws/deploy/releases" "$T/ws/deploy/.zdd/tmp" -mindepth 1 | wc -l)" 0
run sh -c "cat '$T/app.tar.xz' | zdd-release -r '$R' --strip 1 -"
is "stdin: exit 0" "$rc" 0
ok "stdin: reads back identical" same "$A" "$out"
is "stdin: source" "$(mf "$(basename "$out")" source)" stdin
is "stdin: sha256 of the stream" "$(mf "$(basename "$out")" sha256)" \
	"$(sha256sum "$T/app.tar.xz" | cut -d' ' -f1)"

run sh -c "cat '$T/app.zip' | zdd-release -r '$R' --strip 1 -"
is "zip on stdin: exit 0" "$rc" 0
is "zip on stdin: content read as a stream" "$(cat "$out/public/css/app.css")" 'body{}'
if command -v git >/dev/null; then
	G=$T/repo
	git init -q "$G" && cp -r "$A/public" "$G/" &&
		git -C "$G" add -A && git -C "$G" -c user.name=t -c user.email=t@t \
		commit -qm one
	run sh -c "git -C '$G' archive --format=tar HEAD | zdd-release -r '$R' -"
	is "git archive | zdd-release -: exit 0" "$rc" 0
	ok "git archive | zdd-release -: the tree" same "$A/public" "$out/public"
fi
run zdd-release -r "$R" "$T/app.tar.gz"
ok "no --strip: top directory kept" same "$A" "$out/app"
tar -czf "$T/public.tgz" -C "$T/src" app/public
run zdd-release -r "$R" --strip 2 "$T/public.tgz"
ok "--strip 2: index.php at the top" test -f "$out/index.php"
ok "--strip 2: css/ at the top" test -f "$out/css/app.css"

# A signal in the middle: the run removes its work and dies of it.
mkfifo "$T/slow"
(echo; exec sleep 30) >"$T/slow" &
feeder=$!
zdd-release -r "$R" - <"$T/slow" >/dev/null 2>"$T/term.err" &
victim=$!
i=0
while [ "$(ntmp)" = 0 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
is "SIGTERM: staging directory made" "$(ntmp)" 1
before=$(nrel)
kill -TERM "$victim"
wait "$victim"
is "SIGTERM: dies of the signal" "$?" 143
kill "$feeder" 2>/dev/null
wait "$feeder" 2>/dev/null
is "SIGTERM: staging directory removed" "$(ntmp)" 0
is "SIGTERM: no release made" "$(nrel)" "$before"
like "SIGTERM: says so" "$(cat "$T/term.err")" '^zdd-release: interrupted, nothing made$'

# --- ids -------------------------------------------------------------
run zdd-release -r "$R" --id v1.2.3 --strip 1 "$T/app.tar"
is "--id: exit 0" "$rc" 0
is "--id: used" "$out" "$R/releases/v1.2.3"
run zdd-release -r "$R" --id v1.2.3 --strip 1 "$T/app.tar"
is "--id taken: 73" "$rc" 73
like "--id taken: says so" "$err" 'zdd-release: --id v1.2.3: .*exists already'
is "--id taken: nothing in tmp" "$(ntmp)" 0
ZDD_ROOT=$R run zdd-release --strip 1 "$T/app.tar"
is "ZDD_ROOT: exit 0" "$rc" 0
like "ZDD_ROOT: release under it" "$out" "^$R/releases/"

# --- branch and revision ----------------------------------------------
GIT_BRANCH=origin/main GIT_COMMIT=abc123 run zdd-release -r "$R" --strip 1 "$T/app.tar"
id=$(basename "$out")
is "Jenkins: branch" "$(mf "$id" branch)" main
is "Jenkins: revision" "$(mf "$id" revision)" abc123
GITHUB_REF_NAME=feature GITHUB_SHA=def456 run zdd-release -r "$R" --strip 1 "$T/app.tar"
id=$(basename "$out")
is "GitHub: branch" "$(mf "$id" branch)" feature
is "GitHub: revision" "$(mf "$id" revision)" def456
TRAVIS_BRANCH=tb TRAVIS_COMMIT=777 run zdd-release -r "$R" --strip 1 --branch b2 "$T/app.tar"
id=$(basename "$out")
is "--branch beats the CI" "$(mf "$id" branch)" b2
is "Travis: revision" "$(mf "$id" revision)" 777
run zdd-release -r "$R" --strip 1 --revision ffff "$T/app.tar"
is "--revision" "$(mf "$(basename "$out")" revision)" ffff

# --- --json and -n ------------------------------------------------------
run zdd-release -r "$R" --json --strip 1 "$T/app.tar.gz"
is "--json: exit 0" "$rc" 0
is "--json: one line" "$(printf '%s\n' "$out" | wc -l)" 1
idj=$(jf "$out" id)
is "--json: path" "$(jf "$out" path)" "$R/releases/$idj"
is "--json: sha256" "$(jf "$out" sha256)" "$(sha256sum "$T/app.tar.gz" | cut -d' ' -f1)"
is "--json: files" "$(jf "$out" files)" 8
is "--json: dry_run" "$(jf "$out" dry_run)" false
before=$(nrel)
run zdd-release -r "$R" -n --strip 1 "$T/app.tar.gz"
is "-n: exit 0" "$rc" 0
like "-n: prints the path it would make" "$out" "^$R/releases/[0-9]{14}\$"
ok "-n: that path is not made" test ! -e "$out"
is "-n: no release made" "$(nrel)" "$before"
is "-n: nothing in tmp" "$(ntmp)" 0
like "-n: says what it would make" "$err" 'would make releases/.*8 files|would make releases/'
run zdd-release -r "$R" -n --json "$T/app.tar.gz"
is "-n --json: dry_run true" "$(jf "$out" dry_run)" true
run zdd-release -r "$T/fresh" -n "$T/app.tar.gz"
is "-n on a root not made yet: exit 0" "$rc" 0
ok "-n on a root not made yet: root not made" test ! -e "$T/fresh"
mk dotdot "$T/h-dotdot.tar"
run zdd-release -r "$R" -n "$T/h-dotdot.tar"
is "-n on a hostile archive: 65" "$rc" 65

# --- shared links -----------------------------------------------------
R2=$T/root2
run zdd-release -r "$R2" --strip 1 --link-file .env "$T/app.tar.gz"
is "--link-file missing in shared: 66" "$rc" 66
like "--link-file missing: names it" "$err" "^zdd-release: --link-file .env: $R2/shared/.env: No such file"
is "--link-file missing: no release" "$(ls "$R2/releases" | wc -l)" 0
is "--link-file missing: nothing in tmp" "$(find "$R2/.zdd/tmp" -mindepth 1 2>/dev/null | wc -l)" 0
echo 'APP=production' >"$R2/shared/.env"
mkdir -p "$R2/shared/config" && echo 'debug=1' >"$R2/shared/config/app.ini"
run zdd-release -r "$R2" --strip 1 --link-file .env --link-file config/app.ini \
	--link-dir storage/app/public --link-dir uploads "$T/app.tar.gz"
is "links: exit 0" "$rc" 0
rel=$out
is "--link-file: relative symlink" "$(readlink "$rel/.env")" ../../shared/.env
is "--link-file: reads shared" "$(cat "$rel/.env")" APP=production
is "--link-file nested: relative symlink" "$(readlink "$rel/config/app.ini")" ../../../shared/config/app.ini
is "--link-file nested: reads shared" "$(cat "$rel/config/app.ini")" debug=1
is "--link-dir nested: relative symlink" "$(readlink "$rel/storage/app/public")" \
	../../../../shared/storage/app/public
is "--link-dir: seeded from the release" "$(cat "$R2/shared/storage/app/public/seed.txt")" seed
is "--link-dir: read through the link" "$(cat "$rel/storage/app/public/seed.txt")" seed
ok "--link-dir absent from the artifact: created empty" test -d "$R2/shared/uploads"
is "--link-dir absent: linked" "$(readlink "$rel/uploads")" ../../shared/uploads
ok "--link-dir: the link resolves into shared" test "$(readlink -f "$rel/storage/app/public")" = "$R2/shared/storage/app/public"
ok "the rest of the release is the artifact's" same "$A/public" "$rel/public"
like "manifest: links" "$(cat "$R2/.zdd/manifests/$(basename "$rel").json")" '"path": "storage/app/public"'
echo 'uploaded' >"$R2/shared/storage/app/public/user.txt"
rm "$R2/shared/storage/app/public/seed.txt"
run zdd-release -r "$R2" --strip 1 --link-file .env --link-dir storage/app/public "$T/app.tar.gz"
is "second release: exit 0" "$rc" 0
is "--link-dir: shared content kept" "$(cat "$out/storage/app/public/user.txt")" uploaded
ok "--link-dir: not seeded again" test ! -e "$R2/shared/storage/app/public/seed.txt"
mk through-file "$T/h-through.tar"
run zdd-release -r "$R2" --link-dir l/sub "$T/h-through.tar"
is "a hostile archive with links: 65" "$rc" 65
tar -cf "$T/storage-file.tar" -C "$T" sentinel/file
run zdd-release -r "$R2" --link-dir sentinel/file "$T/storage-file.tar"
is "--link-dir over a file of the artifact: 65" "$rc" 65
like "--link-dir over a file: says so" "$err" 'link-dir sentinel/file: the artifact has a file there'
is "--link-dir over a file: nothing in tmp" "$(find "$R2/.zdd/tmp" -mindepth 1 | wc -l)" 0
# A failure after the links are made (here the manifest cannot be
# written: .zdd/manifests is a file) takes back what the run put in
# shared/: the directory seeded from the release and the one made empty.
RF=$T/root-fail
mkdir -p "$RF/.zdd" "$RF/shared/kept" && : >"$RF/.zdd/manifests"
echo old >"$RF/shared/kept/f"
run zdd-release -r "$RF" --strip 1 --link-dir storage --link-dir uploads \
	--link-dir kept "$T/app.tar.gz"
is "failure after linking: 66" "$rc" 66
like "failure after linking: says what failed" "$err" \
	"^zdd-release: cannot write the manifest of [0-9]{14}: Not a directory"
ok "failure after linking: seeded shared/storage taken back" test ! -e "$RF/shared/storage"
ok "failure after linking: empty shared/uploads taken back" test ! -e "$RF/shared/uploads"
is "failure after linking: shared/kept left alone" "$(cat "$RF/shared/kept/f")" old
is "failure after linking: no release" "$(ls "$RF/releases" | wc -l)" 0
is "failure after linking: nothing in tmp" "$(find "$RF/.zdd/tmp" -mindepth 1 | wc -l)" 0

# --- hostile and broken archives --------------------------------------
# Each: exit 65, one line naming the entry, nothing outside the root,
# nothing under releases/, nothing in .zdd/tmp, no manifest.
R3=$T/root3
hostile() { # KIND ERE [OPTIONS...]
	k=$1 re=$2
	shift 2
	f=$T/h-$k.ar
	[ -e "$f" ] || mk "$k" "$f"
	run zdd-release -r "$R3" "$@" "$f"
	is "$k: 65" "$rc" 65
	like "$k: reason" "$err" "$re"
	is "$k: one line" "$(printf '%s\n' "$err" | wc -l)" 1
	is "$k: nothing on stdout" "$out" ""
	is "$k: no release, no work, no manifest" \
		"$(nrel_ "$R3")" "0 0 0"
	is "$k: nothing written outside" "$(tree "$S")" "$sentinel"
}
nrel_() {
	echo "$(find "$1/releases" -mindepth 1 -maxdepth 1 | wc -l)" \
		"$(find "$1/.zdd/tmp" -mindepth 1 2>/dev/null | wc -l)" \
		"$(find "$1/.zdd/manifests" -mindepth 1 2>/dev/null | wc -l)"
}
hostile abs "entry '/tmp/zdd-abs-[0-9]+/pwned': absolute path"
ok "abs: nothing at the absolute path" sh -c '! ls -d /tmp/zdd-abs-* 2>/dev/null'
hostile dotdot "entry '../sentinel/pwned': path with a '..' component"
hostile dotdot-mid "entry 'a/b/../../../sentinel/pwned': path with a '..'"
hostile through-file "entry 'l/pwned': is written through the symlink l$"
hostile through-dir "entry 'l/sub/?': is written through the symlink l$"
hostile through-escape "entry 'l': is a symlink that resolves outside the release"
hostile sym-abs "entry 'etc': is a symlink to an absolute path"
hostile sym-rel "entry 'a/b/evil': is a symlink that resolves outside the release"
hostile sym-chain "entry 'evil': is a symlink that resolves outside the release"
hostile sym-later "entry 'a': is a symlink that resolves outside the release"
hostile sym-loop "is a symlink loop"
hostile hard-out "entry 'h': is a hard link whose target is a path with a '..'"
hostile hard-abs "entry 'h': is a hard link whose target is a absolute path"
hostile hard-missing "entry 'h': is a hard link to a name that is no file of the artifact: etc/passwd"
hostile hard-sym "entry 'h': is a hard link to a name that is no file of the artifact: s"
hostile chr "entry 'null': is a character device"
hostile blk "entry 'loop0': is a block device"
hostile fifo "entry 'pipe': is a FIFO"
hostile sock "entry 'sock': is a socket"
hostile cpio-fifo "entry 'pipe': is a FIFO"
hostile longname "entry 'd/d/d.*': name longer than PATH_MAX"
hostile longcomp "entry 'nnnn.*': name component longer than NAME_MAX"
hostile dup "entry 'ok.txt': appears twice in the artifact"
hostile sym-then-file "entry 'x': appears twice in the artifact"
hostile bomb-gz "entry 'zeros': the artifact expands past 1048576 bytes" --max-bytes 1M
hostile bomb-zip "entry 'zeros': the artifact expands past 1048576 bytes" --max-bytes 1M
hostile many "entry 'f010': is past the limit of 10 entries" --max-files 10
hostile zip-dotdot "entry '../sentinel/pwned': path with a '..' component"
hostile zip-abs "entry '/tmp/zdd-zipabs/pwned': absolute path"
ok "zip-abs: nothing at the absolute path" test ! -e /tmp/zdd-zipabs
hostile jar-dotdot "entry 'META-INF/../../sentinel/pwned': path with a '..' component"
# The zip bomb's headers declare sizes of zero: the limit counts bytes.
ok "bomb-zip: local headers declare size 0" python3 -c '
import struct,sys; d=open(sys.argv[1],"rb").read(); assert d[:4]==b"PK\3\4"
assert struct.unpack("<I", d[22:26])[0] == 0' "$T/h-bomb-zip.ar"
run zdd-release -r "$R3" --max-bytes 5M "$T/h-bomb-zip.ar"
is "bomb-zip under a higher limit: 0" "$rc" 0
rm -rf "$R3/releases/"* "$R3/.zdd/manifests"
run zdd-release -r "$R3" --max-files 50 "$T/h-many.ar"
is "--max-files 50 for 50 entries: 0" "$rc" 0
rm -rf "$R3/releases/"* "$R3/.zdd/manifests"

tar -cf "$T/h-none.ar" -T /dev/null
hostile none "the artifact holds nothing$"
tar -cf "$T/h-stripped.ar" -C "$T/src" app/.env
run zdd-release -r "$R3" --strip 2 "$T/h-stripped.ar"
is "nothing left once stripped: 65" "$rc" 65
like "nothing left once stripped: says so" "$err" 'holds nothing once stripped'
is "nothing left once stripped: nothing made" "$(nrel_ "$R3")" "0 0 0"
mkdir -p "$T/rnd"
for i in $(seq 1 100); do head -c 4000 /dev/urandom >"$T/rnd/r$i"; done
tar -czf "$T/rnd.tgz" -C "$T" rnd
head -c 300000 "$T/rnd.tgz" >"$T/h-trunc.ar"
hostile trunc "corrupt or truncated archive after entry 'rnd/r[0-9]+'"
head -c 3000 "$T/app.tar" >"$T/h-trunctar.ar"
hostile trunctar "corrupt or truncated archive|Truncated"
head -c 4096 /dev/urandom >"$T/h-garbage.ar"
hostile garbage "not an archive zdd reads"
printf 'PK\003\004garbage' >"$T/h-badzip.ar"
hostile badzip "corrupt|truncated|not an archive"
: >"$T/h-empty.ar"
hostile empty "not an archive zdd reads"

# The same refusals for a directory operand.
D=$T/srcdir
mkdir -p "$D/ok" && echo fine >"$D/ok/f"
mkfifo "$D/pipe"
hostile_dir() { # NAME ERE
	run zdd-release -r "$R3" "$D"
	is "dir $1: 65" "$rc" 65
	like "dir $1: reason" "$err" "$2"
	is "dir $1: nothing left" "$(nrel_ "$R3")" "0 0 0"
}
hostile_dir fifo "entry 'pipe': is a FIFO"
rm "$D/pipe"
ln -s ../../sentinel "$D/ok/out"
hostile_dir symlink-out "entry 'ok/out': is a symlink that resolves outside"
rm "$D/ok/out"

# setuid, setgid and sticky bits dropped; read-only directories filled.
mk modes "$T/modes.tar"
run zdd-release -r "$R3" "$T/modes.tar"
is "modes: exit 0" "$rc" 0
is "setuid dropped" "$(stat -c %a "$out/suid")" 755
is "setgid dropped" "$(stat -c %a "$out/sgid")" 755
is "sticky dropped" "$(stat -c %a "$out/tmp")" 777
is "setgid dir dropped" "$(stat -c %a "$out/gdir")" 775
mk ro-dir "$T/ro.tar"
run zdd-release -r "$R3" "$T/ro.tar"
is "read-only dir: exit 0" "$rc" 0
is "read-only dir: mode kept" "$(stat -c %a "$out/ro")" 555
is "read-only dir: filled" "$(cat "$out/ro/f")" "in a read-only dir"
mk sym-ok "$T/symok.tar"
run zdd-release -r "$R3" "$T/symok.tar"
is "links inside, through a link to ..: exit 0" "$rc" 0
is "links inside: resolve" "$(cat "$out/to-f")" deep
is "hard link inside: same inode" "$(stat -c %i "$out/h")" "$(stat -c %i "$out/d/e/f")"

# cpio's newc carries a hard-linked file's data on the last of its names.
HL=$T/hl/app
mkdir -p "$HL" && echo "shared content" >"$HL/a" && ln "$HL/a" "$HL/b" &&
	ln "$HL/a" "$HL/c" && echo other >"$HL/d"
(cd "$T/hl" && find app | cpio --quiet -o -H newc >"$T/hl.cpio")
R11=$T/root11
mkdir -p "$R11/releases"
for pass in 1 2; do
	p=$(zdd-release -r "$R11" --dedupe --strip 1 "$T/hl.cpio" | zdd-link -r "$R11" -)
	is "cpio hard links, pass $pass: one inode for three names" \
		"$(stat -c %i "$p/a" "$p/b" "$p/c" | sort -u | wc -l)" 1
	is "cpio hard links, pass $pass: three names, no more (--dedupe links no release to another)" \
		"$(stat -c %h "$p/b")" 3
	is "cpio hard links, pass $pass: content" "$(cat "$p/a" "$p/b" "$p/c" "$p/d")" \
		"$(printf 'shared content\nshared content\nshared content\nother')"
done

# As an unprivileged user, owners are not restored and the run works.
R4=$T/root4
mkdir -p "$R4" && chown 65534:65534 "$R4"
run setpriv --reuid=65534 --regid=65534 --clear-groups zdd-release -r "$R4" --strip 1 "$T/app.tar.gz"
is "unprivileged: exit 0" "$rc" 0
is "unprivileged: files owned by the user" "$(stat -c %u "$out/public/index.php")" 65534
asnobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
pa=$(asnobody zdd-release -r "$R4" --dedupe --strip 1 "$T/app.tar.gz" | asnobody zdd-link -r "$R4" -)
run asnobody zdd-release -r "$R4" --dedupe --strip 1 "$T/app.tar.gz"
is "unprivileged --dedupe: exit 0" "$rc" 0
ok "unprivileged --dedupe: never shares an inode" test "$(stat -c %i "$out/public/index.php")" != "$(stat -c %i "$pa/public/index.php")"
rm -f "$R4/current"
chmod 555 "$R4/releases"
run setpriv --reuid=65534 --regid=65534 --clear-groups zdd-release -r "$R4" --strip 1 "$T/app.tar.gz"
is "releases/ not writable: 77" "$rc" 77
is "releases/ not writable: nothing in tmp" "$(find "$R4/.zdd/tmp" -mindepth 1 | wc -l)" 0
is "releases/ not writable: no manifest left" "$(ls "$R4/.zdd/manifests" | wc -l)" 3
chmod 755 "$R4/releases"

# A root that another user can write is refused before anything is made.
R10=$T/root10
mkdir -p "$R10" && chmod 777 "$R10"
run zdd-release -r "$R10" --strip 1 "$T/app.tar"
is "world-writable root: 77" "$rc" 77
is "world-writable root: says so" "$err" \
	"zdd-release: $R10 is writable by other users (mode 0777): refusing to deploy there"
is "world-writable root: nothing made in it" "$(ls -A "$R10")" ""

# --- bombs and limits ---------------------------------------------------
# Work is bounded by the limits, whatever shape the artifact takes: deep
# paths, directories no entry names, compression in compression, data
# read past; and a signal stops it.
RB=$T/root-bomb
mkdir -p "$RB"
# deep N DEPTH OUT: N files, each DEPTH names deep, in N branches.
deep() { python3 - "$@" <<'PY'
import io, sys, tarfile
n, depth, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
with tarfile.open(out, "w:gz", format=tarfile.GNU_FORMAT) as t:
    for i in range(n):
        ti = tarfile.TarInfo("b%d/" % i + "d/" * (depth - 2) + "f")
        ti.size = 1
        t.addfile(ti, io.BytesIO(b"x"))
PY
}
deep 20 2000 "$T/deep2000.tgz"
run timeout 120 zdd-release -r "$RB" "$T/deep2000.tgz"
is "20 files 2,000 deep: 65" "$rc" 65
like "20 files 2,000 deep: says why" "$err" \
	"^zdd-release: $T/deep2000.tgz: entry 'b0/d/d/.*': is more names deep than the limit of 256\$"
is "20 files 2,000 deep: nothing in tmp" "$(ls -A "$RB/.zdd/tmp")" ""
is "20 files 2,000 deep: no release" "$(ls "$RB/releases")" ""
deep 2 300 "$T/deep300.tgz"
run zdd-release -r "$RB" --max-depth 300 --id deep300 "$T/deep300.tgz"
is "--max-depth 300, 300 deep: 0" "$rc" 0
ok "--max-depth 300: the deepest file is there" test -f "$RB/releases/deep300/b1/$(printf 'd/%.0s' $(seq 298))f"
run zdd-release -r "$RB" --max-depth 299 "$T/deep300.tgz"
is "--max-depth 299, 300 deep: 65" "$rc" 65
for bad in 0 2049 x; do
	run zdd-release -r "$RB" --max-depth $bad "$T/deep300.tgz"
	is "--max-depth $bad: 64" "$rc" 64
done
# A refused deep artifact leaves nothing behind, even when what it made
# before the refusal is deeper than the open files allowed, as its owner:
# entries 1,900 names deep, then one past --max-depth; and 20 files
# 2,000 deep whose directories pass --max-files midway.
RD=$T/root-deep
mkdir -p "$RD" && chown 65534:65534 "$RD"
python3 - "$T/deeper.tgz" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz", format=tarfile.GNU_FORMAT) as t:
    for name in ["a%d/" % i + "d/" * 1898 + "f" for i in range(3)] + \
            ["b/" + "d/" * 2000 + "f"]:
        ti = tarfile.TarInfo(name)
        ti.size = 1
        t.addfile(ti, io.BytesIO(b"x"))
PY
run asnobody sh -c "ulimit -n 64 && zdd-release -r '$RD' --max-depth 2000 '$T/deeper.tgz'"
is "1,900 deep, then 2,002 past --max-depth 2000: 65" "$rc" 65
like "... says why" "$err" "^zdd-release: $T/deeper.tgz: entry 'b/d/d/.*': is more names deep than the limit of 2000\$"
is "... nothing in tmp" "$(ls -A "$RD/.zdd/tmp")" ""
is "... no release" "$(ls -A "$RD/releases")" ""
run asnobody sh -c "ulimit -n 64 && zdd-release -r '$RD' --max-depth 2048 --max-files 30000 '$T/deep2000.tgz'"
is "2,000 deep, past --max-files 30000 by directories: 65" "$rc" 65
like "... says why" "$err" 'is past the limit of 30000 entries$'
is "... nothing in tmp" "$(ls -A "$RD/.zdd/tmp")" ""
is "... no release" "$(ls -A "$RD/releases")" ""
run asnobody sh -c "ulimit -n 64 && zdd-release -r '$RD' --max-depth 2048 --id d2000 --json '$T/deep2000.tgz'"
is "20 files 2,000 deep, --max-depth 2048: 0" "$rc:$(jf "$out" entries)" 0:40000
asnobody zdd-link -q -r "$RD" d2000 >/dev/null
asnobody zdd-release -q -r "$RD" --id small --strip 1 "$T/app.tar.gz" >/dev/null
asnobody zdd-link -q -r "$RD" small >/dev/null
run asnobody sh -c "ulimit -n 64 && zdd-prune -r '$RD' -k 0"
is "... and zdd-prune removes it, ulimit -n 64" \
	"$rc:$(ls -A "$RD/releases")$(ls -A "$RD/.zdd/tmp")" "0:small"
# 20 files, each under 10 directories of its own: 220 entries.
deep 20 11 "$T/dirs.tgz"
run zdd-release -r "$RB" --max-files 219 "$T/dirs.tgz"
is "--max-files counts the directories paths make: 65" "$rc" 65
like "--max-files counts the directories paths make: says so" "$err" 'is past the limit of 219 entries$'
run zdd-release -r "$RB" --max-files 220 --json "$T/dirs.tgz"
is "--max-files 220 for 20 files and 200 directories: 0" "$rc" 0
is "--max-files 220: 220 entries made" "$(jf "$out" entries)" 220
# gzip in gzip, 20 layers, corrupt: one layer is read, and refused.
python3 -c 'import gzip,sys
d = b"not an archive " * 4
for i in range(20): d = gzip.compress(d)
d = bytearray(d); d[len(d) // 2] ^= 0xff
open(sys.argv[1], "wb").write(d)' "$T/nested.gz"
run timeout 120 zdd-release -r "$RB" "$T/nested.gz"
is "gzip in gzip, 20 layers: 65" "$rc" 65
like "gzip in gzip, 20 layers: one layer is read" "$err" \
	'compressed data that holds no archive zdd reads, or a corrupt one \(one layer of compression is read\)'
tar -cf - -C "$T/src" app | gzip | gzip >"$T/twice.tgz.gz"
run zdd-release -r "$RB" "$T/twice.tgz.gz"
is "a .tgz gzipped again: 65" "$rc" 65
for c in "bzip2 -c" "xz -c" "zstd -qc"; do
	tar -cf - -C "$T/src" app | $c >"$T/one-layer"
	run zdd-release -r "$RB" --strip 1 "$T/one-layer"
	is "one layer of ${c%% *}: 0" "$rc" 0
done
# Compression bombs, small on disk: a tar of 64 MiB of zeros.  Past 2,000
# times the compressed bytes read (after the first MiB), the output is
# refused: xz, zstd and bzip2 reach that on zeros, gzip cannot (deflate
# stops at 1,032 to 1), so the same zeros gzipped are a release, and
# --max-bytes still bounds them.
mkdir -p "$T/zeros/app" && truncate -s 64M "$T/zeros/app/zeros"
for c in "xz -1" "zstd -q -3" "bzip2 -1"; do
	tar -cf - -C "$T/zeros" app | $c >"$T/bomb"
	run zdd-release -r "$RB" "$T/bomb"
	is "${c%% *} bomb of $(wc -c <"$T/bomb") bytes: 65" "$rc" 65
	like "... says why" "$err" 'expands past 2000 times its compressed size: a compression bomb$'
	is "... nothing in tmp" "$(ls -A "$RB/.zdd/tmp")" ""
done
tar -cf - -C "$T/zeros" app | gzip -9 >"$T/zeros.tgz"
run zdd-release -r "$RB" --max-bytes 32M "$T/zeros.tgz"
is "64 MiB of zeros gzipped, --max-bytes 32M: 65" "$rc" 65
run zdd-release -r "$RB" --id zeros "$T/zeros.tgz"
is "64 MiB of zeros gzipped: a release" "$rc:$(stat -c %s "$RB/releases/zeros/app/zeros")" 0:67108864
rm -rf "$T/zeros"
# Data of entries that --strip drops is read all the same, and counted.
python3 - "$T/stripped.tgz" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz") as t:
    for name, size in (("top", 3 << 20), ("top2", 3 << 20), ("app/f", 1)):
        ti = tarfile.TarInfo(name)
        ti.size = size
        t.addfile(ti, io.BytesIO(b"\0" * size))
PY
run zdd-release -r "$RB" --strip 1 --max-bytes 5M "$T/stripped.tgz"
is "data that --strip drops counts toward --max-bytes: 65" "$rc" 65
run zdd-release -r "$RB" --strip 1 --max-bytes 7M "$T/stripped.tgz"
is "... and within the limit: 0" "$rc" 0
# SIGTERM while busy writing (not waiting for input): the run stops,
# removes its work and dies of the signal.
mkfifo "$T/endless"
python3 -c 'import sys, tarfile
ti = tarfile.TarInfo("big"); ti.size = 1 << 40
o = sys.stdout.buffer
o.write(ti.tobuf(format=tarfile.GNU_FORMAT))
z = b"\1" * (1 << 20)
try:
    while True: o.write(z)
except BrokenPipeError:
    pass' >"$T/endless" &
feeder=$!
zdd-release -r "$RB" --max-bytes 1G - <"$T/endless" >/dev/null 2>"$T/busy.err" &
victim=$!
i=0
until [ -n "$(find "$RB/.zdd/tmp" -name big -size +1M 2>/dev/null)" ] || [ $i -ge 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
ok "SIGTERM while writing: the file is being written" test -n "$(find "$RB/.zdd/tmp" -name big 2>/dev/null)"
kill -TERM "$victim"
wait "$victim"
is "SIGTERM while writing: dies of the signal" "$?" 143
kill "$feeder" 2>/dev/null
wait "$feeder" 2>/dev/null
is "SIGTERM while writing: staging directory removed" "$(ls -A "$RB/.zdd/tmp")" ""
like "SIGTERM while writing: says so" "$(cat "$T/busy.err")" '^zdd-release: interrupted, nothing made$'

# --- the progress line ---------------------------------------------------
# On a terminal (script(1) gives one) a line of bytes, files and rate is
# redrawn on stderr while the artifact unpacks; never off a terminal, with
# NO_COLOR or -q.  The artifact trickles in from a FIFO for a second and
# a half, so that there is time for lines to be drawn.
RP2=$T/root-progress
slowtar() {
	rm -f "$T/slow.fifo" && mkfifo "$T/slow.fifo"
	python3 -c 'import io, sys, tarfile, time
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    ti = tarfile.TarInfo("app/big"); ti.size = 2 << 20
    t.addfile(ti, io.BytesIO(b"\1" * ti.size))
d = buf.getvalue()
o = open(sys.argv[1], "wb")
for i in range(0, len(d), 65536):
    o.write(d[i:i + 65536]); o.flush(); time.sleep(0.05)' "$T/slow.fifo" &
}
slowtar
run script -qec "zdd-release -r '$RP2' --id tty - <'$T/slow.fifo'" /dev/null
wait
is "on a terminal: 0" "$rc" 0
like "on a terminal: a progress line" "$out" 'zdd-release: unpacking: [0-9.]+ MiB, 1 files, [0-9.]+ MiB/s'
like "on a terminal: redrawn in place" "$(printf '%s' "$out" | od -An -c | tr -d ' \n')" '\\r033\[K'
like "on a terminal: the line erased before the path is printed" \
	"$(printf '%s' "$out" | tr '\r' '\n' | tail -n 1)" "^.\[K$RP2/releases/tty\$"
slowtar
run script -qec "NO_COLOR=1 zdd-release -r '$RP2' --id nocolor - <'$T/slow.fifo'" /dev/null
wait
is "NO_COLOR on a terminal: no progress line" "$rc:$(printf '%s' "$out" | tr -d '\r')" "0:$RP2/releases/nocolor"
slowtar
run script -qec "zdd-release -q -r '$RP2' --id quiet - <'$T/slow.fifo'" /dev/null
wait
is "-q on a terminal: no progress line" "$rc:$(printf '%s' "$out" | tr -d '\r')" "0:$RP2/releases/quiet"
slowtar
run zdd-release -r "$RP2" --id pipe - <"$T/slow.fifo"
wait
is "off a terminal: nothing on stderr" "$rc:$err" "0:"

# --- --file: an artifact deployed whole -------------------------------
# A real jar from Debian's JDK when it is installed (it is optional: the
# cases skip without it), and a zip behind a shell script made here, the
# shape of a Spring Boot "fully executable" jar.
RJ=$T/root-file
J=$T/jar
mkdir -p "$J/cls"
printf '#!/bin/sh\nexec java -jar "$0" "$@"\n' >"$J/launch.sh"
if command -v javac >/dev/null && command -v jar >/dev/null; then
	printf 'public class Hello { public static void main(String[] a) {\n\tSystem.out.println("hello from the jar");\n} }\n' >"$J/Hello.java"
	javac -d "$J/cls" "$J/Hello.java" &&
		jar --create --file "$J/app.jar" --main-class Hello -C "$J/cls" .
	is "javac and jar make a jar" "$?" 0
	cat "$J/launch.sh" "$J/app.jar" >"$J/exec.jar" && chmod 755 "$J/exec.jar"
	run zdd-release -r "$RJ" --id j1 --file "$J/app.jar"
	is "--file app.jar: 0" "$rc" 0
	is "--file app.jar: prints the release" "$out" "$RJ/releases/j1"
	is "--file app.jar: the release holds the jar alone" "$(ls -A "$RJ/releases/j1")" app.jar
	ok "--file app.jar: byte for byte" cmp "$J/app.jar" "$RJ/releases/j1/app.jar"
	zdd-link -q -r "$RJ" j1 >/dev/null
	run java -jar "$RJ/current/app.jar"
	is "--file app.jar: java -jar current/app.jar runs it" "$out" "hello from the jar"
	is "--file: the manifest's sha256 is the jar's" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sha256"])' "$RJ/.zdd/manifests/j1.json")" \
		"$(sha256sum <"$J/app.jar" | cut -d' ' -f1)"
	is "--file: the manifest names the file" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["file"])' "$RJ/.zdd/manifests/j1.json")" app.jar
	run zdd-release -r "$RJ" --id j2 --file=bin/app "$J/exec.jar"
	is "--file=bin/app, an executable jar: 0" "$rc" 0
	ok "--file=bin/app: executable kept" test -x "$RJ/releases/j2/bin/app"
	run "$RJ/releases/j2/bin/app"
	is "--file=bin/app: the executable jar runs" "$out" "hello from the jar"
	run zdd-release -r "$RJ" --id j3 "$J/exec.jar"
	is "an executable jar unpacked: 0" "$rc" 0
	is "an executable jar unpacked: its entries" "$(cd "$RJ/releases/j3" && find . -type f | sort | tr '\n' ' ')" \
		"./Hello.class ./META-INF/MANIFEST.MF "
	ok "an executable jar unpacked: the class is the compiled one" cmp "$J/cls/Hello.class" "$RJ/releases/j3/Hello.class"
else
	pass "# skip no JDK (javac and jar): the real jar cases"
fi
# A zip behind a shell script, its offsets not adjusted (as Spring Boot's
# are not): unpacked through its central directory, modes included.
mkdir -p "$J/z/bin" && echo one >"$J/z/one.txt" &&
	printf '#!/bin/sh\necho z\n' >"$J/z/bin/run" && chmod 755 "$J/z/bin/run"
(cd "$J/z" && zip -qr "$J/plain.zip" .)
cat "$J/launch.sh" "$J/plain.zip" >"$J/prefixed.zip"
run zdd-release -r "$RJ" --id z1 "$J/prefixed.zip"
is "a zip behind a script: 0" "$rc" 0
ok "a zip behind a script: unpacked whole" same "$J/z" "$RJ/releases/z1"
ok "a zip behind a script: modes from the central directory" test -x "$RJ/releases/z1/bin/run"
run zdd-release -r "$RJ" --id z2 - <"$J/prefixed.zip"
is "a zip behind a script on stdin: 0" "$rc" 0
is "a zip behind a script on stdin: read as a stream" "$(cat "$RJ/releases/z2/one.txt")" one
# Any single file, from a path or stdin; and what --file refuses.
cp /bin/true "$J/tool"
run zdd-release -r "$RJ" --id b0 "$J/tool"
is "a binary without --file: 65" "$rc" 65
like "a binary without --file: says to give --file" "$err" \
	"^zdd-release: $J/tool: not an archive zdd reads, or a corrupt one: .* \\(to deploy a file whole, give --file\\)\$"
ok "a binary without --file: nothing made" test ! -e "$RJ/releases/b0"
run zdd-release -r "$RJ" --id b1 --file "$J/tool"
is "--file, a binary: 0" "$rc" 0
run "$RJ/releases/b1/tool"
is "--file, a binary: it runs" "$rc" 0
run zdd-release -r "$RJ" --id b2 --file=app.war - <"$J/plain.zip"
is "--file=NAME from stdin: 0" "$rc" 0
ok "--file=NAME from stdin: byte for byte" cmp "$J/plain.zip" "$RJ/releases/b2/app.war"
is "--file=NAME from stdin: mode 644" "$(stat -c %a "$RJ/releases/b2/app.war")" 644
run zdd-release -r "$RJ" --id b3 --file - <"$J/plain.zip"
is "--file from stdin without a name: 64" "$rc" 64
like "--file from stdin without a name: says so" "$err" '^zdd-release: --file: name the file read from stdin'
for bad in ../up /abs; do
	run zdd-release -r "$RJ" --id b4 --file="$bad" "$J/tool"
	is "--file=$bad: 64" "$rc" 64
done
run zdd-release -r "$RJ" --id b4 --file --strip 1 "$J/tool"
is "--file with --strip: 64" "$rc" 64
run zdd-release -r "$RJ" --id b4 --file "$J/z"
is "--file on a directory: 64" "$rc" 64
run zdd-release -r "$RJ" --id b4 --file --max-bytes 100 "$J/tool"
is "--file past --max-bytes: 65" "$rc" 65
like "--file past --max-bytes: says so" "$err" "entry 'tool': the artifact expands past 100 bytes"
is "--file refusals: nothing made" "$(ls "$RJ/releases" | grep -c b4)" 0
is "--file refusals: nothing in tmp" "$(ls -A "$RJ/.zdd/tmp")" ""
# Shared links and --dedupe work on a file as on an archive.
mkdir -p "$RJ/shared/conf" && echo prod >"$RJ/shared/conf/app.properties"
run zdd-release -r "$RJ" --id d1 --file "$J/tool" --link-file conf/app.properties --link-dir logs
is "--file with shared links: 0" "$rc" 0
is "--file with shared links: the file, then the links" "$(cd "$RJ/releases/d1" && find . | sort | tr '\n' ' ')" \
	". ./conf ./conf/app.properties ./logs ./tool "
zdd-link -q -r "$RJ" d1 >/dev/null
run zdd-release -r "$RJ" --id d2 --dedupe --file "$J/tool"
is "--file --dedupe: 0" "$rc" 0
zdd-link -q -r "$RJ" d2 >/dev/null
run zdd-release -r "$RJ" --id d3 --dedupe --json --file "$J/tool"
is "--file --dedupe on a deduped current: 0" "$rc" 0
is "--file --dedupe: written whole on tmpfs, which has no reflinks" "$(jf "$out" deduped)" 0
ok "--file --dedupe: byte for byte" cmp "$J/tool" "$RJ/releases/d3/tool"

# zdd-release(1)'s --file example, as printed there.
ex=$(sed -n 's/^\.Dl \(zdd-release .*--file build\/libs\/app\.jar.*\)$/\1/p' "$TOP/man/zdd-release.1")
is "zdd-release(1): the --file example" "$ex" \
	'zdd-release -r /srv/app --file build/libs/app.jar | zdd-link -r /srv/app -'
mkdir -p "$J/build/libs" && cp "$J/plain.zip" "$J/build/libs/app.jar"
run sh -c "cd '$J' && $(printf '%s' "$ex" | sed "s|/srv/app|$T/root-ex|g")"
is "the --file example: 0" "$rc" 0
ok "the --file example: current/app.jar is the jar" cmp "$J/build/libs/app.jar" "$T/root-ex/current/app.jar"

# --- a result that cannot be printed -----------------------------------
# Nothing downstream learned of a release whose path could not be printed:
# it is removed, and a retry with the same --id makes it again.
RP=$T/root-print
tofull() { "$@" >/dev/full; }
closed() { "$@" >&-; }
run tofull zdd-release -r "$RP" --id p1 --strip 1 --link-dir storage "$T/app.tar.gz"
is "stdout full: 74" "$rc" 74
is "stdout full: says so" "$err" "zdd-release: stdout: No space left on device
zdd-release: releases/p1 removed: its path could not be printed"
is "stdout full: no release" "$(ls "$RP/releases")" ""
is "stdout full: no manifest" "$(ls "$RP/.zdd/manifests")" ""
is "stdout full: nothing in tmp" "$(ls -A "$RP/.zdd/tmp")" ""
is "stdout full: the seeded shared directory stays" "$(cat "$RP/shared/storage/app/public/seed.txt")" seed
run zdd-release -r "$RP" --id p1 --strip 1 --link-dir storage "$T/app.tar.gz"
is "stdout full: the retry with the same --id: 0" "$rc" 0
is "stdout full: the retry prints the path" "$out" "$RP/releases/p1"
run python3 -c 'import os,subprocess,sys
r, w = os.pipe(); os.close(r)
sys.exit(subprocess.run(sys.argv[1:], stdout=w).returncode)' \
	zdd-release -r "$RP" --id p2 --json --strip 1 "$T/app.tar.gz"
is "--json to a closed pipe: 74" "$rc" 74
like "--json to a closed pipe: says so" "$err" '^zdd-release: stdout: Broken pipe$'
ok "--json to a closed pipe: no release" test ! -e "$RP/releases/p2"
run closed zdd-release -r "$T/root-closed" --strip 1 "$T/app.tar.gz"
is "stdout closed: 74" "$rc" 74
is "stdout closed: says so" "$err" "zdd-release: stdout: Bad file descriptor"
ok "stdout closed: not even the root made" test ! -e "$T/root-closed"
run tofull zdd-release -n -r "$RP" --strip 1 "$T/app.tar.gz"
is "-n, stdout full: 74" "$rc" 74
# Kept when it cannot be taken back safely: another deploy holds the lock
# by then, or a link points at it already.
run python3 "$TOP/tests/blocked-stdout.py" "$RP" p3 lock \
	zdd-release -r "$RP" --id p3 --strip 1 "$T/app.tar.gz"
is "print fails, lock taken meanwhile: 74" "$rc" 74
like "print fails, lock taken meanwhile: says it is kept" "$err" \
	'^zdd-release: releases/p3 kept: cannot take the deploy lock again'
ok "print fails, lock taken meanwhile: release kept" test -d "$RP/releases/p3"
ok "print fails, lock taken meanwhile: manifest kept" test -f "$RP/.zdd/manifests/p3.json"
run python3 "$TOP/tests/blocked-stdout.py" "$RP" p4 link \
	zdd-release -r "$RP" --id p4 --strip 1 "$T/app.tar.gz"
is "print fails, linked meanwhile: 74" "$rc" 74
like "print fails, linked meanwhile: says it is kept" "$err" \
	'^zdd-release: releases/p4 kept: a link points at it$'
is "print fails, linked meanwhile: current still points at it" "$(readlink "$RP/current")" releases/p4
ok "print fails, linked meanwhile: release kept" test -f "$RP/releases/p4/public/index.php"

# --- the lock ---------------------------------------------------------
R5=$T/root5
zdd-release -r "$R5" --strip 1 "$T/app.tar" >/dev/null
# held LOCK: wait until someone holds it.
held() { i=0; while flock -n "$1" true && [ $i -lt 200 ]; do sleep 0.02; i=$((i + 1)); done; }
spawn flock "$R5/.zdd/lock" sleep 3
lockpid=$last_pid
held "$R5/.zdd/lock"
run zdd-release -r "$R5" --strip 1 "$T/app.tar"
is "locked: 75" "$rc" 75
like "locked: says by whom" "$err" "^zdd-release: $R5 is locked"
run zdd-release -r "$R5" --lock-wait 10 --strip 1 "$T/app.tar"
is "--lock-wait: waits, then 0" "$rc" 0
stop "$lockpid"
spawn flock "$R5/.zdd/lock" sleep 1
lockpid=$last_pid
held "$R5/.zdd/lock"
ZDD_LOCK_WAIT=10 run zdd-release -r "$R5" --strip 1 "$T/app.tar"
is "ZDD_LOCK_WAIT: waits, then 0" "$rc" 0
stop "$lockpid"

# Eight at once: each succeeds or gets 75; with --lock-wait all succeed.
R6=$T/root6
mkdir -p "$R6"
for i in 1 2 3 4 5 6 7 8; do
	(zdd-release -r "$R6" --strip 1 "$T/app.tar.gz" >"$T/c$i.out" 2>"$T/c$i.err"
	echo $? >"$T/c$i.rc") &
done
wait
codes=$(cat "$T"/c?.rc | sort | uniq | tr '\n' ' ')
like "eight at once: only 0 or 75" "$codes" '^(0 )?(75 )?$'
like "eight at once: at least one made it" "$(cat "$T"/c?.rc)" '^0$'
is "eight at once: as many releases as successes" "$(nrel_ "$R6" | cut -d' ' -f1)" \
	"$(grep -lx 0 "$T"/c?.rc | wc -l)"
R7=$T/root7
mkdir -p "$R7"
for i in 1 2 3 4 5 6 7 8; do
	(zdd-release -r "$R7" --lock-wait 60 --strip 1 "$T/app.tar.gz" >"$T/w$i.out" 2>"$T/w$i.err"
	echo $? >"$T/w$i.rc") &
done
wait
is "eight with --lock-wait: all 0" "$(cat "$T"/w?.rc | sort -u | tr '\n' ' ')" "0 "
is "eight with --lock-wait: distinct ids" "$(cat "$T"/w?.out | sort -u | wc -l)" 8
is "eight with --lock-wait: eight releases" "$(find "$R7/releases" -mindepth 1 -maxdepth 1 | wc -l)" 8
allwhole=1
for d in "$R7"/releases/*; do same "$A" "$d" || allwhole=0; done
is "eight with --lock-wait: all whole" "$allwhole" 1

# --- --dedupe -----------------------------------------------------------
# No write into one release, by anyone, may change another: files are
# shared as reflinks (their own inodes, blocks shared copy-on-write) where
# the file system has them, here a private XFS, and written whole where it
# has not (tmpfs, ext4); never hard-linked.
V=$T/dd
mkdir -p "$V/a"
for i in $(seq 1 20); do seq "$i" 500 >"$V/a/f$i.txt"; done
(cd "$V" && tar -czf "$T/v1.tgz" a)
echo changed >>"$V/a/f3.txt"
(cd "$V" && tar -czf "$T/v2.tgz" a)
echo new >"$V/a/new.txt" && echo changed >>"$V/a/f7.txt"
(cd "$V" && tar -czf "$T/v3.tgz" a)
for v in 1 2 3; do
	rm -rf "$T/x$v" && mkdir "$T/x$v" && tar -xzf "$T/v$v.tgz" -C "$T/x$v"
done
# dedupe_root ROOT LABEL: three releases with --dedupe, v1 and v2 live.
dedupe_root() {
	p1=$(zdd-release -r "$1" --dedupe --strip 1 "$T/v1.tgz" | zdd-link -r "$1" -)
	run zdd-release -r "$1" --dedupe --strip 1 --json "$T/v2.tgz"
	is "--dedupe ($2): exit 0" "$rc" 0
	dd2=$(jf "$out" deduped)
	p2=$(jf "$out" path)
	zdd-link -r "$1" "$p2" >/dev/null
	p3=$(zdd-release -r "$1" --dedupe --strip 1 "$T/v3.tgz")
	ok "--dedupe ($2): v1 reads back identical" diff -r "$T/x1/a" "$p1"
	ok "--dedupe ($2): v2 reads back identical" diff -r "$T/x2/a" "$p2"
	ok "--dedupe ($2): v3 reads back identical" diff -r "$T/x3/a" "$p3"
	ok "--dedupe ($2): an unchanged file has its own inode" \
		test "$(stat -c %i "$p1/f1.txt")" != "$(stat -c %i "$p2/f1.txt")"
	is "--dedupe ($2): one link each" "$(stat -c %h "$p1/f1.txt") $(stat -c %h "$p2/f1.txt")" "1 1"
	is "--dedupe ($2): modes as in the artifact, writable" "$(stat -c %a "$p2/f1.txt")" 644
	# A deploy hook running as root writes into the new release: in
	# place, appended, truncated.  The live one does not change.
	printf 'XX' | dd of="$p3/f1.txt" bs=1 seek=3 conv=notrunc 2>/dev/null
	echo appended >>"$p3/f2.txt"
	: >"$p3/f4.txt"
	ok "--dedupe ($2): root wrote into the new release" grep -q XX "$p3/f1.txt"
	ok "--dedupe ($2): live v2 unchanged by writes into v3" diff -r "$T/x2/a" "$p2"
	ok "--dedupe ($2): v1 unchanged by writes into v3" diff -r "$T/x1/a" "$p1"
	# ... and the other way round: the live release edited in place.
	echo hotfix >>"$p2/f5.txt"
	ok "--dedupe ($2): v3 unchanged by a write into the live v2" cmp "$T/x3/a/f5.txt" "$p3/f5.txt"
}
R8=$T/root8
dedupe_root "$R8" tmpfs
is "--dedupe (tmpfs): nothing shared" "$dd2" 0
run zdd-release -r "$R8" --dedupe --strip 1 "$T/v2.tgz"
like "--dedupe (tmpfs): says there are no reflinks" "$err" \
	"^zdd-release: --dedupe: the file system of $R8 has no reflinks, so files were written, not shared\$"
run zdd-release -q -r "$R8" --dedupe --strip 1 "$T/v2.tgz"
is "--dedupe -q (tmpfs): says nothing" "$err" ""

X=$T/xfs
mkdir -p "$X"
trap 'umount "$X" 2>/dev/null; cleanup' EXIT
if command -v mkfs.xfs >/dev/null && truncate -s 300M "$T/xfs.img" &&
	mkfs.xfs -q "$T/xfs.img" && mount -o loop "$T/xfs.img" "$X" 2>/dev/null; then
	dedupe_root "$X/root" XFS
	is "--dedupe (XFS): 19 of 20 files shared" "$dd2" 19
	like "--dedupe (XFS): blocks shared, copy-on-write" \
		"$(filefrag -v "$p2/f1.txt")" '[, ]shared'
	unlike "--dedupe (XFS): a file changed in v3 shares nothing" \
		"$(filefrag -v "$p3/f7.txt")" '[, ]shared'
	# A file that differs only at its end must not be shared.
	seq 1 100000 >"$V/a/f1.txt"
	(cd "$V" && tar -czf "$T/v4.tgz" a)
	cp "$V/a/f1.txt" "$T/f1-v4"
	echo tail >>"$V/a/f1.txt"
	(cd "$V" && tar -czf "$T/v5.tgz" a)
	p4=$(zdd-release -r "$X/root" --dedupe --strip 1 "$T/v4.tgz" | zdd-link -r "$X/root" -)
	p5=$(zdd-release -r "$X/root" --dedupe --strip 1 "$T/v5.tgz")
	unlike "--dedupe (XFS): a longer file not shared" "$(filefrag -v "$p5/f1.txt")" '[, ]shared'
	ok "--dedupe (XFS): the longer file reads back whole" cmp "$V/a/f1.txt" "$p5/f1.txt"
	ok "--dedupe (XFS): the old file untouched" cmp "$T/f1-v4" "$p4/f1.txt"
	umount "$X"
else
	pass "# skip no XFS here (mkfs.xfs, a loop mount): the reflink cases"
fi
rm -f "$T/xfs.img"

# --- SIGKILL at random moments of release | link --------------------------
R9=$T/root9
K=$T/kill/app
mkdir -p "$K"
for i in $(seq 1 1000); do mkdir -p "$K/d$((i % 10))"; seq "$i" 1000 >"$K/d$((i % 10))/f$i"; done
(cd "$T/kill" && tar -czf "$T/kill.tgz" app)
mkdir -p "$R9/releases"
zdd-release -r "$R9" --strip 1 "$T/kill.tgz" | zdd-link -r "$R9" - >/dev/null
kills=0
for i in $(seq 1 30); do
	killing_begin
	setsid sh -c "zdd-release -r '$R9' --strip 1 '$T/kill.tgz' 2>/dev/null | zdd-link -r '$R9' - >/dev/null 2>&1" &
	p=$!
	if [ $((i % 2)) = 0 ]; then
		sleep "0.0$(printf %02d $((RANDOM % 25)))"
	else
		# Half the kills wait for the staging directory, so that some
		# land mid-build however fast or slow this machine is.
		for _ in $(seq 1 500); do
			[ -n "$(ls -A "$R9/.zdd/tmp" 2>/dev/null)" ] && break
			sleep 0.01
		done
	fi
	k=0
	kill -9 -- -"$p" 2>/dev/null && k=1 kills=$((kills + 1))
	wait "$p" 2>/dev/null
	killing_end "$k"
done
like "SIGKILL: killed runs" "$kills" '^[1-9]'
left=$(find "$R9/.zdd/tmp" -mindepth 1 -maxdepth 1 | wc -l)
echo "# SIGKILL: $kills of 30 runs killed, $left killed while building"
like "SIGKILL: some killed while building a release" "$left" '^[1-9]'
whole=1
for d in "$R9"/releases/*; do
	same "$K" "$d" || { whole=0; echo "# not whole: $d"; }
done
is "SIGKILL: every release under releases/ is whole" "$whole" 1
ok "SIGKILL: current points at a whole release" same "$K" "$R9/current/"
run sh -c "zdd-release -r '$R9' --strip 1 '$T/kill.tgz' | zdd-link -r '$R9' -"
is "SIGKILL: the next deploy succeeds" "$rc" 0
is "SIGKILL: current is the new release" "$(readlink -f "$R9/current")" "$out"
run zdd-prune -r "$R9" -k 1
is "SIGKILL: zdd-prune clears what the kills left" "$(find "$R9/.zdd/tmp" -mindepth 1 | wc -l)" 0

# --- shared/ as a link to another disk (Capistrano users make it) ---------
RS=$T/rootshared
mkdir -p "$RS" "$T/otherdisk" "$T/sh/app/logs"
echo v >"$T/sh/app/VERSION"
echo old >"$T/sh/app/logs/x"
tar -C "$T/sh" -czf "$T/sh.tgz" app
ln -s "$T/otherdisk" "$RS/shared"
run zdd-release -r "$RS" --strip 1 "$T/sh.tgz"
is "shared/ a link to a directory: a release is made" "$rc" 0
run zdd-release -r "$RS" --strip 1 --link-dir logs "$T/sh.tgz"
is "... --link-dir seeds it through the link" "$rc:$(cat "$T/otherdisk/logs/x")" 0:old
is "... and the release's link resolves" "$(cat "$out/logs/x")" old
ok "... shared/ is still the owner's link" test -L "$RS/shared"
RF=$T/rootsharedfile
mkdir -p "$RF" && : >"$T/afile" && ln -s "$T/afile" "$RF/shared"
run zdd-release -r "$RF" --strip 1 "$T/sh.tgz"
is "shared/ a link to a file: refused" "$rc" 66
is "... nothing made" "$(ls "$RF/releases" 2>/dev/null)" ""

done_testing
