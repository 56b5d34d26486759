# Sourced by tests/31-verify.t and 32-fetch.t after lib.sh: what a deploy
# root $R holds, and the one assertion every refusal gets.  mf and jf
# print null for a member that is not there (json.dumps for the rest of
# the non-strings).

nrel() { find "$R/releases" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
ntmp() { find "$R/.zdd/tmp" -mindepth 1 2>/dev/null | wc -l; }
nman() { find "$R/.zdd/manifests" -name '*.json' 2>/dev/null | wc -l; }
# jf JSON PATH: the member at PATH (a.b.c) of JSON.
jf() { printf '%s' "$1" | python3 -c 'import json,sys; v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v=v.get(k) if isinstance(v,dict) else None
print(json.dumps(v) if isinstance(v,(list,dict,bool)) or v is None else v)' "$2"; }
# mf ID PATH: the member at PATH of release ID's manifest.
mf() { jf "$(cat "$R/.zdd/manifests/$1.json")" "$2"; }
# refused DESC CODE ERE CMD...: CMD exits CODE, says ERE on stderr, prints
# nothing, and leaves the deploy root as it was: no release, manifest or
# spool more than before.
refused() {
	d=$1 code=$2 msg=$3
	shift 3
	b_rel=$(nrel) b_man=$(nman)
	run "$@"
	is "$d: exit $code" "$rc" "$code"
	like "$d: says why" "$err" "$msg"
	is "$d: stdout empty" "$out" ""
	is "$d: nothing left" "$(nrel) $(nman) $(ntmp)" "$b_rel $b_man 0"
}
