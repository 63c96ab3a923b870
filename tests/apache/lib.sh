# tests/apache/lib.sh - a private Debian apache2 with the built module, for
# the tests/apache_*.sh scripts.  Source it after tests/tap.sh.
#
#   ap_setup                 scratch dir $S (0755), keys, a store, htdocs
#   ap_start SITE_CONF_TEXT  write httpd.conf + site.conf, check, start
#   ap_stop                  stop httpd (also done at exit)
#   ap_httpd [apache2 args]  $APACHE2_BIN (with the preload below), e.g. -t
#   sign [jwtrev sign args]  a token signed with $S/rsa.pem (RS256)
#   get URL [curl args]      sets CODE, and HDRS (the response headers)
#   hdr NAME                 a header of the last response ("" if none)
#   mkfile PATH              htdocs/PATH with the content "ok"
#
# KEEP=1 keeps the scratch dir (config, error.log) for a look afterwards.
# JWTREV_TEST_PRELOAD (./dev sanitize, ./dev tsan): a sanitizer runtime
# that every apache2 run loads first, for a module built with that
# sanitizer; each report goes to $S/sanitizer/ and fails the test at exit.
# Needs: $APACHE2_BIN, $MOD_AUTH_JWTREV, $JWTREV, openssl, curl; a missing
# one is a failure, never a skip.
set -u
S=
AP_PID=
PORT=
MODDIR=${APACHE_MODDIR:-/usr/lib/apache2/modules}

ap_cleanup() {
    local rc=0
    ap_stop
    ap_sanitizer_reports || rc=1
    if [ -n "${KEEP:-}" ]; then
        echo "# kept $S"
    elif [ -n "$S" ]; then
        rm -rf "$S"
    fi
    [ $rc -eq 0 ] || exit 1
}
trap ap_cleanup EXIT

# The preload goes to apache2 alone (not to curl or the CLI).  httpd
# itself is not instrumented and leaves its pools to the exit by design,
# so leak detection is off for it; any other report stops the process
# (abort_on_error, halt_on_error; TSan's halt_on_error comes from ./dev
# tsan) and is written to $S/sanitizer/report.PID, a directory the
# children (www-data) can write, which ap_sanitizer_reports checks at exit.
ap_httpd() { (ap_exec_httpd "$@"); }

# ap_exec_httpd [setsid] [apache2 args]: the shell becomes apache2 (in a
# session of its own with setsid, so its pid is the process group to stop).
ap_exec_httpd() {
    local run=env log=$S/sanitizer/report
    [ "${1:-}" = setsid ] && { run=setsid; shift; }
    [ -n "${JWTREV_TEST_PRELOAD:-}" ] || exec $run "$APACHE2_BIN" "$@"
    exec $run env LD_PRELOAD="$JWTREV_TEST_PRELOAD" \
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0:abort_on_error=1:log_path=$log" \
        UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1:log_path=$log" \
        TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}log_path=$log" \
        "$APACHE2_BIN" "$@"
}

# Any sanitizer report of an apache2 run (a parent, a child, apache2 -t):
# shown as comments and a Bail out, which fails the test.
ap_sanitizer_reports() {
    [ -n "${JWTREV_TEST_PRELOAD:-}" ] && [ -n "$S" ] || return 0
    local f found=0
    for f in "$S"/sanitizer/report.*; do
        [ -e "$f" ] || continue
        sed 's/^/# /' "$f"
        found=1
    done
    # a report that could not go to its file goes to stderr: error.log
    for f in "$S"/*.log "$S"/*.out; do
        [ -e "$f" ] && grep -q 'Sanitizer\|runtime error:' "$f" &&
            { sed 's/^/# /' "$f"; found=1; }
    done
    [ $found -eq 0 ] && return 0
    echo "Bail out! sanitizer report from httpd"
    return 1
}

ap_need() {
    local what
    for what in "$APACHE2_BIN" "$MOD_AUTH_JWTREV" "$JWTREV"; do
        if [ ! -e "$what" ]; then
            echo "Bail out! missing $what"
            exit 1
        fi
    done
    for what in openssl curl; do
        if ! command -v "$what" >/dev/null; then
            echo "Bail out! missing $what"
            exit 1
        fi
    done
}

ap_setup() {
    ap_need
    S=$(mktemp -d /tmp/jwtrev-apache.XXXXXX)
    chmod 755 "$S"
    mkdir -p "$S/htdocs" "$S/run" "$S/keys" "$S/sanitizer"
    chmod 1777 "$S/sanitizer"
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
        -out "$S/keys/rsa.pem" 2>/dev/null &&
        openssl pkey -in "$S/keys/rsa.pem" -pubout -out "$S/keys/rsa.pub.pem" &&
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
            -out "$S/keys/ec.pem" 2>/dev/null &&
        openssl pkey -in "$S/keys/ec.pem" -pubout -out "$S/keys/ec.pub.pem"
    ok $? "test keys generated"
    chmod 755 "$S/keys"
    chmod 644 "$S"/keys/*
    "$JWTREV" --db "$S/store" init --group www-data --logout-writable >/dev/null
    ok $? "store created for group www-data"
    PORT=$(free_port)
}

mkfile() {
    mkdir -p "$(dirname "$S/htdocs/$1")"
    echo ok >"$S/htdocs/$1"
}

# ap_start SITE_CONF_TEXT [LOGLEVEL]: httpd on $PORT.  Another process may
# take a port between free_port and httpd's bind (a client's ephemeral
# port, a server of a parallel test): httpd then exits, and ap_start tries
# again on a new port, up to three times.  httpd writes its pid file only
# once it listens, so a server of another test on the port is never
# mistaken for ours.
ap_start() {
    local try
    for try in 1 2 3; do
        ap_try_start "$@" && return 0
        grep -q 'Address already in use' "$S/error.log" "$S/httpd.out" ||
            break
        PORT=$(free_port)
    done
    sed 's/^/# /' "$S/error.log" "$S/httpd.out"
    echo "Bail out! httpd did not start"
    exit 1
}

ap_try_start() {
    sed -e "s|@ROOT@|$S|g" -e "s|@PORT@|$PORT|g" -e "s|@MODDIR@|$MODDIR|g" \
        -e "s|@MODULE@|$MOD_AUTH_JWTREV|g" -e "s|@LOGLEVEL@|${2:-warn auth_jwtrev:debug}|g" \
        "$top_srcdir/tests/apache/httpd.conf.in" >"$S/httpd.conf"
    printf '%s\n' "$1" >"$S/site.conf"
    if ! ap_httpd -t -f "$S/httpd.conf" >"$S/configtest.log" 2>&1; then
        sed 's/^/# /' "$S/configtest.log"
        echo "Bail out! apache2 -t refused the test configuration"
        exit 1
    fi
    : >"$S/error.log"
    rm -f "$S/httpd.pid"
    ap_exec_httpd setsid -DFOREGROUND -f "$S/httpd.conf" \
        >"$S/httpd.out" 2>&1 &
    AP_PID=$!
    local i
    for i in $(seq 100); do
        if ! kill -0 "$AP_PID" 2>/dev/null; then
            wait "$AP_PID" 2>/dev/null
            AP_PID=
            return 1
        fi
        [ -s "$S/httpd.pid" ] &&
            curl -s -o /dev/null "http://127.0.0.1:$PORT/" && return 0
        sleep 0.1
    done
    ap_stop
    return 1
}

ap_stop() {
    [ -z "$AP_PID" ] && return 0
    kill -TERM -- "-$AP_PID" 2>/dev/null || kill -TERM "$AP_PID" 2>/dev/null
    wait "$AP_PID" 2>/dev/null
    AP_PID=
}

sign() {
    "$JWTREV" sign --key "$S/keys/rsa.pem" "$@"
}

# get PATH [curl args]: CODE is the status, HDRS the response headers.
get() {
    local path=$1
    shift
    HDRS=$(curl -s -o /dev/null -D - "$@" "http://127.0.0.1:$PORT$path" | tr -d '\r')
    CODE=$(printf '%s\n' "$HDRS" | sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p')
}

# get with a bearer token: bearer PATH TOKEN [curl args]
bearer() {
    local path=$1 tok=$2
    shift 2
    get "$path" -H "Authorization: Bearer $tok" "$@"
}

hdr() {
    printf '%s\n' "$HDRS" | sed -n "s/^$1: //Ip" | head -n 1
}

# pyjwt KEY_PEM ALG CLAIMS_JSON: a token from Debian's PyJWT (independent
# of our signer).
pyjwt() {
    /usr/bin/python3 -c 'import jwt, json, sys
print(jwt.encode(json.loads(sys.argv[3]), open(sys.argv[1]).read(), algorithm=sys.argv[2]))' "$@"
}

now() { date +%s; }

# The token's signature segment (what a log must not show either).
sig_of() { printf '%s' "${1##*.}"; }

# no_secret_in_log TOKEN...: neither a token nor its signature in the log.
no_secret_in_log() {
    local t found=0
    for t in "$@"; do
        grep -qF -- "$t" "$S/error.log" && found=1
        grep -qF -- "$(sig_of "$t")" "$S/error.log" && found=1
    done
    [ $found -eq 0 ]
    ok $? "no token or signature text anywhere in the error log ($# tokens)"
}
