#!/bin/bash
# zdd-notify against a receiver on loopback that answers like Slack,
# Discord, Teams, Google Chat, Mattermost and a plain webhook, and records
# every request: what arrives, how often, how far apart, how each answer
# ends the call, and that the secret part of the URL never shows.
. "$(dirname "$0")/lib.sh"

unset JOB_NAME BUILD_NUMBER JENKINS_HOME GITHUB_REPOSITORY GITHUB_SERVER_URL \
	GITHUB_RUN_ID TRAVIS_REPO_SLUG TRAVIS_BUILD_WEB_URL TRAVIS_BUILD_NUMBER \
	APPLICATION_NAME DEPLOYMENT_ID DEPLOYMENT_GROUP_NAME LIFECYCLE_EVENT \
	ZDD_SLACK_API https_proxy http_proxy HTTPS_PROXY ALL_PROXY all_proxy
export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1

SECRET=S3CR3T9f8e7d6c5b4a
TOKEN=xoxb-test-TOKENSECRET
port=$(free_port)
log=$T/requests.log
all=$T/all-output
: >"$log"
spawn python3 "$TOP/tests/notify-receiver.py" "$port" "$log"
wait_port "$port" || exit 1
H=http://127.0.0.1:$port
SHOWN="http://127.0.0.1:$port/…"

# zn ARGS...: run zdd-notify, keeping everything it printed for the final
# check that no secret ever showed.
zn() {
	run zdd-notify "$@"
	printf '%s\n%s\n' "$out" "$err" >>"$all"
}

# mark: requests from now on are the ones q sees.
mark() {
	since=$(wc -l <"$log")
}
since=0

# q EXPR: a Python expression over R (the requests since mark: t, method,
# path, headers, body, json) and J (their JSON bodies), printed as JSON
# unless it is a string.
q() {
	python3 -S - "$log" "$since" "$1" <<'EOF'
import json, sys
R = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()[int(sys.argv[2]):]]
J = [r["json"] for r in R]
def gaps():
    return [round(b["t"] - a["t"], 2) for a, b in zip(R, R[1:])]
v = eval(sys.argv[3])
print(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
EOF
}

# js JSON EXPR: a Python expression over O, the object in JSON.
js() {
	python3 -S -c 'import json, sys
O = json.loads(sys.argv[1])
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))' "$1" "$2"
}

# elapsed CMD...: run it through zn and leave the seconds it took in $secs.
elapsed() {
	t0=$(date +%s.%N)
	zn "$@"
	secs=$(python3 -S -c "print($(date +%s.%N) - $t0)")
}

# within SECS: the last elapsed run took less than SECS (a generous bound).
within() {
	python3 -S -c "import sys; sys.exit(0 if $secs < $1 else 1)"
}

echo "# usage and bad values"
zn -h
is "-h exits 0" "$rc" 0
like "-h prints the synopsis on stdout" "$out" "^usage: zdd-notify"
zn -V
is "-V prints the version" "$out" "zdd-notify 0.1.0"
zn --bogus
is "an unknown option exits 64" "$rc" 64
zn -k irc -n
is "--kind irc exits 64" "$rc" 64
like "and names the kinds" "$err" "not slack, discord, teams"
zn -s maybe -n
is "--status maybe exits 64" "$rc" 64
zn -s 256 -n
is "--status 256 exits 64" "$rc" 64
zn -t 0 -n
is "--timeout 0 exits 64" "$rc" 64
zn -t soon -n
is "--timeout soon exits 64" "$rc" 64
zn --retries 99 -n
is "--retries 99 exits 64" "$rc" 64
zn -f novalue -n
is "--field without = exits 64" "$rc" 64
zn -n one two
is "two messages exit 64" "$rc" 64
zn --update slack:nope -n
is "a malformed --update ref exits 64" "$rc" 64
zn -s 0
is "no url at all exits 64" "$rc" 64
like "and says where a url comes from" "$err" "ZDD_NOTIFY_URL"

echo "# the man page and the completions"
syn=$(MANWIDTH=80 mandoc -Tutf8 "$TOP/man/zdd-notify.1" 2>/dev/null | sed "s/.\x08//g" |
	sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d;/^$/d' |
	sed 's/^[[:space:]]*//' | tr -s ' \t\n' ' ')
use=$(zdd-notify -h | sed 's/^usage: //; s/^ *//' | tr -s ' \n' ' ')
is "usage is the man page's SYNOPSIS" "$use" "$syn"
run mandoc -Tlint -Wwarning "$TOP/man/zdd-notify.1"
is "mandoc -Tlint is clean" "$rc:$out$err" "0:"
longs=$(sed -n 's/^[[:space:]]*{ "\([a-z-]*\)",.*/\1/p' "$TOP/tools/zdd-notify.c")
missing=
for o in $longs; do
	grep -q -e "--$o\b" "$TOP/completions/bash/zdd-notify" || missing="$missing bash:$o"
	grep -q -e "--$o\b" "$TOP/completions/zsh/_zdd-notify" || missing="$missing zsh:$o"
	grep -q -e "-l $o\b" "$TOP/completions/fish/zdd-notify.fish" || missing="$missing fish:$o"
	grep -q -e "^\.Op Fl -$o\b" -e "^\.It Fl .*-$o\b" "$TOP/man/zdd-notify.1" || missing="$missing man:$o"
done
is "completions and the man page offer all $(echo "$longs" | wc -w) long options" "$missing" ""

echo "# where the url comes from, and which urls are refused"
mark
ZDD_NOTIFY_URL=$H/slack/T0/$SECRET zn -k slack -s 0 from-env
is "\$ZDD_NOTIFY_URL: exit 0" "$rc" 0
is "it posted once to that path" "$(q '[r["path"] for r in R]')" "[\"/slack/T0/$SECRET\"]"
printf '%s\n' "$H/slack/T1/$SECRET" >"$T/url"
chmod 600 "$T/url"
mark
ZDD_NOTIFY_URL=$H/slack/T0/$SECRET zn -k slack --url-file "$T/url" -s 0
is "--url-file 0600: exit 0" "$rc" 0
is "--url-file wins over the environment" "$(q 'R[0]["path"]')" "/slack/T1/$SECRET"
mark
zn -k slack --url-file "$T/url" -u "$H/slack/T2/$SECRET" -s 0
is "--url wins over --url-file" "$(q 'R[0]["path"]')" "/slack/T2/$SECRET"
chmod 640 "$T/url"
mark
zn -k slack --url-file "$T/url" -s 0
is "--url-file readable by its group exits 77" "$rc" 77
like "and says to chmod it" "$err" "open to other users.*chmod 600"
is "nothing was sent" "$(q 'len(R)')" 0
chmod 604 "$T/url"
zn -k slack --url-file "$T/url" -s 0
is "--url-file readable by all exits 77" "$rc" 77
chmod 600 "$T/url"
if [ "$(id -u)" = 0 ]; then
	run setpriv --reuid=65534 --regid=65534 --clear-groups \
		zdd-notify -k slack --url-file "$T/url" -s 0
	is "--url-file another user cannot read exits 77" "$rc" 77
	like "and names the file" "$err" "^zdd-notify: --url-file $T/url: Permission denied$"
	ln -s "$T/url" "$T/url-link"
	mark
	zn -k slack --url-file "$T/url-link" -s 0
	is "--url-file through a symlink to a 0600 file: exit 0" "$rc" 0
	is "and it posted" "$(q 'len(R)')" 1
fi
mkfifo "$T/fifo"
chmod 600 "$T/fifo"
zn -k slack --url-file "$T/fifo" -s 0
is "--url-file on a FIFO exits 66 without waiting" "$rc" 66
zn -k slack --url-file "$T/nope" -s 0
is "a missing --url-file exits 66" "$rc" 66
: >"$T/empty"
chmod 600 "$T/empty"
zn -k slack --url-file "$T/empty" -s 0
is "an empty --url-file exits 64" "$rc" 64
for u in "ftp://127.0.0.1:$port/slack/$SECRET" "file:///etc/$SECRET" \
	"127.0.0.1:$port/slack/$SECRET" "gopher://127.0.0.1:$port/$SECRET" \
	"http://127.0.0.1:$port/slack/$SECRET x" \
	"https://bot:8080/$SECRET@127.0.0.1:$port/slack/T0" \
	"http://bot:$SECRET/x@127.0.0.1:$port/slack/T0" \
	"http://bot:1?$SECRET@127.0.0.1:$port/slack/T0" \
	"http://bot:$SECRET#x@127.0.0.1:$port/slack/T0" \
	"http://a@b@127.0.0.1:$port/slack/$SECRET"; do
	mark
	zn -k slack -u "$u" -s 0
	is "url ${u%%:*}:… is refused with 64" "$rc" 64
	is "and nothing reaches the receiver" "$(q 'len(R)')" 0
done

echo "# the kind is guessed from the host"
for pair in "hooks.slack.com/services/T0/B0/$SECRET slack" \
	"discord.com/api/webhooks/1/$SECRET discord" \
	"discordapp.com/api/webhooks/1/$SECRET discord" \
	"acme.webhook.office.com/webhookb2/$SECRET teams" \
	"prod-01.westeurope.logic.azure.com/workflows/$SECRET teams" \
	"default1.environment.api.powerplatform.com/p/$SECRET teams" \
	"chat.googleapis.com/v1/spaces/AAA/messages?key=$SECRET google-chat" \
	"mm.example.com/hooks/$SECRET webhook" \
	"evilhooks.slack.com.example.net/$SECRET webhook"; do
	# shellcheck disable=SC2086 # split into URL and kind
	set -- $pair
	zn -n --json -u "https://$1" -s 0
	is "https://${1%%/*}/… is $2, and shown so" \
		"$(js "$out" 'O["kind"] + " " + O["url"]')" "$2 https://${1%%/*}/…"
done

echo "# --dry-run prints the payload and sends nothing"
mark
zn -n -k slack -u "$H/slack/$SECRET" -s 0 -a shop hello
is "-n exits 0" "$rc" 0
is "stdout is the Slack payload" "$(js "$out" 'O["attachments"][0]["text"]')" hello
is "stderr says where it would go" "$err" "zdd-notify: would POST to $SHOWN (slack)"
zn -n --json -k discord -u "$H/discord/1/$SECRET" -s 0 -a shop hello
is "-n --json carries the payload" \
	"$(js "$out" '[O["dry_run"], O["sent"], O["payload"]["embeds"][0]["description"]]')" \
	'[true, false, "hello"]'
zn -n -k discord -u "$H/discord/1/$SECRET" -s 0 --update discord:12345
is "-n --update prints only the payload" \
	"$(printf '%s\n' "$out" | wc -l):$(js "$out" 'O["content"]')" "1:Deployed"
like "and says it would PATCH the message" "$err" "would PATCH to $SHOWN \\(discord\\)"
zn -n -k slack -s 0 -q
is "-n without any url still prints the payload" "$(js "$out" 'O["text"]')" "Deployed"
is "-q -n prints nothing on stderr" "$err" ""
is "nothing reached the receiver" "$(q 'len(R)')" 0

echo "# Slack"
mark
zn -k slack -u "$H/slack/T0/B0/$SECRET" -s 0 -a shop -e prod \
	--release 20261123084013 --revision 4f2a9c1 -f 'owner=ops & dev' \
	--link 'https://ci.example.com/job/shop/42/' 'migrations ran'
is "a Slack post exits 0" "$rc" 0
is "and prints nothing" "$out$err" ""
is "one POST with a JSON content type" \
	"$(q '[R[0]["method"], R[0]["headers"]["content-type"]]')" \
	'["POST", "application/json; charset=utf-8"]'
is "text is the headline" "$(q 'J[0]["text"]')" "Deployed shop 20261123084013 to prod"
is "the attachment is green" "$(q 'J[0]["attachments"][0]["color"]')" good
is "the message is the attachment text" "$(q 'J[0]["attachments"][0]["text"]')" "migrations ran"
is "the facts are fields, in order" \
	"$(q '[(f["title"], f["value"]) for f in J[0]["attachments"][0]["fields"]][:4]')" \
	'[["App", "shop"], ["Environment", "prod"], ["Release", "20261123084013"], ["Revision", "4f2a9c1"]]'
is "a --field is a field, its & escaped" \
	"$(q '[f["value"] for f in J[0]["attachments"][0]["fields"] if f["title"] == "owner"]')" \
	'["ops &amp; dev"]'
is "the link is the title link" "$(q 'J[0]["attachments"][0]["title_link"]')" \
	"https://ci.example.com/job/shop/42/"
for s in "started #439FE0" "success good" "failure danger" "rollback warning" \
	"0 good" "2 danger" "137 danger"; do
	# shellcheck disable=SC2086 # split into status and colour
	set -- $s
	mark
	zn -k slack -u "$H/slack/$SECRET" -s "$1" -a shop
	is "status $1 is coloured $2" "$(q 'J[0]["attachments"][0]["color"]')" "$2"
done
mark
zn -k slack -u "$H/slack/$SECRET" -s rollback -a shop --release 20261122093000 -e prod
is "a rollback says so" "$(q 'J[0]["text"]')" "Rolled back shop to 20261122093000 on prod"

echo "# a commit message full of quotes, backslashes, newlines and mentions"
nasty=$(printf 'fix "quoted" '\''single'\'' \\back\\slash \\n\\u0000
second line\ttab <@here> @everyone <!channel> & </script> {"a":1} ünï')
printf '%s' "$nasty" >"$T/nasty"
mark
zn -k slack -u "$H/slack/$SECRET" -s 0 "$nasty"
is "Slack: exit 0" "$rc" 0
is "Slack: &, < and > arrive escaped, the rest as it was" \
	"$(q 'J[0]["attachments"][0]["text"]')" \
	"$(printf '%s' "$nasty" | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g')"
is "Slack: unescaped it is the message exactly" \
	"$(q 'J[0]["attachments"][0]["text"].replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == open("'"$T/nasty"'").read()')" \
	true
is "Slack: no <@here> or <!channel> left to ping" \
	"$(q '"<@" in R[0]["body"] or "<!" in J[0]["attachments"][0]["text"]')" false
mark
zn -k discord -u "$H/discord/1/$SECRET" -s 0 "$nasty"
is "Discord: exit 0" "$rc" 0
is "Discord: the message arrives intact" \
	"$(q 'J[0]["embeds"][0]["description"] == open("'"$T/nasty"'").read()')" true
is "Discord: allowed_mentions is empty, so nobody is pinged" \
	"$(q 'J[0]["allowed_mentions"]')" '{"parse": []}'
mark
zn -u "$H/hook/$SECRET" -s 0 "$nasty"
is "webhook: the message arrives intact" \
	"$(q 'J[0]["message"] == open("'"$T/nasty"'").read()')" true
mark
zn -k mattermost -u "$H/hook/$SECRET" -s 0 "$nasty"
is "Mattermost: intact but for a zero-width space after @" \
	"$(q 'J[0]["attachments"][0]["text"].replace("\u200b", "") == open("'"$T/nasty"'").read()')" true
is "Mattermost: @everyone cannot ping" \
	"$(q '"@everyone" in R[0]["body"] or "@\u200beveryone" not in J[0]["attachments"][0]["text"]')" false
# Every text a service shows (message, headline, fields) and every
# spelling of a mention it expands: none can ping.  (Google Chat's
# thread key is an id, never shown.)
for m in '<!channel>' '<!here>' '<!all>' '<!channel|x>' '<@U024BE7LH>' \
	'<#C024BE91L>' '<users/all>' '<USERS/all>' '<users/1234567>' '@channel' \
	'@all' '@here'; do
	for k in mattermost google-chat; do
		mark
		zn -k "$k" -u "$H/hook/$SECRET" -s 0 -a "app $m" --release "R $m" \
			-f "branch=$m" -f "$m=key" "msg $m"
		is "$k: $m in message, app, release, field name and value: exit 0" "$rc" 0
		is "…arrives defused everywhere" \
			"$(q 'sum(str({k: v for k, v in J[0].items() if k != "thread"}).count(x) for x in ("<!", "<@", "<#", "<users/", "<USERS/", "@channel", "@all", "@here"))')" 0
		is "…and reads the same without the zero-width spaces" \
			"$(q 'R[0]["body"].count("\u200b") > 0 and R[0]["body"].replace("\u200b", "").count("'"$m"'") >= 4')" true
	done
done
mark
zn -k teams -u "$H/teams/$SECRET" -s 0 "$nasty"
is "Teams: the message arrives intact" \
	"$(q 'J[0]["attachments"][0]["content"]["body"][1]["text"] == open("'"$T/nasty"'").read()')" true
mark
printf 'subject line\n\nbody line one\nbody line two\n\n' |
	zn -u "$H/hook/$SECRET" -s 0 -
is "message - reads all of stdin, trailing newlines dropped" \
	"$(q 'J[0]["message"]')" "$(printf 'subject line\n\nbody line one\nbody line two')"
printf 'bad \377\376 bytes\n' >"$T/badutf8"
mark
zn -u "$H/hook/$SECRET" -s 0 - <"$T/badutf8"
is "invalid UTF-8 from stdin is sent as U+FFFD" "$(q 'J[0]["message"]')" "bad �� bytes"

echo "# Discord"
mark
zn -k discord -u "$H/discord/111/$SECRET" -s 0 -a shop -e prod --release R1 hello
is "Discord: exit 0" "$rc" 0
is "it asks for the message back with ?wait=true" "$(q 'R[0]["path"]')" \
	"/discord/111/$SECRET?wait=true"
ref=$out
like "stdout is the ref of the message" "$ref" "^discord:[0-9]+$"
is "content is the headline" "$(q 'J[0]["content"]')" "Deployed shop R1 to prod"
is "the embed colour is an integer (green)" "$(q 'J[0]["embeds"][0]["color"]')" 3061373
mark
zn -k discord -u "$H/discord/111/$SECRET" -s failure -a shop
is "failure is red" "$(q 'J[0]["embeds"][0]["color"]')" 14687834
mark
zn -k discord -u "$H/discord/111/$SECRET" -s started -a shop --release R2 --json
ref2=$(js "$out" 'O["ref"]')
like "--json carries the ref of the new message" "$ref2" "^discord:[0-9]+$"
is "a new message has a new ref" "$([ "$ref2" != "$ref" ] && echo new)" new
ref=$ref2
mark
zn -k discord -u "$H/discord/111/$SECRET" -s success -a shop --release R2 --update "$ref"
is "--update edits the message: exit 0" "$rc" 0
is "with a PATCH of messages/ID" "$(q '[R[0]["method"], R[0]["path"]]')" \
	"[\"PATCH\", \"/discord/111/$SECRET/messages/${ref#discord:}\"]"
is "the edit says deployed" "$(q 'J[0]["content"]')" "Deployed shop R2"
like "and how long since it said deploying" \
	"$(q '{f["name"]: f["value"] for f in J[0]["embeds"][0]["fields"]}["Duration"]')" '^[0-9]+s$'
mark
zn -k discord -u "$H/discord/111/$SECRET" -s success --update discord:999
is "editing an unknown message exits 1" "$rc" 1
like "with Discord's reason" "$err" "rejected: 404 Unknown Message"
zn -k slack -u "$H/slack/$SECRET" -s 0 --update discord:1
is "a discord ref on a slack webhook exits 64" "$rc" 64

echo "# Teams, Google Chat, Mattermost, the plain webhook"
mark
zn -k teams -u "$H/teams/$SECRET" -s failure -a shop -e prod --link https://ci/1
is "Teams answers 202: exit 0" "$rc" 0
is "an Adaptive Card message" \
	"$(q '[J[0]["type"], J[0]["attachments"][0]["contentType"], J[0]["attachments"][0]["content"]["type"]]')" \
	'["message", "application/vnd.microsoft.card.adaptive", "AdaptiveCard"]'
is "its headline is coloured Attention" \
	"$(q 'J[0]["attachments"][0]["content"]["body"][0]["color"]')" Attention
is "its facts are a FactSet" \
	"$(q '[f["title"] for f in J[0]["attachments"][0]["content"]["body"][-1]["facts"]][:2]')" \
	'["App", "Environment"]'
is "the link is an action" \
	"$(q 'J[0]["attachments"][0]["content"]["actions"][0]["url"]')" "https://ci/1"
mark
zn -k google-chat -u "$H/gchat/spaces/AAA/messages?key=$SECRET&token=$SECRET" \
	-s 0 -a shop --release 20261123084013
is "Google Chat: exit 0" "$rc" 0
is "the thread key is the release" "$(q 'J[0]["thread"]["threadKey"]')" 20261123084013
is "and the reply option joins the query" "$(q 'R[0]["path"]')" \
	"/gchat/spaces/AAA/messages?key=$SECRET&token=$SECRET&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
like "text starts with the headline in bold" "$(q 'J[0]["text"]')" "^\*Deployed shop 20261123084013\*"
mark
zn -k google-chat -u "$H/gchat/spaces/AAA/messages?key=$SECRET" -s 0 '<users/all> look'
is "without a release, no thread" "$(q '"thread" in J[0]')" false
is "<users/all> cannot ping the space" "$(q '"<users/all>" in J[0]["text"]')" false
mark
zn -k mattermost -u "$H/hook/$SECRET" -s rollback -a shop
is "Mattermost: Slack's shape, coloured" "$(q 'J[0]["attachments"][0]["color"]')" warning
mark
zn -u "$H/hook/$SECRET" -s 0 -a shop -e prod --release R9 -f team=ops -f 'x=a=b' msg
is "webhook: exit 0" "$rc" 0
is "the body is the event itself" \
	"$(q '[J[0][k] for k in ("status", "app", "env", "release", "message", "team", "x")]')" \
	'["success", "shop", "prod", "R9", "msg", "ops", "a=b"]'
is "with the host and a UTC time" \
	"$(q '[J[0]["host"] != "", J[0]["time"].endswith("Z")]')" '[true, true]'

echo "# facts from the CI"
mark
JENKINS_URL=https://ci.example.com/ JOB_NAME=shop-deploy BUILD_NUMBER=42 \
BUILD_URL=https://ci.example.com/job/shop-deploy/42/ GIT_COMMIT=4f2a9c1 \
GIT_BRANCH=origin/main zn -k slack -u "$H/slack/$SECRET" -s 0
is "Jenkins: the job names the deploy" "$(q 'J[0]["text"]')" "Deployed shop-deploy"
is "Jenkins: job, build, branch and revision are fields" \
	"$(q '{f["title"]: f["value"] for f in J[0]["attachments"][0]["fields"]}["Build"] + " " + {f["title"]: f["value"] for f in J[0]["attachments"][0]["fields"]}["Branch"] + " " + {f["title"]: f["value"] for f in J[0]["attachments"][0]["fields"]}["Revision"]')" \
	"42 main 4f2a9c1"
is "Jenkins: the build is the link" "$(q 'J[0]["attachments"][0]["title_link"]')" \
	"https://ci.example.com/job/shop-deploy/42/"
mark
GITHUB_ACTIONS=true GITHUB_REPOSITORY=acme/shop GITHUB_SHA=9b1e0d2 \
GITHUB_REF_NAME=main GITHUB_SERVER_URL=https://github.com GITHUB_RUN_ID=777 \
	zn -u "$H/hook/$SECRET" -s 1
is "GitHub Actions: the facts" \
	"$(q '[J[0][k] for k in ("ci", "repository", "revision", "branch", "build", "build_url")]')" \
	'["github-actions", "acme/shop", "9b1e0d2", "main", "777", "https://github.com/acme/shop/actions/runs/777"]'
is "GitHub Actions: the headline" "$(q 'J[0]["title"]')" "Deploy of acme/shop failed"
mark
TRAVIS=true TRAVIS_REPO_SLUG=acme/shop TRAVIS_COMMIT=c0ffee1 TRAVIS_BRANCH=main \
TRAVIS_BUILD_NUMBER=12 TRAVIS_BUILD_WEB_URL=https://app.travis-ci.com/acme/shop/builds/12 \
	zn -k discord -u "$H/discord/1/$SECRET" -s 0
is "Travis: the facts reach Discord" \
	"$(q '{f["name"]: f["value"] for f in J[0]["embeds"][0]["fields"]}["Revision"]')" c0ffee1
is "Travis: the build is the embed url" "$(q 'J[0]["embeds"][0]["url"]')" \
	"https://app.travis-ci.com/acme/shop/builds/12"
mark
APPLICATION_NAME=shop-app DEPLOYMENT_ID=d-ABC123XYZ DEPLOYMENT_GROUP_NAME=prod-fleet \
LIFECYCLE_EVENT=ValidateService zn -u "$H/hook/$SECRET" -s 0
is "CodeDeploy: the facts" \
	"$(q '[J[0][k] for k in ("ci", "application", "deployment_id", "deployment_group", "lifecycle_event")]')" \
	'["codedeploy", "shop-app", "d-ABC123XYZ", "prod-fleet", "ValidateService"]'
is "CodeDeploy: the headline" "$(q 'J[0]["title"]')" "Deployed shop-app to prod-fleet"
mark
JOB_NAME=shop-deploy zn -u "$H/hook/$SECRET" -s 0 -a shop -f job=override
is "options and --field win over the CI" "$(q '[J[0]["app"], J[0]["job"]]')" '["shop", "override"]'
mark
zn -u "$H/hook/$SECRET" -f status=bogus -a shop
is "a --field status that is no status gives a neutral headline" \
	"$(q 'J[0]["title"]')" "Deploy of shop"

echo "# --event merges another tool's --json output"
printf '%s\n' '{"action":"link","link":"current","release":"20261123084013","path":"/srv/shop/releases/20261123084013","previous":"20261122093000","changed":true,"dry_run":false}' >"$T/ev.json"
mark
zn -u "$H/hook/$SECRET" -s 0 -a shop --event "$T/ev.json"
is "--event FILE: exit 0" "$rc" 0
is "its members join the event" \
	"$(q '[J[0][k] for k in ("release", "action", "path", "previous", "changed")]')" \
	'["20261123084013", "link", "/srv/shop/releases/20261123084013", "20261122093000", true]'
is "the headline uses its release" "$(q 'J[0]["title"]')" "Deployed shop 20261123084013"
is "its link (a link's name) is kept apart from ours" \
	"$(q '[J[0]["event_link"], "link" in J[0]]')" '["current", false]'
mark
zn -k slack -u "$H/slack/$SECRET" -s 0 --release R5 --event - <"$T/ev.json"
is "--event -: exit 0" "$rc" 0
is "--release wins over the event's" "$(q 'J[0]["text"]')" "Deployed R5"
is "the event's members are Slack fields" \
	"$(q '[f["value"] for f in J[0]["attachments"][0]["fields"] if f["title"] == "previous"]')" \
	'["20261122093000"]'
# The man page's CodeDeploy example, with the real zdd-link.
mkdir -p "$T/root/releases/20261123084013"
echo hello >"$T/root/releases/20261123084013/index.html"
zdd-link -r "$T/root" 20261123084013 >/dev/null 2>&1
mark
zdd-link -r "$T/root" --show --json | APPLICATION_NAME=shop \
	DEPLOYMENT_ID=d-XYZ DEPLOYMENT_GROUP_NAME=prod LIFECYCLE_EVENT=ValidateService \
	zn -k teams -u "$H/teams/$SECRET" --event - -s success
is "zdd-link --show --json | zdd-notify --event -: exit 0" "$rc" 0
is "Teams hears which release went live where" \
	"$(q 'J[0]["attachments"][0]["content"]["body"][0]["text"]')" \
	"Deployed shop 20261123084013 to prod"
printf '{"healthy": false, "status": 503, "url": "http://x/"}' >"$T/ev2.json"
mark
zn -u "$H/hook/$SECRET" -s 1 --event "$T/ev2.json"
is "an event's own status does not replace ours" \
	"$(q '[J[0]["status"], J[0]["event_status"]]')" '["failure", 503]'
printf '{"action": "link",' >"$T/bad.json"
zn -u "$H/hook/$SECRET" -s 0 --event "$T/bad.json"
is "--event with broken JSON exits 65" "$rc" 65
printf '[1, 2]' >"$T/arr.json"
zn -u "$H/hook/$SECRET" -s 0 --event "$T/arr.json"
is "--event with an array exits 65" "$rc" 65
head -c 1100000 /dev/zero | tr '\0' ' ' >"$T/big.json"
zn -u "$H/hook/$SECRET" -s 0 --event "$T/big.json"
is "--event larger than 1 MiB exits 65" "$rc" 65
zn -u "$H/hook/$SECRET" -s 0 --event "$T/none.json"
is "--event with no such file exits 66" "$rc" 66
zn -u "$H/hook/$SECRET" -s 0 --event - - </dev/null
is "--event - with message - exits 64" "$rc" 64

echo "# long fields are cut with a marker, inside each service's limits"
long=$(python3 -c 'print("x" * 9000 + "é" * 3000)')
longval=$(python3 -c 'print("v" * 5000)')
mark
zn -k slack -u "$H/slack/$SECRET" -s 0 -a "$longval" -f "k=$longval" "$long"
is "Slack: exit 0" "$rc" 0
is "Slack: the text is cut to 3000 bytes with the marker" \
	"$(q '[len(J[0]["attachments"][0]["text"].encode()) <= 3000, J[0]["attachments"][0]["text"].endswith("…[truncated]")]')" \
	'[true, true]'
is "Slack: a long field value is cut" \
	"$(q 'max(len(f["value"].encode()) for f in J[0]["attachments"][0]["fields"]) <= 500')" true
mark
zn -k slack -u "$H/slack/$SECRET" -s 0 "$(python3 -c 'print("<" * 5000)')"
is "Slack: cutting never splits an &lt;" \
	"$(q 'J[0]["attachments"][0]["text"].replace("&lt;", "").replace("…[truncated]", "")')" ""
mark
zn -k discord -u "$H/discord/1/$SECRET" -s 0 -a "$longval" -f "k=$longval" \
	-f "$longval=v" "$long"
is "Discord: exit 0" "$rc" 0
is "Discord: content <= 2000, description <= 4096, values <= 1024, names <= 256" \
	"$(q '[len(J[0]["content"]) <= 2000, len(J[0]["embeds"][0]["description"]) <= 4096, max(len(f["value"]) for f in J[0]["embeds"][0]["fields"]) <= 1024, max(len(f["name"]) for f in J[0]["embeds"][0]["fields"]) <= 256]')" \
	'[true, true, true, true]'
is "Discord: the whole embed stays under 6000 characters" \
	"$(q 'len(J[0]["embeds"][0]["description"]) + sum(len(f["name"]) + len(f["value"]) for f in J[0]["embeds"][0]["fields"]) + len(J[0]["embeds"][0]["footer"]["text"]) < 6000')" true
is "Discord: no half characters" "$(q '"\ufffd" in R[0]["body"]')" false
fargs=()
for i in $(seq 1 40); do
	fargs+=(-f "key$i=value $i")
done
mark
zn -k discord -u "$H/discord/1/$SECRET" -s 0 "${fargs[@]}"
is "Discord: at most 25 fields" "$(q 'len(J[0]["embeds"][0]["fields"]) <= 25')" true
mark
zn -k google-chat -u "$H/gchat/x?key=$SECRET" -s 0 -a "$longval" "${fargs[@]}" "$long"
is "Google Chat: the text stays under 4096 bytes" \
	"$(q '[len(J[0]["text"].encode()) <= 4096, "…[truncated]" in J[0]["text"]]')" '[true, true]'
mark
zn -k teams -u "$H/teams/$SECRET" -s 0 -a "$longval" "${fargs[@]}" "$long"
is "Teams: the card stays under 28 KB" "$(q 'len(R[0]["body"].encode()) < 28000')" true

echo "# retries: 429 waits as told, 5xx backs off, 4xx fails at once"
mark
zn -k slack -u "$H/r429/2/$SECRET" -s 0
is "429 twice (Retry-After: 1), then ok: exit 0" "$rc" 0
is "three requests reached the service" "$(q 'len(R)')" 3
is "each retry waited at least the second asked for" "$(q 'all(g >= 0.9 for g in gaps())')" true
like "stderr says it is retrying" "$err" "^zdd-notify: $SHOWN: 429 rate limited, retrying in 1.0 s"
mark
zn -k slack -u "$H/r429date/1/$SECRET" -s 0 -q
is "Retry-After as an HTTP date: exit 0" "$rc" 0
is "two requests, at least a second apart" "$(q '[len(R), gaps()[0] >= 0.9]')" '[2, true]'
is "-q keeps the retries off stderr" "$err" ""
mark
zn -k discord -u "$H/r429body/2/$SECRET" -s 0
is "Discord's retry_after in the body: exit 0" "$rc" 0
is "three requests, spaced by retry_after" "$(q '[len(R), all(g >= 0.25 for g in gaps())]')" '[3, true]'
mark
elapsed -k slack -u "$H/r429long/$SECRET" -s 0 -t 5
is "Retry-After: 3600 past the timeout exits 69" "$rc" 69
is "after one request" "$(q 'len(R)')" 1
like "and says why" "$err" "429 rate limited, and a retry in 3600.0 s would pass the 5 s timeout"
ok "without waiting for it (returned within 5 s)" within 5
mark
zn -k slack -u "$H/e500/2/$SECRET" -s 0
is "500 twice, then ok: exit 0" "$rc" 0
is "three requests" "$(q 'len(R)')" 3
mark
zn -k slack -u "$H/e503/1/$SECRET" -s 0
is "503 with Retry-After: 1, then ok: exit 0" "$rc" 0
is "two requests, a second apart as the 503 asked" "$(q '[len(R), gaps()[0] >= 0.9]')" '[2, true]'
mark
zn -k slack -u "$H/e500/99/$SECRET" -s 0 --retries 2
is "500 for ever with --retries 2 exits 69" "$rc" 69
is "after exactly three requests" "$(q 'len(R)')" 3
like "stderr gives Slack's reason and the count" "$err" \
	"^zdd-notify: $SHOWN: 500 rollup_error, given up after 3 attempts$"
is "the backoff doubles: at least 0.25 s, then at least 0.5 s" \
	"$(q '[gaps()[0] >= 0.25, gaps()[1] >= 0.5]')" '[true, true]'
mark
zn -k slack -u "$H/e500/99/$SECRET" -s 0 --retries 0
is "--retries 0: one request only" "$(q '[len(R)]')" "[1]"
is "and exit 69" "$rc" 69
mark
zn -k slack -u "$H/drop/1/$SECRET" -s 0
is "a dropped connection is retried: exit 0" "$rc" 0
is "two requests" "$(q 'len(R)')" 2
for w in invalid_payload action_prohibited no_service channel_is_archived; do
	mark
	zn -k slack -u "$H/slack-err/$w/$SECRET" -s 0
	is "Slack $w exits 1" "$rc" 1
	is "after one request" "$(q 'len(R)')" 1
	like "with Slack's reason" "$err" "^zdd-notify: $SHOWN: rejected: [0-9]+ $w$"
done
mark
zn -k slack -u "$H/slack-200/invalid_token/$SECRET" -s 0
is "Slack's 200 without \"ok\" exits 1" "$rc" 1
like "with the body as the reason" "$err" "rejected: 200 invalid_token"
mark
zn -k slack -u "$H/redirect/$SECRET" -s 0
is "a redirect exits 1" "$rc" 1
is "and is not followed" "$(q '[r["path"] for r in R]')" "[\"/redirect/$SECRET\"]"
zn -k slack -u "$H/nasty/$SECRET" -s 0
is "an error body with terminal escapes exits 1" "$rc" 1
is "and stderr is one clean line" "$(printf '%s' "$err" | sed 's/…//g' | LC_ALL=C tr -d ' -~' | wc -c)" 0
zn -k slack -u "$H/slack-err/no_service/$SECRET" -s 0 --json
is "--json on a rejection: one object, sent false" \
	"$(js "$out" '[O["sent"], O["http_status"], O["attempts"], O["error"]]')" \
	'[false, 404, 1, "rejected: 404 no_service"]'

echo "# --timeout bounds the whole call"
mark
elapsed -k slack -u "$H/hang/$SECRET" -s 0 -t 2
is "a receiver that never answers: exit 69" "$rc" 69
like "stderr says no answer in time" "$err" "no answer within the 2 s timeout"
ok "returned within timeout + 2 s" within 4
is "one request reached it" "$(q 'len(R)')" 1
mark
elapsed -k slack -u "$H/e500/999/$SECRET" -s 0 -t 3 --retries 20
is "5xx for ever under -t 3: exit 69" "$rc" 69
ok "returned within timeout + 2 s" within 5
closed=$(free_port)
elapsed -k slack -u "http://127.0.0.1:$closed/$SECRET" -s 0 -t 3
is "nothing listening: exit 69" "$rc" 69
like "stderr says it could not connect" "$err" "cannot connect: Connection refused"
ok "returned within timeout + 2 s" within 5

echo "# Slack's Web API: one message from deploying to deployed"
export ZDD_SLACK_API=$H/api
mark
ZDD_SLACK_TOKEN=$TOKEN zn --channel C024BE91L -s started -a shop --release R7
is "chat.postMessage: exit 0" "$rc" 0
like "stdout is the ref" "$out" "^slack:C024BE91L:[0-9]+\.[0-9]+$"
ref=$out
is "it posted to chat.postMessage with the bot token" \
	"$(q '[R[0]["path"], R[0]["headers"]["authorization"], J[0]["channel"], J[0]["text"]]')" \
	"[\"/api/chat.postMessage\", \"Bearer $TOKEN\", \"C024BE91L\", \"Deploying shop R7\"]"
mark
ZDD_SLACK_TOKEN=$TOKEN zn -v --update "$ref" -s success -a shop --release R7 --json
is "chat.update: exit 0" "$rc" 0
is "it updated that message" "$(q '[R[0]["path"], J[0]["ts"], J[0]["channel"], J[0]["text"]]')" \
	"[\"/api/chat.update\", \"${ref##*:}\", \"C024BE91L\", \"Deployed shop R7\"]"
is "--json carries the same ref" "$(js "$out" 'O["ref"]')" "$ref"
like "the duration since the first post is a field" \
	"$(q '{f["title"]: f["value"] for f in J[0]["attachments"][0]["fields"]}["Duration"]')" '^[0-9]+s$'
like "-v names Slack's API host only" "$err" "^zdd-notify: POST $SHOWN \\(slack\\), attempt 1"
ZDD_SLACK_TOKEN=$TOKEN zn --update slack:C024BE91L:1.2 -s success
is "updating a message Slack does not know exits 1" "$rc" 1
like "with Slack's error" "$err" "rejected: message_not_found"
ZDD_SLACK_TOKEN=$TOKEN zn --channel CNOPE -s 0
is "a channel Slack does not know exits 1 (Slack says 200)" "$rc" 1
like "with Slack's error" "$err" "rejected: channel_not_found"
ZDD_SLACK_TOKEN=xoxb-wrong-TOKENSECRET zn --channel C024BE91L -s 0
is "a bad token exits 1" "$rc" 1
like "with Slack's error" "$err" "invalid_auth"
mark
zn --channel C024BE91L -s 0
is "no ZDD_SLACK_TOKEN exits 64" "$rc" 64
is "and sends nothing" "$(q 'len(R)')" 0
zn -k discord --channel C024BE91L -s 0 -u "$H/discord/1/$SECRET"
is "--channel with --kind discord exits 64" "$rc" 64
ZDD_SLACK_TOKEN=$TOKEN ZDD_SLACK_API=http://example.com/api zn --channel C1 -s 0
is "the token over plain http to another host: exit 64" "$rc" 64
like "and says why" "$err" "the bot token goes over https only"
unset ZDD_SLACK_API

echo "# a rollback from zdd-link --json: from which release to which"
R=$T/shop
mkdir -p "$T/app" && echo v1 >"$T/app/index.html" && tar czf "$T/app.tgz" -C "$T/app" .
for id in 20261122093000 20261123084013; do
	zdd-release -r "$R" --id $id "$T/app.tgz" >/dev/null &&
		zdd-link -r "$R" $id >/dev/null || echo "# cannot make release $id"
done
printf '%s\n' "$H/slack/T0/B0/$SECRET" >"$T/slack-url"
chmod 600 "$T/slack-url"
# zdd-notify(1)'s example, as printed there.
ex=$(awk '/^Roll back, and say from which release to which:$/ { f = 1; next }
	f && /^\.Bd/ { next } f && /^\.Ed/ { exit } f { print }' "$TOP/man/zdd-notify.1")
is "zdd-notify(1): the rollback example" "$ex" "$(printf '%s\n%s' \
	'zdd-link -r /srv/shop --rollback --json |' \
	'    zdd-notify --url-file /etc/zdd/slack-url --event - -a shop -e prod')"
mark
run sh -c "$(printf '%s' "$ex" | sed "s|/srv/shop|$R|; s|/etc/zdd/slack-url|$T/slack-url|")"
is "the rollback example: exit 0" "$rc" 0
# The receiver is on loopback, not hooks.slack.com: a plain webhook.
is "…the headline says from which release to which" "$(q 'J[0]["title"]')" \
	"Rolled back shop from 20261123084013 to 20261122093000 on prod"
is "…as a rollback" "$(q 'J[0]["status"]')" rollback
is "…and current is the older release" "$(readlink "$R/current")" "releases/20261122093000"
zdd-link -r "$R" 20261123084013 >/dev/null
mark
zdd-link -r "$R" --rollback --json >"$T/rb.json"
zn -k slack -u "$H/slack/$SECRET" --event "$T/rb.json" -s failure -a shop
is "-s still rules over zdd-link's action" "$(q 'J[0]["text"]')" "Deploy of shop 20261122093000 failed"
mark
zn -k slack -u "$H/slack/$SECRET" -s rollback -a shop --release 20261122093000
is "a rollback without --event: where it went" "$(q 'J[0]["text"]')" "Rolled back shop to 20261122093000"

echo "# the secret never shows"
mark
zn -v -k slack -u "http://deploy:PW$SECRET@127.0.0.1:$port/slack/T0/B0/$SECRET" -s 0
is "a url with a password: exit 0" "$rc" 0
is "the password went as basic auth" \
	"$(q 'R[0]["headers"]["authorization"].startswith("Basic ")')" true
like "-v names the host only" "$err" "^zdd-notify: POST $SHOWN \(slack\), attempt 1"
zn -k slack -u "$H/echo/$SECRET" -s 0 -v
is "a service echoing the path: exit 1" "$rc" 1
like "the echo is scrubbed" "$err" "rejected: 400 bad request: POST \.\.\.$"
zn -k slack -u "http://u:PW$SECRET@127.0.0.1:$closed/$SECRET?token=$SECRET" -s 0 -t 1 -v --json
is "an unreachable url with secrets: exit 69" "$rc" 69
zn -k slack -u "http://deploy:PW$SECRET@127.0.0.1:$port/echoauth/$SECRET" -s 0
is "a service echoing the Basic auth header: exit 1" "$rc" 1
like "the base64 of user:password is scrubbed" "$err" "rejected: 401 bad credentials: Basic \.\.\.$"
B64=$(printf 'deploy:PW%s' "$SECRET" | base64 -w0)
unlike "…in every form" "$err" "${B64%%=*}"

echo "# a credential goes over TLS or stays on this host, proxies included"
for u in "http://deploy:pw@example.com/hook/$SECRET" \
	"http://deploy@example.com/hook/$SECRET" \
	"HTTP://deploy:pw@10.0.0.1:8080/hook/$SECRET"; do
	mark
	zn -k webhook -u "$u" -s 0
	is "a password over plain http to another host: exit 64" "$rc" 64
	like "…says why" "$err" "the password goes over https only, or to this host$"
done
pport=$(free_port)
spawn python3 "$TOP/tests/notify-receiver.py" "$pport" "$T/proxy.log"
wait_port "$pport" || exit 1
: >"$T/proxy.log"
mark
no_proxy= NO_PROXY= http_proxy=http://127.0.0.1:$pport \
	ZDD_SLACK_TOKEN=$TOKEN ZDD_SLACK_API=http://localhost:$port/api \
	zn --channel C024BE91L -s 0
is "the token to this host with an http proxy set: exit 0" "$rc" 0
is "…it went straight to this host" "$(q '[r["path"] for r in R]')" '["/api/chat.postMessage"]'
is "…and never to the proxy" "$(wc -l <"$T/proxy.log")" 0
mark
no_proxy= NO_PROXY= http_proxy=http://127.0.0.1:$pport \
	zn -k slack -u "http://deploy:PW$SECRET@127.0.0.1:$port/slack/$SECRET" -s 0
is "a password to this host with an http proxy set: exit 0" "$rc" 0
is "…it went straight to this host" "$(q 'len(R)')" 1
is "…and never to the proxy" "$(wc -l <"$T/proxy.log")" 0
no_proxy= NO_PROXY= http_proxy=http://127.0.0.1:$pport \
	zn -k slack -u "$H/slack/$SECRET" -s 0
is "no credential: the proxy from the environment is used" "$(wc -l <"$T/proxy.log")" 1

is "the whole run printed no secret" "$(grep -c -e "$SECRET" -e TOKENSECRET "$all")" 0
is "nor the path of any webhook" "$(grep -c -e '/slack/' -e '/discord/1' -e 'T0/B0' "$all")" 0

done_testing
