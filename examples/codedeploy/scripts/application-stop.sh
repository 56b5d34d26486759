#!/bin/sh
# ApplicationStop (run from the previous revision): nothing is stopped,
# since the old release serves until ValidateService has passed; only
# what an interrupted deployment left behind is cleared.
set -u
# shellcheck source=/dev/null
. "$(dirname "$0")/env.sh"
log "live: $(zdd-link --show 2>/dev/null || echo nothing)"
[ -d "$ZDD_ROOT/releases" ] || exit 0
zdd-prune -q -k "$KEEP" >/dev/null
