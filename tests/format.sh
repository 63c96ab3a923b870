#!/bin/sh
# The C sources follow .clang-format (httpd style); ./dev format fixes them.
. "$top_srcdir/tests/tap.sh"
set -u
cd "$top_srcdir" || exit 1
command -v clang-format >/dev/null 2>&1
ok $? "clang-format is installed"
files=$(find common cli mod_auth_jwtrev pam_jwtrev tests fuzz bench \
    -name '*.[ch]' 2>/dev/null | sort)
for f in $files; do
    clang-format --dry-run -Werror "$f" >/dev/null 2>&1
    ok $? "$f is formatted"
done
done_testing
