#!/bin/bash
# jwtrevd on a disk too full to fold (a tmpfs in a private mount
# namespace, with less room than a copy of base.db): revocations through
# the daemon still succeed, the failing fold is in the daemon's log and
# in jwtrev stats, and once there is room the next try folds.
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/daemon.sh"
set -u

if [ -z "${JWTREV_IN_NS:-}" ]; then
    exec unshare -m env JWTREV_IN_NS=1 bash "$0" "$@"
fi
tmp=$(mktemp -d)
mkdir "$tmp/mnt"
trap 'jd_stop KILL; umount "$tmp/mnt" 2>/dev/null; rm -rf "$tmp"' EXIT
mount -t tmpfs -o size=4m tmpfs "$tmp/mnt"
ok $? "a 4 MB tmpfs"
ST=$tmp/mnt/store
seq -f '{"kind":"token","iss":"https://i","jti":"j%06g","revoked_at":1}' \
    1 20000 >"$tmp/in.jsonl"
"$JWTREV" --db "$ST" init >/dev/null &&
    "$JWTREV" --db "$ST" load "$tmp/in.jsonl" >/dev/null
ok $? "a store of 20000 entries on it"
base=$(stat -c %s "$ST/base.db")
jd_config "$tmp/jwtrevd.conf" "$ST" "$tmp/jwtrevd.sock" purge_interval=0 \
    fold_at=20 fold_retry=1
jd_start "$tmp/jwtrevd.conf" "$tmp/d.log"
ok $? "jwtrevd owns it"
# Leave room for the delta's rewrites, not for a new base.
avail=$(df --output=avail -B1 "$tmp/mnt" | tail -1)
dd if=/dev/zero of="$tmp/mnt/fill" bs=4096 count=$(((avail - base / 3) / 4096)) \
    2>/dev/null
diag "base.db $base bytes, $(df --output=avail -B1 "$tmp/mnt" | tail -1) free"
bad=0
for n in $(seq 40); do
    "$JWTREV" --db "$ST" revoke --jti "x$n" --iss https://i >/dev/null 2>>"$tmp/err" ||
        bad=$((bad + 1))
done
is "$bad" 0 "40 revocations through the daemon succeed on the full disk"
i=0
until grep -q 'fold: .*No space left on device.*revocations still succeed' "$tmp/d.log" ||
    [ $i -ge 50 ]; do
    sleep 0.1
    i=$((i + 1))
done
grep -q 'fold: .*No space left on device.*revocations still succeed' "$tmp/d.log"
ok $? "the daemon logs the failing fold and that revocations still work"
"$JWTREV" --db "$ST" stats >"$tmp/stats"
grep -q '^fold  *FAILING since .*No space left on device' "$tmp/stats"
ok $? "jwtrev stats says the fold fails, and why"
is "$(grep -c 'No space left' "$tmp/d.log")" 1 "logged once, not at every retry"
"$JWTREV" --db "$ST" list --kind token | grep -q 'jti="x40"'
ok $? "the last revocation is in the store"
rm -f "$tmp/mnt/fill"
i=0
until "$JWTREV" --db "$ST" stats | grep -q '^fold  *ok' || [ $i -ge 50 ]; do
    sleep 0.1
    i=$((i + 1))
done
"$JWTREV" --db "$ST" stats | grep -q '^fold  *ok'
ok $? "with room again, the next try folds"
grep -q 'fold: works again' "$tmp/d.log"
ok $? "and the daemon says so"
is "$("$JWTREV" --db "$ST" stats | sed -n 's/^entries *//p')" 20040 \
    "all 20040 entries there"
is "$(ls "$ST" | grep -c '\.tmp\.')" 0 "no temporary file left"
jd_stop TERM
done_testing
