#!/bin/sh
# Every pam_jwtrev option takes effect: each row runs one token through a
# service whose module line differs in one option, and checks the PAM code
# and the logged reason.  Then config=FILE: options from the file, their
# order with arguments, and the files the module must refuse.
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/pam/common.sh"
set -u
pam_setup

ISS=https://id.example
C='"sub":"alice","iss":"'$ISS'","exp":"@+600"'
mktokens <<EOF
es|es256.key|ES256|{}|{$C,"iat":"@-5","aud":"ssh","jti":"o1"}
rs|rs2048.key|RS256|{}|{$C,"iat":"@-5"}
hs|hs256.secret|HS256|{}|{$C,"iat":"@-5"}
old|es256.key|ES256|{}|{$C,"iat":"@-600"}
atjwt|es256.key|ES256|{"typ":"at+jwt"}|{$C}
noexp|es256.key|ES256|{}|{"sub":"alice","iss":"$ISS","iat":"@-5"}
uid|es256.key|ES256|{}|{"sub":"x-123","uid":"alice","iss":"$ISS","exp":"@+600"}
svca|es256.key|ES256|{}|{$C,"aud":"svc-a"}
EOF
ok $? "test tokens made"

M=$PAM_JWTREV
E="key=$K/es256.pub"
# service name | module arguments | token | PAM code | reason
while IFS='|' read -r name args tok want reason; do
    [ -n "$name" ] || continue
    svc "$name" "auth required $M $args"
    expect "$name" alice "$tok" auth "$want" "$reason" "$name: $args"
done <<EOF
key_es|$E|es|PAM_SUCCESS|ok
key_rs|key=$K/rs2048.pub|es|PAM_AUTH_ERR|(key_not_found|alg_not_allowed)
key_rs_ok|key=$K/rs2048.pub|rs|PAM_SUCCESS|ok
secret|secret=$K/hs256.secret|hs|PAM_SUCCESS|ok
secret_no|$E|hs|PAM_AUTH_ERR|(key_not_found|alg_not_allowed)
alg_both|key=$K/jwks.json alg=ES256,RS256|rs|PAM_SUCCESS|ok
alg_es_only|key=$K/jwks.json alg=ES256|rs|PAM_AUTH_ERR|alg_not_allowed
alg_no_key|key=$K/rs2048.pub alg=ES256|rs|PAM_AUTHINFO_UNAVAIL|config_error
iss_ok|$E iss=$ISS|es|PAM_SUCCESS|ok
iss_other|$E iss=https://other.example|es|PAM_AUTH_ERR|bad_issuer
iss_two|$E iss=https://other.example iss=$ISS|es|PAM_SUCCESS|ok
aud_ok|$E aud=ssh|es|PAM_SUCCESS|ok
aud_other|$E aud=web|es|PAM_AUTH_ERR|bad_audience
max_age_no|$E|old|PAM_SUCCESS|ok
max_age_60|$E max_age=60|old|PAM_AUTH_ERR|too_old
max_age_3600|$E max_age=3600|old|PAM_SUCCESS|ok
require_jti|$E require=exp,jti|es|PAM_SUCCESS|ok
require_jti_no|$E require=exp,jti|old|PAM_AUTH_ERR|missing_claim
require_default|$E|noexp|PAM_AUTH_ERR|missing_claim
require_iat|$E require=iat|noexp|PAM_SUCCESS|ok
typ_default|$E|atjwt|PAM_AUTH_ERR|typ_not_allowed
typ_at|$E typ=at+jwt|atjwt|PAM_SUCCESS|ok
typ_at_only|$E typ=at+jwt|es|PAM_AUTH_ERR|typ_not_allowed
user_sub|$E|uid|PAM_AUTH_ERR|user_mismatch
user_claim|$E user_claim=uid|uid|PAM_SUCCESS|ok
user_claim_es|$E user_claim=uid|es|PAM_AUTH_ERR|missing_claim
db|$E db=$DB|es|PAM_SUCCESS|ok
db_missing|$E db=$S/none|es|PAM_AUTHINFO_UNAVAIL|db_error
on_db_deny|$E db=$S/none on_db_error=deny|es|PAM_AUTHINFO_UNAVAIL|db_error
on_db_allow|$E db=$S/none on_db_error=allow|es|PAM_AUTHINFO_UNAVAIL|config_error
unknown_opt|$E frobnicate=1|es|PAM_AUTHINFO_UNAVAIL|config_error
bad_leeway|$E leeway=soon|es|PAM_AUTHINFO_UNAVAIL|config_error
bad_alg|$E alg=none|es|PAM_AUTHINFO_UNAVAIL|config_error
export_bad|$E export_claims=a-b|es|PAM_AUTHINFO_UNAVAIL|config_error
no_key|iss=$ISS|es|PAM_AUTHINFO_UNAVAIL|config_error
key_bad_modulus|key=$K/rs-badmod.pub|rs|PAM_AUTHINFO_UNAVAIL|config_error
EOF

# The leeway rows get a token made just before them, expired one second
# ago: the default leeway (60 s) accepts it for most of a minute, however
# long the rows above took on a busy machine.
mktokens <<EOF
late|es256.key|ES256|{}|{"sub":"alice","iss":"$ISS","exp":"@-1"}
EOF
svc leeway_60 "auth required $M $E"
expect leeway_60 alice late auth PAM_SUCCESS ok "leeway_60: $E"
svc leeway_0 "auth required $M $E leeway=0"
expect leeway_0 alice late auth PAM_AUTH_ERR expired "leeway_0: $E leeway=0"

svc on_db_ignore "$(visible auth "$E db=$S/none on_db_error=ignore")"
expect on_db_ignore alice es auth PAM_IGNORE db_error "on_db_error=ignore"

drive key_bad_modulus alice rs auth
decisions | grep -q 'rs-badmod.pub: RSA modulus is even or has a small factor'
ok $? "a refused key (small factor): the log names the file and why"

svc unknown "auth required $M $E frobnicate=1"
drive unknown alice es auth
decisions | grep -q frobnicate
ok $? "an unknown option is named in the log"

# --- revocation through db= ---------------------------------------------
"$JWTREV" --db "$DB" revoke <"$S/t/es.jwt" >/dev/null
expect db alice es auth PAM_AUTH_ERR revoked "db=: a revoked token"
expect key_es alice es auth PAM_SUCCESS ok "without db=: no revocation check"

# --- aud_from_service ------------------------------------------------------
for name in svc-a svc-b; do
    svc "$name" "auth required $M $E aud_from_service"
done
expect svc-a alice svca auth PAM_SUCCESS ok "aud_from_service: aud = service"
expect svc-b alice svca auth PAM_AUTH_ERR bad_audience \
    "aud_from_service: aud of another service"
svc svc-c "auth required $M $E aud_from_service aud=svc-c"
expect svc-c alice svca auth PAM_AUTHINFO_UNAVAIL config_error \
    "aud_from_service with aud=: refused"

# --- use_first_pass / try_first_pass (pam_set_items sets PAM_AUTHTOK) -------
SI=$(dirname "$(ldconfig -p | sed -n 's/.*=> \(.*libpam_wrapper.so\)$/\1/p' |
    head -n 1)")/pam_wrapper/pam_set_items.so
test -f "$SI"
ok $? "pam_wrapper's pam_set_items module exists"
for mode in use_first_pass try_first_pass plain; do
    arg=$mode
    [ "$mode" = plain ] && arg=
    svc "fp_$mode" "auth required $SI" "auth required $M $E $arg"
done
# mode | PAM_AUTHTOK (a token file, or none) | code | prompts
while IFS='|' read -r mode item want prompts; do
    [ -n "$mode" ] || continue
    unset PAM_AUTHTOK
    [ "$item" = none ] || export PAM_AUTHTOK="$(cat "$S/t/$item.jwt")"
    drive "fp_$mode" alice es auth
    unset PAM_AUTHTOK
    is "$(result auth) $(result prompts)" "$want $prompts" \
        "$mode, PAM_AUTHTOK $item: $want after $prompts prompts"
done <<EOF
use_first_pass|es|PAM_SUCCESS|0
use_first_pass|none|PAM_AUTH_ERR|0
use_first_pass|rs|PAM_AUTH_ERR|0
try_first_pass|es|PAM_SUCCESS|0
try_first_pass|none|PAM_SUCCESS|1
try_first_pass|rs|PAM_AUTH_ERR|0
plain|rs|PAM_SUCCESS|1
plain|none|PAM_SUCCESS|1
EOF

# --- debug -----------------------------------------------------------------
svc dbg "auth required $M $E debug"
drive dbg alice es auth
decisions | grep -q ' alg=ES256 .*exp='
ok $? "debug: the decision line carries the token's alg and exp"

# --- config=FILE -------------------------------------------------------------
cf=$S/pam.conf
conf() { printf '%s\n' "$@" >"$cf" && chmod 644 "$cf"; }
conf "# a comment" "" "key = $K/es256.pub" "iss=https://other.example"
svc cfg "auth required $M config=$cf"
expect cfg alice es auth PAM_AUTH_ERR bad_issuer "config file: iss= applies"
conf "key=$K/es256.pub" "iss=$ISS" "leeway=0"
expect cfg alice es auth PAM_SUCCESS ok "config file: accepted"
expect cfg alice late auth PAM_AUTH_ERR expired "config file: leeway=0 applies"
svc cfg2 "auth required $M config=$cf leeway=60"
expect cfg2 alice late auth PAM_SUCCESS ok "an argument after config= overrides it"
conf "key=$K/es256.pub" "bogus=1"
expect cfg alice es auth PAM_AUTHINFO_UNAVAIL config_error \
    "config file with an unknown option"
decisions | grep -qF "$cf:2"
ok $? "the log names the file and line"

conf "key=$K/es256.pub" "iss=$ISS"
chown nobody "$cf"
expect cfg alice es auth PAM_AUTHINFO_UNAVAIL config_error \
    "config file not owned by root"
decisions | grep -qF "$cf"
ok $? "not root's: the log names the file"
is "$(result prompts)" 0 "refused config: no token asked for"
chown root "$cf"
chmod 664 "$cf"
expect cfg alice es auth PAM_AUTHINFO_UNAVAIL config_error \
    "config file writable by group"
chmod 646 "$cf"
expect cfg alice es auth PAM_AUTHINFO_UNAVAIL config_error \
    "config file writable by others"
chmod 644 "$cf"
ln -s "$cf" "$S/link.conf"
svc cfglink "auth required $M config=$S/link.conf"
expect cfglink alice es auth PAM_AUTHINFO_UNAVAIL config_error \
    "config file that is a symbolic link"
decisions | grep -qF "$S/link.conf"
ok $? "symbolic link: the log names the file"
svc cfgnone "auth required $M config=$S/none.conf"
expect cfgnone alice es auth PAM_AUTHINFO_UNAVAIL config_error \
    "config file missing"
svc cfgempty "auth required $M config="
expect cfgempty alice es auth PAM_AUTHINFO_UNAVAIL config_error "config= empty"
expect cfg alice es auth PAM_SUCCESS ok "config file root's, 0644: accepted"

# --- the example configuration of examples/pam.d works as documented ---------
sed -e "s|^key=.*|key=$K/jwks.json|" -e "s|^iss=.*|iss=$ISS|" \
    -e "s|^db=.*|db=$DB|" "$top_srcdir/examples/pam.d/jwtrev-pam.conf" >"$cf"
chmod 644 "$cf"
svc sshd "auth required $M config=$cf"
mktokens <<EOF
ex|es256.key|ES256|{"kid":"es1"}|{$C,"iat":"@-5","aud":"sshd","jti":"ex-1","email":"a@example.com"}
exnojti|es256.key|ES256|{"kid":"es1"}|{$C,"iat":"@-5","aud":"sshd"}
EOF
drive sshd alice ex auth env
is "$(result auth)" PAM_SUCCESS "example pam.conf: a token for service sshd"
grep -q '^env JWT_CLAIM_email=a@example.com$' "$S/out"
ok $? "example pam.conf: JWT_CLAIM_email exported"
expect sshd alice exnojti auth PAM_AUTH_ERR missing_claim \
    "example pam.conf: jti required"

no_token_in "$S/all.log"
ok $? "no token payload or signature in any PAM log output"
done_testing
