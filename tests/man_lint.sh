#!/bin/sh
# Every man page is clean under mandoc -T lint at warning level, and the
# check itself notices a page with a warning.
. "$top_srcdir/tests/tap.sh"
set -u
command -v mandoc >/dev/null 2>&1
ok $? "mandoc is installed (Debian package mandoc)"
pages=$(ls "$top_srcdir"/man/*.8 2>/dev/null)
[ -n "$pages" ]
ok $? "there are man pages to check"
for page in $pages; do
    out=$(mandoc -T lint -W warning "$page" 2>&1)
    rc=$?
    [ $rc -eq 0 ] && [ -z "$out" ]
    ok $? "$(basename "$page") is clean under mandoc -T lint -W warning"
    [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
done
# A page with a known warning (an unknown macro) must fail the same check,
# or the loop above proves nothing.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '.Dd May 1, 2026\n.Dt BAD 8\n.Os\n.Sh NAME\n.Nm bad\n.Nd bad\n.Xx\n' \
    >"$tmp/bad.8"
mandoc -T lint -W warning "$tmp/bad.8" >/dev/null 2>&1
[ $? -ne 0 ]
ok $? "the lint check fails on a page with a warning"
# jwtrev.8 keeps up with the tool: a section per command of jwtrev --help,
# every option of verify --help and sign --help.
page="$top_srcdir/man/jwtrev.8"
cmds=$("$JWTREV" --help | awk '/^commands:/ {c = 1; next}
                               c && NF == 0 {exit} c {print $1}')
[ -n "$cmds" ]
ok $? "jwtrev --help lists the commands"
for cmd in $cmds; do
    grep -q "^\.Ss $cmd\$" "$page"
    ok $? "jwtrev.8 has a section for $cmd"
done
for cmd in verify sign; do
    opts=$("$JWTREV" "$cmd" --help | grep -o -- '^  --[a-z-]*')
    [ -n "$opts" ]
    ok $? "jwtrev $cmd --help lists options"
    for opt in $opts; do
        # mdoc writes --key as "Fl -key".
        grep -q -- "Fl ${opt#-}\( \|\$\)" "$page"
        ok $? "jwtrev.8 documents $cmd $opt"
    done
done
done_testing
