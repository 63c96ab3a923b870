#!/bin/bash
# Fleet mode end to end (docs/design.md 7.2): a private PostgreSQL 15
# (TLS, client certificates, verify-full) and simulated hosts on this
# machine, each with its own store and jwtrevd; h1 also runs a private
# httpd whose logout goes through its daemon.  A logout or revocation on
# one host is refused on the others; revoke-subject crosses hosts; a
# burst from two hosts reaches the third; the database stopped and
# started again (writes queue, then go out); a daemon killed mid-burst
# and restarted loses nothing it acknowledged; a new empty host starts
# from the live set; a www-data peer is refused unrevoke and key entries;
# readers answer throughout.
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/apache/lib.sh"
. "$top_srcdir/tests/fleet/pg.sh"
. "$top_srcdir/tests/daemon.sh"
set -u

ap_setup
declare -A DPID
stop_all() {
    for h in "${!DPID[@]}"; do kill -9 "${DPID[$h]}" 2>/dev/null; done
    pg_cleanup
    ap_cleanup
}
pg_setup
ok $? "a private PostgreSQL 15 with TLS on 127.0.0.1:$PG_PORT"
trap stop_all EXIT
"$JWTREV" fleet init --conninfo "$(pg_super)" >/dev/null && pg_login_roles
ok $? "the fleet's schema, a host role and an admin role"
ISS=https://id.example.com

# host NAME: its store, config, start; DPID[NAME]
host_conf() {
    local h=$1
    mkdir -p "$S/$h"
    [ -d "$S/$h/store" ] ||
        "$JWTREV" --db "$S/$h/store" init --group www-data >/dev/null
    jd_config "$S/$h/jwtrevd.conf" "$S/$h/store" "$S/$h/jwtrevd.sock" \
        writers=www-data purge_interval=0 "host_id=$h" \
        "state_dir=$S/$h/state" "fleet=$(pg_conninfo fleet_host)"
}
host_start() {
    jd_start "$S/$1/jwtrevd.conf" "$S/$1/jwtrevd.log" || return 1
    DPID[$1]=$JD_PID
    JD_PID=
}
host_kill() {
    kill -"${2:-9}" "${DPID[$1]}" 2>/dev/null
    wait "${DPID[$1]}" 2>/dev/null
    unset "DPID[$1]"
}
H() { local h=$1; shift; "$JWTREV" --db "$S/$h/store" "$@"; }
# in_step HOST: wait (10 s at most) until its fleet status says so
in_step() {
    for i in $(seq 100); do
        H "$1" fleet status >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    H "$1" fleet status | sed 's/^/# /'
    return 1
}
# seen HOST TOKEN [SECONDS]: wait until HOST refuses TOKEN; prints ms
seen() {
    local t0 i
    t0=$(date +%s%N)
    for i in $(seq $((${3:-5} * 50))); do
        printf '%s\n' "$2" | H "$1" status - >/dev/null 2>&1
        if [ $? -eq 1 ]; then
            echo $((($(date +%s%N) - t0) / 1000000))
            return 0
        fi
        sleep 0.02
    done
    return 1
}
t() { sign --iss $ISS --jti auto "$@"; }

for h in h1 h2 h3; do
    host_conf $h && host_start $h
    ok $? "jwtrevd on $h in fleet mode"
done
for h in h1 h2 h3; do
    in_step $h
    ok $? "$h: connected and in step (jwtrev fleet status exits 0)"
done
H h1 fleet status --json | grep -q '"connected":true'
ok $? "fleet status --json says connected"

# --- a revocation on one host is refused on the others ----------------------
A=$(t --sub alice)
printf '%s\n' "$A" | H h1 revoke - --wait-fleet=5 >"$S/out" 2>&1
ok $? "revoke on h1 --wait-fleet: $(tail -1 "$S/out")"
grep -q '^fleet: in the fleet' "$S/out"
ok $? "--wait-fleet waited for the database"
ms2=$(seen h2 "$A") && ms3=$(seen h3 "$A")
ok $? "h2 and h3 refuse it ($ms2 ms, $ms3 ms after h1's revoke returned)"

# --- httpd on h1: logout through its daemon reaches h2 and h3 -------------
mkfile api/ok.txt
ap_start "
AuthJWTKeyFile $S/keys/rsa.pub.pem
AuthJWTIssuer $ISS
AuthJWTRevocationDB $S/h1/store
<Location /api>
    AuthType Bearer
    AuthName api
    Require valid-user
</Location>
<Location /logout>
    SetHandler jwtrev-logout
    AuthType Bearer
    AuthName api
    Require valid-user
</Location>
"
B=$(t --sub bob)
bearer /api/ok.txt "$B"
is "$CODE" 200 "h1's httpd accepts bob"
bearer /logout "$B" -X POST
is "$CODE" 204 "bob logs out on h1's httpd"
bearer /api/ok.txt "$B"
is "$CODE" 401 "h1's httpd refuses him at once"
seen h2 "$B" >/dev/null && seen h3 "$B" >/dev/null
ok $? "so do h2 and h3"

# --- revoke-subject on h2 ---------------------------------------------------
C=$(t --sub carol --now $(($(now) - 5)))
H h2 revoke-subject carol --iss $ISS >/dev/null
seen h1 "$C" >/dev/null && seen h3 "$C" >/dev/null
ok $? "h2's revoke-subject carol: h1 and h3 refuse her token"
bearer /api/ok.txt "$C"
is "$CODE" 401 "and h1's httpd too"

# --- roles --------------------------------------------------------------------
printf '%s\n' "$A" >"$S/a.jwt"
chmod 644 "$S/a.jwt"
out=$(runuser -u www-data -- "$JWTREV" --db "$S/h3/store" unrevoke - <"$S/a.jwt" 2>&1)
[ $? -ne 0 ] && case "$out" in *"remove refused"*) true ;; *) false ;; esac
ok $? "www-data on h3: unrevoke refused ($out)"
out=$(runuser -u www-data -- "$JWTREV" --db "$S/h3/store" revoke-key k1 2>&1)
[ $? -ne 0 ] && case "$out" in *"put refused"*) true ;; *) false ;; esac
ok $? "www-data on h3: a key entry refused"
out=$(printf '%s\n' "$A" | H h3 unrevoke - 2>&1)
[ $? -eq 2 ] && case "$out" in *"jwtrev fleet unrevoke"*) true ;; *) false ;; esac
ok $? "root's unrevoke on a fleet host points to the fleet's ($out)"
"$PG_BIN/psql" -X -q -d "$(pg_conninfo fleet_host)" \
    -c "DELETE FROM jwtrev.log" >"$S/out" 2>&1
grep -q 'permission denied' "$S/out"
ok $? "the host role cannot DELETE from the log"

# --- a burst from two hosts ---------------------------------------------------
burst() { # HOST PREFIX N CONNS: N puts over CONNS connections at once
    /usr/bin/python3 - "$S/$1/jwtrevd.sock" "$2" "$3" "$4" <<'PY'
import json, socket, sys, threading
sock, prefix, n, conns = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
acked = []
lock = threading.Lock()
def run(k):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    f = s.makefile("rw")
    for i in range(k, n, conns):
        jti = "%s%d" % (prefix, i)
        f.write(json.dumps({"op": "put", "entry": {"kind": "token",
                "iss": "https://burst", "jti": jti}}) + "\n")
        try:
            f.flush()
            line = f.readline()
        except OSError:
            return  # the daemon killed: what was acknowledged counts
        if '"ok":true' not in line:
            return
        with lock:
            acked.append(jti)
ts = [threading.Thread(target=run, args=(k,)) for k in range(conns)]
[t.start() for t in ts]
[t.join() for t in ts]
print("\n".join(acked))
PY
}
count_on() { # HOST PREFIX: entries of the burst issuer with the prefix
    H "$1" list --kind token | grep -c "iss=\"https://burst\" jti=\"$2"
}
wait_count() { # HOST PREFIX N SECONDS
    for i in $(seq $(($4 * 10))); do
        [ "$(count_on "$1" "$2")" -ge "$3" ] && return 0
        sleep 0.1
    done
    return 1
}
t0=$(date +%s%N)
burst h1 x 1000 8 >"$S/x.acked" &
b1=$!
burst h2 y 1000 8 >"$S/y.acked"
wait $b1
burst_ms=$((($(date +%s%N) - t0) / 1000000))
is "$(wc -l <"$S/x.acked"):$(wc -l <"$S/y.acked")" 1000:1000 \
    "a burst of 1000 from h1 and 1000 from h2 at once, all acknowledged ($burst_ms ms)"
wait_count h3 x 1000 20 && wait_count h3 y 1000 20
ok $? "h3 holds all 2000 ($(count_on h3 x) + $(count_on h3 y))"
wait_count h1 y 1000 20 && wait_count h2 x 1000 20
ok $? "h1 holds h2's 1000, h2 holds h1's"

# --- the database down --------------------------------------------------------
pg_stop
D=$(t --sub dave)
printf '%s\n' "$D" | H h1 revoke - >/dev/null
ok $? "database down: a revoke on h1 still succeeds"
printf '%s\n' "$D" | H h1 status - >/dev/null
is $? 1 "and h1 refuses the token at once"
H h1 fleet status >"$S/fs" 2>&1
is "$?" 1 "h1's fleet status exits 1 (behind)"
grep -q '^outbox  *[1-9]' "$S/fs" && grep -q '^connected  *NO' "$S/fs"
ok $? "and shows the queued change, not connected"
printf '%s\n' "$A" | H h2 status - >/dev/null
is $? 1 "readers on h2 answer with the database down"
pg_start
ms=$(seen h2 "$D" 15) && seen h3 "$D" 15 >/dev/null
ok $? "database back: h2 and h3 refuse dave's token ($ms ms after the restart)"
in_step h1
ok $? "h1 in step again"

# --- a daemon killed mid-burst ------------------------------------------------
burst h3 z 600 4 >"$S/z.acked" &
bz=$!
sleep 0.5
host_kill h3 9
wait $bz
acked=$(wc -l <"$S/z.acked")
host_start h3
ok $? "h3's daemon killed mid-burst ($acked acknowledged), restarted"
lost=0
wait_count h1 z "$acked" 20 || true
while read -r j; do
    H h1 list --kind token | grep -q "jti=\"$j\"" || lost=$((lost + 1))
done <"$S/z.acked"
is "$lost" 0 "none of h3's $acked acknowledged revocations missing on h1"

# --- an admin's unrevoke, for the whole fleet --------------------------------
out=$(printf '%s\n' "$A" | H h1 fleet unrevoke --conninfo "$(pg_conninfo fleet_host)" - 2>&1)
[ $? -eq 3 ] && case "$out" in *"row-level security"*) true ;; *) false ;; esac
ok $? "a host role cannot write the tombstone: exit 3 ($out)"
printf '%s\n' "$A" | H h1 fleet unrevoke --conninfo "$(pg_conninfo fleet_admin)" - >"$S/out"
ok $? "jwtrev fleet unrevoke as jwtrev_admin: $(cat "$S/out")"
grep -q '(1 revocations of the log cancelled)' "$S/out"
ok $? "it cancelled alice's revocation"
back() { # HOST TOKEN: wait until HOST accepts it again
    for i in $(seq 250); do
        printf '%s\n' "$2" | H "$1" status - >/dev/null 2>&1 && return 0
        sleep 0.02
    done
    return 1
}
back h1 "$A" && back h2 "$A" && back h3 "$A"
ok $? "alice's token is good again on h1, h2 and h3"
bearer /api/ok.txt "$A"
is "$CODE" 200 "and on h1's httpd"

# --- a new, empty host --------------------------------------------------------
host_conf h4 && host_start h4
ok $? "a new host h4 joins"
in_step h4
ok $? "h4 in step"
n1=$(H h1 stats --json | sed 's/.*"total":\([0-9]*\).*/\1/')
n4=$(H h4 stats --json | sed 's/.*"total":\([0-9]*\).*/\1/')
is "$n4" "$n1" "h4 holds every live entry h1 has ($n4)"
seen h4 "$B" 1 >/dev/null && seen h4 "$D" 1 >/dev/null
ok $? "h4 refuses bob's and dave's tokens"
printf '%s\n' "$A" | H h4 status - >/dev/null
is $? 0 "and takes alice's, unrevoked before it joined"

for h in h1 h2 h3 h4; do
    host_kill $h TERM
done
no_secret_in_log "$A" "$B"
! grep -qF "$B" "$S"/h*/jwtrevd.log
ok $? "no token in any daemon's log"
done_testing
