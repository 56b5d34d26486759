# zdd: six deploy tools and the small library they share.
#
#   make                build every tool into build/
#   make check          install missing Debian packages, build, run every test
#   make check-asan     the same tests against an ASan/UBSan build
#   make demo           a whole zero-downtime deploy on this machine
#   make install        tools, man pages and completions under DESTDIR/PREFIX
#   make lint           mandoc -Tlint, cppcheck, 80 columns, sorted
#                       includes, clang-format (tests/style.sh), shellcheck

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
DATADIR	?= $(PREFIX)/share
B	?= build

CC	?= cc
CFLAGS	?= -g -O2
XCFLAGS	= -std=c11 -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
	  -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
	  -Ilib -MMD -MP $(shell pkg-config --cflags libcurl jansson libarchive libcrypto 2>/dev/null)

TOOLS	= $(patsubst tools/%.c,%,$(wildcard tools/zdd-*.c))
LIBSRC	= $(wildcard lib/*.c)
LIBOBJ	= $(LIBSRC:%.c=$(B)/%.o)
UNITSRC	= $(wildcard tests/unit/test_*.c)
UNITS	= $(UNITSRC:tests/unit/%.c=$(B)/tests/%)

# What each tool links besides libzdd.a; the archive itself contributes
# only the modules a tool calls.
zdd-link_LIBS	= jansson
zdd-prune_LIBS	= jansson
zdd-lock_LIBS	= jansson
zdd-release_LIBS = jansson libarchive libcrypto libcurl
zdd-health_LIBS	= jansson libcurl
zdd-switch_LIBS	= jansson
zdd-notify_LIBS	= jansson libcurl libcrypto

all: $(TOOLS:%=$(B)/%)

$(B)/lib/%.o: lib/%.c | $(B)/lib
	$(CC) $(XCFLAGS) $(CFLAGS) -c -o $@ $<
$(B)/tools/%.o: tools/%.c | $(B)/tools
	$(CC) $(XCFLAGS) $(CFLAGS) -c -o $@ $<
$(B)/tests/%.o: tests/unit/%.c | $(B)/tests
	$(CC) $(XCFLAGS) $(CFLAGS) -c -o $@ $<
$(B)/lib $(B)/tools $(B)/tests:
	mkdir -p $@

$(B)/libzdd.a: $(LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $(LIBOBJ)

$(B)/zdd-%: $(B)/tools/zdd-%.o $(B)/libzdd.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libzdd.a \
	    $$(pkg-config --libs $($(@F)_LIBS)) -lm

$(B)/tests/test_%: $(B)/tests/test_%.o $(B)/libzdd.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libzdd.a \
	    $$(pkg-config --libs cmocka jansson libcurl libarchive libcrypto) -lm

deps:
	@sh tests/deps.sh

check: deps
	@$(MAKE) --no-print-directory all units
	@B=$(B) sh tests/run

units: $(UNITS)

check-asan: deps
	@$(MAKE) --no-print-directory B=build-asan \
	    CFLAGS='-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all' \
	    LDFLAGS='-fsanitize=address,undefined' all units
	@rm -rf build-asan/sanlog && mkdir -p build-asan/sanlog
	@B=build-asan SANLOG=$(CURDIR)/build-asan/sanlog sh tests/run

demo: deps all $(B)/zdd-demo-backend
	@B=$(B) HAPROXY=$(HAPROXY) sh examples/demo.sh

# The application that make demo deploys; not installed.
$(B)/zdd-demo-backend: examples/backend.c | $(B)/tools
	$(CC) $(XCFLAGS) $(CFLAGS) $(LDFLAGS) -pthread -o $@ examples/backend.c

bench: all $(B)/zdd-demo-backend
	@for b in bench/*.sh; do B=$(B) sh $$b || exit 1; done

lint: deps
	mandoc -Tlint -Wwarning man/*.[17]
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	    --inline-suppr -D_GNU_SOURCE -Ilib lib tools
	sh tests/style.sh
	shellcheck -s sh tests/deps.sh tests/run tests/style.sh .ci/run $(wildcard examples/*.sh bench/*.sh)

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man7 \
	    $(DESTDIR)$(DATADIR)/bash-completion/completions \
	    $(DESTDIR)$(DATADIR)/zsh/site-functions \
	    $(DESTDIR)$(DATADIR)/fish/vendor_completions.d
	for t in $(TOOLS); do \
	    install -m 0755 $(B)/$$t $(DESTDIR)$(BINDIR)/$$t || exit 1; \
	    install -m 0644 man/$$t.1 $(DESTDIR)$(MANDIR)/man1/$$t.1 || exit 1; \
	    install -m 0644 completions/bash/$$t \
		$(DESTDIR)$(DATADIR)/bash-completion/completions/$$t || exit 1; \
	    install -m 0644 completions/zsh/_$$t \
		$(DESTDIR)$(DATADIR)/zsh/site-functions/_$$t || exit 1; \
	    install -m 0644 completions/fish/$$t.fish \
		$(DESTDIR)$(DATADIR)/fish/vendor_completions.d/$$t.fish || exit 1; \
	done
	install -m 0644 man/zdd.7 $(DESTDIR)$(MANDIR)/man7/zdd.7

uninstall:
	for t in $(TOOLS); do \
	    rm -f $(DESTDIR)$(BINDIR)/$$t $(DESTDIR)$(MANDIR)/man1/$$t.1 \
		$(DESTDIR)$(DATADIR)/bash-completion/completions/$$t \
		$(DESTDIR)$(DATADIR)/zsh/site-functions/_$$t \
		$(DESTDIR)$(DATADIR)/fish/vendor_completions.d/$$t.fish; \
	done
	rm -f $(DESTDIR)$(MANDIR)/man7/zdd.7

clean:
	rm -rf build build-asan

.PHONY: all deps check units check-asan demo bench lint install uninstall clean
.SECONDARY:

-include $(LIBOBJ:.o=.d) $(TOOLS:%=$(B)/tools/%.d) \
	$(UNITSRC:tests/unit/%.c=$(B)/tests/%.d)
-include fuzz.mk
