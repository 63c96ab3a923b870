# common.sh - shared setup of the pam_jwtrev shell tests; source it after
# tests/tap.sh.  Everything runs through the real libpam under pam_wrapper
# (service files in a scratch folder) with tests/pam/pamdrv as the
# application; tokens come from tests/pam/jwtmaker.py (PyJWT).
#
#   pam_setup                  scratch folder $S, keys in $K, store $DB,
#                              prerequisites checked (a missing one fails)
#   svc NAME LINE...           write the service file $S/pam.d/NAME
#   visible TYPE ARGS...       module lines that make pam_jwtrev's
#                              PAM_IGNORE visible to the application
#   mktokens <<EOF ... EOF     token specs (see jwtmaker.py) -> $S/t/*.jwt
#   drive SVC USER TOK STEP... run pamdrv; stdout in $S/out, log in $S/log
#   result STEP                what the last drive's STEP returned
#   decisions                  the last drive's pam_jwtrev log lines
#   expect SVC USER TOK STEP WANT REASON DESC
#                              drive, then check the code, that exactly one
#                              decision line was logged with that reason
PY=/usr/bin/python3
PAMDRV=${top_builddir:?}/tests/pam/pamdrv
JWTMAKER=${top_srcdir:?}/tests/pam/jwtmaker.py
PAM_WRAPPER_LIB=libpam_wrapper.so
# pam_wrapper gives each process a directory /tmp/pam.X from a few dozen
# names and takes over ones it believes stale without a lock, so PAM tests
# running in parallel can pull one from under each other: one lock per
# build serialises the processes that use it.
PAM_LOCK=${top_builddir:?}/tests/pam-wrapper.lock

# pamwrap [NAME=VALUE...] COMMAND ARGS...: COMMAND under pam_wrapper.
pamwrap() {
    flock "$PAM_LOCK" env LD_PRELOAD="$PAM_WRAPPER_LIB" PAM_WRAPPER=1 "$@"
}

pam_setup() {
    for f in "$PAM_JWTREV" "$PAMDRV" "$JWTREV"; do
        test -x "$f" || test -f "$f"
        ok $? "prerequisite $f exists"
    done
    $PY -c 'import jwt, cryptography' 2>/dev/null
    ok $? "python3-jwt is installed"
    test -n "$(ldconfig -p | grep "$PAM_WRAPPER_LIB")"
    ok $? "libpam_wrapper is installed"
    S=$(mktemp -d)
    trap 'rm -rf "$S"' EXIT
    K=$S/keys
    DB=$S/db
    mkdir -p "$S/pam.d" "$S/t"
    echo "auth required pam_deny.so" >"$S/pam.d/other"
    $PY "$JWTMAKER" keys "$K"
    ok $? "test keys made"
    "$JWTREV" --db "$DB" init >/dev/null 2>&1
    ok $? "revocation store created"
    : >"$S/all.log"
}

svc() {
    local name=$1
    shift
    printf '%s\n' "$@" >"$S/pam.d/$name"
}

# A stack whose only module abstains answers PAM_PERM_DENIED, which hides
# PAM_IGNORE.  So pam_jwtrev's PAM_IGNORE passes control to pam_debug, which
# answers PAM_TRY_AGAIN, a code pam_jwtrev never returns; result() reads
# that as PAM_IGNORE.  Any other code of pam_jwtrev ends the stack.
visible() {
    local type=$1
    shift
    echo "$type [success=done ignore=ignore default=die] $PAM_JWTREV $*"
    echo "$type required pam_debug.so auth=try_again acct=try_again"
}

mktokens() {
    $PY "$JWTMAKER" tokens "$K" "$S/t"
}

# PAM_WRAPPER_DEBUGLEVEL=2 copies pam_syslog lines to stderr: "SYSLOG(N):".
drive() {
    local svcname=$1 user=$2 tok=$3
    shift 3
    pamwrap PAM_WRAPPER_SERVICE_DIR="$S/pam.d" PAM_WRAPPER_DEBUGLEVEL=2 \
        "$PAMDRV" -t "$S/t/$tok.jwt" "$svcname" "$user" "$@" \
        >"$S/out" 2>"$S/log"
    cat "$S/log" >>"$S/all.log"
}

result() {
    sed -n "s/^$1 //p" "$S/out" | tail -n 1 | sed 's/^PAM_TRY_AGAIN$/PAM_IGNORE/'
}

decisions() {
    grep -E 'SYSLOG\([0-9]+\): service=' "$S/log"
}

expect() {
    local svcname=$1 user=$2 tok=$3 step=$4 want=$5 reason=$6 desc=$7
    drive "$svcname" "$user" "$tok" "$step"
    is "$(result "$step")" "$want" "$desc: $want" ||
        tail -n 8 "$S/log" | sed 's/^/#   log: /'
    is "$(decisions | grep -cE " reason=$reason ")" 1 \
        "$desc: one log line, reason=$reason"
}

# Fail if any token's payload or signature segment is in file $1.
no_token_in() {
    local f seg leaked=0
    for f in "$S"/t/*.jwt; do
        for seg in $(tr '.' '\n' <"$f" | sed -n '2,3p'); do
            [ ${#seg} -ge 16 ] || continue
            if grep -qF -- "$seg" "$1"; then
                diag "token $(basename "$f") found in $1"
                leaked=1
            fi
        done
    done
    return $leaked
}
