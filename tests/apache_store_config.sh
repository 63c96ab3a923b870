#!/bin/sh
# mod_auth_jwtrev: `apache2 -t` refuses what is sure to fail at the first
# request, naming the directive, the path and the reason: a revocation
# store that is missing, not a directory, writable by others, or that the
# children's User cannot read and search (also the default store, when a
# section with AuthType Bearer sets none), and such a section without any
# key.  The store's two directives are refused in .htaccess (500, httpd's
# "not allowed here"), while an allowed directive there still works.
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/apache/lib.sh"

ap_setup
ISS=https://store.example.com
KEY=$S/keys/rsa.pub.pem
mkfile ht/ok.txt
echo ok >"$S/afile"
mkdir "$S/ww" "$S/priv" "$S/closed"
chmod 0777 "$S/ww"
chmod 0700 "$S/priv"
"$JWTREV" --db "$S/closed/store" init --group www-data >/dev/null
chmod 0700 "$S/closed"
"$JWTREV" --db "$S/wwroot" init >/dev/null
chmod 0700 "$S/wwroot"

# --- .htaccess may not turn the store off, nor weaken it ---------------------
cat >"$S/htdocs/ht/.htaccess" <<EOT
AuthType Bearer
AuthName ht
Require valid-user
EOT
ap_start "
AuthJWTKeyFile $KEY
AuthJWTIssuer $ISS
AuthJWTRevocationDB $S/store
Header always set X-Reason \"expr=%{note:JWTREV_REASON}\"
<Directory $S/htdocs/ht>
    AllowOverride AuthConfig
</Directory>
"
TOK=$(sign --iss $ISS --sub alice --jti s1)
OTHER=$(sign --iss https://other.example.com --sub alice --jti s2)
bearer /ht/ok.txt "$TOK"
is "$CODE" 200 ".htaccess AuthType Bearer with the server's store: 200"
printf '%s\n' "$TOK" | "$JWTREV" --db "$S/store" revoke --reason test >/dev/null
bearer /ht/ok.txt "$TOK"
is "$CODE" 401 ".htaccess: a revoked token is refused (control)"
for line in "AuthJWTRevocationDB Off" "AuthJWTOnDBError allow"; do
    name=${line%% *}
    printf 'AuthType Bearer\n%s\nRequire valid-user\n' "$line" \
        >"$S/htdocs/ht/.htaccess"
    bearer /ht/ok.txt "$TOK"
    is "$CODE" 500 ".htaccess with $line: 500"
    grep -q "htaccess: $name not allowed here" "$S/error.log"
    ok $? "  the error log says $name is not allowed here"
done
printf 'AuthType Bearer\nAuthJWTIssuer https://other.example.com\nRequire valid-user\n' \
    >"$S/htdocs/ht/.htaccess"
bearer /ht/ok.txt "$OTHER"
is "$CODE" 200 ".htaccess with AuthJWTIssuer (allowed): 200"
bearer /ht/ok.txt "$TOK"
is "$CODE" 401 ".htaccess with AuthJWTIssuer: the server's issuer replaced"
ap_stop

# --- apache2 -t refuses a store sure to fail, naming directive and path ------
# t CONF: site.conf is CONF (@S@ for the scratch dir), OUT the -t output
t() {
    printf '%b\n' "$(printf '%s' "$1" | sed "s|@S@|$S|g")" >"$S/site.conf"
    ap_httpd -t -f "$S/httpd.conf" >"$S/t.out" 2>&1
}
SECTION='<Location /x>\n    AuthType Bearer\n    Require valid-user'
while IFS='|' read -r db want; do
    t "AuthJWTKeyFile $KEY\n$SECTION\n    AuthJWTRevocationDB $db\n</Location>"
    is $? 1 "apache2 -t refuses AuthJWTRevocationDB $db"
    grep -q "$(printf 'AuthJWTRevocationDB %s as merged for <Location /x>: %s' \
        "$db" "$want" | sed "s|@S@|$S|g")" "$S/t.out"
    ok $? "  and names the directive, the path, the section: $want"
    [ $? -eq 0 ] || sed 's/^/# /' "$S/t.out"
done <<'EOT'
@S@/missing|does not exist
@S@/afile|is not a directory
@S@/ww|is writable by others
@S@/priv|the user www-data cannot read and search it
@S@/closed/store|the user www-data cannot search @S@/closed
@S@/wwroot|the user www-data cannot read and search it
EOT
t "AuthJWTKeyFile $KEY\n$SECTION\n    AuthJWTRevocationDB $S/store\n</Location>"
ok $? "apache2 -t accepts a good store (control)"
t "AuthJWTKeyFile $KEY\nAuthJWTRevocationDB $S/store\n$SECTION\n</Location>"
ok $? "apache2 -t accepts a good store inherited from the server (control)"
t "AuthJWTKeyFile $KEY\n<Location />\n    AuthJWTRevocationDB $S/store\n</Location>\n$SECTION\n</Location>"
ok $? "apache2 -t: a store from an enclosing <Location /> counts"
[ $? -eq 0 ] || sed 's/^/# /' "$S/t.out"
t "AuthJWTKeyFile $KEY\nAuthJWTRevocationDB $S/store\n<Location />\n    AuthJWTRevocationDB $S/missing\n</Location>\n$SECTION\n</Location>"
is $? 1 "apache2 -t: a missing store from an enclosing <Location /> refused"
t "AuthJWTKeyFile $KEY\nAuthJWTRevocationDB $S/missing\n<Location /public>\n    Require all granted\n</Location>"
ok $? "apache2 -t: a missing store that no Bearer section uses is no error"
t "AuthJWTKeyFile $KEY\n$SECTION\n    AuthJWTRevocationDB $S/missing\n    AuthJWTOnDBError allow\n</Location>"
ok $? "apache2 -t: a missing store with AuthJWTOnDBError allow passes"
grep -q "AuthJWTRevocationDB $S/missing as merged for <Location /x>: does not exist.*AuthJWTOnDBError allow" "$S/t.out"
ok $? "  with a warning naming the store"
t "AuthJWTKeyFile $KEY\n$SECTION\n    AuthJWTRevocationDB Off\n</Location>"
ok $? "apache2 -t: AuthJWTRevocationDB Off needs no store"

# The default store, when no AuthJWTRevocationDB applies.
t "AuthJWTKeyFile $KEY\n$SECTION\n</Location>"
rc=$?
if [ -e /var/lib/jwtrev ]; then
    # judged like any other: passes, or is refused naming the default
    [ $rc -eq 0 ] || grep -q "AuthJWTRevocationDB /var/lib/jwtrev (the default) as merged for <Location /x>" "$S/t.out"
    ok $? "the default store /var/lib/jwtrev (present here) is judged"
else
    is $rc 1 "apache2 -t refuses the default store /var/lib/jwtrev (missing here)"
    grep -q "AuthJWTRevocationDB /var/lib/jwtrev (the default) as merged for <Location /x>: does not exist" "$S/t.out"
    ok $? "  and names the directive, the default path and the section"
fi

# --- a Bearer section without any key ----------------------------------------
t "AuthJWTRevocationDB Off\n$SECTION\n</Location>"
is $? 1 "apache2 -t refuses AuthType Bearer without a key"
grep -q "AuthType Bearer in <Location /x> without a key: set AuthJWTKeyFile or AuthJWTSecretFile" "$S/t.out"
ok $? "  and names the directives"
grep -q "key= or secret=" "$S/t.out"
is $? 1 "  not the library's option names"
t "AuthJWTRevocationDB Off\n<Location />\n    AuthJWTKeyFile $KEY\n</Location>\n$SECTION\n</Location>"
ok $? "apache2 -t: a key from an enclosing <Location /> counts"
t "AuthJWTRevocationDB Off\n<Directory $S/htdocs>\n    AllowOverride AuthConfig\n</Directory>\n$SECTION\n</Location>"
ok $? "apache2 -t: without a key where an .htaccess may still give one"
done_testing
