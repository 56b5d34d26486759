#!/bin/sh
# Measures zdd-release against what it replaces, side by side in one run:
#  1. a 4,000-file .tar.gz through zdd-release (every check, one syncfs
#     before the rename) against `tar -xzf` plus `sync -f` of the same
#     file system, on disk and on /dev/shm; the median of RUNS runs each,
#     the two alternating so that both see the same machine;
#  2. ten releases of a 2,000-file app, 1% of files changed each time,
#     with and without --dedupe: `du` of releases/ against one release.
# Prints a Markdown report on stdout.  DISK (default /var/tmp) is the
# on-disk scratch place; B the build directory.
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
REL=$(pwd)/$B/zdd-release
RUNS=${RUNS:-5}
DISK=${DISK:-/var/tmp}
[ -x "$REL" ] || { echo "bench: build first (make)" >&2; exit 1; }

W=$(mktemp -d "$DISK/zdd-bench.XXXXXX") || exit 1
S=$(mktemp -d /dev/shm/zdd-bench.XXXXXX) || exit 1
trap 'rm -rf "$W" "$S"' EXIT

now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f\n", a - b }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f\n", a / b }'; }
# "median min" of a column of numbers.
stats() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[1] }'; }

# The artifact: 4,000 files of 200 B to 12 KiB in 80 directories, text
# that compresses as source code does.
python3 - "$W/art" <<'EOF'
import os, random, sys
random.seed(7)
root = sys.argv[1]
words = ("return if else for while static int char const struct void "
         "include define self this function var let class import").split()
for i in range(4000):
    d = os.path.join(root, "app", "mod%02d" % (i % 80), "sub%d" % (i % 3))
    os.makedirs(d, exist_ok=True)
    n = random.randint(200, 12 * 1024)
    text = []
    while sum(map(len, text)) < n:
        text.append(" ".join(random.choices(words, k=12)) + ";\n")
    with open(os.path.join(d, "f%04d.src" % i), "w") as f:
        f.write("".join(text)[:n])
EOF
(cd "$W/art" && tar -czf "$W/app.tar.gz" app)
size=$(du -k "$W/app.tar.gz" | cut -f1)
bytes=$(du -sk --apparent-size "$W/art/app" | cut -f1)

# extract PLACE N: one timed tar run and one timed zdd-release run, N
# times, alternating; prints "tar_median tar_min zdd_median zdd_min".
extract() {
	p=$1
	n=$2
	: >"$p/tar.t"
	: >"$p/zdd.t"
	i=0
	while [ "$i" -lt "$n" ]; do
		rm -rf "$p/x" "$p/root"
		mkdir -p "$p/x" "$p/root"
		sync
		t0=$(now)
		tar -xzf "$W/app.tar.gz" -C "$p/x" && sync -f "$p/x"
		t1=$(now)
		sub "$t1" "$t0" >>"$p/tar.t"
		sync
		t0=$(now)
		"$REL" -q -r "$p/root" "$W/app.tar.gz" >/dev/null || exit 1
		t1=$(now)
		sub "$t1" "$t0" >>"$p/zdd.t"
		i=$((i + 1))
	done
	echo "$(stats <"$p/tar.t") $(stats <"$p/zdd.t")"
}

# Runs on tmpfs are cheap: four times as many steady the median.
disk=$(extract "$W" "$RUNS")
shm=$(extract "$S" $((RUNS * 4)))
# The extraction itself must be right, or the timing means nothing.
diff -r "$W/x/app" "$W/root/releases/"*/app >/dev/null ||
	{ echo "bench: zdd-release output differs from tar's" >&2; exit 1; }
rm -rf "$W/x" "$W/root" "$S/x" "$S/root"

row() { # PLACE "tar_median tar_min zdd_median zdd_min"
	# shellcheck disable=SC2086
	set -- "$1" $2
	printf '| %s | %.3f s (%.3f) | %.3f s (%.3f) | %.2fx (%.2fx) |\n' \
	    "$1" "$2" "$3" "$4" "$5" "$(div "$4" "$2")" "$(div "$5" "$3")"
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
mkapp2
disk_run() { # ROOT OPTION...
	r=$1
	shift
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
	all=$(du -sk "$r/releases" | cut -f1)
	echo "$one $all"
}
t0=$(now)
plain=$(disk_run "$W/r-plain")
t1=$(now)
mkapp2
t2=$(now)
dedup=$(disk_run "$W/r-dedupe" --dedupe)
t3=$(now)

# shellcheck disable=SC2086
cat <<EOF
# zdd-release benchmark

$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr), $(nproc) CPUs; disk: $(df -T "$DISK" | awk 'NR == 2 { print $2 }') at $DISK.

## Extraction: 4,000 files, ${bytes} KiB in a ${size} KiB .tar.gz

Median (and fastest) of $RUNS runs each on disk, $((RUNS * 4)) on
/dev/shm, alternating.  tar is
\`tar -xzf\` then \`sync -f\`; zdd-release checks every entry, builds in
.zdd/tmp, syncs the file system, writes the manifest and renames the
release into place.

| where | tar -xzf + sync -f | zdd-release | ratio |
| --- | --- | --- | --- |
$(row "disk ($DISK)" "$disk")
$(row "/dev/shm" "$shm")

## Disk: ten releases of a 2,000-file app, 1% changed each time

| | one release | releases/ (10) | ratio | time for 10 |
| --- | --- | --- | --- | --- |
$(set -- $plain; printf '| without --dedupe | %d KiB | %d KiB | %.2fx | %.1f s |' "$1" "$2" "$(div "$2" "$1")" "$(sub "$t1" "$t0")")
$(set -- $dedup; printf '| with --dedupe | %d KiB | %d KiB | %.2fx | %.1f s |' "$1" "$2" "$(div "$2" "$1")" "$(sub "$t3" "$t2")")
EOF
