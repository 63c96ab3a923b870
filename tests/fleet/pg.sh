# tests/fleet/pg.sh - a private PostgreSQL 15 for the fleet tests and the
# fleet bench (docs/design.md 7.2).  Source it after tests/tap.sh.
#
#   pg_setup          scratch dir $PG_TMP, a test CA, server and client
#                     certificates, initdb, start on 127.0.0.1 at a free
#                     $PG_PORT with TLS (hostssl ... cert), database "fleet"
#   pg_start, pg_stop [MODE]   start again / stop (pg_ctl -m MODE, default fast)
#   pg_psql SQL...    run SQL as the superuser (private unix socket),
#                     unaligned tuples only; fails on an error
#   pg_super          the superuser's conninfo (unix socket, no TLS)
#   pg_conninfo USER [CA]  TLS conninfo for USER with its client
#                     certificate, sslmode=verify-full (CA: test or other)
#   pg_login_roles    after the schema: fleet_host (in jwtrev_host) and
#                     fleet_admin (in jwtrev_admin), both LOGIN
#   pg_cleanup        stop and remove everything (the EXIT trap set by
#                     pg_setup; a test with a trap of its own calls it)
#
# As root, the server runs as the user "postgres" (Debian's package
# creates it), else "nobody": initdb refuses to run as root.  Client
# certificates exist for fleet_host, fleet_admin and fleet_stranger (a
# user no role knows); "other" is a second CA that signed a certificate
# for fleet_host.  KEEP=1 keeps $PG_TMP (the server log is
# $PG_TMP/server.log).
set -u
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_TMP=
PG_PORT=
PG_DATA=
PG_SOCK=
PG_TLS=

# pg_as CMD...: run CMD as the server's user.
pg_as() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u "$PG_USER" -- "$@"
    else
        "$@"
    fi
}

pg_cleanup() {
    pg_stop immediate
    if [ -n "${KEEP:-}" ]; then
        echo "# kept $PG_TMP"
    elif [ -n "$PG_TMP" ]; then
        rm -rf "$PG_TMP"
    fi
}

# pg_cert NAME CN CA [SAN]: NAME.key and NAME.crt signed by CA.
pg_cert() {
    local d=$PG_TLS ext=
    openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$2" \
        -keyout "$d/$1.key" -out "$d/$1.csr" 2>/dev/null || return 1
    [ -n "${4:-}" ] && { printf 'subjectAltName=%s\n' "$4" >"$d/$1.ext"; ext="-extfile $d/$1.ext"; }
    openssl x509 -req -in "$d/$1.csr" -CA "$d/$3.crt" -CAkey "$d/$3.key" \
        -CAcreateserial -days 2 -sha256 $ext -out "$d/$1.crt" 2>/dev/null || return 1
    chmod 600 "$d/$1.key"
}

pg_make_tls() {
    local d=$PG_TLS ca
    mkdir -p "$d" && chmod 755 "$d"
    for ca in ca other; do
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=jwtrev test $ca" \
            -keyout "$d/$ca.key" -out "$d/$ca.crt" 2>/dev/null || return 1
    done
    pg_cert server localhost ca "IP:127.0.0.1,DNS:localhost" &&
        pg_cert fleet_host fleet_host ca && pg_cert fleet_admin fleet_admin ca &&
        pg_cert fleet_stranger fleet_stranger ca &&
        pg_cert other_host fleet_host other || return 1
    # The server reads its key as its own user, mode 0600.
    [ "$(id -u)" -eq 0 ] && chown "$PG_USER" "$d/server.key"
    return 0
}

pg_setup() {
    PG_USER=postgres
    id postgres >/dev/null 2>&1 || PG_USER=nobody
    [ -x "$PG_BIN/initdb" ] || { echo "# no $PG_BIN/initdb (Debian package postgresql-15)"; return 1; }
    PG_TMP=$(mktemp -d)
    trap pg_cleanup EXIT
    chmod 711 "$PG_TMP"
    PG_DATA=$PG_TMP/data
    PG_SOCK=$PG_TMP/sock
    PG_TLS=$PG_TMP/tls
    PG_PORT=$(free_port)
    mkdir -p "$PG_DATA" "$PG_SOCK" && chmod 700 "$PG_DATA" "$PG_SOCK"
    [ "$(id -u)" -eq 0 ] && chown "$PG_USER" "$PG_DATA" "$PG_SOCK" "$PG_TMP"
    pg_make_tls || { echo "# cannot make the test certificates"; return 1; }
    pg_as "$PG_BIN/initdb" -D "$PG_DATA" -A trust -U postgres -E UTF8 \
        --locale=C.UTF-8 >"$PG_TMP/initdb.log" 2>&1 ||
        { sed 's/^/# /' "$PG_TMP/initdb.log"; return 1; }
    # fsync=off: a stopped or killed server loses nothing committed (the
    # kernel keeps the pages); only a crash of the machine would.
    cat >>"$PG_DATA/postgresql.conf" <<EOC
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
ssl = on
ssl_cert_file = '$PG_TLS/server.crt'
ssl_key_file = '$PG_TLS/server.key'
ssl_ca_file = '$PG_TLS/ca.crt'
fsync = ${PG_FSYNC:-off}
max_connections = 50
log_min_messages = warning
EOC
    cat >"$PG_DATA/pg_hba.conf" <<EOC
local all postgres trust
hostssl all all 127.0.0.1/32 cert
EOC
    pg_start || return 1
    "$PG_BIN/psql" -X -q -d "host=$PG_SOCK port=$PG_PORT user=postgres dbname=postgres" \
        -c "CREATE DATABASE fleet" >/dev/null
}

pg_start() {
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_TMP/server.log" -w -t 30 \
        start >/dev/null 2>&1 || { echo "# the server did not start:"; sed 's/^/# /' "$PG_TMP/server.log" | tail -20; return 1; }
}

pg_stop() {
    [ -n "$PG_DATA" ] && [ -f "$PG_DATA/postmaster.pid" ] || return 0
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" -m "${1:-fast}" -w -t 30 stop >/dev/null 2>&1
}

pg_super() { echo "host=$PG_SOCK port=$PG_PORT user=postgres dbname=fleet"; }

pg_psql() {
    local sql
    for sql in "$@"; do
        "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$(pg_super)" -c "$sql" || return 1
    done
}

pg_conninfo() {
    local cert=$1 ca=${2:-ca}
    [ "$ca" = other ] && cert=other_host
    echo "host=127.0.0.1 port=$PG_PORT dbname=fleet user=$1 sslmode=verify-full sslrootcert=$PG_TLS/$ca.crt sslcert=$PG_TLS/$cert.crt sslkey=$PG_TLS/$cert.key"
}

pg_login_roles() {
    pg_psql "CREATE ROLE fleet_host LOGIN IN ROLE jwtrev_host" \
        "CREATE ROLE fleet_admin LOGIN IN ROLE jwtrev_admin" \
        "CREATE ROLE fleet_stranger LOGIN"
}
