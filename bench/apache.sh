#!/usr/bin/env bash
# bench/apache.sh BUILD_DIR - mod_auth_jwtrev under wrk, next to no
# authentication and to Debian's mod_auth_openidc validating the same
# RS256 token locally; prints a markdown table (figure, target, measured,
# verdict).
#
# Method (HACKING.md, Measuring): private httpds on 127.0.0.1 with the
# event MPM, a fixed pool (StartServers = ServerLimit,
# MaxConnectionsPerChild 0) and keep-alive, serving a small static file.  The configurations run
# interleaved, one wrk run each per round, for BENCH_ROUNDS rounds of
# BENCH_SECONDS seconds; figures are medians, and ratios are paired within
# a round.  Beside req/s, httpd's own CPU time per request (utime + stime
# of the parent and its children from /proc, over the requests wrk
# counted) is the steadier figure on a shared machine.  The store holds
# 1M revoked entries (jwtrev load); the tokens used are not revoked.
#
# The no-auth runs send the same Authorization header, so that the ratios
# show the cost of checking the token rather than of carrying it.
#
# Memory: VmRSS of each child after serving, with the module (and its
# libraries: libcrypto, libdb, jansson) next to an httpd without it, and
# next to one with mod_ssl loaded (every TLS server maps libcrypto
# anyway); USS (private pages, from smaps_rollup) is what one more child
# really costs.  VmRSS counts every page a child has mapped, also shared
# file pages that exist once in memory: the kernel maps 64 kB around each
# page fault, so a few functions of libcrypto or one probe of the store's
# Bloom filter count 64 kB each; the last row shows how much of the RSS
# those are.
#
# Rows "cache off" run the same token with AuthJWTCacheSize 0: every
# request then checks the signature (the default cache of verified tokens
# skips that for a token seen before; expiry and revocation are checked
# on every request either way).
set -euo pipefail

build=$(cd "${1:?usage: bench/apache.sh BUILD_DIR}" && pwd)
rounds=${BENCH_ROUNDS:-5}
seconds=${BENCH_SECONDS:-4}
conns=${BENCH_CONNECTIONS:-16}
entries=${BENCH_ENTRIES:-1000000}
jwtrev=$build/cli/jwtrev
module=$build/mod_auth_jwtrev/.libs/mod_auth_jwtrev.so
apache2=$(command -v apache2 || echo /usr/sbin/apache2)
moddir=/usr/lib/apache2/modules
iss=https://id.example.com

for f in "$jwtrev" "$module" "$apache2" "$moddir/mod_auth_openidc.so" \
    "$(command -v wrk || echo wrk)"; do
    [ -e "$f" ] || {
        echo "bench/apache.sh: missing $f (./dev bench installs wrk and" \
            "libapache2-mod-auth-openidc)" >&2
        exit 2
    }
done

# With two or more cores, httpd runs on CPU 0 and wrk on CPU 1: otherwise
# wrk's own share of the CPU grows as httpd gets faster and squeezes every
# req/s ratio toward 1 (measured here: mod_auth_openidc at 0.55-0.63 x no
# auth shared, 0.45 pinned).  BENCH_PIN=0 turns it off.
pin_httpd= pin_wrk=
if [ "${BENCH_PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ]; then
    pin_httpd="taskset -c 0" pin_wrk="taskset -c 1"
fi

S=$(mktemp -d /tmp/jwtrev-bench-apache.XXXXXX)
chmod 755 "$S"
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$S"
}
trap cleanup EXIT

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ---- keys, tokens, a store with 1M entries ----------------------------------
mkdir -p "$S/keys" "$S/htdocs" "$S/run"
(
    cd "$S/keys"
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem 2>/dev/null
    openssl pkey -in rsa.pem -pubout -out rsa.pub.pem
    openssl req -new -x509 -key rsa.pem -subj /CN=bench -days 2 -out rsa.crt 2>/dev/null
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.pem 2>/dev/null
    openssl pkey -in ec.pem -pubout -out ec.pub.pem
    # text, so that no final newline byte (which a secret file may end
    # with) comes out of the random draw
    openssl rand -hex 32 | tr -d '\n' >hs.key
)
chmod -R a+rX "$S/keys"
for d in none rs rs-nocache es es-nocache hs oidc; do
    mkdir -p "$S/htdocs/$d"
    printf 'hello, this is a small static file\n' >"$S/htdocs/$d/f.txt"
done
tok_rs=$("$jwtrev" sign --key "$S/keys/rsa.pem" --kid k1 --iss $iss --sub bench --jti auto --ttl 7200)
tok_es=$("$jwtrev" sign --key "$S/keys/ec.pem" --iss $iss --sub bench --jti auto --ttl 7200)
tok_hs=$("$jwtrev" sign --secret "$S/keys/hs.key" --iss $iss --sub bench --jti auto --ttl 7200)

"$jwtrev" --db "$S/store" init --group www-data >/dev/null
t0=$(date +%s.%N)
awk -v n="$entries" -v iss=$iss 'BEGIN {
    for (i = 0; i < n; i++)
        printf "{\"kind\":\"token\",\"iss\":\"%s\",\"jti\":\"bench-%d\",\"until\":2000000000}\n", iss, i
}' | "$jwtrev" --db "$S/store" load - >/dev/null
load_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')

# ---- the servers ------------------------------------------------------------
# conf NAME PORT MODULES BODY: a private httpd configuration.
conf() {
    local user=
    [ "$(id -u)" -eq 0 ] && user=$'User www-data\nGroup www-data'
    cat >"$S/$1.conf" <<EOF
ServerRoot "$S"
Listen 127.0.0.1:$2
ServerName 127.0.0.1
PidFile "$S/$1.pid"
DefaultRuntimeDir "$S/run"
ErrorLog "$S/$1.error.log"
LogLevel warn
$user
LoadModule mpm_event_module $moddir/mod_mpm_event.so
LoadModule authn_core_module $moddir/mod_authn_core.so
LoadModule authz_core_module $moddir/mod_authz_core.so
LoadModule authz_user_module $moddir/mod_authz_user.so
$3
StartServers 2
ServerLimit 2
ThreadsPerChild 32
MaxRequestWorkers 64
MinSpareThreads 1
MaxSpareThreads 64
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
DocumentRoot "$S/htdocs"
# As Debian's apache2.conf: no .htaccess lookups (six failed opens per
# request otherwise, the same for every configuration).
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "$S/htdocs">
    AllowOverride None
    Require all granted
</Directory>
$4
EOF
    "$apache2" -t -f "$S/$1.conf" >/dev/null 2>"$S/$1.t" || {
        cat "$S/$1.t" >&2
        exit 1
    }
}

start() {
    $pin_httpd setsid "$apache2" -DFOREGROUND -f "$S/$1.conf" &
    pids+=($!)
    eval "pid_$1=$!"
    local i
    for i in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$2/none/f.txt" && return 0
        sleep 0.1
    done
    echo "bench/apache.sh: httpd $1 did not start" >&2
    exit 1
}

port_jwt=$(free_port)
port_oidc=$(free_port)
port_plain=$(free_port)
port_ssl=$(free_port)
port_idle=$(free_port)
bearer='AuthType Bearer
    AuthName bench
    Require valid-user'
conf jwt "$port_jwt" "LoadModule auth_jwtrev_module \"$module\"" "
AuthJWTIssuer $iss
AuthJWTRevocationDB $S/store
<Location /rs>
    $bearer
    AuthJWTKeyFile k1#$S/keys/rsa.pub.pem
</Location>
<Location /rs-nocache>
    $bearer
    AuthJWTKeyFile k1#$S/keys/rsa.pub.pem
    AuthJWTCacheSize 0
</Location>
<Location /es>
    $bearer
    AuthJWTKeyFile $S/keys/ec.pub.pem
</Location>
<Location /es-nocache>
    $bearer
    AuthJWTKeyFile $S/keys/ec.pub.pem
    AuthJWTCacheSize 0
</Location>
<Location /hs>
    $bearer
    AuthJWTSecretFile $S/keys/hs.key
</Location>"
conf oidc "$port_oidc" "LoadModule auth_openidc_module $moddir/mod_auth_openidc.so" "
OIDCOAuthVerifyCertFiles k1#$S/keys/rsa.crt
OIDCOAuthRemoteUserClaim sub
OIDCCryptoPassphrase bench-only-passphrase
<Location /oidc>
    AuthType oauth20
    Require valid-user
</Location>"
conf plain "$port_plain" "" ""
conf ssl "$port_ssl" "LoadModule ssl_module $moddir/mod_ssl.so" ""
# The same configuration, serving only the location without
# authentication: the module loaded but idle.
sed -e "s/^Listen 127.0.0.1:$port_jwt\$/Listen 127.0.0.1:$port_idle/" \
    -e "s|$S/jwt\.|$S/idle.|g" "$S/jwt.conf" >"$S/idle.conf"
start jwt "$port_jwt"
start idle "$port_idle"
start oidc "$port_oidc"
start plain "$port_plain"
start ssl "$port_ssl"

# ---- measuring --------------------------------------------------------------
hz=$(getconf CLK_TCK)
# cpu_ticks PID: utime + stime of the httpd parent and its children.
cpu_ticks() {
    local p sum=0
    for p in "$1" $(pgrep -P "$1"); do
        set -- $(sed 's/^.*) //' "/proc/$p/stat")
        sum=$((sum + ${12} + ${13}))
    done
    echo $sum
}

# run NAME SERVER PATH TOKEN: one wrk run against server SERVER (jwt, oidc,
# plain); appends "req/s httpd-CPU-us-per-request" to $S/r.NAME.
run() {
    local name=$1 port pid c0 c1 out req rps
    eval "port=\$port_$2 pid=\$pid_$2"
    c0=$(cpu_ticks "$pid")
    out=$($pin_wrk wrk -t1 -c"$conns" -d"${seconds}s" ${4:+-H "Authorization: Bearer $4"} \
        "http://127.0.0.1:$port$3")
    c1=$(cpu_ticks "$pid")
    if printf '%s\n' "$out" | grep -q 'Non-2xx'; then
        echo "bench/apache.sh: $name answered non-2xx:" >&2
        printf '%s\n' "$out" >&2
        exit 1
    fi
    req=$(printf '%s\n' "$out" | awk '/requests in/ {print $1}')
    rps=$(printf '%s\n' "$out" | awk '/^Requests\/sec/ {print $2}')
    awk -v r="$rps" -v c="$((c1 - c0))" -v hz="$hz" -v n="$req" \
        'BEGIN {printf "%s %.2f\n", r, c * 1000000 / hz / n}' >>"$S/r.$name"
}

configs="none rs rs-nocache es es-nocache hs oidc"
for r in $(seq "$rounds"); do
    run none jwt /none/f.txt "$tok_rs"
    run rs jwt /rs/f.txt "$tok_rs"
    run rs-nocache jwt /rs-nocache/f.txt "$tok_rs"
    run es jwt /es/f.txt "$tok_es"
    run es-nocache jwt /es-nocache/f.txt "$tok_es"
    run hs jwt /hs/f.txt "$tok_hs"
    run oidc oidc /oidc/f.txt "$tok_rs"
    echo "round $r of $rounds done" >&2
done
run plain plain /none/f.txt "$tok_rs"
run ssl ssl /none/f.txt "$tok_rs"
run idle idle /none/f.txt "$tok_rs"

# median of column COL of file FILE
median() { sort -g -k"$2","$2" "$1" | awk -v c="$2" '{v[NR] = $c} END {print v[int((NR + 1) / 2)]}'; }
# paired ratio median: row i of A over row i of B, column 1
ratio() { paste "$S/r.$1" "$S/r.$2" | awk '{print $1 / $3}' | sort -g | awk '{v[NR] = $1} END {printf "%.2f", v[int((NR + 1) / 2)]}'; }

# per_child PID FILE PROGRAM [awk options]: the mean over the children of
# httpd PID of the kB that awk PROGRAM prints from /proc/CHILD/FILE
per_child() {
    local parent=$1 file=$2 prog=$3 p t=0 n=0
    shift 3
    for p in $(pgrep -P "$parent"); do
        t=$((t + $(awk "$@" "$prog" "/proc/$p/$file")))
        n=$((n + 1))
    done
    echo $((t / n))
}
rss() { per_child "$1" status '$1 == "VmRSS:" {print $2}'; }
# USS: the child's private pages
uss() {
    per_child "$1" smaps_rollup \
        '$1 ~ /^Private_(Clean|Dirty):$/ {s += $2} END {print s}'
}
# PSS: shared pages divided among the processes that map them (libcrypto
# and libdb text, the store files)
pss() { per_child "$1" smaps_rollup '$1 == "Pss:" {print $2}'; }
mb() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%+.2f", (a - b) / 1024}'; }
# the Rss of the mappings whose path matches RE (shared file pages:
# libraries' text, the store's mapped files)
rss_of() {
    per_child "$1" smaps '/^[0-9a-f]+-[0-9a-f]+ / {m = $NF ~ re}
        m && $1 == "Rss:" {s += $2} END {print s + 0}' -v re="$2"
}

verdict() { awk -v m="$1" -v t="$2" -v op="$3" 'BEGIN { ok = op == ">=" ? m >= t : m <= t; print ok ? "pass" : "FAIL" }'; }

r_rs=$(ratio rs none)
r_rs_oidc=$(ratio rs oidc)
r_nc_oidc=$(ratio rs-nocache oidc)
rss_jwt=$(rss "$pid_jwt")
rss_plain=$(rss "$pid_plain")
rss_ssl=$(rss "$pid_ssl")
rss_idle=$(rss "$pid_idle")
uss_jwt=$(uss "$pid_jwt")
uss_plain=$(uss "$pid_plain")
rss_delta=$(mb "$rss_jwt" "$rss_plain")
uss_delta=$(mb "$uss_jwt" "$uss_plain")
pss_delta=$(mb "$(pss "$pid_jwt")" "$(pss "$pid_plain")")
file_crypto=$(rss_of "$pid_jwt" 'libcrypto')
file_db=$(rss_of "$pid_jwt" 'libdb-')
file_store=$(rss_of "$pid_jwt" "^$S/store/")

echo "## mod_auth_jwtrev (wrk -c$conns, ${seconds}s x $rounds rounds, medians; store of $entries entries, loaded in $load_s s)"
echo
echo "| figure | target | measured | verdict |"
echo "|---|---|---|---|"
for c in $configs; do
    printf '| %s: req/s, httpd CPU us/req | | %.0f, %.1f us | |\n' "$c" \
        "$(median "$S/r.$c" 1)" "$(median "$S/r.$c" 2)"
done
echo "| RS256 / no auth (req/s) | >= 0.90 | $r_rs | $(verdict "$r_rs" 0.90 '>=') |"
echo "| RS256 / mod_auth_openidc RS256 (req/s) | >= 2 | $r_rs_oidc | $(verdict "$r_rs_oidc" 2 '>=') |"
echo "| RS256 cache off / no auth | (report) | $(ratio rs-nocache none) | |"
echo "| RS256 cache off / mod_auth_openidc | (report) | $r_nc_oidc | |"
echo "| ES256 / no auth, cache off | (report) | $(ratio es none), $(ratio es-nocache none) | |"
echo "| HS256 / no auth | (report) | $(ratio hs none) | |"
echo "| mod_auth_openidc RS256 / no auth | (report; 0.45 measured earlier) | $(ratio oidc none) | |"
echo "| per-child VmRSS, module serving vs no module | <= +2 MB | $rss_delta MB ($((rss_jwt / 1024)) vs $((rss_plain / 1024)) MB) | $(verdict "$rss_delta" 2 '<=') |"
echo "| per-child VmRSS vs no module with mod_ssl loaded | (report) | $(mb "$rss_jwt" "$rss_ssl") MB | |"
echo "| per-child VmRSS vs the module loaded but serving no authenticated request | (report) | $(mb "$rss_jwt" "$rss_idle") MB | |"
echo "| per-child PSS (shared pages divided among their users) vs no module | (report) | $pss_delta MB | |"
echo "| per-child USS (private pages) vs no module | (report) | $uss_delta MB | |"
echo "| of the VmRSS: shared file pages of libcrypto, libdb, the store's mapped files | (report) | $(mb "$file_crypto" 0), $(mb "$file_db" 0), $(mb "$file_store" 0) MB | |"
