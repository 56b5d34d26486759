# Fuzzing: libFuzzer harnesses tests/fuzz/fuzz_NAME.c, each built with
# clang against a copy of the library compiled with ASan and UBSan under
# build-fuzz/, and each with a seed corpus tests/fuzz/corpus/NAME/.
#
#   make fuzz           run every harness FUZZ_SECONDS (60) on a working
#                       corpus under build-fuzz/corpus, crashes kept in
#                       build-fuzz/crash/NAME; a summary per harness last
#   make fuzz-build     only build the harnesses
#   make fuzz-check     replay the seed corpora, then FUZZ_CHECK_SECONDS (3)
#                       of fuzzing each: what tests/75-fuzz.t runs
#
# tests/fuzz/NAME.options holds extra libFuzzer flags for one harness.
#
# Included by the Makefile; every variable here starts with FUZZ.

FUZZ_SECONDS	?= 60
# Where fuzz_extract makes its trees: tmpfs, so fsync costs nothing.
FUZZ_TMPDIR	?= /dev/shm
FUZZ_CHECK_SECONDS ?= 3
FUZZ_B		= build-fuzz
FUZZ_CC		= clang
FUZZ_SAN	= -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS	= -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN)
FUZZ_NAMES	= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS	= $(FUZZ_NAMES:%=$(FUZZ_B)/fuzz_%)
FUZZ_LIBS	= jansson libarchive libcurl libcrypto
# Only what make fuzz needs beyond make check.
FUZZ_DEBS	= clang libclang-rt-14-dev llvm

fuzz-build:
	@$(MAKE) --no-print-directory B=$(FUZZ_B) CC=$(FUZZ_CC) \
	    CFLAGS='$(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link' $(FUZZ_B)/libzdd.a
	@$(MAKE) -s --no-print-directory $(FUZZ_BINS)

$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_B)/libzdd.a
	$(FUZZ_CC) $(XCFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer \
	    -Itests/fuzz -o $@ $< $(FUZZ_B)/libzdd.a \
	    $$(pkg-config --libs $(FUZZ_LIBS)) -lm

fuzz:
	@sh tests/deps.sh $(FUZZ_DEBS)
	@$(MAKE) --no-print-directory fuzz-build
	@mkdir -p $(FUZZ_B)/log
	@for f in $(FUZZ_NAMES); do \
	    mkdir -p $(FUZZ_B)/corpus/$$f $(FUZZ_B)/crash/$$f; \
	    touch $(FUZZ_B)/log/$$f.start; \
	    echo "fuzz_$$f: $(FUZZ_SECONDS) s"; \
	    TMPDIR=$(FUZZ_TMPDIR) $(FUZZ_B)/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) \
		$$(cat tests/fuzz/$$f.options 2>/dev/null) \
		-artifact_prefix=$(FUZZ_B)/crash/$$f/ -print_final_stats=1 -timeout=10 \
		$(FUZZ_B)/corpus/$$f tests/fuzz/corpus/$$f \
		>$(FUZZ_B)/log/$$f.log 2>&1; \
	    echo "fuzz_$$f: exit $$?, $$(grep -h 'stat::number_of_executed_units' $(FUZZ_B)/log/$$f.log | awk '{print $$2}') runs, $$(ls $(FUZZ_B)/corpus/$$f | wc -l) corpus, $$(find $(FUZZ_B)/crash/$$f -type f -newer $(FUZZ_B)/log/$$f.start | wc -l) new crashes"; \
	done | tee $(FUZZ_B)/log/summary
	@! grep -v ', 0 new crashes$$' $(FUZZ_B)/log/summary | grep -q 'crashes$$'

fuzz-check:
	@FUZZ_CHECK_SECONDS=$(FUZZ_CHECK_SECONDS) bash tests/75-fuzz.t

fuzz-clean:
	rm -rf $(FUZZ_B)

# make clean removes the fuzzing build too.
clean: fuzz-clean

.PHONY: fuzz fuzz-build fuzz-check fuzz-clean
