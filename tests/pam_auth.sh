#!/bin/sh
# pam_jwtrev's decisions through the real libpam (pam_wrapper): success,
# every token failure -> PAM_AUTH_ERR with its reason, store and config
# trouble, account re-checks, exported claims, and the log (one line per
# decision, never the token, the truncation hint).
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/pam/common.sh"
set -u
pam_setup

ISS=https://id.example
mktokens <<EOF
valid|es256.key|ES256|{}|{"sub":"alice","iss":"$ISS","aud":"ssh","exp":"@+600","iat":"@-5","jti":"t-valid"}
nojti|es256.key|ES256|{}|{"sub":"alice","iss":"$ISS","aud":"ssh","exp":"@+600","iat":"@-5"}
revoked|es256.key|ES256|{}|{"sub":"alice","iss":"$ISS","aud":"ssh","exp":"@+600","jti":"t-revoked"}
carol|es256.key|ES256|{}|{"sub":"carol","iss":"$ISS","aud":"ssh","exp":"@+600","iat":"@-5","jti":"t-carol"}
rskey|rs2048.key|RS256|{"kid":"rs1"}|{"sub":"alice","iss":"$ISS","aud":"ssh","exp":"@+600","jti":"t-rs"}
expired|es256.key|ES256|{}|{"sub":"alice","iss":"$ISS","aud":"ssh","exp":"@-3600","iat":"@-7200"}
nbf|es256.key|ES256|{}|{"sub":"alice","iss":"$ISS","aud":"ssh","exp":"@+7200","nbf":"@+3600"}
future|es256.key|ES256|{}|{"sub":"alice","iss":"$ISS","aud":"ssh","exp":"@+7200","iat":"@+3600"}
bob|es256.key|ES256|{}|{"sub":"bob","iss":"$ISS","aud":"ssh","exp":"@+600"}
eviliss|es256.key|ES256|{}|{"sub":"alice","iss":"https://evil.example","aud":"ssh","exp":"@+600"}
badaud|es256.key|ES256|{}|{"sub":"alice","iss":"$ISS","aud":"web","exp":"@+600"}
tampered|es256.key|ES256|{}|{"sub":"alice","iss":"$ISS","aud":"ssh","exp":"@+600"}|tamper
unkid|es256.key|ES256|{"kid":"nope"}|{"sub":"alice","iss":"$ISS","aud":"ssh","exp":"@+600"}
noexp|es256.key|ES256|{}|{"sub":"alice","iss":"$ISS","aud":"ssh"}
nosub|es256.key|ES256|{}|{"iss":"$ISS","aud":"ssh","exp":"@+600"}
attyp|es256.key|ES256|{"typ":"at+jwt"}|{"sub":"alice","iss":"$ISS","aud":"ssh","exp":"@+600"}
crit|es256.key|ES256|{"crit":["exp"],"exp":1}|{"sub":"alice","iss":"$ISS","aud":"ssh","exp":"@+600"}
nested|es256.key|ES256|{"cty":"JWT"}|{"sub":"alice","iss":"$ISS","aud":"ssh","exp":"@+600"}
subnum|es256.key|ES256|{}|{"sub":7,"iss":"$ISS","aud":"ssh","exp":"@+600"}
huge|es256.key|ES256|{}|{"sub":"alice","iss":"$ISS","aud":"ssh","exp":"@+600"}|pad:9000
long|es256.key|ES256|{}|{"sub":"alice","iss":"$ISS","aud":"ssh","exp":"@+600"}|pad:5000
sigcut|es256.key|ES256|{}|{"sub":"alice","iss":"$ISS","aud":"ssh","exp":"@+600"}|pad:1050,cut:1023
acct|es256.key|ES256|{}|{"sub":"alice","iss":"$ISS","aud":"ssh","exp":"@+600","jti":"t-acct"}
claims|es256.key|ES256|{}|{"sub":"alice","iss":"$ISS","aud":"ssh","exp":"@+600","role":"admin","groups":["wheel","dev"],"n":42}
ctrl|es256.key|ES256|{}|{"sub":"alice","iss":"$ISS","aud":"ssh","exp":"@+600","role":"admin\nroot"}
EOF
ok $? "test tokens made"
printf 'hunter2' >"$S/t/password.jwt"
printf '' >"$S/t/empty.jwt"
# alg none: header {"alg":"none"} and the valid token's payload, no signature
printf 'eyJhbGciOiJub25lIn0.%s.' "$(cut -d. -f2 "$S/t/valid.jwt")" \
    >"$S/t/none.jwt"
# the same with some signature bytes: judged by its alg
printf 'eyJhbGciOiJub25lIn0.%s.c2lnbmF0dXJl' "$(cut -d. -f2 "$S/t/valid.jwt")" \
    >"$S/t/nonesig.jwt"
for n in 511 1022 1023 1024 4095; do
    head -c "$n" "$S/t/long.jwt" >"$S/t/cut$n.jwt"
done

M=$PAM_JWTREV
opts="key=$K/es256.pub key=$K/jwks.json iss=$ISS aud=ssh db=$DB"
svc jwt "auth required $M $opts" "$(visible account "$opts")"
svc nodb "auth required $M key=$K/es256.pub db=$S/missing"
svc nodbign "$(visible auth "key=$K/es256.pub db=$S/missing on_db_error=ignore")"
svc badkey "auth required $M key=$S/missing.pem"
svc dbg "auth required $M $opts debug"
svc short "auth required $M $opts leeway=0" "$(visible account "$opts")"
svc export "auth required $M $opts export_claims=sub,role,groups,n,absent"
echo "JWT_CLAIM_absent DEFAULT=forged" >"$S/env.conf"
svc forged "auth required pam_env.so conffile=$S/env.conf readenv=0" \
    "auth required $M $opts export_claims=sub,absent"

# --- one auth per row: token, user, PAM code, reason ----------------------
while IFS='|' read -r tok user want reason; do
    [ -n "$tok" ] || continue
    expect jwt "$user" "$tok" auth "$want" "$reason" "auth $tok as $user"
done <<EOF
valid|alice|PAM_SUCCESS|ok
nojti|alice|PAM_SUCCESS|ok
expired|alice|PAM_AUTH_ERR|expired
nbf|alice|PAM_AUTH_ERR|not_yet_valid
future|alice|PAM_AUTH_ERR|issued_in_future
bob|alice|PAM_AUTH_ERR|user_mismatch
valid|bob|PAM_AUTH_ERR|user_mismatch
valid|Alice|PAM_AUTH_ERR|user_mismatch
eviliss|alice|PAM_AUTH_ERR|bad_issuer
badaud|alice|PAM_AUTH_ERR|bad_audience
tampered|alice|PAM_AUTH_ERR|bad_signature
unkid|alice|PAM_AUTH_ERR|key_not_found
noexp|alice|PAM_AUTH_ERR|missing_claim
nosub|alice|PAM_AUTH_ERR|missing_claim
attyp|alice|PAM_AUTH_ERR|typ_not_allowed
crit|alice|PAM_AUTH_ERR|crit_unsupported
nested|alice|PAM_AUTH_ERR|bad_header
subnum|alice|PAM_AUTH_ERR|bad_claims
huge|alice|PAM_AUTH_ERR|too_large
none|alice|PAM_AUTH_ERR|(malformed|unsupported_alg|alg_not_allowed)
nonesig|alice|PAM_AUTH_ERR|unsupported_alg
password|alice|PAM_AUTH_ERR|malformed
empty|alice|PAM_AUTH_ERR|malformed
EOF

# --- revocation: each kind of entry -----------------------------------------
"$JWTREV" --db "$DB" revoke <"$S/t/revoked.jwt" >/dev/null
ok $? "jwtrev revoke (by jti)"
expect jwt alice revoked auth PAM_AUTH_ERR revoked "revoked token"
"$JWTREV" --db "$DB" revoke <"$S/t/nojti.jwt" >/dev/null
ok $? "jwtrev revoke (a token without jti: by hash)"
expect jwt alice nojti auth PAM_AUTH_ERR revoked "revoked token without jti"
"$JWTREV" --db "$DB" revoke-subject carol --iss "$ISS" >/dev/null
ok $? "jwtrev revoke-subject carol"
expect jwt carol carol auth PAM_AUTH_ERR subject_revoked "subject revoked"
expect jwt alice rskey auth PAM_SUCCESS ok "RS256 token, kid rs1"
"$JWTREV" --db "$DB" revoke-key rs1 >/dev/null
ok $? "jwtrev revoke-key rs1"
expect jwt alice rskey auth PAM_AUTH_ERR key_revoked "key revoked"

# --- user names that are never matched: refused before any prompt ----------
tab=$(printf 'a\tb')
for user in "ali/ce" "-alice" "$tab" ""; do
    expect jwt "$user" valid auth PAM_AUTH_ERR user_mismatch \
        "user name '$user' refused"
    is "$(result prompts)" 0 "user name '$user': no token asked for"
done

# --- store and configuration trouble ----------------------------------------
expect nodb alice valid auth PAM_AUTHINFO_UNAVAIL db_error "store missing"
expect nodbign alice valid auth PAM_IGNORE db_error \
    "store missing, on_db_error=ignore"
decisions | grep -q 'result=ignored'
ok $? "on_db_error=ignore: logged as ignored"
expect nodbign alice expired auth PAM_AUTH_ERR expired \
    "on_db_error=ignore never hides a token failure"
cp -R "$DB" "$S/dbbad"
for f in $(find "$S/dbbad" -type f); do
    printf 'not a Berkeley DB file' >"$f"
done
svc baddb "auth required $M key=$K/es256.pub db=$S/dbbad"
expect baddb alice valid auth PAM_AUTHINFO_UNAVAIL db_error "store corrupt"
expect badkey alice valid auth PAM_AUTHINFO_UNAVAIL config_error \
    "key file missing"
is "$(result prompts)" 0 "key file missing: no token asked for"
decisions | grep -qF "$S/missing.pem"
ok $? "key file missing: the log names the file"

# --- account ----------------------------------------------------------------
drive jwt alice acct auth acct
is "$(result auth) $(result acct)" "PAM_SUCCESS PAM_SUCCESS" "auth then account"
is "$(decisions | wc -l)" 2 "auth then account: two decisions logged"
drive jwt alice valid acct
is "$(result acct)" PAM_IGNORE "account without auth: PAM_IGNORE"
is "$(decisions | wc -l)" 0 "account without auth: nothing logged"
drive jwt alice expired auth acct
is "$(result acct)" PAM_IGNORE "account after a failed auth: PAM_IGNORE"
drive jwt alice acct auth "token:$S/t/password.jwt" auth acct
is "$(result acct)" PAM_IGNORE "a failed auth forgets an earlier success"
drive jwt alice acct auth user:bob acct
is "$(result acct)" PAM_AUTH_ERR "account after PAM_USER changed: refused"
drive jwt alice acct auth "sh:mv $DB $DB.away" acct "sh:mv $DB.away $DB"
is "$(result acct)" PAM_AUTHINFO_UNAVAIL "account, store gone: unavailable"
drive jwt alice acct auth "sh:$JWTREV --db $DB revoke <$S/t/acct.jwt" acct
is "$(result auth) $(result acct)" "PAM_SUCCESS PAM_AUTH_ERR" \
    "account after a revocation between auth and account: refused"
is "$(decisions | grep -c 'result=denied reason=revoked ')" 1 \
    "account after a revocation: logged as revoked"
# Signed just now: valid for 5 s at auth (a busy machine may be slow to
# get there), expired by account.
echo "short|es256.key|ES256|{}|{\"sub\":\"alice\",\"iss\":\"$ISS\",\"aud\":\"ssh\",\"exp\":\"@+5\"}" |
    mktokens
drive short alice short auth "sh:sleep 6" acct
is "$(result auth) $(result acct)" "PAM_SUCCESS PAM_AUTH_ERR" \
    "account after the token expired (leeway=0): refused"
is "$(decisions | grep -c 'reason=expired ')" 1 "expiry in account logged"

# --- claims into the PAM environment ------------------------------------------
drive export alice claims auth env
is "$(result auth)" PAM_SUCCESS "export_claims: auth"
is "$(grep '^env JWT_CLAIM_' "$S/out" | sort | tr '\n' ';')" \
    "env JWT_CLAIM_groups=wheel dev;env JWT_CLAIM_n=42;env JWT_CLAIM_role=admin;env JWT_CLAIM_sub=alice;" \
    "export_claims: strings, arrays and numbers; absent claims not set"
expect export alice ctrl auth PAM_AUTH_ERR bad_claims \
    "a claim with a control character refuses the login"
drive export alice ctrl auth env
is "$(grep -c '^env JWT_CLAIM_' "$S/out")" 0 "refused login: nothing exported"
drive forged alice claims setcred env
grep -q '^env JWT_CLAIM_absent=forged' "$S/out"
ok $? "pam_env set JWT_CLAIM_absent before auth (the forgery is in place)"
drive forged alice claims setcred auth env
sed -n '/^auth /,$p' "$S/out" | grep -q '^env JWT_CLAIM_absent'
ok $((!$?)) "a listed claim the token lacks is removed from the environment"

# --- the log: debug detail, transport limits, never the token ---------------
expect jwt alice expired auth PAM_AUTH_ERR expired "without debug"
decisions | grep -q ' detail='
ok $((!$?)) "without debug: no detail on a token failure"
expect dbg alice expired auth PAM_AUTH_ERR expired "debug"
decisions | grep ' detail=' | grep -q ' len=[0-9]'
ok $? "debug: a token failure's detail and the token's length"
expect dbg alice valid auth PAM_SUCCESS ok "debug"
decisions | grep -q ' alg=ES256 kid="-" iss="https://id.example" exp='
ok $? "debug: a success shows the token's alg, kid, iss and exp"
for n in 511 1023 1024 4095; do
    expect jwt alice "cut$n" auth PAM_AUTH_ERR malformed "cut at $n bytes"
    decisions | grep -q "hint=\"token of $n bytes: probably truncated"
    ok $? "cut at $n bytes: the log names a transport limit"
done
decisions | grep -q 'misc_conv'
ok $? "4095 bytes: the limit named is misc_conv's"
# An ES256 signature is the last 86 bytes: cut inside it, the token still
# splits and decodes, and fails on its signature.
is "$(tr -cd . <"$S/t/sigcut.jwt" | wc -c)" 2 "sigcut: the cut is inside the signature"
expect jwt alice sigcut auth PAM_AUTH_ERR '(malformed|bad_signature)' \
    "signature cut at 1023 bytes"
decisions | grep -q 'hint=.*OpenSSH client'
ok $? "signature cut at 1023 bytes: the log names the OpenSSH client"
expect jwt alice cut1022 auth PAM_AUTH_ERR malformed "cut at 1022 bytes"
decisions | grep -q 'hint='
ok $((!$?)) "1022 bytes: no transport hint"

# The real misc_conv (pamtester) cuts a 5000-byte token at 4095 bytes.
pamwrap PAM_WRAPPER_SERVICE_DIR="$S/pam.d" \
    PAM_WRAPPER_DEBUGLEVEL=2 pamtester jwt alice authenticate \
    <"$S/t/long.jwt" >"$S/log" 2>&1
ok $((!$?)) "pamtester with a 5000-byte token: refused"
cat "$S/log" >>"$S/all.log"
grep -q 'hint="token of 4095 bytes.*misc_conv' "$S/log"
ok $? "pamtester: the hint names misc_conv at 4095 bytes"
pamwrap PAM_WRAPPER_SERVICE_DIR="$S/pam.d" \
    pamtester jwt alice authenticate acct_mgmt <"$S/t/valid.jwt" >/dev/null 2>&1
ok $? "pamtester: valid token authenticates and passes account"

no_token_in "$S/all.log"
ok $? "no token payload or signature in any PAM log output"
done_testing
