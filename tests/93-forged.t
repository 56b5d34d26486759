#!/bin/bash
# Text from the command line and from the CI's environment never forges
# a line: revisions.log has exactly one line per change, whatever a
# branch, a revision or $USER holds.  Options with a line break or a
# control character are refused (64, nothing made); values from the
# environment, which the deploy cannot refuse, are cleaned (a line break
# becomes a space, a control a '?').
. "$(dirname "$0")/lib.sh"

R=$T/root
mkdir -p "$T/app" && echo v1 >"$T/app/VERSION"
tar -C "$T" -czf "$T/app.tgz" app
forged=$'main\nadmin rolled back to release 1999'

# Options: every kind of control, for --branch and --revision.
for opt in branch revision; do
	for v in "$forged" $'a\rb' $'a\tb' $'a\e[2Jb' $'a\xc2\x85b' \
		$'a\xe2\x80\xaeb' $'a\xffb' $'a\x7fb'; do
		run zdd-release -r "$R" --strip 1 "--$opt" "$v" "$T/app.tgz"
		[ "$rc" = 64 ] || note "--$opt $(printf %q "$v"): exit $rc"
		[ "$err" = "zdd-release: --$opt: a line break or control character in the value" ] ||
			note "--$opt $(printf %q "$v"): said $(printf %q "$err")"
	done
done
report "zdd-release: --branch and --revision with a control: 64, one line"
is "... nothing made" "$(ls "$R/releases" 2>/dev/null)" ""

run zdd-release -r "$R" --strip 1 --id r1 --branch 'feature/ünï cöde' \
	--revision 'v1.2 (rc)' "$T/app.tgz"
is "a branch with spaces and UTF-8 is fine" "$rc" 0
run zdd-link -r "$R" r1
is "... and links" "$rc" 0
is "... one line in revisions.log" "$(wc -l <"$R/revisions.log")" 1
like "... with the branch as given" "$(cat "$R/revisions.log")" \
	'^Branch feature/ünï cöde \(at v1\.2 \(rc\)\) deployed as release r1 by '

# The environment: Jenkins' GIT_BRANCH, GitHub's GITHUB_SHA, $USER.
run env GIT_BRANCH="origin/$forged" GIT_COMMIT=$'abc\e]0;owned\a' \
	USER=$'ci\nroot rolled back to release 0' \
	zdd-release -r "$R" --strip 1 --id r2 "$T/app.tgz"
is "forged CI variables: the release is made" "$rc" 0
run env USER=$'ci\nroot rolled back to release 0' zdd-link -r "$R" r2
is "... and linked" "$rc" 0
is "... still one line per deploy" "$(wc -l <"$R/revisions.log")" 2
unlike "... no forged rollback line" "$(cut -c1-5 "$R/revisions.log")" \
	'^(admin|root )'
like "... the branch is cleaned onto one line" \
	"$(tail -n 1 "$R/revisions.log")" \
	'^Branch main admin rolled back to release 1999 \(at abc\?\]0;owned\?\) deployed as release r2 by [a-z]+$'
unlike "... \$USER with a newline is not used" \
	"$(tail -n 1 "$R/revisions.log")" 'by ci'
is "... no control byte in revisions.log" \
	"$(tr -d '\n' <"$R/revisions.log" | LC_ALL=C grep -c '[[:cntrl:]]')" 0

# zdd-notify: --release and --revision are refused the same way; CI
# values in a payload arrive cleaned.
run zdd-notify -n -u https://hooks.slack.com/services/T/B/x --release "$forged" hi
is "zdd-notify --release with a line break: 64" "$rc:$err" \
	"64:zdd-notify: --release: a line break or control character in the value"
run zdd-notify -n -u https://hooks.slack.com/services/T/B/x --revision $'a\eb' hi
is "zdd-notify --revision with a control: 64" "$rc" 64
run env GIT_BRANCH="$forged" JENKINS_URL=http://ci/ zdd-notify -n --json \
	-u https://hooks.slack.com/services/T/B/x -s success hi
is "zdd-notify with a forged GIT_BRANCH: dry run exits 0" "$rc" 0
unlike "... the payload carries no line break from the branch" "$out" \
	'main\\nadmin'

done_testing
