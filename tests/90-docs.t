#!/bin/bash
# What users read and type stays in step with the tools: every long option
# of every tool is in its man page and its bash, zsh and fish completions;
# the man pages are mandoc -Tlint clean; --help prints the SYNOPSIS, word
# for word; the bash completion really completes; install and uninstall
# leave nothing behind.
. "$(dirname "$0")/lib.sh"
cd "$TOP" || exit 1

for src in tools/zdd-*.c; do
	t=$(basename "$src" .c)
	opts=$(grep -oE '\{ *"[a-z][a-z-]+" *,' "$src" |
		grep -oE '"[a-z-]+"' | tr -d '"' | sort -u)
	missing=
	for o in $opts; do
		grep -Eq -- "(Fl |, )-$o\b|--$o\b" "man/$t.1" 2>/dev/null || missing="$missing man:--$o"
		grep -q -- "--$o\b" "completions/bash/$t" 2>/dev/null || missing="$missing bash:--$o"
		grep -q -- "--$o\b" "completions/zsh/_$t" 2>/dev/null || missing="$missing zsh:--$o"
		grep -q -- "-l $o\b" "completions/fish/$t.fish" 2>/dev/null || missing="$missing fish:--$o"
	done
	is "$t: every long option is documented and completed" "$missing" ""
	run mandoc -Tlint -Wwarning "man/$t.1"
	is "$t.1: mandoc -Tlint clean" "$rc:$out" "0:"
	run "$t" --help
	is "$t --help: exit 0, usage on stdout, nothing on stderr" "$rc:${out%%:*}:$err" "0:usage:"
	# usage() is the SYNOPSIS, word for word, whitespace folded.
	usage=$(printf '%s\n' "${out#usage:}" | tr -s ' \t\n' '   ' | sed 's/^ //;s/ $//')
	synopsis=$(MANWIDTH=1000 mandoc -Tascii -O width=1000 "man/$t.1" | col -b |
		awk '/^SYNOPSIS/ { f = 1; next } /^[A-Z]/ { f = 0 } f' |
		tr -s ' \t\n' '   ' | sed 's/^ //;s/ $//')
	is "$t --help: the SYNOPSIS of $t(1)" "$usage" "$synopsis"
	run "$t" --no-such-option
	is "$t: an unknown option is exit 64, usage on stderr" "$rc:$out:${err##*usage:*}" "64::"
	run "$t" -V
	is "$t -V" "$out" "$t 0.1.0"
	# The bash completion offers long options.
	run bash -c ". completions/bash/$t; COMP_WORDS=($t --); COMP_CWORD=1; _${t//-/_}; echo \"\${COMPREPLY[*]}\""
	like "$t: bash completion offers --help" "$out" '(^| )--help( |$)'
done
run mandoc -Tlint -Wwarning man/zdd.7
is "zdd.7: mandoc -Tlint clean" "$rc:$out" "0:"

# make install then make uninstall into a DESTDIR leave nothing behind.
D=$T/dest
run make -s install DESTDIR="$D" PREFIX=/usr B="$B"
is "make install: exit 0" "$rc" 0
for src in tools/zdd-*.c; do
	t=$(basename "$src" .c)
	ok "$t installed with its page and completions" test -x "$D/usr/bin/$t" -a \
		-f "$D/usr/share/man/man1/$t.1" -a \
		-f "$D/usr/share/bash-completion/completions/$t" -a \
		-f "$D/usr/share/zsh/site-functions/_$t" -a \
		-f "$D/usr/share/fish/vendor_completions.d/$t.fish"
done
ok "zdd.7 installed" test -f "$D/usr/share/man/man7/zdd.7"
run make -s uninstall DESTDIR="$D" PREFIX=/usr B="$B"
is "make uninstall: exit 0" "$rc" 0
is "make uninstall leaves no file behind" "$(find "$D" -type f -o -type l)" ""

done_testing
