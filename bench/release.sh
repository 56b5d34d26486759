#!/bin/sh
# Measures zdd-release against what it replaces, side by side in one run:
#  1. three artifacts through zdd-release (every check, the digest, one
#     syncfs before the rename) against `tar -x` plus `sync -f` of the same
#     file system, on disk and on /dev/shm; the median of RUNS runs each,
#     the two alternating so that both see the same machine:
#     - 4,000 files of text that compresses as source code does, .tar.gz;
#     - 4,000 files of random bytes, 200 B to 6 KiB (minified JS and
#       images do not compress), .tar.gz;
#     - one 200 MiB jar (random bytes) in a plain .tar;
#     - the same 4,000 random files in a .zip (a jar of assets), against
#       `unzip -q` plus `sync -f`;
#     and zdd-release's peak memory on each, which must not grow with the
#     artifact.  With BASE=PATH (another build's zdd-release, say main's:
#     `make B=build-main` in a checkout of main) it runs in the same
#     rounds, its order against this build's swapped every round, and
#     gets columns of its own;
#  2. ten releases of a 2,000-file app, 1% of files changed each time,
#     with and without --dedupe: `du` of releases/ against one release, on
#     a private XFS (reflinks) when mkfs.xfs and a loop mount work, else
#     on DISK.
# Prints a Markdown report on stdout.  DISK (default /var/tmp) is the
# on-disk scratch place; B the build directory; DEDUPE=no skips part 2.
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
REL=$(pwd)/$B/zdd-release
RUNS=${RUNS:-5}
DISK=${DISK:-/var/tmp}
BASE=${BASE:-}
DEDUPE=${DEDUPE:-yes}
[ -x "$REL" ] || { echo "bench: build first (make)" >&2; exit 1; }
[ -z "$BASE" ] || [ -x "$BASE" ] ||
	{ echo "bench: BASE=$BASE is no program" >&2; exit 1; }

W=$(mktemp -d "$DISK/zdd-bench.XXXXXX") || exit 1
S=$(mktemp -d /dev/shm/zdd-bench.XXXXXX) || exit 1
X=$W/xfs
trap 'umount "$X" 2>/dev/null; rm -rf "$W" "$S"' EXIT

now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f\n", a - b }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f\n", a / b }'; }
# "median min" of a column of numbers.
stats() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[1] }'; }

# The artifacts, under $W/art/KIND/app, archived as $W/KIND.tar[.gz].
python3 - "$W/art" <<'PY'
import os, random, sys
random.seed(7)
root = sys.argv[1]
words = ("return if else for while static int char const struct void "
         "include define self this function var let class import").split()
for i in range(4000):
    d = os.path.join(root, "text", "app", "mod%02d" % (i % 80), "sub%d" % (i % 3))
    os.makedirs(d, exist_ok=True)
    n = random.randint(200, 12 * 1024)
    text = []
    while sum(map(len, text)) < n:
        text.append(" ".join(random.choices(words, k=12)) + ";\n")
    with open(os.path.join(d, "f%04d.src" % i), "w") as f:
        f.write("".join(text)[:n])
for i in range(4000):
    d = os.path.join(root, "random", "app", "mod%02d" % (i % 80))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%04d.bin" % i), "wb") as f:
        f.write(random.randbytes(random.randint(200, 6 * 1024)))
d = os.path.join(root, "jar", "app")
os.makedirs(d, exist_ok=True)
with open(os.path.join(d, "app.jar"), "wb") as f:
    for _ in range(200):
        f.write(random.randbytes(1 << 20))
PY
(cd "$W/art/text" && tar -czf "$W/text.tar.gz" app)
(cd "$W/art/random" && tar -czf "$W/random.tar.gz" app)
(cd "$W/art/random" && zip -qr "$W/random.zip" app)
(cd "$W/art/jar" && tar -cf "$W/jar.tar" app)
rm -rf "$W/art"

# extract PLACE N ARTIFACT: one timed run of the tool it replaces (tar,
# or unzip for a .zip) and one timed zdd-release run (and one of BASE),
# N times, alternating; prints "ref_median ref_min zdd_median zdd_min
# peak_kib base_median base_min".  The last run's release is checked
# against the reference's.
extract() {
	p=$1
	n=$2
	a=$3
	: >"$p/ref.t"
	: >"$p/zdd.t"
	: >"$p/base.t"
	i=0
	while [ "$i" -lt "$n" ]; do
		rm -rf "$p/x" "$p/root"
		mkdir -p "$p/x" "$p/root"
		sync
		t0=$(now)
		case $a in
		*.zip) unzip -q "$a" -d "$p/x" && sync -f "$p/x" ;;
		*) tar -xf "$a" -C "$p/x" && sync -f "$p/x" ;;
		esac
		t1=$(now)
		sub "$t1" "$t0" >>"$p/ref.t"
		# This build and BASE take turns at going first.
		for r in $([ $((i % 2)) = 0 ] && echo "zdd base" || echo "base zdd"); do
			[ "$r" = base ] && [ -z "$BASE" ] && continue
			[ "$r" = base ] && bin=$BASE || bin=$REL
			rm -rf "$p/root"
			sync
			t0=$(now)
			"$bin" -q -r "$p/root" "$a" >/dev/null || exit 1
			t1=$(now)
			sub "$t1" "$t0" >>"$p/$r.t"
		done
		i=$((i + 1))
	done
	# The extraction itself must be right, or the timing means nothing.
	[ -z "$BASE" ] || {
		rm -rf "$p/root"
		"$REL" -q -r "$p/root" "$a" >/dev/null || exit 1
	}
	diff -r "$p/x/app" "$p/root/releases/"*/app >/dev/null ||
		{ echo "bench: zdd-release output differs from the reference's" >&2; exit 1; }
	rm -rf "$p/x" "$p/root"
	peak=$(/usr/bin/time -f %M "$REL" -q -r "$p/root" "$a" 2>&1 >/dev/null)
	rm -rf "$p/root"
	b="- -"
	[ -z "$BASE" ] || b=$(stats <"$p/base.t")
	echo "$(stats <"$p/ref.t") $(stats <"$p/zdd.t") $peak $b"
}

# Runs on tmpfs are cheap: four times as many steady the median.
disk_text=$(extract "$W" "$RUNS" "$W/text.tar.gz") || exit 1
shm_text=$(extract "$S" $((RUNS * 4)) "$W/text.tar.gz") || exit 1
disk_random=$(extract "$W" "$RUNS" "$W/random.tar.gz") || exit 1
shm_random=$(extract "$S" $((RUNS * 4)) "$W/random.tar.gz") || exit 1
disk_jar=$(extract "$W" "$RUNS" "$W/jar.tar") || exit 1
shm_jar=$(extract "$S" $((RUNS * 4)) "$W/jar.tar") || exit 1
disk_zip=$(extract "$W" "$RUNS" "$W/random.zip") || exit 1
shm_zip=$(extract "$S" $((RUNS * 4)) "$W/random.zip") || exit 1

row() { # WHAT PLACE "ref_median ref_min zdd_median zdd_min peak_kib base..."
	w=$1
	pl=$2
	# shellcheck disable=SC2086
	set -- $3
	printf '| %s | %s | %.3f s (%.3f) | %.3f s (%.3f) | %.2fx (%.2fx) | %d MiB |' \
	    "$w" "$pl" "$1" "$2" "$3" "$4" "$(div "$3" "$1")" \
	    "$(div "$4" "$2")" $(($5 / 1024))
	[ -z "$BASE" ] || printf ' %.3f s (%.3f) | %.2fx | %.2fx |' \
	    "$6" "$7" "$(div "$6" "$1")" "$(div "$3" "$6")"
	echo
}
# The table's head, with BASE's columns when it runs.
head2() {
	if [ -z "$BASE" ]; then
		echo '| artifact | where | tar -x / unzip -q, + sync -f | zdd-release | ratio | zdd memory |'
		echo '| --- | --- | --- | --- | --- | --- |'
	else
		echo '| artifact | where | tar -x / unzip -q, + sync -f | zdd-release | ratio | zdd memory | BASE | BASE ratio | zdd / BASE |'
		echo '| --- | --- | --- | --- | --- | --- | --- | --- | --- |'
	fi
}

# Ten releases of a 2,000-file app, 20 files (1%) changed each time;
# the files are random bytes, as built assets and vendored code are to
# gzip.
mkapp2() {
	rm -rf "$W/app2"
python3 - "$W/app2" <<'EOF'
import os, random, sys
random.seed(11)
root = sys.argv[1]
for i in range(2000):
    d = os.path.join(root, "app", "dir%02d" % (i % 50))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%04d.php" % i), "wb") as f:
        f.write(os.urandom(random.randint(1024, 16 * 1024)))
EOF
}
# used: KiB in use on D's file system; du cannot see shared blocks.
used() { df -k --output=used "$D" | tail -n 1; }
disk_run() { # ROOT OPTION...
	r=$1
	shift
	u0=$(used)
	v=1
	while [ "$v" -le 10 ]; do
		python3 - "$W/app2" "$v" <<'EOF'
import os, random, sys
root, v = sys.argv[1], int(sys.argv[2])
random.seed(100 + v)
if v > 1:
    for i in random.sample(range(2000), 20):
        p = os.path.join(root, "app", "dir%02d" % (i % 50), "f%04d.php" % i)
        with open(p, "ab") as f:
            f.write(b"// build %d\n" % v)
EOF
		(cd "$W/app2" && tar -czf "$W/app2.tgz" app)
		"$REL" -q -r "$r" --strip 1 "$@" "$W/app2.tgz" >"$W/last" ||
			exit 1
		# Link it, as a deploy would: --dedupe shares with current.
		ln -sfn "releases/$(basename "$(cat "$W/last")")" "$r/current"
		v=$((v + 1))
	done
	one=$(du -sk "$(cat "$W/last")" | cut -f1)
	if [ "$D" = "$X" ]; then
		sync -f "$r"
		all=$(($(used) - u0))
	else
		all=$(du -sk "$r/releases" | cut -f1)
	fi
	echo "$one $all"
}
# part2: the ten releases without and with --dedupe, as a Markdown section.
# --dedupe shares blocks as reflinks, which ext4 and tmpfs do not have;
# on the private XFS the space used is read from df, before and after.
part2() {
	mkapp2
	D=$W
	mkdir -p "$X"
	if command -v mkfs.xfs >/dev/null && truncate -s 2G "$W/xfs.img" &&
		mkfs.xfs -q "$W/xfs.img" &&
		mount -o loop "$W/xfs.img" "$X" 2>/dev/null; then
		D=$X
	fi
	dfs=$(df -T "$D" | awk 'NR == 2 { print $2 }')
	t0=$(now)
	plain=$(disk_run "$D/r-plain") || exit 1
	t1=$(now)
	mkapp2
	t2=$(now)
	dedup=$(disk_run "$D/r-dedupe" --dedupe) || exit 1
	t3=$(now)
	echo
	echo "## Ten releases of a 2,000-file app, 1% changed each time ($dfs)"
	echo
	echo '| | one release | releases/ (10) | ratio | time for 10 |'
	echo '| --- | --- | --- | --- | --- |'
	# shellcheck disable=SC2086
	set -- $plain
	printf '| without --dedupe | %d KiB | %d KiB | %.2fx | %.1f s |\n' \
	    "$1" "$2" "$(div "$2" "$1")" "$(sub "$t1" "$t0")"
	# shellcheck disable=SC2086
	set -- $dedup
	printf '| with --dedupe | %d KiB | %d KiB | %.2fx | %.1f s |\n' \
	    "$1" "$2" "$(div "$2" "$1")" "$(sub "$t3" "$t2")"
}
basenote=
[ -z "$BASE" ] || basenote="  BASE is $BASE, run in the same rounds;
the last column divides this build's median by BASE's."
dd=
[ "$DEDUPE" = no ] || dd=$(part2) || exit 1

cat <<EOF
# zdd-release benchmark

$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr), $(nproc) CPUs; disk: $(df -T "$DISK" | awk 'NR == 2 { print $2 }') at $DISK.

## Extraction against tar -x or unzip -q, + sync -f

Median (and fastest) of $RUNS runs each on disk, $((RUNS * 4)) on
/dev/shm, alternating.  zdd-release checks every entry, hashes the
artifact, builds in .zdd/tmp, syncs the file system, writes the manifest
and renames the release into place; the memory column is its peak
(maximum resident set).$basenote

$(head2)
$(row "4,000 text files, .tar.gz" disk "$disk_text")
$(row "4,000 text files, .tar.gz" /dev/shm "$shm_text")
$(row "4,000 random files, .tar.gz" disk "$disk_random")
$(row "4,000 random files, .tar.gz" /dev/shm "$shm_random")
$(row "200 MiB jar, .tar" disk "$disk_jar")
$(row "200 MiB jar, .tar" /dev/shm "$shm_jar")
$(row "4,000 random files, .zip" disk "$disk_zip")
$(row "4,000 random files, .zip" /dev/shm "$shm_zip")
$dd
EOF
