# tests/daemon.sh - one jwtrevd for a test: source it after tests/tap.sh.
#
#   jd_config FILE STORE SOCKET [LINE...]   write a jwtrevd.conf (0600)
#   jd_start FILE LOG      start jwtrevd --foreground in the background,
#                          wait until it answers; JD_PID is its pid
#   jd_stop [SIGNAL]       stop it (TERM by default; also done at exit by
#                          the caller's trap calling jd_stop KILL)
JWTREVD=$top_builddir/jwtrevd/jwtrevd
JD_PID=

jd_config() {
    f=$1 st=$2 sock=$3
    shift 3
    printf 'db=%s\nsocket=%s\n' "$st" "$sock" >"$f"
    for l in "$@"; do printf '%s\n' "$l" >>"$f"; done
    chmod 600 "$f"
}

jd_start() {
    sock=$(sed -n 's/^socket=//p' "$1")
    "$JWTREVD" --config "$1" --foreground >>"$2" 2>&1 &
    JD_PID=$!
    for i in $(seq 200); do
        [ -S "$sock" ] && /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"{\"op\":\"status\"}\n")
sys.exit(0 if b"\"ok\":true" in s.makefile("rb").readline() else 1)' \
            "$sock" 2>/dev/null && return 0
        kill -0 "$JD_PID" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

jd_stop() {
    [ -z "$JD_PID" ] && return 0
    kill -"${1:-TERM}" "$JD_PID" 2>/dev/null
    wait "$JD_PID" 2>/dev/null
    rc=$?
    JD_PID=
    return $rc
}
