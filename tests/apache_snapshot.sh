#!/bin/bash
# httpd children reading the store through jwtrevd's sealed snapshots
# (docs/design.md 7): they map the daemon's memfd once it has one, answer
# as they did from the file, move to the next snapshot after a fold, and
# survive base.db cut short in place under them (the mapping is of
# sealed memory: no SIGBUS; the changed file is refused).  A snapshot
# from a daemon that is neither root nor the store's owner, or one that
# is not sealed, is never used.
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/apache/lib.sh"
. "$top_srcdir/tests/daemon.sh"

ap_setup
FAKE=
trap '[ -n "$FAKE" ] && kill "$FAKE" 2>/dev/null; jd_stop KILL; ap_cleanup' EXIT
ISS=https://id.example.com
DS=$S/dstore
SOCK=$S/run/jwtrevd.sock
"$JWTREV" --db "$DS" init --group www-data >/dev/null
seq -f '{"kind":"token","iss":"https://f","jti":"f%06g"}' 1 20000 >"$S/in.jsonl"
"$JWTREV" --db "$DS" load "$S/in.jsonl" >/dev/null
ok $? "a store of 20000 entries"
jd_config "$S/jwtrevd.conf" "$DS" "$SOCK" writers=www-data purge_interval=0 \
    "state_dir=$S/state"
jd_start "$S/jwtrevd.conf" "$S/jwtrevd.log"
ok $? "jwtrevd owns it"
mkfile api/ok.txt
ap_start "
AuthJWTKeyFile $S/keys/rsa.pub.pem
AuthJWTIssuer $ISS
AuthJWTRevocationDB $DS
Header always set X-Reason \"expr=%{note:JWTREV_REASON}\"
<Location /api>
    AuthType Bearer
    AuthName api
    Require valid-user
</Location>
"
t() { sign --iss $ISS --jti auto "$@"; }
children() { pgrep -P "$(cat "$S/httpd.pid")"; }
# mapped: how many children map a snapshot (memfd:jwtrev-base.db)
mapped() {
    local n=0 p
    for p in $(children); do
        grep -q 'memfd:jwtrev-base.db' "/proc/$p/maps" 2>/dev/null && n=$((n + 1))
    done
    echo $n
}
# until_mapped: requests until a child maps one (10 s at most)
until_mapped() {
    for i in $(seq 100); do
        bearer /api/ok.txt "$1"
        [ "$(mapped)" -gt 0 ] && return 0
        sleep 0.1
    done
    return 1
}

R=$(t --sub rev)
G=$(t --sub good)
printf '%s\n' "$R" | "$JWTREV" --db "$DS" revoke - >/dev/null
"$JWTREV" --db "$DS" compact >/dev/null
until_mapped "$G"
ok $? "httpd children map the daemon's snapshot ($(mapped) of $(children | wc -l))"
bearer /api/ok.txt "$R"
is "$CODE:$(hdr X-Reason)" 401:revoked "a revoked token is refused through it"
bearer /api/ok.txt "$G"
is "$CODE" 200 "a good one accepted"
grep -c 'memfd:jwtrev-base.db' "/proc/$(children | head -1)/maps" >/dev/null &&
    ! grep -q 'memfd:jwtrev-base.db.*w' "/proc/$(children | head -1)/maps"
ok $? "mapped read-only"

# A fold: a new base, a new snapshot; children follow it.
R2=$(t --sub rev2)
printf '%s\n' "$R2" | "$JWTREV" --db "$DS" revoke - >/dev/null
old_ino=$(stat -c %i "$DS/base.db")
"$JWTREV" --db "$DS" compact >/dev/null
[ "$(stat -c %i "$DS/base.db")" != "$old_ino" ]
ok $? "compact made a new base"
bearer /api/ok.txt "$R2"
is "$CODE" 401 "the revocation folded into it is refused at once (read from the file)"
sleep 2.5
until_mapped "$G" && bearer /api/ok.txt "$R2"
is "$CODE" 401 "and through the new snapshot"

# base.db cut short in place under the children: no SIGBUS, fail closed.
pids_before=$(children | sort | paste -sd,)
truncate -s 8192 "$DS/base.db"
sleep 1.2
bearer /api/ok.txt "$G"
is "$CODE" 500 "base.db cut short in place: refused (db_error), not answered from memory"
bearer /api/ok.txt "$R"
is "$CODE" 500 "the revoked token too"
is "$(children | sort | paste -sd,)" "$pids_before" "no child died (no SIGBUS)"
! grep -q 'exit signal Bus error' "$S/error.log"
ok $? "the error log shows no SIGBUS"
jd_stop TERM

# A snapshot from a daemon that is not root or the store's owner, or one
# not sealed: never used.
ap_stop
"$JWTREV" --db "$S/s2" init --group www-data >/dev/null
"$JWTREV" --db "$S/s2" load "$S/in.jsonl" >/dev/null
printf '%s\n' "$R" | "$JWTREV" --db "$S/s2" revoke - >/dev/null
mkdir -p "$S/fakerun"
chown www-data "$S/fakerun"
fake() { # USER SEAL: serve snapshot requests with an empty memfd
    rm -f "$S/fakerun/hits"
    setpriv --reuid="$1" --regid="$1" --init-groups /usr/bin/python3 -c '
import os, socket, sys
path, seal = sys.argv[1], sys.argv[2] == "1"
try:
    os.unlink(path)
except OSError:
    pass
s = socket.socket(socket.AF_UNIX)
s.bind(path)
os.chmod(path, 0o666)
s.listen(16)
fd = os.memfd_create("jwtrev-base.db", os.MFD_ALLOW_SEALING)
os.write(fd, b"\0" * 8192)
if seal:
    import fcntl
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW |
                fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL)
while True:
    c, _ = s.accept()
    with open(sys.argv[3], "a") as f:
        f.write("hit\n")
    try:
        if c.recv(4096):
            socket.send_fds(c, [b"{\"ok\":true}\n"], [fd])
    except OSError:
        pass  # the reader hung up: it does not trust us
    c.close()' "$S/fakerun/fake.sock" "$2" "$S/fakerun/hits" &
    FAKE=$!
    sleep 0.5
}
printf 'socket=%s\n' "$S/fakerun/fake.sock" >"$S/s2/daemon"
chmod 640 "$S/s2/daemon"
chgrp www-data "$S/s2/daemon"
for who in "www-data 1" "root 0"; do
    set -- $who
    fake "$1" "$2"
    ap_start "
AuthJWTKeyFile $S/keys/rsa.pub.pem
AuthJWTIssuer $ISS
AuthJWTRevocationDB $S/s2
<Location /api>
    AuthType Bearer
    AuthName api
    Require valid-user
</Location>
"
    for i in 1 2 3 4 5 6 7 8 9 10 11 12; do bearer /api/ok.txt "$G"; sleep 0.2; done
    desc=$([ "$1" = root ] && echo "a snapshot that is not sealed" || echo "a daemon running as www-data")
    [ -s "$S/fakerun/hits" ]
    ok $? "$desc: the children called it ($(wc -l <"$S/fakerun/hits" 2>/dev/null) times)"
    is "$(mapped)" 0 "$desc: no child maps it"
    bearer /api/ok.txt "$R"
    is "$CODE" 401 "$desc: the revoked token still refused (from the file)"
    bearer /api/ok.txt "$G"
    is "$CODE" 200 "$desc: a good one accepted"
    ap_stop
    kill "$FAKE" 2>/dev/null
    wait "$FAKE" 2>/dev/null
    FAKE=
done
done_testing
