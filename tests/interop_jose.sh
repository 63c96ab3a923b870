#!/bin/sh
# Ed448 and ES256K with a second independent implementation, npm `jose`
# (panva/jose on Node.js, installed by this test into the build tree on
# first use): its tokens, with their public JWKs, verified by `jwtrev
# verify`; a flipped signature refused as bad_signature; `jwtrev sign`'s
# tokens verified by jose.
. "$top_srcdir/tests/tap.sh"
set -u
JOSE_DIR=$top_builddir/tests/npm
JOSE_VERSION=5.10.0
S=$(mktemp -d)
trap 'rm -rf "$S"' EXIT

if [ ! -f "$JOSE_DIR/node_modules/jose/package.json" ]; then
    mkdir -p "$JOSE_DIR" &&
        timeout 180 npm install --prefix "$JOSE_DIR" --no-audit --no-fund \
            --silent "jose@$JOSE_VERSION" >"$S/npm.log" 2>&1
fi
[ -f "$JOSE_DIR/node_modules/jose/package.json" ]
ok $? "npm jose $JOSE_VERSION is there (node $(node --version 2>/dev/null))" ||
    sed 's/^/# /' "$S/npm.log"

# node's side: sign and verify with jose (ESM, from the install above)
cat >"$S/jose.mjs" <<'EOF'
import { createRequire } from "module";
import * as fs from "fs";
const require = createRequire(process.env.JOSE_DIR + "/");
const jose = require("jose");
const [cmd, alg, crv, a, b] = process.argv.slice(2);
if (cmd === "sign") {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg,
      crv ? { crv } : {});
  const pub = await jose.exportJWK(publicKey);
  pub.kid = "jose-" + (crv || alg);
  pub.alg = alg;
  fs.writeFileSync(a, JSON.stringify(pub));
  const now = Math.floor(Date.now() / 1000);
  const t = await new jose.SignJWT({ sub: "alice", iss: "https://jose" })
      .setProtectedHeader({ alg, kid: pub.kid, typ: "JWT" })
      .setIssuedAt(now).setExpirationTime(now + 300).sign(privateKey);
  process.stdout.write(t);
} else {
  const key = await jose.importJWK(JSON.parse(fs.readFileSync(a)), alg);
  const { payload } = await jose.jwtVerify(fs.readFileSync(b, "utf8").trim(),
      key, { algorithms: [alg] });
  process.stdout.write(payload.sub);
}
EOF
js() { JOSE_DIR=$JOSE_DIR node "$S/jose.mjs" "$@"; }

# flip the signature's first character (canonical either way)
tamper() {
    local sig=${1##*.} head=${1%.*}
    case $sig in A*) c=B ;; *) c=A ;; esac
    printf '%s.%s%s' "$head" "$c" "${sig#?}"
}

for case in "EdDSA Ed448" "ES256K"; do
    set -- $case
    alg=$1 crv=${2:-}
    name=${crv:-$alg}
    tok=$(js sign "$alg" "$crv" "$S/$name.jwk")
    [ -n "$tok" ]
    ok $? "jose signs a $name token"
    out=$(printf '%s\n' "$tok" | "$JWTREV" verify --key "$S/$name.jwk" \
        --alg "$alg" --iss https://jose 2>&1)
    ok $? "jwtrev verify accepts jose's $name token" || echo "$out" | sed 's/^/# /'
    out=$(tamper "$tok" | "$JWTREV" verify --key "$S/$name.jwk" --alg "$alg" 2>&1)
    rc=$?
    case $out in *bad_signature*) m=0 ;; *) m=1 ;; esac
    [ $rc -eq 1 ] && [ $m -eq 0 ]
    ok $? "its tampered form: refused, bad_signature (exit $rc)"
done

# and the other way: jwtrev sign, jose verifies (keys made by openssl)
for case in "EdDSA ED448 ed448" "ES256K EC ec"; do
    set -- $case
    alg=$1
    if [ "$alg" = EdDSA ]; then
        openssl genpkey -algorithm ED448 -out "$S/k.pem" 2>/dev/null
    else
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 \
            -out "$S/k.pem" 2>/dev/null
    fi
    openssl pkey -in "$S/k.pem" -pubout -out "$S/k.pub.pem" 2>/dev/null
    "$JWTREV" sign --key "$S/k.pem" --alg "$alg" --sub bob --ttl 300 >"$S/t.jwt"
    ok $? "jwtrev sign makes a $alg token ($2)"
    JOSE_DIR=$JOSE_DIR node --input-type=module -e '
import { createRequire } from "module";
import * as fs from "fs";
const require = createRequire(process.env.JOSE_DIR + "/");
const jose = require("jose");
const [alg, pem, tok] = process.argv.slice(1);
const key = await jose.importSPKI(fs.readFileSync(pem, "utf8"), alg);
const { payload } = await jose.jwtVerify(fs.readFileSync(tok, "utf8").trim(),
    key, { algorithms: [alg] });
process.stdout.write(payload.sub);' "$alg" "$S/k.pub.pem" "$S/t.jwt" >"$S/sub" 2>"$S/err"
    is "$(cat "$S/sub")" bob "jose verifies jwtrev's $alg token" ||
        sed 's/^/# /' "$S/err"
done
done_testing
