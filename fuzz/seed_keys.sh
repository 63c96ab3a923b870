#!/bin/sh
# seed_keys.sh DIR - write the seed corpus of fuzz_keys into DIR: the key
# fixtures of tests/data/keys and every key or key set of the vectors
# (Wycheproof JWK and JWS tests, the distinct JWKs of raw_jose.jsonl, the
# RFC and cookbook keys).
set -eu
out=${1:?usage: seed_keys.sh DIR}
top=$(cd "$(dirname "$0")/.." && pwd)
vectors=${JWTREV_VECTORS:-$top/tests/vectors}
mkdir -p "$out"
for f in "$top"/tests/data/keys/*.pem "$top"/tests/data/keys/*.jwk \
    "$top"/tests/data/keys/*.jwks; do
    cp "$f" "$out/fixture-$(basename "$f")"
done
/usr/bin/python3 - "$vectors" "$out" <<'PY'
import glob, hashlib, json, os, sys
vectors, out = sys.argv[1], sys.argv[2]
seen = set()

def seed(obj):
    text = json.dumps(obj, separators=(",", ":")).encode()
    name = hashlib.sha256(text).hexdigest()[:16]
    if name not in seen:
        seen.add(name)
        with open(os.path.join(out, "vec-" + name), "wb") as f:
            f.write(text)

def walk(obj):
    """Every JWK ("kty") or JWKS ("keys") anywhere in a vector file."""
    if isinstance(obj, dict):
        if "kty" in obj or "keys" in obj:
            seed(obj)
        for v in obj.values():
            walk(v)
    elif isinstance(obj, list):
        for v in obj:
            walk(v)

wp = os.path.join(vectors, "wycheproof", "testvectors_v1")
for name in ("json_web_key_test.json", "json_web_signature_test.json"):
    with open(os.path.join(wp, name)) as f:
        walk(json.load(f))
with open(os.path.join(vectors, "wycheproof", "raw_jose.jsonl")) as f:
    for line in f:
        seed(json.loads(line)["jwk"])
for path in glob.glob(os.path.join(vectors, "rfc", "*.json")) + \
        glob.glob(os.path.join(vectors, "jose-cookbook", "*", "*.json")):
    with open(path) as f:
        walk(json.load(f))
print("seed_keys: %d key documents from the vectors" % len(seen))
PY
