# tap.sh - TAP helpers for the shell tests; source it.
#   ok COND_STATUS "description"    (use: some_cmd; ok $? "desc")
#   is "$got" "$want" "description"  (both return 1 on a failure)
#   done_testing                     prints the plan
# Tests run under `set -u`; each test cleans up through an EXIT trap.
tap_n=0
tap_fail=0

ok() {
    tap_n=$((tap_n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $tap_n - $2"
    else
        echo "not ok $tap_n - $2"
        tap_fail=$((tap_fail + 1))
        return 1
    fi
}

is() {
    tap_n=$((tap_n + 1))
    if [ "$1" = "$2" ]; then
        echo "ok $tap_n - $3"
    else
        echo "not ok $tap_n - $3"
        printf '#   got:  %s\n#   want: %s\n' "$1" "$2"
        tap_fail=$((tap_fail + 1))
        return 1
    fi
}

diag() { echo "# $*"; }

done_testing() { echo "1..$tap_n"; }

# A free TCP port on 127.0.0.1 (the kernel picks one).
free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
