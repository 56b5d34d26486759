# The libFuzzer harnesses under tests/fuzz: each is built (make
# fuzz-build), replays its seed corpus, every input of which once crashed
# a parser or guards a promise, and then fuzzes for FUZZ_CHECK_SECONDS
# (default 3) from that corpus.  A crash, a sanitizer report or a broken
# promise fails the case and leaves the input under $T.  make fuzz runs
# the same harnesses for a minute each.
. "$(dirname "$0")/lib.sh"

secs=${FUZZ_CHECK_SECONDS:-3}
if ! command -v clang >/dev/null 2>&1; then
	echo "ok 1 # skip clang is not installed (sh tests/deps.sh clang libclang-rt-14-dev llvm)"
	echo "1..1"
	exit 0
fi
# Under make check-asan the harnesses are the same binaries (they carry
# ASan and UBSan themselves): replay the corpora, fuzz no longer.  Their
# reports go to stderr, where this file reads them, not to the tools'
# sanitizer log: fuzz_extract's refused 1 GiB allocations warn there.
[ -n "${SANLOG:-}" ] && secs=0
unset ASAN_OPTIONS UBSAN_OPTIONS

run make -C "$TOP" --no-print-directory -s fuzz-build
is "make fuzz-build" "$rc" 0
[ "$rc" = 0 ] || { echo "$err" | tail -n 20 | sed 's/^/# /'; done_testing; exit 1; }

for c in "$TOP"/tests/fuzz/fuzz_*.c; do
	f=$(basename "$c" .c)
	name=${f#fuzz_}
	bin=$TOP/build-fuzz/$f
	seeds=$TOP/tests/fuzz/corpus/$name
	nseed=$(find "$seeds" -type f 2>/dev/null | wc -l)
	ok "$f has a seed corpus" test "$nseed" -gt 0
	mkdir -p "$T/$name/corpus" "$T/$name/crash"
	opts=$(cat "$TOP/tests/fuzz/$name.options" 2>/dev/null)
	# -runs=0 runs every input of the corpus once and stops.
	# shellcheck disable=SC2086
	TMPDIR=$T run "$bin" -runs=0 -timeout=10 $opts \
	    -artifact_prefix="$T/$name/crash/" "$seeds"
	is "$f replays its $nseed seeds" "$rc" 0
	[ "$rc" = 0 ] || echo "$err" | grep -E 'ERROR|broken promise|SUMMARY|Test unit' | head -n 5 | sed 's/^/# /'
	[ "$secs" -gt 0 ] || continue
	cp "$seeds"/* "$T/$name/corpus/"
	# shellcheck disable=SC2086
	TMPDIR=$T run "$bin" -max_total_time="$secs" -timeout=10 $opts \
	    -print_final_stats=1 -artifact_prefix="$T/$name/crash/" \
	    "$T/$name/corpus"
	runs=$(echo "$err" | awk '/stat::number_of_executed_units/ { print $2 }')
	is "$f fuzzes ${secs}s without a finding (${runs:-0} runs)" "$rc" 0
	[ "$rc" = 0 ] || echo "$err" | grep -E 'ERROR|broken promise|SUMMARY|Test unit' | head -n 5 | sed 's/^/# /'
	# Nothing may stay behind in the scratch space but the corpus.
	is "$f leaves no scratch tree" "$(find "$T" -maxdepth 1 -name 'zdd-fuzz-*' | wc -l)" 0
done

done_testing
