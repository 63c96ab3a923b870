#!/bin/bash
# The user-claim rule is one library rule (jwtrev_user_check, judged in the
# claims step): one table of tokens through all three hosts that map the
# claim to a user, a real httpd (REMOTE_USER), the real libpam under
# pam_wrapper (PAM_USER "alice") and `jwtrev verify --user-claim sub`.
# Each row gives what every host must answer (status or exit code, and
# reason: "-" where the host names none).
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/apache/lib.sh"
. "$top_srcdir/tests/pam/once.sh"

ap_setup
KEY=$S/keys/ec.pem
PUB=$S/keys/ec.pub.pem
mkdir -p "$S/pam.d" "$S/t"
echo "auth required $PAM_JWTREV key=$PUB" >"$S/pam.d/jwt"
echo "auth required pam_deny.so" >"$S/pam.d/other"
mkfile api/ok.txt

ap_start "
<Location /api>
    AuthType Bearer
    AuthName api
    AuthJWTKeyFile $PUB
    AuthJWTRevocationDB $S/store
    Require valid-user
    Header always set X-User \"expr=%{REMOTE_USER}\"
    Header always set X-Reason \"expr=%{note:JWTREV_REASON}\"
</Location>"

# description | the sub claim (JSON) | httpd | PAM as alice | CLI
while IFS='|' read -r desc sub web pam cli; do
    tok=$("$JWTREV" sign --key "$KEY" --ttl 300 --claims "{\"sub\":$sub}")
    printf '%s' "$tok" >"$S/t/tok"

    bearer /api/ok.txt "$tok"
    reason=$(hdr X-Reason)
    is "$CODE ${reason:--}" "$web" "httpd, $desc"

    pam_once "$S" alice "$S/t/tok"
    is "$PAM_CODE $PAM_REASON" "$pam" "PAM, $desc" ||
        sed 's/^/#   log: /' "$S/pam.log" | tail -n 4

    "$JWTREV" verify --key "$PUB" --user-claim sub "$tok" >/dev/null \
        2>"$S/cli.err"
    rc=$?
    reason=$(sed -n 's/^rejected: \([a-z_]*\):.*/\1/p' "$S/cli.err")
    is "$rc ${reason:--}" "$cli" "jwtrev verify --user-claim sub, $desc"
done <<'EOF'
the PAM user's own name|"alice"|200 -|PAM_SUCCESS ok|0 -
another name|"bob"|200 -|PAM_AUTH_ERR user_mismatch|0 -
LF inside|"ali\nce"|401 bad_claims|PAM_AUTH_ERR bad_claims|1 bad_claims
CR LF at the end|"alice\r\n"|401 bad_claims|PAM_AUTH_ERR bad_claims|1 bad_claims
a TAB|"ali\tce"|401 bad_claims|PAM_AUTH_ERR bad_claims|1 bad_claims
an escape sequence|"\u001b[2Jalice"|401 bad_claims|PAM_AUTH_ERR bad_claims|1 bad_claims
DEL|"alice\u007f"|401 bad_claims|PAM_AUTH_ERR bad_claims|1 bad_claims
empty|""|401 bad_claims|PAM_AUTH_ERR bad_claims|1 bad_claims
not a string|7|401 bad_claims|PAM_AUTH_ERR bad_claims|1 bad_claims
a '/' (a path to PAM's tools)|"../alice"|200 -|PAM_AUTH_ERR bad_claims|0 -
a leading '-' (an option to PAM's tools)|"-alice"|200 -|PAM_AUTH_ERR bad_claims|0 -
UTF-8 is a name like any other|"ålice"|200 -|PAM_AUTH_ERR user_mismatch|0 -
EOF

# PAM judges PAM_USER by the same rule before it asks for a token.
for user in "ali/ce" "-alice" "$(printf 'ali\tce')" ""; do
    pam_once "$S" "$user" "$S/t/tok"
    is "$PAM_CODE $PAM_PROMPTS" "PAM_AUTH_ERR 0" \
        "PAM user '$user' refused before any prompt"
done
grep -q 'reason=user_mismatch' "$S/pam.log"
ok $? "as user_mismatch"

done_testing
