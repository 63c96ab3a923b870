#!/bin/sh
# mod_auth_jwtrev.so exports only its module record, `make install`
# leaves exactly mod_auth_jwtrev.so in apxs's module directory, and
# mod_auth_jwtrev(8) documents every directive, provider and handler.
. "$top_srcdir/tests/tap.sh"
set -u
S=$(mktemp -d /tmp/jwtrev-apache-exports.XXXXXX)
trap 'rm -rf "$S"' EXIT

[ -f "$MOD_AUTH_JWTREV" ]
ok $? "the module is built"
nm -D --defined-only "$MOD_AUTH_JWTREV" | awk '$2 ~ /^[TDBRVW]$/ { print $3 }' \
    >"$S/syms"
is "$(cat "$S/syms")" auth_jwtrev_module \
    "only auth_jwtrev_module is exported"
nm -D --undefined-only "$MOD_AUTH_JWTREV" | grep -q ' ap_hook_check_authn$'
ok $? "httpd symbols are left for httpd to provide"
# Fleet mode is jwtrevd's: the module never links libpq (nor libcurl).
! readelf -d "$MOD_AUTH_JWTREV" | grep -qE 'NEEDED.*(libpq|libcurl)'
ok $? "the module does not link libpq"

moddir=$(sed -n 's/^APACHE_MODDIR = //p' "$top_builddir/Makefile")
[ -n "$moddir" ]
ok $? "the Makefile knows apxs's module directory ($moddir)"
make -s -C "$top_builddir" DESTDIR="$S/root" install-apachemodLTLIBRARIES \
    install-data-hook-apache >"$S/install.log" 2>&1
ok $? "make install of the module"
is "$(ls "$S/root$moddir")" mod_auth_jwtrev.so \
    "the module directory holds exactly mod_auth_jwtrev.so"

page="$top_srcdir/man/mod_auth_jwtrev.8"
names=$(sed -n 's/.*AP_INIT_[A-Z0-9_]*("\(AuthJWT[A-Za-z]*\)".*/\1/p' \
    "$top_srcdir/mod_auth_jwtrev/config.c")
[ "$(printf '%s\n' "$names" | wc -l)" -ge 16 ]
ok $? "the directives are found in config.c"
for name in $names "AuthType Bearer" "Require jwt-claim" "Require jwt-scope" \
    "AuthBasicProvider jwt" "SetHandler jwtrev-logout" \
    "SetHandler jwtrev-logout-all"; do
    grep -q "^\.It Ic $name\( \|\$\)" "$page"
    ok $? "mod_auth_jwtrev.8 documents $name"
done
done_testing
