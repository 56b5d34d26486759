#!/bin/bash
# debian/: the package builds with dpkg-buildpackage -us -uc -b from a
# copy of the tree, lintian reports no error, apt-get installs it, the
# tools and man pages work from /usr/bin, and purging it leaves none of
# its files.  Installing needs root; under check-asan the package build
# (which compiles its own, uninstrumented tools) is not repeated.
. "$(dirname "$0")/lib.sh"

if [ -n "${SANLOG:-}" ]; then
	echo "ok 1 # skip the package is built and tested by make check"
	echo "1..1"
	exit 0
fi

S=$T/src/zdd-0.1.0
mkdir -p "$S"
if git -C "$TOP" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$TOP" && git ls-files -co --exclude-standard | tar cf - -T -) | tar xf - -C "$S"
else
	(cd "$TOP" && tar cf - --exclude=./build --exclude=./build-asan --exclude=./build-fuzz .) |
		tar xf - -C "$S"
fi
cd "$S" || exit 1
run dpkg-buildpackage -us -uc -b
is "dpkg-buildpackage -us -uc -b: exit 0" "$rc" 0
deb=$(ls "$T"/src/zdd_*_*.deb 2>/dev/null | head -n 1)
ok "... made zdd_VERSION_ARCH.deb" test -f "$deb"
like "... named after the version in the Makefile's tools" "$deb" \
	"zdd_$(zdd-link -V | cut -d' ' -f2)_[a-z0-9]+\\.deb\$"
run dpkg-deb -c "$deb"
for t in zdd-release zdd-link zdd-health zdd-switch zdd-prune zdd-notify zdd-lock; do
	like "... holds $t with its page" "$out" "\\./usr/bin/$t\$"
	like "... and $t.1" "$out" "\\./usr/share/man/man1/$t\\.1\\.gz\$"
done
like "... holds zdd.7" "$out" '\./usr/share/man/man7/zdd\.7\.gz$'
like "... holds the examples" "$out" '\./usr/share/doc/zdd/examples/ansible/deploy\.yml$'
run dpkg-deb -f "$deb" Depends
like "... depends on the libraries it links" "$out" 'libcurl4.*libjansson4|libjansson4.*libcurl4'

run lintian "$deb"
is "lintian: no errors" "$(grep '^E:' <<<"$out")" ""

if [ "$(id -u)" != 0 ]; then
	echo "ok $((n + 1)) # skip installing needs root"
	n=$((n + 1))
	done_testing
	exit
fi
if dpkg-query -W -f '${db:Status-Status}' zdd 2>/dev/null | grep -q installed; then
	echo "ok $((n + 1)) # skip a zdd package is installed already; left alone"
	n=$((n + 1))
	done_testing
	exit
fi
# A run interrupted after the install still purges what it installed.
purge() {
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -q \
		-o DPkg::Lock::Timeout=120 zdd >/dev/null 2>&1
}
trap 'purge; cleanup' EXIT
cd "$T/src" || exit 1
run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	-o DPkg::Lock::Timeout=120 "./$(basename "$deb")"
is "apt-get install ./zdd_*.deb: exit 0" "$rc" 0
run /usr/bin/zdd-link -V
is "... /usr/bin/zdd-link -V" "$out" "zdd-link $(zdd-link -V | cut -d' ' -f2)"
run man -w zdd-release
is "... man finds zdd-release(1)" "$out" /usr/share/man/man1/zdd-release.1.gz
run env MANWIDTH=80 MANPAGER=cat man 7 zdd
like "... man 7 zdd renders" "$out" 'small tools for zero-downtime deploys'
mkdir -p "$T/a/public"
echo hi >"$T/a/public/index.html"
tar czf "$T/a.tgz" -C "$T/a" .
run sh -c "/usr/bin/zdd-release -r $T/root $T/a.tgz"
is "... /usr/bin/zdd-release makes a release" "$rc" 0
run /usr/bin/zdd-link -r "$T/root" "$out"
is "... /usr/bin/zdd-link makes it current" "$rc:$(cat "$T/root/current/public/index.html")" 0:hi
run bash -c '. /usr/share/bash-completion/completions/zdd-health; COMP_WORDS=(zdd-health --dead); COMP_CWORD=1; _zdd_health; echo "${COMPREPLY[*]}"'
like "... the bash completion completes" "$out" '--deadline'
files=$(dpkg -L zdd | grep -E '^/usr/(bin|share/man)/.' | while read -r f; do
	[ -d "$f" ] || echo "$f"
done)
is "... its tools and pages are listed by dpkg" "$(wc -w <<<"$files")" 15
run env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q -o DPkg::Lock::Timeout=120 zdd
is "apt-get purge zdd: exit 0" "$rc" 0
trap cleanup EXIT
left=
for f in $files; do [ -e "$f" ] && left="$left $f"; done
is "... none of its tools or pages is left" "$left" ""

done_testing
