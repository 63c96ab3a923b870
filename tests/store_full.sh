#!/bin/bash
# A store on a full filesystem (a 1 MB tmpfs in a private mount namespace):
# revoke, compact and load are refused with exit 3 and a message naming
# the file and the reason, leave no temporary file behind (Berkeley DB's
# "__db.NAME" included: a failed create left it), lose no revocation, and
# work again once there is room.
. "$top_srcdir/tests/tap.sh"
set -u

if [ -z "${JWTREV_IN_NS:-}" ]; then
    exec unshare -m env JWTREV_IN_NS=1 bash "$0" "$@"
fi
tmp=$(mktemp -d)
mkdir "$tmp/mnt"
trap 'umount "$tmp/mnt" 2>/dev/null; rm -rf "$tmp"' EXIT
mount -t tmpfs -o size=1m tmpfs "$tmp/mnt"
ok $? "a 1 MB tmpfs"
ST=$tmp/mnt/store
seq -f '{"kind":"token","iss":"https://i","jti":"j%06g","revoked_at":1}' \
    1 3000 >"$tmp/in.jsonl"
"$JWTREV" --db "$ST" init >/dev/null &&
    "$JWTREV" --db "$ST" load "$tmp/in.jsonl" >/dev/null
ok $? "a store of 3000 entries on it"
dd if=/dev/zero of="$tmp/mnt/fill" bs=4k 2>/dev/null
ls "$ST" >"$tmp/before"

for cmd in "revoke --jti new --iss https://i" compact "load $tmp/in.jsonl"; do
    "$JWTREV" --db "$ST" $cmd >/dev/null 2>"$tmp/err"
    is "$?" 3 "disk full: jwtrev ${cmd%% *} exits 3"
    grep -q "$ST/.*No space left on device" "$tmp/err"
    ok $? "and names the file and why: $(cat "$tmp/err")"
    ls "$ST" | diff "$tmp/before" - | sed -n 's/^> //p' >"$tmp/new"
    is "$(paste -sd' ' "$tmp/new")" "" "and leaves no new file behind"
done
"$JWTREV" --db "$ST" list --kind token | grep -q 'jti="j000042"'
ok $? "an earlier revocation is still there"
is "$("$JWTREV" --db "$ST" stats | sed -n 's/^entries *//p')" 3000 \
    "all 3000 of them"
rm -f "$tmp/mnt/fill"
"$JWTREV" --db "$ST" revoke --jti new --iss https://i >/dev/null
ok $? "with room again, a revoke works"
is "$("$JWTREV" --db "$ST" stats | sed -n 's/^entries *//p')" 3001 \
    "and the store holds 3001 entries"
done_testing
