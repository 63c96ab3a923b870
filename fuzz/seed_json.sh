#!/bin/sh
# seed_json.sh DIR - write the seed corpus of fuzz_json into DIR: the
# decoded headers and payloads of the vector tokens and the JSON key
# documents, plus a few texts with every kind of escape and number.
set -eu
out=${1:?usage: seed_json.sh DIR}
top=$(cd "$(dirname "$0")/.." && pwd)
vectors=${JWTREV_VECTORS:-$top/tests/vectors}
mkdir -p "$out"
/usr/bin/python3 - "$vectors" "$out" <<'PY'
import base64, glob, hashlib, json, os, sys
vectors, out = sys.argv[1], sys.argv[2]
seen = set()

def seed(data):
    name = hashlib.sha256(data).hexdigest()[:16]
    if name not in seen:
        seen.add(name)
        with open(os.path.join(out, "json-" + name), "wb") as f:
            f.write(data)

def unb64(s):
    try:
        return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    except Exception:
        return None

wp = os.path.join(vectors, "wycheproof", "testvectors_v1",
                  "json_web_signature_test.json")
with open(wp) as f:
    for g in json.load(f)["testGroups"]:
        for t in g["tests"]:
            if isinstance(t["jws"], str):
                for part in t["jws"].split(".")[:2]:
                    d = unb64(part)
                    if d:
                        seed(d)
with open(os.path.join(vectors, "rfc", "rfc_examples.json")) as f:
    for v in json.load(f)["vectors"]:
        for part in v["token"].split(".")[:2]:
            d = unb64(part)
            if d:
                seed(d)
        seed(json.dumps(v["jwk"]).encode())
for text in [
        r'{"a":"\"\\\/\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00","b":[1,-0,'
        r'1.5e3,-2E-2,9223372036854775807,-9223372036854775808],"c":{"d":'
        r'[true,false,null,{}]}}',
        '{"\u00e9t\u00e9":"\U0001f600","":""}',
        '{"exp":1300819380.5,"aud":["a","b"],"x":{"y":{"z":[[[]]]}}}']:
    seed(text.encode())
print("seed_json: %d seeds" % len(seen))
PY
