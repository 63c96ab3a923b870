#!/bin/sh
# The store commands of jwtrev: every command and selector with good and
# bad input, exit codes 0/1/2/3, modes after init, a missing or
# world-writable store, a re-encoded (high-S) copy of a revoked token,
# purge boundaries, and an exact dump -> load round trip.
. "$top_srcdir/tests/tap.sh"
set -u

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PY=/usr/bin/python3
NOW=1700000000
ISS=https://issuer.example
export JWTREV_NOW=$((NOW + 10))
S=$tmp/store
J() { "$JWTREV" --db "$S" "$@"; }

# run CMD...: sets rc, out (stdout) and err (stderr).
run() {
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}

# mode PATH: octal permission bits.
mode() { stat -c %a "$1"; }

# ---- fixtures --------------------------------------------------------------
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$tmp/k.key" 2>/dev/null &&
    openssl pkey -in "$tmp/k.key" -pubout -out "$tmp/k.pub" &&
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$tmp/other.key" 2>/dev/null &&
    openssl pkey -in "$tmp/other.key" -pubout -out "$tmp/other.pub"
ok $? "keys made with openssl"
mk() {
    name=$1
    shift
    "$JWTREV" sign --key "$tmp/k.key" --now $NOW "$@" >"$tmp/t.$name"
}
mk jti --iss $ISS --sub alice --jti id-1 &&
    mk nojti --iss $ISS --sub alice &&
    mk other --iss $ISS --sub alice --jti id-2 &&
    mk kid --kid k-7 --sub carol --jti id-3 &&
    mk old --iss $ISS --sub bob --now $((NOW - 100)) &&
    mk new --iss $ISS --sub bob --now $((NOW + 5))
ok $? "tokens signed"

# The same token with its ECDSA s replaced by n - s: another valid
# signature of the same signing input (docs/security-checklist.md 21
# accepts high-S).
$PY - "$tmp/t.nojti" "$tmp/t.highs" <<'EOF'
import base64, sys
n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
h, p, s = open(sys.argv[1]).read().strip().split(".")
sig = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
r, sv = sig[:32], int.from_bytes(sig[32:], "big")
new = r + (n - sv).to_bytes(32, "big")
out = base64.urlsafe_b64encode(new).rstrip(b"=").decode()
assert out != s
open(sys.argv[2], "w").write(".".join([h, p, out]) + "\n")
EOF
ok $? "a high-S copy of the token without jti"
run "$JWTREV" verify --key "$tmp/k.pub" --now $((NOW + 10)) "$(cat "$tmp/t.highs")"
is "$rc" 0 "the high-S copy verifies on its own"

# ---- init and modes ----------------------------------------------------------
run J init
is "$rc" 0 "init"
is "$(mode "$S"):$(mode "$S/gen"):$(mode "$S/base.db"):$(mode "$S/lock")" \
    "700:600:600:600" "owner-only modes"
grp=$(id -gn)
run "$JWTREV" --db "$tmp/g" init --group "$grp"
is "$rc:$(mode "$tmp/g"):$(mode "$tmp/g/gen"):$(mode "$tmp/g/delta.db")" \
    "0:2750:640:640" "--group: the group reads"
is "$(stat -c %G "$tmp/g/base.db")" "$grp" "files belong to the group"
run "$JWTREV" --db "$tmp/g" init --group "$grp" --logout-writable
is "$rc:$(mode "$tmp/g"):$(mode "$tmp/g/gen"):$(mode "$tmp/g/base.db")" \
    "0:2770:660:640" "--logout-writable: the group writes"
run "$JWTREV" --db "$tmp/x" init --logout-writable
is "$rc" 2 "--logout-writable without --group"
run "$JWTREV" --db "$tmp/x" init --group no-such-group-here
is "$rc" 2 "unknown group"
run "$JWTREV" --db "$tmp/x" init --bogus
is "$rc" 2 "unknown option"
run "$JWTREV" --db "$tmp/no/such/parent" init
is "$rc" 3 "no parent directory: store error"

# ---- other users: the group reads, writes with --logout-writable --------------
# As the web server would: uid nobody, its only group nogroup.
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null &&
    getent group nogroup >/dev/null; then
    chmod 755 "$tmp"
    G=$tmp/shared
    "$JWTREV" --db "$G" init --group nogroup >/dev/null
    run as_nobody "$JWTREV" --db "$G" status <"$tmp/t.jti"
    is "$rc:$out" "0:not revoked" "a member of the group reads the store"
    run as_nobody "$JWTREV" --db "$G" revoke --jti by-nobody
    is "$rc" 3 "but cannot write it"
    "$JWTREV" --db "$G" init --group nogroup --logout-writable >/dev/null
    run as_nobody "$JWTREV" --db "$G" revoke --jti by-nobody
    is "$rc" 0 "with --logout-writable it can"
    is "$(stat -c %U:%G:%a "$G/delta.db")" "nobody:nogroup:640" \
        "its new file: group kept, nobody else may write"
    run "$JWTREV" --db "$G" revoke --jti by-root
    is "$rc:$(stat -c %G:%a "$G/delta.db")" "0:nogroup:640" \
        "root's writes keep the group too"
    run as_nobody "$JWTREV" --db "$G" list --kind token
    is "$(echo "$out" | wc -l)" 2 "and the group reads them"
    run as_nobody "$JWTREV" --db "$S" status <"$tmp/t.jti"
    case $err in *"Permission denied"*) r=0 ;; *) r=1 ;; esac
    is "$rc:$r" "3:0" "an owner-only store is unreadable to others: exit 3"
    chmod 700 "$tmp"
else
    ok 1 "root, setpriv and the group nogroup are needed for the access tests"
fi

# ---- revoke a token and what it does -------------------------------------------
run J status "$(cat "$tmp/t.jti")"
is "$rc:$out" "0:not revoked" "status of a token not revoked"
run J revoke --reason "lost laptop" <"$tmp/t.jti"
is "$rc" 0 "revoke a token from stdin"
case $out in *'token iss="https://issuer.example" jti="id-1"'*'reason="lost laptop"') r=0 ;; *) r=1 ;; esac
ok $r "revoke names the entry: $out"
case $out in *'until=2023-11-14T23:14:20Z'*) r=0 ;; *) r=1 ;; esac
ok $r "until is exp + 60 s leeway"
run J status - <"$tmp/t.jti"
is "$rc" 1 "status: revoked"
case $out in "revoked: revoked: token id entry revoked at "*"(lost laptop)") r=0 ;; *) r=1 ;; esac
ok $r "status names the entry: $out"
run J status <"$tmp/t.other"
is "$rc" 0 "another jti of the same subject is not revoked"
run "$JWTREV" verify --key "$tmp/k.pub" --db "$S" <"$tmp/t.jti"
is "$rc" 1 "verify --db rejects it"
case $err in "rejected: revoked: "*) r=0 ;; *) r=1 ;; esac
ok $r "with reason revoked"

run J revoke <"$tmp/t.nojti"
case $out in "revoked: hash sha256="*) r=0 ;; *) r=1 ;; esac
ok $r "a token without jti is revoked by its signing-input hash"
run J status <"$tmp/t.highs"
is "$rc" 1 "the high-S copy is revoked too"
run "$JWTREV" verify --key "$tmp/k.pub" --db "$S" <"$tmp/t.highs"
is "$rc:$(echo "$err" | cut -d: -f1-2)" "1:rejected: revoked" \
    "and the decision rejects it"

run J revoke --key "$tmp/other.pub" <"$tmp/t.other"
is "$rc" 1 "revoke --key refuses a token the key did not sign"
case $err in "rejected: bad_signature"*) r=0 ;; *) r=1 ;; esac
ok $r "naming the reason"
run J status <"$tmp/t.other"
is "$rc" 0 "and revokes nothing"
run J revoke --key "$tmp/k.pub" --leeway 0 <"$tmp/t.other"
case $out in *'until=2023-11-14T23:13:20Z'*) r=0 ;; *) r=1 ;; esac
is "$rc:$r" "0:0" "revoke --key with the right key, --leeway 0"

# A fractional exp: revoke reads it as the verifier does (rounded up), so
# the entry lasts as long as the token can be accepted: exp 1000.5 with
# leeway 60 is accepted until 1061, and revoked until then too.
mk frac --now 900 --claims '{"sub":"frac","jti":"id-frac","exp":1000.5}'
run "$JWTREV" verify --key "$tmp/k.pub" --now 1060 <"$tmp/t.frac"
is "$rc" 0 "a token with exp 1000.5 is accepted at 1060 (leeway 60)"
F=$tmp/frac-store
"$JWTREV" --db "$F" init >/dev/null
run "$JWTREV" --db "$F" revoke <"$tmp/t.frac"
case $out in *'until=1970-01-01T00:17:41Z'*) r=0 ;; *) r=1 ;; esac
is "$rc:$r" "0:0" "revoke: its entry lasts until 1061 (exp rounded up + 60)"
run "$JWTREV" verify --key "$tmp/k.pub" --db "$F" --now 1060 <"$tmp/t.frac"
is "$rc:$(echo "$err" | cut -d: -f1-2)" "1:rejected: revoked" \
    "revoked at 1060, the last second it would be accepted"
run "$JWTREV" --db "$F" status --now 1060 <"$tmp/t.frac"
is "$rc" 1 "status agrees at 1060"

for bad in "garbage" "a.b" "e30.e30.AAAA x" ""; do
    run J revoke "$bad"
    is "$rc" 2 "revoke refuses the token '$bad'"
    run J status "$bad"
    is "$rc" 2 "status refuses the token '$bad'"
done
case $err$out in *e30*) r=1 ;; *) r=0 ;; esac
ok $r "no token text in the messages"

# ---- revoke by id, subject, key ----------------------------------------------------
run J revoke --jti id-9 --iss $ISS --until $((NOW + 100)) --reason 'said "bye"'
is "$rc" 0 "revoke --jti --iss --until --reason"
mk nine --iss $ISS --sub dave --jti id-9
run J status <"$tmp/t.nine"
is "$rc" 1 "the token of that jti is revoked"
run J status --now $((NOW + 100)) <"$tmp/t.nine"
is "$rc" 0 "until it is over (status --now)"
while IFS='|' read -r desc args; do
    eval "set -- $args"
    run J "$@"
    is "$rc" 2 "usage: $desc"
done <<EOF
--jti with a token|revoke --jti x "$(cat "$tmp/t.jti")"
--iss without --jti|revoke --iss x
--until without --jti|revoke --until 5
--leeway with --jti|revoke --jti x --leeway 5
--alg without a key|revoke --alg ES256
--until not a number|revoke --jti x --until soon
negative --until|revoke --jti x --until -5
a reason of 129 bytes|revoke --jti x --reason $(head -c 129 /dev/zero | tr '\0' r)
an unknown option|revoke --kid x
two tokens|revoke a.b.c d.e.f
revoke-subject without SUB|revoke-subject
revoke-subject with two|revoke-subject a b
revoke-subject --kid|revoke-subject a --kid x
revoke-key --iss|revoke-key k --iss x
revoke-key --before|revoke-key k --before 5
revoke-key without KID|revoke-key
EOF
run J revoke --jti "$(printf 'a\tb')"
is "$rc" 2 "usage: a control character in the jti"

run J revoke-subject bob --iss $ISS --before $NOW --reason "password changed"
is "$rc" 0 "revoke-subject"
run J status <"$tmp/t.old"
case $out in "revoked: subject_revoked: subject entry"*) r=0 ;; *) r=1 ;; esac
is "$rc:$r" "1:0" "a token issued before is subject_revoked"
run J status <"$tmp/t.new"
is "$rc" 0 "a token issued after is not"
run J revoke-key k-7 --reason compromised
is "$rc" 0 "revoke-key"
run J status <"$tmp/t.kid"
case $out in *'key_revoked: key entry for kid "k-7"'*) r=0 ;; *) r=1 ;; esac
is "$rc:$r" "1:0" "a token with that kid is key_revoked"

# ---- list and stats ------------------------------------------------------------------
run J list
is "$(echo "$out" | cut -d' ' -f1 | sort | uniq -c | tr -s ' ' | tr '\n' ,)" \
    " 1 hash, 1 key, 1 subject, 3 token," "list: one line per entry"
run J list --json --kind token --kind key
echo "$out" >"$tmp/list.jsonl"
$PY -c 'import json,sys
ls=[json.loads(l) for l in open(sys.argv[1])]
assert [l["kind"] for l in ls]==["token"]*3+["key"], ls
assert ls[0]["iss"]=="https://issuer.example" and ls[3]["kid"]=="k-7"' \
    "$tmp/list.jsonl"
ok $? "list --json --kind: JSON Lines of the kinds asked"
run J list --kind tokens
is "$rc" 2 "list --kind with an unknown kind"
run J stats --json
$PY -c 'import json,sys; j=json.loads(sys.argv[1]); e=j["entries"]
assert e=={"total":6,"token":3,"hash":1,"subject":1,"key":1}, e
assert j["recent"]==6 and j["base_bytes"]>0 and j["generation"]>1' "$out"
ok $? "stats --json counts per kind"
run J stats
case $out in "entries         6"*) r=0 ;; *) r=1 ;; esac
is "$rc:$r" "0:0" "stats for people"
run J stats extra
is "$rc" 2 "stats takes no argument"

# ---- unrevoke -----------------------------------------------------------------------------
hash=$(J list --json --kind hash | $PY -c 'import json,sys; print(json.load(sys.stdin)["sha256"])')
while IFS='|' read -r want desc args; do
    eval "set -- $args"
    run J unrevoke "$@"
    is "$rc" "$want" "unrevoke $desc"
done <<EOF
0|--jti --iss|--jti id-9 --iss $ISS
1|the same again: no such entry|--jti id-9 --iss $ISS
1|--jti of another issuer|--jti id-1
0|--subject --iss|--subject bob --iss $ISS
0|--kid|--kid k-7
0|--hash|--hash $hash
2|--hash not hex|--hash xyz
2|two selectors|--kid a --jti b
2|--iss with --kid|--kid a --iss b
2|a selector and a token|--kid a a.b.c
2|a garbage token|garbage
EOF
run J unrevoke <"$tmp/t.jti"
is "$rc" 0 "unrevoke a token"
run J status <"$tmp/t.jti"
is "$rc" 0 "it is no longer revoked"
run J status <"$tmp/t.old"
is "$rc" 0 "nor the subject's older token"

# ---- purge ------------------------------------------------------------------------------------
P=$tmp/purge
"$JWTREV" --db "$P" init >/dev/null
"$JWTREV" --db "$P" revoke --jti a --until 1000 >/dev/null &&
    "$JWTREV" --db "$P" revoke --jti b --until 1001 >/dev/null &&
    "$JWTREV" --db "$P" revoke-key k >/dev/null &&
    "$JWTREV" --db "$P" compact >/dev/null &&
    "$JWTREV" --db "$P" revoke-subject s --until 999 >/dev/null
ok $? "a store to purge"
run "$JWTREV" purge --db "$P" --now 1000
is "$rc:$out" "0:purged 2 entries" "purge --now drops until <= now"
is "$("$JWTREV" --db "$P" list | cut -d' ' -f1-2 | tr '\n' ,)" \
    'token iss="",key kid="k",' "and keeps what still matters"
run "$JWTREV" --db "$P" purge --now soon
is "$rc" 2 "purge --now wants a number"

# ---- dump, load ------------------------------------------------------------------------------
A=$tmp/a
B=$tmp/b
"$JWTREV" --db "$A" init >/dev/null && "$JWTREV" --db "$B" init >/dev/null
ok $? "two stores"
cat >"$tmp/in.jsonl" <<'EOF'
{"kind":"token","iss":"https://i","jti":"j1","revoked_at":5,"until":9,"reason":"r \"q\" \\ ü"}
{"kind":"key","kid":"k\u00e9","revoked_at":5,"until":0,"reason":""}

{"kind":"subject","iss":"","sub":"s","before":7,"revoked_at":6,"until":0,"reason":"all"}
{"kind":"hash","sha256":"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff","revoked_at":1,"until":2,"reason":""}
{"kind":"token","iss":"","jti":"j0","revoked_at":5,"until":9,"reason":""}
EOF
run "$JWTREV" --db "$A" load "$tmp/in.jsonl"
is "$rc:$out" "0:loaded 5 entries" "load a file (a blank line is skipped)"
is "$err" "" "no progress on stderr when it is not a terminal"
"$JWTREV" --db "$A" revoke --jti extra >/dev/null
"$JWTREV" --db "$A" dump >"$tmp/a.jsonl"
"$JWTREV" --db "$B" load <"$tmp/a.jsonl" >/dev/null
"$JWTREV" --db "$B" dump >"$tmp/b.jsonl"
cmp -s "$tmp/a.jsonl" "$tmp/b.jsonl"
ok $? "dump -> load -> dump is byte-exact"
is "$(wc -l <"$tmp/a.jsonl")" 6 "with every entry"
cmp -s "$tmp/a.jsonl" "$("$JWTREV" --db "$A" list --json >"$tmp/l.jsonl"; echo "$tmp/l.jsonl")"
ok $? "list --json is the dump format"
while IFS='|' read -r line desc; do
    printf '{"kind":"key","kid":"fine"}\n%s\n' "$line" >"$tmp/bad.jsonl"
    run "$JWTREV" --db "$B" load "$tmp/bad.jsonl"
    case $err in *"bad.jsonl:2:"* | *"bad.jsonl: line 2 "*) r=0 ;; *) r=1 ;; esac
    is "$rc:$r" "2:0" "load refuses $desc, naming line 2"
done <<'EOF'
not json|text
[1,2]|an array
{"kind":"token","jti":"j","junk":1}|an unknown member
{"kind":"token","jti":5}|a number for a text
{"kind":"key","kid":"k","until":-1}|a negative time
{"kind":"key","kid":"k","until":1.5}|a fraction
{"kind":"hash","sha256":"00"}|a short hash
{"kind":"key"}|an entry without id
{"kind":"key","kid":""}|an empty id
{"kind":"key","kid":"a","kid":"b"}|a repeated member
{"kind":"key","iss":"i","kid":"k"}|an issuer on a key
{"kind":"token","jti":"a\nb"}|a control character
{"kind":"key","kid":"fine"}|a repeated entry
EOF
"$JWTREV" --db "$B" dump >"$tmp/b2.jsonl"
cmp -s "$tmp/a.jsonl" "$tmp/b2.jsonl"
ok $? "a refused load wrote nothing"
run "$JWTREV" --db "$B" load "$tmp/none.jsonl"
is "$rc" 2 "load of a missing file"
if command -v script >/dev/null; then
    script -qec "\"$JWTREV\" --db \"$B\" load \"$tmp/a.jsonl\"" /dev/null \
        >"$tmp/tty" 2>&1
    grep -q "load: writing 100%" "$tmp/tty"
    ok $? "progress shows on a terminal"
else
    ok 1 "script(1) from bsdutils is needed for the terminal check"
fi

# ---- compact, --db placement, --help ----------------------------------------------------------
run "$JWTREV" compact --db "$A"
is "$rc:$out" "0:compacted" "compact with its own --db"
is "$("$JWTREV" --db "$A" stats --json | $PY -c 'import json,sys; j=json.load(sys.stdin); print(j["recent"], j["entries"]["total"])')" \
    "0 6" "nothing recent after compact, every entry kept"
for c in init revoke revoke-subject revoke-key unrevoke status list stats \
    purge compact dump load; do
    run "$JWTREV" $c --help
    case $out in "usage: jwtrev $c"*) r=0 ;; *) r=1 ;; esac
    is "$rc:$r" "0:0" "$c --help"
done

# ---- a missing store, a world-writable one ----------------------------------------------------
M=$tmp/missing
for args in "revoke --jti x" "revoke-subject s" "revoke-key k" \
    "unrevoke --kid k" "list" "stats" "purge" "compact" "dump"; do
    # shellcheck disable=SC2086
    run "$JWTREV" --db "$M" $args
    is "$rc" 3 "$args on a missing store: exit 3"
done
run "$JWTREV" --db "$M" status <"$tmp/t.jti"
is "$rc" 3 "status on a missing store: exit 3"
run "$JWTREV" --db "$M" load "$tmp/in.jsonl"
is "$rc" 3 "load into a missing store: exit 3"
run "$JWTREV" verify --key "$tmp/k.pub" --db "$M" <"$tmp/t.jti"
is "$rc" 3 "verify --db with a missing store fails closed: exit 3"
chmod o+w "$S"
run J status <"$tmp/t.jti"
case $err in *"writable by others"*) r=0 ;; *) r=1 ;; esac
is "$rc:$r" "3:0" "a world-writable store is refused by readers"
run J revoke --jti x
is "$rc" 3 "and by writers"
chmod o-w "$S" && chmod o+w "$S/delta.db"
run J list
is "$rc" 3 "a world-writable file too"
chmod o-w "$S/delta.db"
run J list
is "$rc" 0 "fixed modes: the store works again"

# ---- a delta written for another base ----------------------------------------
# A writer killed between a new base and its empty delta leaves the old
# delta, whose changes the new base holds: readers go on.  A base.db
# restored over a newer store leaves a delta whose revocations the base
# lacks: refused, never silently forgotten.
R=$tmp/restore
"$JWTREV" --db "$R" init >/dev/null
"$JWTREV" --db "$R" revoke --jti x --iss $ISS >/dev/null
cp "$R/delta.db" "$tmp/delta.old"
"$JWTREV" --db "$R" compact >/dev/null
cp "$tmp/delta.old" "$R/delta.db"
run "$JWTREV" --db "$R" stats
is "$rc" 0 "a stale delta the base holds: the store reads on"
run "$JWTREV" --db "$R" list
case $out in *'jti="x"'*) r=0 ;; *) r=1 ;; esac
ok $r "and its revocation is there (in base.db)"
# The same after a killed purge: the stale delta's expired entry is gone
# from the new base, and that loses nothing.
"$JWTREV" --db "$R" revoke --jti old --iss $ISS --until 1000 >/dev/null
cp "$R/delta.db" "$tmp/delta.old"
"$JWTREV" --db "$R" purge >/dev/null
cp "$tmp/delta.old" "$R/delta.db"
run "$JWTREV" --db "$R" stats
is "$rc" 0 "a stale delta whose only extra entry has expired: the store reads on"
"$JWTREV" --db "$R" revoke --jti y --iss $ISS >/dev/null
cp "$R/base.db" "$tmp/base.old"
cp "$R"/bloom.* "$tmp/"
"$JWTREV" --db "$R" compact >/dev/null
"$JWTREV" --db "$R" revoke --jti z --iss $ISS >/dev/null
cp "$tmp/base.old" "$R/base.db"
cp "$tmp"/bloom.* "$R/"
run "$JWTREV" --db "$R" stats
is "$rc" 3 "a base.db restored under a newer delta: refused (exit 3)"
case $err in *"delta.db was written for another base.db and holds revocations"*) r=0 ;; *) r=1 ;; esac
ok $r "naming why: $err"
run "$JWTREV" --db "$R" revoke --jti w --iss $ISS
is "$rc" 3 "and no writer writes over it (the delta's z would be lost)"
done_testing
