# once.sh - one PAM call through the real libpam under pam_wrapper, for
# tests that keep their own scratch folder (tests/user_claim.sh,
# tests/store_hostile.sh); tests/pam/common.sh is the full PAM harness.
# Source it after tests/tap.sh.
#
#   pam_once DIR USER TOKENFILE   auth USER with DIR/pam.d's service "jwt",
#                                 the token file answering every prompt
#
# Sets PAM_RC (pamdrv's exit status, 124 past the 5 s cap), PAM_CODE (what
# auth returned), PAM_REASON (of the last decision line, "-" for none),
# PAM_PROMPTS and PAM_MS (the call alone: the wait for the lock that
# parallel PAM tests share does not count); the output stays in DIR/pam.out
# and DIR/pam.log.
pam_once() {
    rm -f "$1/pam.ms"
    flock "${top_builddir:?}/tests/pam-wrapper.lock" timeout 5 sh -c '
        t0=$(date +%s%N)
        env LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1 \
            PAM_WRAPPER_SERVICE_DIR="$1/pam.d" PAM_WRAPPER_DEBUGLEVEL=2 \
            "$2" -t "$4" jwt "$3" auth >"$1/pam.out" 2>"$1/pam.log"
        rc=$?
        echo $((($(date +%s%N) - t0) / 1000000)) >"$1/pam.ms"
        exit $rc' sh "$1" "$top_builddir/tests/pam/pamdrv" "$2" "$3"
    PAM_RC=$?
    PAM_MS=$(cat "$1/pam.ms" 2>/dev/null || echo 5000)
    PAM_CODE=$(sed -n 's/^auth //p' "$1/pam.out" | tail -n 1)
    PAM_PROMPTS=$(sed -n 's/^prompts //p' "$1/pam.out" | tail -n 1)
    PAM_REASON=$(sed -n 's/.*SYSLOG([0-9]*): service=.* reason=\([a-z_]*\).*/\1/p' \
        "$1/pam.log" | tail -n 1)
    [ -n "$PAM_REASON" ] || PAM_REASON=-
}
