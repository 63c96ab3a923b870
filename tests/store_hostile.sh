#!/bin/bash
# Hostile things in a store's place, as an attacker with a writer's rights
# or a clumsy restore would leave them: a FIFO instead of base.db, gen,
# delta.db or the filter, a symbolic link, a file or a store owned by
# another user; and damage in place: a zeroed block of the filter, a
# flipped byte in a page of base.db or delta.db, files cut short under
# the readers (which once died of SIGBUS).  Each one, against the CLI (stats, status, revoke, verify
# --db), the PAM stack (pam_wrapper) and a running httpd: refused with
# db_error and a message naming the file and what is wrong, never a hang
# (every answer within 1 s), never "not revoked" for a revoked token; a
# location without the store keeps answering; once the file is put back,
# everything works again.
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/apache/lib.sh"
. "$top_srcdir/tests/pam/once.sh"

ap_setup
ST=$S/store
KEY=$S/keys/ec.pem
PUB=$S/keys/ec.pub.pem
mkdir -p "$S/pam.d" "$S/saved"
echo "auth required $PAM_JWTREV key=$PUB db=$ST" >"$S/pam.d/jwt"
echo "auth required pam_deny.so" >"$S/pam.d/other"
mkfile api/ok.txt
mkfile open/ok.txt

REV=$("$JWTREV" sign --key "$KEY" --ttl 600 --sub alice --jti gone)
GOOD=$("$JWTREV" sign --key "$KEY" --ttl 600 --sub alice --jti fine)
printf '%s' "$GOOD" >"$S/good.jwt"
printf '%s' "$REV" >"$S/rev.jwt"
# (The next writer after compact removes the old base's filter: one left.)
"$JWTREV" --db "$ST" revoke <"$S/rev.jwt" >/dev/null &&
    "$JWTREV" --db "$ST" compact >/dev/null &&
    "$JWTREV" --db "$ST" revoke --jti tidy --iss x >/dev/null &&
    "$JWTREV" --db "$ST" unrevoke --jti tidy --iss x >/dev/null
ok $? "a token revoked, its entry folded into base.db and its filter"
is "$(cd "$ST" && ls bloom.* | wc -l)" 1 "one filter file"

ap_start "
<Location /api>
    AuthType Bearer
    AuthName api
    AuthJWTKeyFile $PUB
    AuthJWTRevocationDB $ST
    Require valid-user
    Header always set X-Reason \"expr=%{note:JWTREV_REASON}\"
</Location>
<Location /open>
    AuthType Bearer
    AuthName open
    AuthJWTKeyFile $PUB
    AuthJWTRevocationDB Off
    Require valid-user
</Location>"

# timed CMD...: run it with a 5 s cap; ELAPSED in ms, RC its exit code.
timed() {
    local t0=$(date +%s%N)
    timeout 5 "$@" >"$S/out" 2>"$S/err"
    RC=$?
    ELAPSED=$((($(date +%s%N) - t0) / 1000000))
}

# web PATH TOKEN: CODE, and ELAPSED for the request.
web() {
    local t0=$(date +%s%N)
    get "$1" -m 5 -H "Authorization: Bearer $2"
    ELAPSED=$((($(date +%s%N) - t0) / 1000000))
}

# all_refuse DESC WHAT: every reader refuses the store in time, naming
# WHAT (a pattern) in its message.
all_refuse() {
    local desc=$1 what=$2 c
    for c in stats status revoke; do
        if [ $c = stats ]; then
            timed "$JWTREV" --db "$ST" stats
        else
            timed "$JWTREV" --db "$ST" $c "$GOOD"
        fi
        is "$RC" 3 "$desc: jwtrev $c exits 3" ||
            sed 's/^/#   /' "$S/err"
        grep -qE -- "$what" "$S/err"
        ok $? "$desc: jwtrev $c names it: $(head -c 160 "$S/err")"
        [ "$ELAPSED" -lt 1000 ]
        ok $? "$desc: jwtrev $c answers within 1 s (${ELAPSED} ms)"
    done
    timed "$JWTREV" verify --key "$PUB" --db "$ST" "$REV"
    is "$RC" 3 "$desc: verify --db of the revoked token: exit 3"
    grep -qE -- "$what" "$S/err"
    ok $? "$desc: verify --db names it"
    pam_once "$S" alice "$S/rev.jwt"
    is "$PAM_CODE $PAM_REASON" "PAM_AUTHINFO_UNAVAIL db_error" \
        "$desc: PAM: the revoked token is refused as db_error" ||
        { echo "exit $PAM_RC"; tail -n 6 "$S/pam.log" "$S/pam.out"; } |
        sed 's/^/#   /'
    [ "$PAM_MS" -lt 1000 ]
    ok $? "$desc: PAM answers within 1 s (${PAM_MS} ms)"
    # The running httpd notices at its next full check (once a second).
    sleep 1.2
    local i slow=0 codes= lines=$(wc -l <"$S/error.log")
    for i in $(seq 24); do
        web /api/ok.txt "$REV"
        codes="$codes $CODE"
        [ "$ELAPSED" -lt 1000 ] || slow=$((slow + 1))
    done
    is "$(echo $codes | tr ' ' '\n' | sort -u | paste -sd' ')" 500 \
        "$desc: httpd: 24 requests with the revoked token, every one 500"
    is "$slow" 0 "$desc: httpd: none took 1 s or more"
    web /open/ok.txt "$GOOD"
    is "$CODE" 200 "$desc: httpd: a location without the store still 200"
    grep -E -- "$what" "$S/error.log" | grep -q "db_error"
    ok $? "$desc: httpd's error log names it"
    is "$(tail -n +$((lines + 1)) "$S/error.log" | grep -F ':error]' |
        grep -cE -- "$what")" 1 \
        "$desc: httpd: said once at level error, not once a request"
}

# all_work DESC: the store is whole again, and every reader says so.
all_work() {
    local desc=$1
    timed "$JWTREV" --db "$ST" stats
    is "$RC" 0 "$desc: jwtrev stats exits 0 again"
    timed "$JWTREV" verify --key "$PUB" --db "$ST" "$REV"
    is "$RC:$(cut -d: -f1-2 "$S/err" | head -n 1)" "1:rejected: revoked" \
        "$desc: the revoked token is revoked again"
    sleep 1.2
    web /api/ok.txt "$REV"
    is "$CODE:$(hdr X-Reason)" 401:revoked "$desc: httpd: revoked again"
    web /api/ok.txt "$GOOD"
    is "$CODE" 200 "$desc: httpd: a good token 200 again"
}

web /api/ok.txt "$GOOD"
is "$CODE" 200 "a good token: 200"
web /api/ok.txt "$REV"
is "$CODE:$(hdr X-Reason)" 401:revoked "the revoked token: 401 revoked"

bloom=$(cd "$ST" && ls bloom.* | head -n 1)
for f in base.db gen delta.db "$bloom"; do
    mv "$ST/$f" "$S/saved/$f"
    mkfifo -m 0640 "$ST/$f"
    chgrp www-data "$ST/$f"
    all_refuse "a FIFO as $f" "$f is a FIFO"
    rm -f "$ST/$f"
    mv "$S/saved/$f" "$ST/$f"
    all_work "$f back"
done

# A link to an empty store's base.db: every revocation would vanish.
"$JWTREV" --db "$S/empty" init --group www-data >/dev/null
for f in base.db gen; do
    mv "$ST/$f" "$S/saved/$f"
    ln -s "$S/empty/$f" "$ST/$f"
    all_refuse "a symbolic link as $f" "$f is a symbolic link"
    rm -f "$ST/$f"
    mv "$S/saved/$f" "$ST/$f"
    all_work "$f back from the link"
done

# The store lets its group write (--logout-writable): a file of another
# user is accepted only with the store's group.
chown nobody:nogroup "$ST/base.db"
# (httpd's User cannot even open it: "Permission denied" names it there.)
all_refuse "base.db of another user and group" \
    "base.db( is owned by uid|: cannot open: Permission denied)"
chown root:www-data "$ST/base.db"
all_work "base.db owned by root again"

chown nobody "$ST"
all_refuse "the store owned by another user" "$ST is owned by uid"
chown root "$ST"
all_work "the store owned by root again"

# ---- damage in place (same inode, as a cp over the live file does) -----------
# poke FILE OFFSET BYTES...: write bytes (hex) at offset, in place.
poke() {
    local f=$1 off=$2
    shift 2
    printf "$(printf '\\x%s' "$@")" |
        dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}
damaged() {
    local f=$1 desc=$2 what=$3
    shift 3
    cp -p "$ST/$f" "$S/saved/$f"
    "$@"
    all_refuse "$desc" "$what"
    cp "$S/saved/$f" "$ST/$f" # the restore is in place too
    all_work "$f restored in place"
}
bloom=$(cd "$ST" && ls bloom.* | head -n 1)
damaged "$bloom" "a zeroed block in the filter" \
    "$bloom: damaged \(cut, or its checksum fails\)" \
    dd if=/dev/zero of="$ST/$bloom" bs=64 seek=1 count=1 conv=notrunc status=none
damaged "$bloom" "the filter cut short in place" \
    "$bloom: damaged \(cut, or its checksum fails\)" \
    truncate -s 100 "$ST/$bloom"
# Page 1 holds the meta records and the entries (a small store).
damaged delta.db "a flipped byte in a page of delta.db" \
    "delta.db: not a jwtrev store file or damaged" poke "$ST/delta.db" 4200 ff
damaged base.db "a flipped byte in a page of base.db" \
    "base.db: not a jwtrev store file or damaged" poke "$ST/base.db" 4200 ff
damaged base.db "base.db cut short in place" "base.db" \
    truncate -s 4096 "$ST/base.db"
damaged delta.db "delta.db cut to nothing in place" "delta.db" \
    truncate -s 0 "$ST/delta.db"
damaged gen "gen cut to nothing in place" \
    "gen: truncated or not a jwtrev generation file" truncate -s 0 "$ST/gen"

grep -E "exit signal|Bus error|Segmentation" "$S/error.log" | head -n 3 |
    sed 's/^/#   /'
is "$(grep -cE 'exit signal|Bus error|Segmentation' "$S/error.log")" 0 \
    "no httpd child died (SIGBUS, SIGSEGV) through all of it"

# init never follows a link in a file's place (it changes modes).
mv "$S/empty/lock" "$S/saved/lock"
ln -s "$S/keys/rsa.pem" "$S/empty/lock"
before=$(stat -c %a "$S/keys/rsa.pem")
"$JWTREV" --db "$S/empty" init --group www-data >/dev/null 2>"$S/err"
is "$?" 3 "init refuses a link in lock's place"
is "$(stat -c %a "$S/keys/rsa.pem")" "$before" \
    "and leaves the link's target's modes alone"

done_testing
