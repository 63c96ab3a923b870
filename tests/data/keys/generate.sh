#!/bin/sh
# generate.sh - (re)create the TEST-ONLY key fixtures of this directory.
#
# Every private key here is public knowledge: never use one outside the
# tests.  The files are committed so that tests are reproducible; run this
# script only to regenerate them all (then commit the result):
#     cd tests/data/keys && sh generate.sh
set -eu
cd "$(dirname "$0")"
py=/usr/bin/python3

# ---- good keys: PEM private (PKCS#8 and traditional), public, certificate
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa2048.pem
openssl pkey -in rsa2048.pem -traditional -out rsa2048-trad.pem
openssl pkey -in rsa2048.pem -pubout -out rsa2048.pub.pem
openssl rsa -in rsa2048.pem -RSAPublicKey_out -out rsa2048.rsapub.pem 2>/dev/null
openssl req -new -x509 -key rsa2048.pem -subj /CN=jwtrev-test -days 3650 \
    -out rsa2048.crt.pem
openssl x509 -in rsa2048.crt.pem -text -out rsa2048.crt.txt.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out rsa3072.pem
openssl pkey -in rsa3072.pem -pubout -out rsa3072.pub.pem
for c in P-256 P-384 P-521; do
    n=ec$(echo $c | tr -d P-)
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:$c \
        -pkeyopt ec_param_enc:named_curve -out $n.pem
    openssl pkey -in $n.pem -pubout -out $n.pub.pem
done
# "openssl ecparam -genkey" style: EC PARAMETERS then EC PRIVATE KEY
openssl ecparam -name prime256v1 -genkey -out ec256-trad.pem
openssl pkey -in ec256-trad.pem -pubout -out ec256-trad.pub.pem
openssl pkey -in rsa2048.pem -aes256 -passout pass:test -out rsa2048-enc.pem
openssl req -new -x509 -key ec256.pem -subj /CN=jwtrev-test -days 3650 \
    -out ec256.crt.pem
openssl genpkey -algorithm ED25519 -out ed25519.pem
openssl pkey -in ed25519.pem -pubout -out ed25519.pub.pem
cat rsa2048.pub.pem ec256.pub.pem ed25519.pub.pem >multi.pub.pem
head -c 300 rsa2048.pub.pem >truncated.pub.pem

# ---- HMAC secrets (raw bytes; one trailing newline is stripped)
# Binary but fixed: the hash of a fixed text.  A random draw would now and
# then start with '{' (after blanks) or end in a newline byte, which the
# loader refuses as JSON or strips; these four do neither.
secret() { printf 'jwtrev test secret %s' "$1" | openssl dgst -"$2" -binary; }
secret hs256 sha256 >hs256.bin
secret hs384 sha384 >hs384.bin
secret hs512 sha512 >hs512.bin
printf '%s\n' "0123456789abcdef0123456789abcdef" >hs256-newline.txt
printf '%s\r\n' "0123456789abcdef0123456789abcdef" >hs256-crlf.txt
secret hs-short31 sha256 | head -c 31 >hs-short31.bin
: >hs-empty.bin
printf '\n' >hs-newline-only.txt
openssl pkey -pubin -in rsa2048.pub.pem -outform DER -out rsa2048.pub.der

# ---- weak or refused keys
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024.pem
openssl pkey -in rsa1024.pem -pubout -out rsa1024.pub.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -pkeyopt rsa_keygen_pubexp:3 -out rsa-e3.pem
openssl pkey -in rsa-e3.pem -pubout -out rsa-e3.pub.pem
openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out rsapss.pem
openssl pkey -in rsapss.pem -pubout -out rsapss.pub.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 \
    -pkeyopt ec_param_enc:named_curve -out k256.pem
openssl pkey -in k256.pem -pubout -out k256.pub.pem
openssl genpkey -algorithm X25519 -out x25519.pem
openssl pkey -in x25519.pem -pubout -out x25519.pub.pem
openssl genpkey -algorithm ED448 -out ed448.pem
openssl pkey -in ed448.pem -pubout -out ed448.pub.pem

# ---- JWK and JWKS files, derived from the keys above
$py gen_jwk.py
