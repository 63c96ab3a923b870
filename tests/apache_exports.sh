#!/bin/sh
# mod_auth_jwtrev.so exports only its module record, and `make install`
# leaves exactly mod_auth_jwtrev.so in apxs's module directory.
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

moddir=$(sed -n 's/^APACHE_MODDIR = //p' "$top_builddir/Makefile")
[ -n "$moddir" ]
ok $? "the Makefile knows apxs's module directory ($moddir)"
make -s -C "$top_builddir" DESTDIR="$S/root" install-apachemodLTLIBRARIES \
    install-data-hook-apache >"$S/install.log" 2>&1
ok $? "make install of the module"
is "$(ls "$S/root$moddir")" mod_auth_jwtrev.so \
    "the module directory holds exactly mod_auth_jwtrev.so"
done_testing
