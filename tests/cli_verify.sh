#!/bin/sh
# jwtrev verify: every policy option takes effect, --config is equivalent
# to the flags, exit codes 0/1/2/3, output formats, token input rules, and
# no part of a rejected token ever reaches stderr.
. "$top_srcdir/tests/tap.sh"
set -u

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PY=/usr/bin/python3
NOW=1700000000
ISS=https://issuer.example
leaks=""

# ---- fixtures: keys made now, tokens from jwtrev sign (cli_sign.sh and
# interop_pyjwt.py check the signer against an independent verifier) ----
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$tmp/k1.key" 2>/dev/null &&
    openssl pkey -in "$tmp/k1.key" -pubout -out "$tmp/k1.pub" &&
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$tmp/k2.key" 2>/dev/null &&
    openssl pkey -in "$tmp/k2.key" -pubout -out "$tmp/k2.pub" &&
    openssl rand -hex 32 | tr -d '\n' >"$tmp/hs.secret"
ok $? "test keys generated with openssl"
K1=$tmp/k1.pub
K2=$tmp/k2.pub
HS=$tmp/hs.secret

# mk NAME [sign options]: a token signed with k1 at NOW into $tmp/t.NAME
mk() {
    name=$1
    shift
    "$JWTREV" sign --key "$tmp/k1.key" --now $NOW "$@" >"$tmp/t.$name"
}
mk ok --iss $ISS --sub alice --aud api &&
    mk short --iss $ISS --sub alice --aud api --ttl 60 &&
    mk jti --sub alice --jti id-1 &&
    mk noexp --sub alice --ttl 0 &&
    mk uid --claims '{"uid":"bob"}' &&
    mk nbf --claims "{\"nbf\":$((NOW + 1000))}" &&
    mk nosub --iss $ISS &&
    mk twoaud --aud api --aud web &&
    mk kid --kid k1 --sub alice &&
    mk evil --claims '{"iss":"evil\u001b[31m\u0007"}' &&
    mk big --claims "{\"pad\":\"$(head -c 9000 /dev/zero | tr '\0' a)\"}" &&
    "$JWTREV" sign --secret "$HS" --now $NOW --sub alice >"$tmp/t.hs" &&
    "$JWTREV" sign --key "$tmp/k2.key" --now $NOW --sub alice >"$tmp/t.k2"
ok $? "test tokens signed"

# Tokens no signer of ours would make, built with PyJWT.
$PY - "$tmp" $NOW <<'EOF'
import sys, jwt, base64, hmac, hashlib
d, now = sys.argv[1], int(sys.argv[2])
key = open(d + "/k1.key").read()
def put(name, tok):
    open(d + "/t." + name, "w").write(tok + "\n")
put("at", jwt.encode({"sub": "alice", "exp": now + 3600}, key, "ES256",
                     headers={"typ": "at+jwt"}))
# Payloads that are not claim sets, for --signature-only.
secret = open(d + "/hs.secret", "rb").read()
def hs256(payload):
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    si = b64(b'{"alg":"HS256"}') + "." + b64(payload)
    mac = hmac.new(secret, si.encode(), hashlib.sha256).digest()
    return si + "." + b64(mac)
put("text", hs256(b"hello, world"))
put("binary", hs256(b"\xff\xfe\x00\x01"))
EOF
ok $? "PyJWT tokens made"

# A tampered token: the header and signature of "ok" around the payload
# of another token (sub mallory).
mk mallory --iss $ISS --sub mallory --aud api
IFS=. read -r h _ s <"$tmp/t.ok"
IFS=. read -r _ p _ <"$tmp/t.mallory"
printf '%s.%s.%s\n' "$h" "$p" "$s" >"$tmp/t.tampered"

# jfield FILE EXPR: evaluate a Python expression over the JSON in FILE (j).
jfield() {
    $PY -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@" 2>/dev/null
}

# ---- running verify ----------------------------------------------------
# v TOKEN_NAME [verify options]: stdin from $tmp/t.TOKEN_NAME; sets rc,
# out, err and reason (the code of a "rejected:" line).
v() {
    tok=$1
    shift
    "$JWTREV" verify "$@" <"$tmp/t.$tok" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
    reason=$(sed -n 's/^rejected: \([a-z_]*\): .*/\1/p' "$tmp/err")
    [ "$rc" -eq 1 ] && check_leak "$tok"
    return 0
}

# A rejected token's segments must not appear on stderr
# (docs/security-checklist.md 33).
check_leak() {
    for seg in $(tr '.' ' ' <"$tmp/t.$1"); do
        [ ${#seg} -ge 8 ] && grep -qF -- "$seg" "$tmp/err" &&
            leaks="$leaks $1"
    done
}

# expect WANT TOKEN DESC [verify options]; WANT is "ok", a reason code
# (exit 1 with that reason), "usage" (exit 2) or "store" (exit 3).
expect() {
    want=$1 tok=$2 desc=$3
    shift 3
    v "$tok" "$@"
    case $want in
    ok) is "$rc" 0 "$desc" ;;
    usage) is "$rc" 2 "$desc" ;;
    store) is "$rc" 3 "$desc" ;;
    *) is "$rc:$reason" "1:$want" "$desc" ;;
    esac
}

# ---- every policy option takes effect --------------------------------
# Each row: the outcome, the token, a description, the options.
# shellcheck disable=SC2086
while IFS='|' read -r want tok desc opts; do
    [ -z "$want" ] && continue
    eval "set -- $opts"
    expect "$want" "$tok" "$desc" "$@"
done <<EOF
ok|ok|a good token is accepted|--key $K1 --now $NOW
bad_signature|ok|another key of the same type does not verify|--key $K2 --now $NOW
ok|ok|--key is repeatable|--key $K2 --key $K1 --now $NOW
usage|ok|no key at all is a configuration error|--now $NOW
key_not_found|hs|an HS256 token finds no HMAC key among public keys|--key $K1 --now $NOW
ok|hs|--secret verifies an HS256 token|--secret $HS --now $NOW
ok|hs|--secret next to --key|--key $K1 --secret $HS --now $NOW
alg_not_allowed|ok|--alg leaves out the token's algorithm|--secret $HS --alg HS256 --now $NOW
ok|ok|--alg with the token's algorithm|--key $K1 --secret $HS --alg HS256,ES256 --now $NOW
usage|ok|--alg none is refused|--key $K1 --alg none --now $NOW
ok|ok|--iss with the token's issuer|--key $K1 --iss $ISS --now $NOW
bad_issuer|ok|--iss with another issuer|--key $K1 --iss https://other.example --now $NOW
ok|ok|--iss is repeatable|--key $K1 --iss https://other.example --iss $ISS --now $NOW
bad_issuer|ok|--iss is exact (no trailing slash tolerance)|--key $K1 --iss $ISS/ --now $NOW
ok|ok|--aud with the token's audience|--key $K1 --aud api --now $NOW
bad_audience|ok|--aud with another audience|--key $K1 --aud web --now $NOW
ok|ok|--aud is repeatable|--key $K1 --aud web --aud api --now $NOW
ok|twoaud|--aud matches one element of an array|--key $K1 --aud web --now $NOW
ok|short|within the default leeway of 60 s after exp|--key $K1 --now $((NOW + 90))
expired|short|--leeway 10 makes the same token expired|--key $K1 --leeway 10 --now $((NOW + 90))
usage|short|--leeway wants a number|--key $K1 --leeway soon --now $NOW
ok|ok|no age limit by default|--key $K1 --now $((NOW + 1000))
too_old|ok|--max-age rejects an older token|--key $K1 --max-age 100 --now $((NOW + 1000))
ok|ok|--max-age accepts a younger token|--key $K1 --max-age 2000 --now $((NOW + 1000))
missing_claim|noexp|exp is required by default|--key $K1 --now $NOW
ok|noexp|--require "" requires nothing|--key $K1 --require "" --now $NOW
missing_claim|ok|--require jti wants a jti|--key $K1 --require exp,jti --now $NOW
ok|jti|--require jti with a jti|--key $K1 --require exp,jti --now $NOW
typ_not_allowed|at|typ at+jwt is refused by default|--key $K1 --now $NOW
ok|at|--typ at+jwt accepts it|--key $K1 --typ at+jwt --now $NOW
typ_not_allowed|ok|--typ replaces the default JWT|--key $K1 --typ at+jwt --now $NOW
ok|ok|--typ list, case-insensitive|--key $K1 --typ at+JWT,jwt --now $NOW
ok|nosub|without --user-claim no user is needed|--key $K1 --now $NOW
missing_claim|nosub|--user-claim sub wants a sub|--key $K1 --user-claim sub --now $NOW
missing_claim|ok|--user-claim uid wants a uid|--key $K1 --user-claim uid --now $NOW
ok|uid|--user-claim uid with a uid|--key $K1 --user-claim uid --now $NOW
expired|ok|--now after exp + leeway|--key $K1 --now $((NOW + 3661))
issued_in_future|ok|--now long before iat|--key $K1 --now $((NOW - 100000))
not_yet_valid|nbf|--now before nbf - leeway|--key $K1 --now $((NOW + 900))
ok|nbf|--now after nbf - leeway|--key $K1 --now $((NOW + 950))
ok|ok|--now just before exp + leeway|--key $K1 --now $((NOW + 3659))
bad_signature|tampered|a tampered payload|--key $K1 --now $NOW
expired|ok|an expired token|--key $K1 --now $((NOW + 7200))
too_large|big|a token over 8192 bytes|--key $K1 --now $NOW
key_not_found|kid|a kid matches no key without one|--key $K1 --now $NOW
ok|kid|KID#FILE gives a PEM key its kid|--key k1#$K1 --now $NOW
ok|ok|a key with a kid also verifies a token without one|--key k1#$K1 --now $NOW
key_not_found|kid|a kid matches only that kid|--key k2#$K1 --now $NOW
ok|ok|--signature-only ignores the claims|--key $K1 --signature-only --iss https://other.example --now $((NOW + 9999))
bad_signature|tampered|--signature-only still checks the signature|--key $K1 --signature-only --now $NOW
EOF

# ---- --now, JWTREV_NOW and the real clock ------------------------------
export JWTREV_NOW=$((NOW + 7200))
v ok --key "$K1"
is "$rc:$reason" "1:expired" "JWTREV_NOW sets the clock"
v ok --key "$K1" --now $NOW
is "$rc" 0 "--now wins over JWTREV_NOW"
unset JWTREV_NOW
v ok --key "$K1"
is "$rc:$reason" "1:expired" "the real clock: a 2023 token has expired"

# ---- --config: the same settings from a file --------------------------
cat >"$tmp/full.conf" <<EOF
# every policy option, as the PAM module reads them
key = $K1
secret=$HS
alg=ES256,HS256
iss=$ISS
aud=api
leeway=10
max_age=2000
require=exp,sub
typ=JWT
user_claim=sub
EOF
flags="--key $K1 --secret $HS --alg ES256,HS256 --iss $ISS --aud api
 --leeway 10 --max-age 2000 --require exp,sub --typ JWT --user-claim sub"
same=0
for row in "ok $NOW" "short $((NOW + 90))" "ok $((NOW + 3605))" \
    "ok $((NOW + 2100))" "hs $NOW" "at $NOW" "nosub $NOW" "twoaud $NOW" \
    "mallory $NOW" "tampered $NOW" "noexp $NOW"; do
    set -- $row
    # shellcheck disable=SC2086
    v "$1" $flags --now "$2"
    a="$rc $out $err"
    v "$1" --config "$tmp/full.conf" --now "$2"
    if [ "$a" = "$rc $out $err" ]; then
        same=$((same + 1))
    else
        diag "differs for $row: flags: $a / config: $rc $out $err"
    fi
done
is "$same" 11 "--config gives the same outcome and output as the flags"
v short --config "$tmp/full.conf" --now $((NOW + 90))
is "$rc:$reason" "1:expired" "the file's leeway takes effect"
v short --config "$tmp/full.conf" --leeway 60 --now $((NOW + 90))
is "$rc" 0 "a flag replaces the file's leeway"
printf 'key=%s\niss=https://other.example\n' "$K1" >"$tmp/iss.conf"
v ok --config "$tmp/iss.conf" --now $NOW
is "$rc:$reason" "1:bad_issuer" "the file's issuer takes effect"
v ok --config "$tmp/iss.conf" --iss $ISS --now $NOW
is "$rc" 0 "--iss adds to the file's issuers"
printf 'key=%s\nsecret=%s\nalg=ES256,HS256\n' "$K1" "$HS" >"$tmp/alg.conf"
v hs --config "$tmp/alg.conf" --now $NOW
is "$rc" 0 "the file's alg list takes effect"
v hs --config "$tmp/alg.conf" --alg ES256 --now $NOW
is "$rc" 2 "--alg replaces the file's list (the secret has no algorithm left)"
cat >"$tmp/pam.conf" <<EOF
key=$K1
debug
use_first_pass
on_db_error=ignore
export_claims=sub,scope
aud_from_service
EOF
v ok --config "$tmp/pam.conf" --now $NOW
is "$rc" 0 "a config file with PAM-only options is accepted"
printf 'key=%s\nfrobnicate=1\n' "$K1" >"$tmp/bad.conf"
v ok --config "$tmp/bad.conf" --now $NOW
is "$rc" 2 "an unknown option in the file: exit 2"
echo "$err" | grep -q "bad.conf.*2" && echo "$err" | grep -q frobnicate
ok $? "the message names the file, the line and the option"
v ok --config "$tmp/missing.conf" --key "$K1"
is "$rc" 2 "a missing config file: exit 2"
echo "$err" | grep -q "missing.conf"
ok $? "the message names the missing file"

# ---- usage and configuration errors (exit 2) --------------------------
v ok --key "$tmp/nope.pub"
is "$rc" 2 "a missing key file: exit 2"
echo "$err" | grep -q "nope.pub"
ok $? "the message names the missing key file"
v ok --secret "$tmp/nope.secret"
is "$rc" 2 "a missing secret file: exit 2"
echo "$err" | grep -q "nope.secret"
ok $? "the message names the missing secret file"
v ok --key "$tmp/k1.key"
is "$rc" 2 "a private key where a public key belongs: exit 2"
echo "$err" | grep -q "k1.key: private key given where a public key"
ok $? "the message names the key file and the reason"
# Refused keys (docs/security-checklist.md 15): a configuration error naming
# file and reason.
while IFS='|' read -r file why; do
    v ok --key "$top_srcdir/tests/data/keys/$file"
    echo "$err" | grep -qF "$file: " && echo "$err" | grep -qF "$why"
    is "$rc:$?" 2:0 "refused key $file: exit 2, the message says: $why"
done <<EOF
rsa1024.pub.pem|RSA key of 1024 bits
rsa-e3.jwk|exponent is even or below 65537
ec-offcurve.jwk|not on the P-256 curve
x25519.pub.pem|X25519 key is for key agreement
mixed.jwks|mixes symmetric (oct) and asymmetric
enc-only.jwks|no usable key
EOF
v ok --key "$K1" --frobnicate
is "$rc" 2 "an unknown option: exit 2"
echo "$err" | grep -q -- "--frobnicate"
ok $? "the message names the unknown option"
v ok --key "$K1" -xv
is "$rc" 2 "an unknown short option: exit 2"
echo "$err" | grep -q -- "'-x'"
ok $? "the message names the short option inside its cluster"
v ok --key
is "$rc" 2 "an option without its value: exit 2"
echo "$err" | grep -q -- "--key"
ok $? "the message names the option missing its value"
v ok --key "$K1" --now yesterday
is "$rc" 2 "--now wants a number"
v ok --key "$K1" --max-age -5
is "$rc" 2 "--max-age refuses a negative number"
"$JWTREV" verify --key "$K1" a b 2>/dev/null
is "$?" 2 "two token arguments: exit 2"
printf '' >"$tmp/t.empty"
v empty --key "$K1"
is "$rc" 2 "no token on standard input: exit 2"

# ---- the store: revocations, exit 3, and when it is consulted --------
# A real store made by the store commands, judged at NOW like the tokens.
st=$tmp/store
export JWTREV_NOW=$NOW
mk rev --iss $ISS --sub alice --aud api --jti rev-1
"$JWTREV" --db "$st" init >/dev/null &&
    "$JWTREV" --db "$st" revoke <"$tmp/t.rev" >/dev/null &&
    "$JWTREV" --db "$st" revoke-key k1 >/dev/null
ok $? "a store with a revoked token and a revoked key id"
"$JWTREV" --db "$tmp/subj" init >/dev/null &&
    "$JWTREV" --db "$tmp/subj" revoke-subject alice --iss $ISS \
        --before $((NOW + 10)) >/dev/null
ok $? "a store with a revoked subject"
unset JWTREV_NOW
while IFS='|' read -r want tok desc opts; do
    eval "set -- $opts"
    expect "$want" "$tok" "$desc" --key "$K1" --now $NOW "$@"
done <<EOF
ok|rev|without --db the store is not consulted|
revoked|rev|--db: a revoked token|--db $st
ok|ok|--db: a token not revoked|--db $st
key_revoked|kid|--db: a token of a revoked key id|--db $st --key k1#$K1
subject_revoked|ok|--db: a token of a revoked subject|--db $tmp/subj
ok|rev|--signature-only does not consult the store|--db $st --signature-only
expired|rev|the store is consulted only after the claims passed|--db $st --now $((NOW + 7200))
bad_signature|tampered|and after the signature|--db $st
store|ok|--db with a missing store: exit 3|--db $tmp/no-store
EOF
v ok --key "$K1" --now $NOW --db "$tmp/no-store"
echo "$err" | grep -q "no-store" && [ -z "$out" ]
ok $? "a store error names the store on stderr, nothing on stdout"
"$JWTREV" --db "$st" verify --key "$K1" --now $NOW <"$tmp/t.rev" \
    >/dev/null 2>"$tmp/err"
is "$?:$(cut -d: -f1,2 "$tmp/err")" "1:rejected: revoked" \
    "the global --db is consulted too"
printf 'key=%s\ndb=%s\n' "$K1" "$st" >"$tmp/db.conf"
v rev --config "$tmp/db.conf" --now $NOW
is "$rc:$reason" "1:revoked" "db= in the config file is consulted"
printf 'key=%s\ndb=%s\non_db_error=ignore\n' "$K1" "$tmp/no-store" \
    >"$tmp/db.conf"
v ok --config "$tmp/db.conf" --now $NOW
is "$rc" 3 "on_db_error in the file does not make verify fail open"
export JWTREV_DB="$st"
v rev --key "$K1" --now $NOW
is "$rc" 0 "JWTREV_DB alone does not make verify consult a store"
unset JWTREV_DB
cp -R "$st" "$tmp/open" && chmod o+w "$tmp/open"
v ok --key "$K1" --now $NOW --db "$tmp/open"
is "$rc" 3 "a store writable by others: exit 3"
v rev --key "$K1" --now $NOW --db "$st" --json
is "$rc $(jfield "$tmp/out" '[j["result"], j["reason"], j["claims"]]')" \
    "1 ['rejected', 'revoked', None]" "--json revoked"

# ---- token input: stdin, '-', argument, the one-final-newline rule ---
tok=$(cat "$tmp/t.ok")
"$JWTREV" verify --key "$K1" --now $NOW "$tok" >/dev/null 2>&1
is "$?" 0 "the token as an argument"
printf '%s\n' "$tok" | "$JWTREV" verify --key "$K1" --now $NOW - >/dev/null
is "$?" 0 "'-' reads standard input"
printf '%s' "$tok" >"$tmp/t.bare"
printf '%s\r\n' "$tok" >"$tmp/t.crlf"
printf '%s ' "$tok" >"$tmp/t.space"
printf '%s\n\n' "$tok" >"$tmp/t.twonl"
printf '%s\r' "$tok" >"$tmp/t.cr"
printf ' %s\n' "$tok" >"$tmp/t.lead"
printf '%s\t\n' "$tok" >"$tmp/t.tab"
while IFS='|' read -r want name desc; do
    expect "$want" "$name" "$desc" --key "$K1" --now $NOW
done <<EOF
ok|bare|token without a line ending
ok|ok|token + LF
ok|crlf|token + CR LF
malformed|space|token + space is malformed
malformed|twonl|token + LF LF is malformed
malformed|cr|token + a lone CR is malformed
malformed|lead|a leading space is malformed
malformed|tab|token + TAB LF is malformed
EOF

# ---- output formats ---------------------------------------------------
v ok --key "$K1" --now $NOW
want=$(printf '{\n  "iss": "%s",\n  "sub": "alice",\n  "aud": "api",\n  "iat": %s,\n  "exp": %s\n}' \
    $ISS $NOW $((NOW + 3600)))
is "$out" "$want" "accepted: the claims as indented JSON in their order"
is "$err" "" "accepted: nothing on stderr"
v ok --key "$K1" --iss https://other.example --now $NOW
is "$out" "" "rejected: nothing on stdout"
echo "$err" | grep -qx 'rejected: bad_issuer: .\{4,\}' &&
    [ "$(echo "$err" | wc -l)" -eq 1 ]
ok $? "rejected: one line 'rejected: CODE: detail'"
v evil --key "$K1" --iss $ISS --now $NOW
! LC_ALL=C grep -q "$(printf '[\001-\037\177]')" "$tmp/err" &&
    [ "$reason" = bad_issuer ]
ok $? "control characters from a claim never reach the terminal"

v ok --key "$K1" --json --now $NOW
is "$rc $(jfield "$tmp/out" '[j["result"], j["reason"], j["detail"], j["header"]["alg"], j["claims"]["sub"]]')" \
    "0 ['accepted', None, None, 'ES256', 'alice']" "--json accepted"
v ok --key "$K1" --json --now $((NOW + 7200))
is "$rc $(jfield "$tmp/out" '[j["result"], j["reason"], j["header"], j["claims"], bool(j["detail"])]')" \
    "1 ['rejected', 'expired', None, None, True]" "--json rejected"
is "$err" "" "--json rejected: nothing on stderr"
v ok --key "$K1" --json --db "$tmp/no-store" --now $NOW
is "$rc $(jfield "$tmp/out" '[j["result"], j["reason"]]')" \
    "3 ['error', 'db_error']" "--json store error"
v ok --key "$tmp/nope.pub" --json
is "$rc $(jfield "$tmp/out" '[j["result"], j["reason"], "nope.pub" in j["detail"]]')" \
    "2 ['error', 'config_error', True]" "--json configuration error"
v ok --key "$K1" --signature-only --now $((NOW + 9999))
is "$(jfield "$tmp/out" '[sorted(j), j["header"]["typ"], j["payload"]["sub"]]')" \
    "[['header', 'payload'], 'JWT', 'alice']" "--signature-only: header and claims"
v text --secret "$HS" --signature-only
is "$rc $(jfield "$tmp/out" 'j["payload"]')" "0 hello, world" \
    "--signature-only: a text payload as a JSON string"
v binary --secret "$HS" --signature-only
is "$rc $(jfield "$tmp/out" 'j["payload"]')" "0 {'base64url': '__4AAQ'}" \
    "--signature-only: a binary payload as base64url"
v text --secret "$HS" --signature-only --json
is "$(jfield "$tmp/out" '[j["result"], j["claims"]]')" "['accepted', 'hello, world']" \
    "--signature-only --json: the payload under claims"
v text --secret "$HS" --now $NOW
is "$rc:$reason" "1:malformed" "a payload that is not a claim set is malformed"

# ---- help ---------------------------------------------------------------
"$JWTREV" verify --help >"$tmp/out" 2>"$tmp/err"
is "$?" 0 "verify --help: exit 0"
grep -q '^usage: jwtrev verify' "$tmp/out" && [ ! -s "$tmp/err" ]
ok $? "verify --help: usage on stdout"
"$JWTREV" --help | grep -q '^  verify '
ok $? "jwtrev --help lists verify"
"$JWTREV" --frobnicate verify 2>/dev/null
is "$?" 2 "an unknown global option: exit 2"

is "$leaks" "" "no rejection printed any part of its token on stderr"
done_testing
