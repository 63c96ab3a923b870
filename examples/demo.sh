#!/usr/bin/env bash
# examples/demo.sh BUILD_DIR [--once] - the jwtrev walkthrough (docs/design.md
# section 6), run by `./dev demo`:
#
#   the CLI: sign a token, verify it (claims shown), a tampered and an
#   expired token rejected with their reasons;
#   httpd: a private apache2 on 127.0.0.1:${PORT:-8080} with the built
#   mod_auth_jwtrev: token -> 200, POST /logout -> the same token 401
#   revoked, a new token, POST /logout-all -> older tokens 401, an admin's
#   `jwtrev revoke` of another token -> 401.
#
# Everything lives in a scratch directory removed at exit; httpd then keeps
# serving until Ctrl-C (--once: exit after the walkthrough).
set -euo pipefail

build=$(cd "${1:?usage: examples/demo.sh BUILD_DIR [--once]}" && pwd)
once=${2:-}
port=${PORT:-8080}
jwtrev=$build/cli/jwtrev
module=$build/mod_auth_jwtrev/.libs/mod_auth_jwtrev.so
apache2=$(command -v apache2 || echo /usr/sbin/apache2)
moddir=/usr/lib/apache2/modules
iss=https://id.example.com

for f in "$jwtrev" "$module" "$apache2"; do
    [ -x "$f" ] || [ -f "$f" ] || { echo "demo: missing $f (build first)" >&2; exit 2; }
done
if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
    echo "demo: port $port is in use; try PORT=8081 $0 $*" >&2
    exit 2
fi

dir=$(mktemp -d /tmp/jwtrev-demo.XXXXXX)
httpd_pid=
cleanup() {
    if [ -n "$httpd_pid" ]; then
        kill -TERM -- "-$httpd_pid" 2>/dev/null || kill -TERM "$httpd_pid" 2>/dev/null || true
        wait "$httpd_pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bold=$(tput bold 2>/dev/null || true)
plain=$(tput sgr0 2>/dev/null || true)
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"; }
show() { printf '$ %s\n' "$*"; }
short() { printf '%s...%s' "${1:0:24}" "${1: -12}"; }

# curl_as TOKEN [METHOD] PATH: print the status and the challenge, if any
# (no token when TOKEN is empty).
curl_as() {
    local tok=$1 method=${2:-GET} path=${3:-/api/hello.txt} out code chal
    local auth=()
    if [ -n "$tok" ]; then
        auth=(-H "Authorization: Bearer $tok")
        show "curl -X $method -H 'Authorization: Bearer $(short "$tok")' http://127.0.0.1:$port$path"
    else
        show "curl -X $method http://127.0.0.1:$port$path"
    fi
    out=$(curl -s -D - -o "$dir/body" -X "$method" "${auth[@]}" \
        "http://127.0.0.1:$port$path" | tr -d '\r')
    code=$(printf '%s\n' "$out" | sed -n '1s/^HTTP[^ ]* \([0-9]*\).*/\1/p')
    chal=$(printf '%s\n' "$out" | sed -n 's/^WWW-Authenticate: //Ip')
    printf '  -> %s%s\n' "$code" "${chal:+   WWW-Authenticate: $chal}"
    [ "$code" != 200 ] || printf '  -> body: %s\n' "$(cat "$dir/body")"
}

step "Keys and a revocation store in $dir"
chmod 755 "$dir"
mkdir -p "$dir/keys" "$dir/htdocs/api" "$dir/run"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$dir/keys/issuer.pem" 2>/dev/null
openssl pkey -in "$dir/keys/issuer.pem" -pubout -out "$dir/keys/issuer.pub.pem"
chmod 755 "$dir/keys" && chmod 644 "$dir/keys/issuer.pub.pem"
echo "hello from the API" >"$dir/htdocs/api/hello.txt"
export JWTREV_DB=$dir/store
user_lines=
if [ "$(id -u)" -eq 0 ]; then
    show "jwtrev init --group www-data --logout-writable"
    "$jwtrev" init --group www-data --logout-writable
    user_lines=$'User www-data\nGroup www-data'
else
    show "jwtrev init"
    "$jwtrev" init
fi

step "The CLI: sign a token for alice and verify it"
show "jwtrev sign --key issuer.pem --iss $iss --sub alice --aud api --jti auto --ttl 600"
alice=$("$jwtrev" sign --key "$dir/keys/issuer.pem" --iss $iss --sub alice \
    --aud api --jti auto --ttl 600)
echo "$alice"
show "jwtrev verify --key issuer.pub.pem --iss $iss --aud api <<< \$TOKEN"
"$jwtrev" verify --key "$dir/keys/issuer.pub.pem" --iss $iss --aud api <<<"$alice"

step "A tampered token (one claim changed, same signature) is rejected"
tampered=$(/usr/bin/python3 -c '
import base64, sys
h, p, s = sys.argv[1].split(".")
claims = base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).replace(b"alice", b"admin")
print(h + "." + base64.urlsafe_b64encode(claims).rstrip(b"=").decode() + "." + s)
' "$alice")
show "jwtrev verify ... <<< \$TAMPERED"
"$jwtrev" verify --key "$dir/keys/issuer.pub.pem" --iss $iss <<<"$tampered" || true

step "An expired token is rejected"
expired=$("$jwtrev" sign --key "$dir/keys/issuer.pem" --iss $iss --sub alice \
    --now $(($(date +%s) - 7200)) --ttl 600)
show "jwtrev verify ... <<< \$EXPIRED"
"$jwtrev" verify --key "$dir/keys/issuer.pub.pem" --iss $iss <<<"$expired" || true

step "A private httpd on 127.0.0.1:$port with mod_auth_jwtrev"
cat >"$dir/httpd.conf" <<EOF
ServerRoot "$dir"
Listen 127.0.0.1:$port
ServerName 127.0.0.1
PidFile "$dir/httpd.pid"
DefaultRuntimeDir "$dir/run"
ErrorLog "$dir/error.log"
LogLevel warn
$user_lines
LoadModule mpm_event_module $moddir/mod_mpm_event.so
LoadModule authn_core_module $moddir/mod_authn_core.so
LoadModule authz_core_module $moddir/mod_authz_core.so
LoadModule authz_user_module $moddir/mod_authz_user.so
LoadModule auth_jwtrev_module "$module"
DocumentRoot "$dir/htdocs"
<Directory "$dir/htdocs">
    Require all granted
</Directory>

AuthJWTKeyFile "$dir/keys/issuer.pub.pem"
AuthJWTIssuer $iss
AuthJWTRevocationDB "$dir/store"
<Location /api>
    AuthType Bearer
    AuthName "demo"
    Require valid-user
</Location>
<Location /logout>
    SetHandler jwtrev-logout
    AuthType Bearer
    AuthName "demo"
    Require valid-user
</Location>
<Location /logout-all>
    SetHandler jwtrev-logout-all
    AuthType Bearer
    AuthName "demo"
    Require valid-user
</Location>
EOF
sed -n '/^AuthJWTKeyFile/,$p' "$dir/httpd.conf"
if ! "$apache2" -t -f "$dir/httpd.conf" >"$dir/configtest.log" 2>&1; then
    cat "$dir/configtest.log" >&2
    exit 1
fi
setsid "$apache2" -DFOREGROUND -f "$dir/httpd.conf" &
httpd_pid=$!
# httpd writes its pid file once it listens: then it is ours that answers.
up=
for _ in $(seq 50); do
    if [ -s "$dir/httpd.pid" ] && curl -s -o /dev/null "http://127.0.0.1:$port/"; then
        up=1
        break
    fi
    kill -0 "$httpd_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$up" ]; then
    echo "demo: httpd did not start on port $port (see above; in use? try PORT=8081 $0 $*)" >&2
    exit 2
fi

step "No token: 401 with a Bearer challenge"
curl_as ""

step "alice's token: 200"
curl_as "$alice"

step "alice logs out: POST /logout with that token"
curl_as "$alice" POST /logout

step "The same token again: 401, revoked"
curl_as "$alice"

step "alice signs in again (a new token), and from a second device"
alice2=$("$jwtrev" sign --key "$dir/keys/issuer.pem" --iss $iss --sub alice --jti auto \
    --now $(($(date +%s) - 2)) --ttl 600)
alice3=$("$jwtrev" sign --key "$dir/keys/issuer.pem" --iss $iss --sub alice --jti auto \
    --now $(($(date +%s) - 1)) --ttl 600)
curl_as "$alice2"
curl_as "$alice3"

step "alice logs out everywhere: POST /logout-all"
curl_as "$alice3" POST /logout-all

step "Both older tokens: 401"
curl_as "$alice2"
curl_as "$alice3"

step "bob's token works, until an admin revokes it with the CLI"
bob=$("$jwtrev" sign --key "$dir/keys/issuer.pem" --iss $iss --sub bob --jti auto --ttl 600)
curl_as "$bob"
show "jwtrev revoke --reason 'laptop stolen' <<< \$BOB"
"$jwtrev" revoke --reason "laptop stolen" <<<"$bob"
curl_as "$bob"

step "The store now holds"
show "jwtrev list"
"$jwtrev" list

step "What httpd logged (reason codes and token ids, never a token)"
grep -oE '(token from|cannot decide|revocation store).*' "$dir/error.log" | sed 's/^/  /' || true

if [ "$once" = "--once" ]; then
    step "Done (--once)"
    exit 0
fi
step "httpd keeps serving on http://127.0.0.1:$port/api/hello.txt (Ctrl-C stops it)"
echo "  try:  TOKEN=\$($jwtrev sign --key $dir/keys/issuer.pem --iss $iss --sub you)"
echo "        curl -H \"Authorization: Bearer \$TOKEN\" http://127.0.0.1:$port/api/hello.txt"
echo "        JWTREV_DB=$dir/store $jwtrev revoke <<< \"\$TOKEN\""
wait "$httpd_pid"
