#!/bin/sh
# Fleet mode against a real PostgreSQL 15 (docs/design.md 7.2): the
# schema through jwtrev fleet schema/init/prune, then tests/test_fleet
# drives libjwtrevfleet with simulated hosts (TLS with client
# certificates, verify-full) through propagation, overlapping
# transactions, unparsable rows, refused writes, a database restart,
# kill -9 and resends, bootstrap, multi-host conninfo.
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/fleet/pg.sh"
set -u

DRIVER=$top_builddir/tests/test_fleet
[ -x "$DRIVER" ]
ok $? "the driver is built" || { done_testing; exit 0; }
pg_setup
ok $? "a private PostgreSQL 15 with TLS on 127.0.0.1:$PG_PORT" ||
    { done_testing; exit 0; }

"$JWTREV" fleet schema >"$PG_TMP/schema.sql"
ok $? "jwtrev fleet schema prints the schema"
grep -q 'CREATE TABLE IF NOT EXISTS jwtrev.log' "$PG_TMP/schema.sql"
ok $? "... with the log table"
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$(pg_super)" -f "$PG_TMP/schema.sql" >/dev/null 2>&1
ok $? "psql applies what it prints"
out=$("$JWTREV" fleet init --conninfo "$(pg_super)" 2>&1)
is "$?:$out" "0:fleet: schema applied" "jwtrev fleet init applies it again (idempotent)"
pg_login_roles
ok $? "login roles fleet_host and fleet_admin"
"$JWTREV" fleet init >/dev/null 2>&1
is $? 2 "fleet init without --conninfo: usage (2)"
out=$("$JWTREV" fleet init --conninfo "$(pg_conninfo fleet_host)" 2>&1)
is $? 3 "fleet init as a host role: database error (3)"
case $out in *"permission denied"*) r=0 ;; *) r=1 ;; esac
ok $r "... saying permission denied ($out)"
out=$("$JWTREV" fleet prune --conninfo "$(pg_conninfo fleet_host)" 2>&1)
is $? 3 "fleet prune as a host role: refused (3)"
out=$("$JWTREV" fleet prune --conninfo "$(pg_conninfo fleet_admin)" 2>&1)
is "$?:$out" "0:fleet: pruned 0 rows" "fleet prune as the admin role"
"$JWTREV" fleet init --conninfo "host=127.0.0.1 port=$(free_port) connect_timeout=2" >/dev/null 2>&1
is $? 3 "fleet init with nothing listening: 3"
"$JWTREV" fleet bogus >/dev/null 2>&1
is $? 2 "an unknown fleet subcommand: 2"

dead=$(free_port)
FLEET_HOST=$(pg_conninfo fleet_host)
FLEET_ADMIN=$(pg_conninfo fleet_admin)
FLEET_STRANGER=$(pg_conninfo fleet_stranger)
FLEET_SUPER=$(pg_super)
FLEET_OTHER_CA=$(pg_conninfo fleet_host other)
FLEET_WRONG_NAME="$(pg_conninfo fleet_host | sed 's/host=127.0.0.1/host=wrong.invalid hostaddr=127.0.0.1/')"
FLEET_NO_CERT="host=127.0.0.1 port=$PG_PORT dbname=fleet user=fleet_host sslmode=verify-full sslrootcert=$PG_TLS/ca.crt sslcert=$PG_TMP/none.crt sslkey=$PG_TMP/none.key"
FLEET_MULTI="$(pg_conninfo fleet_host | sed "s/host=127.0.0.1 port=$PG_PORT/host=127.0.0.1,127.0.0.1 port=$dead,$PG_PORT/") target_session_attrs=read-write"
FLEET_DEAD="$(pg_conninfo fleet_host | sed "s/port=$PG_PORT/port=$dead/")"
FLEET_PORT=$PG_PORT
FLEET_TMP=$PG_TMP/drv
mkdir -p "$FLEET_TMP"
# the driver stops and starts the server for the outage case
FLEET_PG_STOP="$PG_TMP/stop"
FLEET_PG_START="$PG_TMP/start"
u=
[ "$(id -u)" -eq 0 ] && u="runuser -u $PG_USER --"
printf '#!/bin/sh\nexec %s %s/pg_ctl -D %s -m fast -w stop >/dev/null 2>&1\n' "$u" "$PG_BIN" "$PG_DATA" >"$FLEET_PG_STOP"
printf '#!/bin/sh\nexec %s %s/pg_ctl -D %s -l %s/server.log -w start >/dev/null 2>&1\n' "$u" "$PG_BIN" "$PG_DATA" "$PG_TMP" >"$FLEET_PG_START"
chmod 755 "$FLEET_PG_STOP" "$FLEET_PG_START"
export FLEET_HOST FLEET_ADMIN FLEET_STRANGER FLEET_SUPER FLEET_OTHER_CA FLEET_WRONG_NAME \
    FLEET_NO_CERT FLEET_MULTI FLEET_DEAD FLEET_PORT FLEET_TMP FLEET_PG_STOP \
    FLEET_PG_START

# The driver's TAP points follow ours: renumber them into one stream.
"$DRIVER" >"$PG_TMP/driver.tap" 2>"$PG_TMP/driver.err"
rc=$?
while IFS= read -r line; do
    case $line in
    "ok "*) ok 0 "${line#ok * - }" ;;
    "not ok "*) ok 1 "${line#not ok * - }" ;;
    "1.."*) ;;
    *) echo "$line" ;;
    esac
done <"$PG_TMP/driver.tap"
is "$rc" 0 "the driver ran to its end"
[ -s "$PG_TMP/driver.err" ] && sed 's/^/# stderr: /' "$PG_TMP/driver.err" | tail -20
grep -q '^1\.\.' "$PG_TMP/driver.tap"
ok $? "the driver printed its plan"
done_testing
