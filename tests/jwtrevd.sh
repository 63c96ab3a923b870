#!/bin/sh
# jwtrevd, the one writer of a host's store (docs/design.md 7): its
# configuration refused with the reason; the CLI writing through it
# without a new flag; SO_PEERCRED roles (root and admins everything,
# www-data as a writer only revoking a token it hands over, anyone else
# refused), checked with the real PAM stack after a refused unrevoke;
# malformed requests; a kill -9 that blocks no reader and loses no
# acknowledged write; the background fold (writes never fold, a fold
# that cannot write its base leaves revocations working and says so in
# the log and jwtrev stats).
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/pam/once.sh"
. "$top_srcdir/tests/daemon.sh"
set -u

S=$(mktemp -d /tmp/jwtrevd-test.XXXXXX)
chmod 755 "$S"
trap 'jd_stop KILL; rm -rf "$S"' EXIT

ST=$S/store
SOCK=$S/run/jwtrevd.sock
J() { "$JWTREV" --db "$ST" "$@"; }
# as_user USER CMD...: a command with USER's ids (groups included)
as_user() { u=$1; shift; runuser -u "$u" -- "$@"; }

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$S/ec.pem" 2>/dev/null &&
    openssl pkey -in "$S/ec.pem" -pubout -out "$S/ec.pub.pem"
ok $? "a signing key"
chmod 644 "$S/ec.pub.pem"
tok() { "$JWTREV" sign --key "$S/ec.pem" --alg ES256 --iss https://id \
    --sub "$1" --jti "$2" --ttl 3600; }

J init --group www-data >/dev/null
ok $? "store made readable by www-data, writable by root only"
jd_config "$S/jwtrevd.conf" "$ST" "$SOCK" writers=www-data purge_interval=0 \
    fold_at=40 fold_retry=1
start_daemon() { jd_start "$S/jwtrevd.conf" "$S/d.log"; }

# ---- configuration ---------------------------------------------------------

conf_refused() { # NAME TEXT WANT_IN_MESSAGE [MODE [EXIT]]
    printf '%s\n' "$2" >"$S/bad.conf"
    chmod "${4:-600}" "$S/bad.conf"
    out=$("$JWTREVD" --config "$S/bad.conf" --foreground 2>&1)
    rc=$?
    case "$out" in *"$3"*) m=0 ;; *) m=1 ;; esac
    [ $rc -eq "${5:-2}" ] && [ $m -eq 0 ]
    ok $? "config $1: exit ${5:-2}, says '$3' ($out)"
}
conf_refused unknown "db=$ST
colour=blue" "bad.conf:2: unknown option colour"
conf_refused user "db=$ST
writers=no-such-user" "no user no-such-user"
conf_refused group "db=$ST
admins=@no-such-group" "no group no-such-group"
conf_refused relative "socket=run/x.sock" "an absolute path is needed"
conf_refused modes "db=$ST" "writable by group or others" 664
conf_refused store "db=$S/nowhere
socket=$S/run/x.sock" "nowhere: missing" 600 3
out=$("$JWTREVD" --config "$S/missing.conf" 2>&1)
[ $? -eq 2 ] && case "$out" in *missing.conf*) true ;; *) false ;; esac
ok $? "a missing config file: exit 2, named ($out)"

# ---- the daemon writes; the CLI finds it ----------------------------------

start_daemon
ok $? "jwtrevd serves $SOCK"
is "$(cat "$ST/daemon")" "socket=$SOCK" "the store names its daemon"
is "$(stat -c %a "$SOCK")" 666 "anyone may connect (SO_PEERCRED decides)"
out=$("$JWTREVD" --config "$S/jwtrevd.conf" --foreground 2>&1)
[ $? -ne 0 ] && case "$out" in *"another jwtrevd"*) true ;; *) false ;; esac
ok $? "a second daemon on the socket is refused ($out)"

T1=$(tok alice a1)
T2=$(tok bob b1)
T3=$(tok carol c1)
printf '%s\n' "$T1" | J revoke - >"$S/out" 2>&1
ok $? "root: jwtrev revoke, no new flag"
grep -q 'uid 0 (admin) revoke-token: {"kind":"token","iss":"https://id","jti":"a1"' "$S/d.log"
ok $? "went through the daemon, logged with uid and entry"
! grep -qF "$T1" "$S/d.log"
ok $? "the daemon's log never shows the token"
printf '%s\n' "$T1" | J status - >/dev/null
is $? 1 "and every reader sees it at once"

printf '%s' "$T2" >"$S/t2"
chmod 644 "$S/t2"
as_user www-data "$JWTREV" --db "$ST" revoke - <"$S/t2" >"$S/out" 2>&1
ok $? "www-data (a writer) revokes a token it holds"
grep -q "uid $(id -u www-data) (writer) revoke-token" "$S/d.log"
ok $? "logged as a writer"
printf '%s\n' "$T2" | J status - >/dev/null
is $? 1 "its token is revoked"

# The refusals: a writer never removes, never adds key entries, never
# bulk-loads or purges; nobody else writes at all.
refused() { # DESC WANT_IN_MESSAGE CMD...
    desc=$1 want=$2
    shift 2
    out=$("$@" <"$S/t2" 2>&1)
    rc=$?
    case "$out" in *"$want"*) m=0 ;; *) m=1 ;; esac
    [ $rc -ne 0 ] && [ $m -eq 0 ]
    ok $? "$desc: refused, rc $rc: $out"
}
refused "www-data unrevoke" "remove refused for uid $(id -u www-data) (writer)" \
    as_user www-data "$JWTREV" --db "$ST" unrevoke -
refused "www-data revoke-key" "put refused for uid" \
    as_user www-data "$JWTREV" --db "$ST" revoke-key k1
refused "www-data revoke-subject by name" "put refused" \
    as_user www-data "$JWTREV" --db "$ST" revoke-subject mallory --iss https://id
refused "www-data purge" "purge refused" \
    as_user www-data "$JWTREV" --db "$ST" purge
refused "www-data compact" "compact refused" \
    as_user www-data "$JWTREV" --db "$ST" compact
echo '{"kind":"key","kid":"k2"}' >"$S/load.jsonl"
chmod 644 "$S/load.jsonl"
refused "www-data load" "load-add refused" \
    as_user www-data "$JWTREV" --db "$ST" load "$S/load.jsonl"
refused "nobody revoke" "revoke-token refused for uid $(id -u nobody) (nobody)" \
    as_user nobody "$JWTREV" --db "$ST" --socket "$SOCK" revoke -
refused "www-data writing around the daemon" "" \
    as_user www-data "$JWTREV" --db "$ST" --socket "$S/none.sock" revoke -
printf '%s\n' "$T2" | J status - >/dev/null
is $? 1 "after all that, bob's token is still revoked"
grep -q "remove refused for uid $(id -u www-data) (writer)" "$S/d.log"
ok $? "the refusals are logged, naming the operation"

# What sshd's PAM stack decides: the refused unrevoke changed nothing.
# (The sanitizer builds have no loadable PAM module: there the same
# reader answers through jwtrev.)
mkdir -p "$S/pam.d"
echo "auth required $PAM_JWTREV key=$S/ec.pub.pem db=$ST user_claim=sub" >"$S/pam.d/jwt"
echo "auth required pam_deny.so" >"$S/pam.d/other"
# pam_says USER TOKENFILE: "CODE:REASON" of PAM, or of jwtrev status
pam_says() {
    if [ -f "$PAM_JWTREV" ] && [ -z "${JWTREV_TEST_PRELOAD:-}" ]; then
        pam_once "$S" "$1" "$2"
        echo "$PAM_CODE:$PAM_REASON"
    elif J status - <"$2" >/dev/null; then
        echo "PAM_SUCCESS:ok"
    else
        echo "PAM_AUTH_ERR:revoked"
    fi
}
is "$(pam_says bob "$S/t2")" "PAM_AUTH_ERR:revoked" "PAM still refuses bob's revoked token"
printf '%s' "$T3" >"$S/t3"
is "$(pam_says carol "$S/t3")" PAM_SUCCESS:ok "and accepts carol's"

# An admin's unrevoke, revoke-key, load, purge through the daemon.
printf '%s\n' "$T2" | J unrevoke - >/dev/null
ok $? "root unrevokes through the daemon"
printf '%s\n' "$T2" | J status - >/dev/null
is $? 0 "bob's token is good again"
J revoke-key k9 >/dev/null && J load "$S/load.jsonl" >/dev/null &&
    J list --kind key | grep -q k2
ok $? "revoke-key and load through the daemon"
J purge --now 1 >/dev/null
ok $? "purge through the daemon"

# ---- malformed requests ------------------------------------------------------

send() { # one raw request line; the reply
    /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
print(s.makefile().readline().strip())' "$SOCK" "$1"
}
case "$(send '{nope')" in *'"ok":false'*'one line of JSON'*) r=0 ;; *) r=1 ;; esac
ok $r "bytes that are not JSON: an error reply"
case "$(send '{"op":"fly"}')" in *'unknown op'*) r=0 ;; *) r=1 ;; esac
ok $r "an unknown op: an error reply"
case "$(send '{"op":"revoke-token"}')" in *'has no token'*) r=0 ;; *) r=1 ;; esac
ok $r "revoke-token without a token: an error reply"
case "$(send '{"op":"revoke-token","token":"a.b.c"}')" in *'"ok":false'*) r=0 ;; *) r=1 ;; esac
ok $r "a token that does not parse: an error reply"
case "$(send '{"op":"put","entry":{"kind":"cat"}}')" in *'entry: kind must be'*) r=0 ;; *) r=1 ;; esac
ok $r "a bad entry: the reason"
/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
try:
    s.sendall(b"x" * (3 << 20))
except OSError:
    pass
print(s.recv(100))' "$SOCK" >"$S/big.out" 2>&1
grep -q 'over 1048576 bytes' "$S/d.log"
ok $? "a line over 1 MiB: connection closed and logged"
J stats >/dev/null && kill -0 "$JD_PID"
ok $? "the daemon still serves"

# ---- kill -9 -----------------------------------------------------------------

for n in 1 2 3 4 5 6 7 8; do tok dave "d$n"; done >"$S/burst"
(
    while read -r t; do printf '%s\n' "$t" | J revoke - >/dev/null 2>&1 &&
        echo "$t"; done <"$S/burst" >"$S/acked"
) &
BPID=$!
sleep 0.05
jd_stop KILL
wait "$BPID"
acked=$(wc -l <"$S/acked")
lost=0
while read -r t; do
    printf '%s\n' "$t" | J status - >/dev/null
    [ $? -eq 1 ] || lost=$((lost + 1))
done <"$S/acked"
is "$lost" 0 "kill -9 mid-burst: none of the $acked acknowledged revocations lost"
printf '%s\n' "$T1" | timeout 2 "$JWTREV" --db "$ST" status - >/dev/null
is $? 1 "readers answer with the daemon dead"
is "$(pam_says carol "$S/t3")" PAM_SUCCESS:ok "PAM too"
refused "a write with the daemon down" "is jwtrevd running" \
    sh -c "printf '%s\n' '$T3' | '$JWTREV' --db '$ST' revoke -"
J stats | grep -q 'NOT ANSWERING'
ok $? "jwtrev stats says the daemon does not answer"
start_daemon
ok $? "restarted over its stale socket"
printf '%s\n' "$T3" | J revoke - >/dev/null
ok $? "writes work again"

# ---- the fold in the background ---------------------------------------------

before=$(J stats --json | sed 's/.*"recent":\([0-9]*\).*/\1/')
for n in $(seq 45); do echo "{\"kind\":\"token\",\"iss\":\"f\",\"jti\":\"f$n\"}"; done >"$S/f.jsonl"
# single writes: past fold_at=40 changes without any write folding
for n in $(seq 45); do J revoke --jti "g$n" --iss f >/dev/null || break; done
ok $? "45 single revocations through the daemon"
i=0
while [ $i -lt 100 ]; do
    r=$(J stats --json | sed 's/.*"recent":\([0-9]*\).*/\1/')
    [ "$r" -lt 40 ] && break
    sleep 0.1
    i=$((i + 1))
done
[ "$r" -lt 40 ]
ok $? "the daemon folded the delta in the background ($before -> $r changes)"
J stats | grep -q '^fold            ok, [1-9]'
ok $? "jwtrev stats shows the daemon and its folds"
bad=0
for n in $(seq 45); do J list --kind token | grep -q "\"g$n\"" || bad=$((bad + 1)); done
is "$bad" 0 "every revocation still there after the fold"

jd_stop TERM
is $? 0 "SIGTERM: a clean stop"

# The shipped example configuration, with this test's paths.
sed -e "s|^db=.*|db=$ST|" -e "s|^socket=.*|socket=$SOCK|" \
    "$top_srcdir/examples/jwtrevd.conf" >"$S/example.conf"
chmod 600 "$S/example.conf"
jd_start "$S/example.conf" "$S/d.log"
ok $? "examples/jwtrevd.conf starts a daemon"
jd_stop TERM
[ ! -e "$SOCK" ] && [ -f "$ST/daemon" ]
ok $? "socket removed, the store still names its daemon (writers wait for it)"
done_testing
