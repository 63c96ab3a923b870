#!/bin/sh
# jwtrev check: an intact store checks clean; each kind of damage is found
# and named with exit 1 (a flipped byte in a page of base.db and of
# delta.db, a zeroed block of the filter, the filter deleted, a filter
# with a valid checksum that misses every entry, a stale delta.db, gen
# cut, a leftover temporary file, lock missing); --rebuild repairs the
# filter, the stale delta and the leftovers with every revoked token
# still revoked, and refuses a damaged base.db or delta.db with the
# advice, touching nothing; exit 2 for usage, 3 for a store that cannot
# be examined; a store of 10000 entries checks in a few seconds.
. "$top_srcdir/tests/tap.sh"
set -u

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PY=/usr/bin/python3
NOW=1700000000
ISS=https://issuer.example
export JWTREV_NOW=$((NOW + 10))
P=$tmp/pristine

run() {
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}
# has TEXT: is TEXT (an extended regex) in the output?
has() { printf '%s\n' "$out" | grep -Eq -- "$1"; }
# fresh NAME: a copy of the pristine store as $D
fresh() {
    D=$tmp/$1
    rm -rf "$D"
    cp -a "$P" "$D"
}
poke() { printf '\377' | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
bloom_of() { (cd "$1" && ls bloom.* | head -n 1); }
# revoked_all DIR N...: every token t.N is revoked in DIR (status exit 1)
revoked_all() {
    local d=$1 n bad=""
    shift
    for n in "$@"; do
        "$JWTREV" --db "$d" status <"$tmp/t.$n" >/dev/null 2>&1
        [ $? -eq 1 ] || bad="$bad t.$n"
    done
    [ -z "$bad" ] || diag "not revoked:$bad"
    [ -z "$bad" ]
}
sums() { (cd "$1" && md5sum base.db delta.db gen bloom.* 2>/dev/null); }

# ---- a store: three revocations folded into base.db, one in delta.db ---------
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$tmp/k.key" 2>/dev/null
for n in 1 2 3 4 5; do
    "$JWTREV" sign --key "$tmp/k.key" --now $NOW --iss $ISS --sub alice \
        --jti "id-$n" >"$tmp/t.$n" || exit 1
done
"$JWTREV" --db "$P" init >/dev/null &&
    for n in 1 2 3; do "$JWTREV" --db "$P" revoke <"$tmp/t.$n" >/dev/null; done &&
    "$JWTREV" --db "$P" compact >/dev/null &&
    "$JWTREV" --db "$P" revoke <"$tmp/t.4" >/dev/null
ok $? "a store with tokens 1-3 in base.db and 4 in delta.db"
# (compact leaves the old filter to the next writer: the revoke removed
# it.)
ls "$P" | grep -c '^bloom\.' | grep -qx 1
ok $? "one filter in the pristine store"
revoked_all "$P" 1 2 3 4
ok $? "tokens 1-4 revoked"
# Another store whose delta.db holds tokens 4 and 5: a stale delta here.
O=$tmp/other
"$JWTREV" --db "$O" init >/dev/null &&
    "$JWTREV" --db "$O" revoke <"$tmp/t.4" >/dev/null &&
    "$JWTREV" --db "$O" revoke <"$tmp/t.5" >/dev/null
ok $? "another store, tokens 4 and 5 in its delta.db"

# ---- intact --------------------------------------------------------------------
run "$JWTREV" --db "$P" check
is "$rc" 0 "an intact store: exit 0"
has '^base\.db: ok \(3 entries\)$' && has '^delta\.db: ok \(1 changes\)$' &&
    has '^bloom\.[0-9a-f]{32}: ok$' && has '^gen: ok$' && has '^lock: ok$'
ok $? "one line per file, each ok: $(echo $out)"
has '^check: intact: 3 entries, 1 recent changes$'
ok $? "and the summary"
run "$JWTREV" --db "$P" check --json
is "$rc" 0 "--json: exit 0"
printf '%s' "$out" | $PY -c '
import json, sys
r = json.load(sys.stdin)
names = [f["name"] for f in r["files"]]
assert r["intact"] is True and r["entries"]["token"] == 3, r
assert r["changes"] == 1 and names[:2] == ["base.db", "delta.db"], r
assert all(f["verdict"] == "ok" for f in r["files"]), r
assert r["files"][0]["checksums"] is True, r
'
ok $? "--json: intact, counts, verdicts, page checksums"

# ---- damage, each found and named --------------------------------------------
# case NAME DESC REGEX CMD...: damage a fresh copy with CMD, check it:
# exit 1 and REGEX in the output.
case_() {
    local name=$1 desc=$2 re=$3
    shift 3
    fresh "$name"
    "$@"
    run "$JWTREV" --db "$D" check
    is "$rc" 1 "$desc: exit 1"
    has "$re"
    ok $? "$desc: named ($(printf '%s' "$out" | grep -Ev ': ok( |$)' | head -n 2 | tr '\n' ' '))"
}
case_ base "a flipped byte in a page of base.db" \
    '^base\.db: damaged: .*(damaged|DB_RUNRECOVERY|checksum)' \
    eval 'poke "$D/base.db" 4200'
case_ delta "a flipped byte in a page of delta.db" \
    '^delta\.db: damaged: ' eval 'poke "$D/delta.db" 4200'
case_ zblock "a zeroed block in the filter" \
    '^bloom\.[0-9a-f]{32}: damaged: .*checksum fails' \
    eval 'dd if=/dev/zero of="$D/$(bloom_of "$D")" bs=64 seek=1 count=1 conv=notrunc status=none'
# A page of garbage past the tree: readers never read it, the verifier
# does.
case_ tail "a page of garbage after the last one of base.db" \
    "^base\\.db: damaged: Berkeley DB's verifier: " \
    eval 'head -c 4096 /dev/urandom >>"$D/base.db"'
case_ nobloom "the filter deleted" '^bloom\.[0-9a-f]{32}: missing' \
    eval 'rm "$D"/bloom.*'

# A filter that misses entries but whose checksum holds: every block
# zeroed and the checksum recomputed (SipHash-2-4 keyed with the base's
# id, store_bloom.c).  Readers trust it.
forge() {
    $PY - "$1" <<'EOF'
import struct, sys
M = (1 << 64) - 1
def rotl(x, b): return ((x << b) | (x >> (64 - b))) & M
def rnd(v):
    v[0] = (v[0] + v[1]) & M; v[1] = rotl(v[1], 13); v[1] ^= v[0]; v[0] = rotl(v[0], 32)
    v[2] = (v[2] + v[3]) & M; v[3] = rotl(v[3], 16); v[3] ^= v[2]
    v[0] = (v[0] + v[3]) & M; v[3] = rotl(v[3], 21); v[3] ^= v[0]
    v[2] = (v[2] + v[1]) & M; v[1] = rotl(v[1], 17); v[1] ^= v[2]; v[2] = rotl(v[2], 32)
def sip24(k0, k1, m):
    v = [k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d,
         k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573]
    n = len(m) // 8 * 8
    for i in range(0, n, 8):
        w, = struct.unpack("<Q", m[i:i + 8]); v[3] ^= w; rnd(v); rnd(v); v[0] ^= w
    last = (len(m) & 0xff) << 56
    for i, b in enumerate(m[n:]): last |= b << (8 * i)
    v[3] ^= last; rnd(v); rnd(v); v[0] ^= last; v[2] ^= 0xff
    for _ in range(4): rnd(v)
    return v[0] ^ v[1] ^ v[2] ^ v[3]
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
assert b[:8] == b"JWTRBLM2"
k0, k1 = struct.unpack("<QQ", b[8:24])
def seal(b):
    h0 = sip24(k0, k1, bytes(b[:32])); h1 = sip24(k0, k1, bytes(b[64:]))
    return sip24(k0, k1, struct.pack("<QQ", h0, h1))
assert struct.pack(">Q", seal(b)) == b[32:40], "checksum recomputed wrongly"
b[64:] = bytes(len(b) - 64)
b[32:40] = struct.pack(">Q", seal(b))
open(p, "r+b").write(b)
EOF
}
fresh forged
forge "$D/$(bloom_of "$D")"
ok $? "a filter forged: no entry in it, a valid checksum"
"$JWTREV" --db "$D" status <"$tmp/t.1" >/dev/null 2>&1
diag "readers trust it: status of token 1 exits $? (0: not revoked)"
run "$JWTREV" --db "$D" check
is "$rc" 1 "a filter that misses entries: exit 1"
has '^bloom\.[0-9a-f]{32}: damaged: answers "surely absent" for 3 entries of base\.db$'
ok $? "a filter that misses entries: named ($(echo "$out" | grep ^bloom))"

case_ stale "a stale delta.db (copied from another store)" \
    '^delta\.db: stale: written for another base\.db: readers ignore its changes, some of them revocations base\.db lacks' \
    cp "$O/delta.db" "$tmp/stale/delta.db"
"$JWTREV" --db "$D" status <"$tmp/t.5" >/dev/null 2>&1
diag "readers ignore the stale delta.db: status of token 5 exits $?"
case_ gencut "gen cut" '^gen: damaged: truncated or not a jwtrev generation file' \
    truncate -s 0 "$tmp/gencut/gen"
case_ tmpfile "a leftover base.db.tmp.123" \
    '^base\.db\.tmp\.123: leftover: a temporary file a dead writer left' \
    touch "$tmp/tmpfile/base.db.tmp.123"
case_ nolock "lock missing" '^lock: missing' rm "$tmp/nolock/lock"
# base.db's meta record counting 2 tokens where it holds 3 (the file
# rewritten through db5.3_dump and db5.3_load, page checksums kept).
recount() {
    (cd "$D" && db5.3_dump base.db >"$tmp/cdump" && $PY - "$tmp/cdump" <<'EOF'
import sys
p = sys.argv[1]
lines = open(p).read().split("\n")
i = lines.index(" 00636f756e74")  # the key "\0count"
v = lines[i + 1]
assert v[1 + 16:1 + 32] == "0000000000000003", v
lines[i + 1] = v[:1 + 16] + "0000000000000002" + v[1 + 32:]
open(p, "w").write("\n".join(lines))
EOF
    ) && rm "$D/base.db" && db5.3_load -f "$tmp/cdump" "$D/base.db"
}
case_ count "a meta record's count that is wrong" \
    '^base\.db: damaged: its meta record counts 2 token entries, the file holds 3' \
    recount

# An old filter left by compact is no damage.
fresh unused
cp "$D/$(bloom_of "$D")" "$D/bloom.00000000000000000000000000000000"
run "$JWTREV" --db "$D" check
is "$rc" 0 "the filter of an earlier base: exit 0"
has '^bloom\.0{32}: unused: the filter of an earlier base\.db'
ok $? "and it is named unused"

# A base.db without page checksums, as an older jwtrev wrote it.
fresh nosum
(cd "$D" && db5.3_dump base.db | grep -v '^chksum=' >"$tmp/dump" &&
    rm base.db && db5.3_load -f "$tmp/dump" base.db)
ok $? "base.db rewritten without page checksums (db5.3_dump | db5.3_load)"
run "$JWTREV" --db "$D" check
is "$rc" 0 "no page checksums: still intact, exit 0"
has '^base\.db: ok \(3 entries\) \(no page checksums: written by an older jwtrev'
ok $? "but named"

# ---- what check cannot read at all, and usage ---------------------------------
run "$JWTREV" --db "$tmp/nothing" check
is "$rc" 3 "no store directory: exit 3"
case $err in *"$tmp/nothing: missing"*) r=0 ;; *) r=1 ;; esac
ok $r "and the message names it: $err"
mkdir -m 0777 "$tmp/open"
run "$JWTREV" --db "$tmp/open" check
is "$rc" 3 "a world-writable directory: exit 3"
run "$JWTREV" --db "$P" check --bogus
is "$rc" 2 "an unknown option: exit 2"
run "$JWTREV" --db "$P" check extra
is "$rc" 2 "an argument: exit 2"
run "$JWTREV" check --help
is "$rc" 0 "--help"
has '^usage: jwtrev check \[--rebuild\] \[--json\]'
ok $? "--help prints the usage"

# ---- --rebuild ---------------------------------------------------------------------
# rebuilt NAME DESC: --rebuild exits 0, then check is clean, tokens 1-4
# revoked, and nothing else than the store's files is left.
rebuilt() {
    local desc=$1
    shift
    run "$JWTREV" --db "$D" check --rebuild
    is "$rc" 0 "--rebuild, $desc: exit 0"
    [ "$rc" -eq 0 ] || diag "$out"
    run "$JWTREV" --db "$D" check
    is "$rc" 0 "after --rebuild, $desc: check clean"
    revoked_all "$D" "$@"
    ok $? "after --rebuild, $desc: tokens $* still revoked"
    is "$(ls "$D" | grep -vcE '^(base\.db|delta\.db|gen|lock|bloom\.[0-9a-f]{32})$')" 0 \
        "after --rebuild, $desc: only store files left"
}
fresh r_zblock
dd if=/dev/zero of="$D/$(bloom_of "$D")" bs=64 seek=1 count=1 conv=notrunc status=none
touch "$D/base.db.tmp.123" "$D/delta.db.tmp.77"
run "$JWTREV" --db "$D" check --rebuild
is "$rc" 0 "--rebuild: a zeroed filter block and two leftovers: exit 0"
has '^  repaired: rebuilt from base\.db' && has '^  repaired: removed'
ok $? "it says what it did"
has '^check: intact: 4 entries, 0 recent changes \(after the repairs above\)'
ok $? "and sums up"
run "$JWTREV" --db "$D" check
is "$rc" 0 "then check is clean"
revoked_all "$D" 1 2 3 4
ok $? "every revoked token still revoked"
[ ! -e "$D/base.db.tmp.123" ] && [ ! -e "$D/delta.db.tmp.77" ]
ok $? "the leftovers are gone"

fresh r_nobloom
rm "$D"/bloom.*
rebuilt "the filter deleted" 1 2 3 4
fresh r_forged
forge "$D/$(bloom_of "$D")"
rebuilt "a forged filter" 1 2 3 4
fresh r_stale
cp "$O/delta.db" "$D/delta.db"
run "$JWTREV" --db "$D" check --rebuild
is "$rc" 0 "--rebuild, a stale delta.db: exit 0"
has '^  repaired: replaced by an empty delta\.db; its revocations base\.db lacked were added'
ok $? "it keeps the revocations base.db lacked"
run "$JWTREV" --db "$D" check
is "$rc" 0 "after --rebuild, a stale delta.db: check clean"
revoked_all "$D" 1 2 3 4 5
ok $? "tokens 1-3 of base.db and 4-5 of the stale delta.db revoked"
fresh r_nosum
(cd "$D" && rm base.db && db5.3_load -f "$tmp/dump" base.db)
rebuilt "a base.db without page checksums" 1 2 3 4
run "$JWTREV" --db "$D" check
has 'no page checksums'
is "$?" 1 "and base.db has page checksums now"

# refused: a damaged base.db or delta.db, and gen cut; nothing is touched
refused() {
    local desc=$1 re=$2
    sums "$D" >"$tmp/before"
    run "$JWTREV" --db "$D" check --rebuild
    is "$rc" 1 "--rebuild refuses $desc: exit 1"
    has "$re"
    ok $? "--rebuild refuses $desc: the advice ($(echo "$out" | grep -m1 'not rebuilt'))"
    sums "$D" >"$tmp/after"
    cmp -s "$tmp/before" "$tmp/after"
    ok $? "--rebuild refuses $desc: no file changed"
}
fresh r_base
poke "$D/base.db" 4200
refused "a damaged base.db" \
    '^  rebuild: not rebuilt: base\.db holds the entries; restore from a backup: jwtrev --db BACKUP dump > entries\.jsonl, then jwtrev load'
fresh r_delta
poke "$D/delta.db" 4200
dd if=/dev/zero of="$D/$(bloom_of "$D")" bs=64 seek=1 count=1 conv=notrunc status=none
refused "a damaged delta.db (and filter)" \
    '^  rebuild: not rebuilt: delta\.db holds the recent changes and rewriting it may lose revocations; restore .*jwtrev load'
fresh r_gen
truncate -s 0 "$D/gen"
rm "$D"/bloom.*
refused "a cut gen (and no filter)" \
    '^  rebuild: not rebuilt: move it aside and run jwtrev init'
# the advice works: gen moved aside, init, rebuild
rm "$D/gen" && "$JWTREV" --db "$D" init >/dev/null
rebuilt "gen rewritten by init" 1 2 3 4

# ---- 10000 entries -------------------------------------------------------------
B=$tmp/big
"$JWTREV" --db "$B" init >/dev/null
$PY -c '
for i in range(10000):
    print("{\"kind\":\"token\",\"iss\":\"https://issuer.example\",\"jti\":\"big-%05d\"}" % i)
' >"$tmp/big.jsonl"
"$JWTREV" --db "$B" load "$tmp/big.jsonl" >/dev/null
ok $? "a store of 10000 entries loaded"
t0=$(date +%s%N)
run "$JWTREV" --db "$B" check
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
is "$rc" 0 "10000 entries: intact"
diag "check of 10000 entries: $ms ms"
[ "$ms" -lt 3000 ]
ok $? "10000 entries checked in under 3 s ($ms ms)"
has '^base\.db: ok \(10000 entries\)$'
ok $? "all 10000 walked"

done_testing
