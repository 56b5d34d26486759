#!/bin/sh
# zdd-prune against rm -rf: four releases of 5,000 files each, deleted by
# both from identical copies on /dev/shm (where the tools' own work shows,
# not the disk's), side by side, several rounds.  Prints medians and the
# ratio.  Then the same for one deep release (2,000 directories, one in
# the other, a file in each: the walk goes back up through "..") and one
# wide one (50,000 files in one directory).
set -eu
B=${B:-build}
case $B in /*) ;; *) B=$(pwd)/$B ;; esac
rounds=${ROUNDS:-7}
W=$(mktemp -d /dev/shm/zdd-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT

# One release: 5,000 files in 50 directories of 100.
mkdir -p "$W/tpl"
python3 - "$W/tpl" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(50):
    p = os.path.join(root, "app", "d%02d" % d)
    os.makedirs(p)
    for f in range(100):
        with open(os.path.join(p, "f%03d.php" % f), "w") as fh:
            fh.write("<?php // %d %d\n" % (d, f) * 8)
PY

setup() {
	rm -rf "$W/root"
	mkdir -p "$W/root/releases"
	for r in 1 2 3 4; do
		cp -a "$W/tpl" "$W/root/releases/2026112300000$r"
	done
	mkdir "$W/root/releases/20261123000009"
	echo live >"$W/root/releases/20261123000009/VERSION"
	ln -s releases/20261123000009 "$W/root/current"
	sync
}

now() { date +%s.%N; }
: >"$W/zdd"
: >"$W/rm"
i=0
while [ "$i" -lt "$rounds" ]; do
	setup
	t0=$(now)
	"$B/zdd-prune" -q -r "$W/root" -k 0 >/dev/null
	t1=$(now)
	echo "$t1 - $t0" | bc >>"$W/zdd"
	[ "$(ls "$W/root/releases")" = 20261123000009 ] || { echo "zdd-prune left releases" >&2; exit 1; }
	setup
	t0=$(now)
	rm -rf "$W/root/releases/20261123000001" "$W/root/releases/20261123000002" \
		"$W/root/releases/20261123000003" "$W/root/releases/20261123000004"
	t1=$(now)
	echo "$t1 - $t0" | bc >>"$W/rm"
	i=$((i + 1))
done
med() { sort -n "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
z=$(med "$W/zdd")
r=$(med "$W/rm")
printf 'prune: 4 releases x 5,000 files on /dev/shm, %d rounds\n' "$rounds"
printf '  zdd-prune -k 0   median %.3f s\n' "$z"
printf '  rm -rf           median %.3f s\n' "$r"
printf '  ratio zdd/rm     %.2f\n' "$(echo "$z / $r" | bc -l)"

# shape NAME: one old release of that shape, in $W/shapes/NAME.
mkdir -p "$W/shapes/deep" "$W/shapes/wide"
python3 - "$W/shapes" <<'PY'
import os, sys
os.chdir(os.path.join(sys.argv[1], "wide"))
for i in range(50000):
    open("f%05d" % i, "w").close()
os.chdir(os.path.join(sys.argv[1], "deep"))
for i in range(2000):
    os.mkdir("d")
    open("f", "w").close()
    os.chdir("d")
PY
for shape in deep wide; do
	: >"$W/zdd"
	: >"$W/rm"
	i=0
	while [ "$i" -lt "$rounds" ]; do
		setup
		cp -a "$W/shapes/$shape" "$W/root/releases/20261123000001"
		t0=$(now)
		"$B/zdd-prune" -q -r "$W/root" -k 0 >/dev/null
		t1=$(now)
		echo "$t1 - $t0" | bc >>"$W/zdd"
		setup
		cp -a "$W/shapes/$shape" "$W/root/releases/20261123000001"
		t0=$(now)
		rm -rf "$W/root/releases/20261123000001" \
			"$W/root/releases/20261123000002" \
			"$W/root/releases/20261123000003" \
			"$W/root/releases/20261123000004"
		t1=$(now)
		echo "$t1 - $t0" | bc >>"$W/rm"
		i=$((i + 1))
	done
	z=$(med "$W/zdd")
	r=$(med "$W/rm")
	printf 'prune: 4 releases x 5,000 files and one %s release\n' "$shape"
	printf '  zdd-prune -k 0   median %.3f s\n' "$z"
	printf '  rm -rf           median %.3f s\n' "$r"
	printf '  ratio zdd/rm     %.2f\n' "$(echo "$z / $r" | bc -l)"
done
