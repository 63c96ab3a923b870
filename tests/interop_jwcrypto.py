#!/usr/bin/python3
"""Ed448 and ES256K with an independent implementation, Debian's jwcrypto.

For each: tokens signed by jwcrypto verified by `jwtrev verify` with the
public key as PEM, as a JWK and inside a JWKS; the same token with a
flipped signature bit or a changed payload rejected as bad_signature; a
token from `jwtrev sign` (private JWK written by jwcrypto) verified by
jwcrypto.  Prints TAP.
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import time

from jwcrypto import jwk, jwt

JWTREV = os.environ["JWTREV"]
count = 0
failed = 0


def ok(cond, desc, diag=""):
    global count, failed
    count += 1
    print("%sok %d - %s" % ("" if cond else "not ", count, desc))
    if not cond:
        failed += 1
        for line in str(diag).splitlines():
            print("#   " + line)
    sys.stdout.flush()


def write(path, data):
    with open(path, "w" if isinstance(data, str) else "wb") as f:
        f.write(data)
    return path


def verify(key, token):
    p = subprocess.run([JWTREV, "verify", "--key", key, "--signature-only",
                        "-"], input=token.encode(), capture_output=True)
    return p.returncode, p.stderr.decode()


def tamper_sig(token):
    h, p, s = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
    raw[len(raw) // 2] ^= 1
    return "%s.%s.%s" % (h, p, base64.urlsafe_b64encode(raw).rstrip(b"=")
                         .decode())


def tamper_payload(token):
    h, p, s = token.split(".")
    other = base64.urlsafe_b64encode(b'{"sub":"admin"}').rstrip(b"=").decode()
    return "%s.%s.%s" % (h, other, s)


def run(tmp, name, alg, kw, sig_len):
    key = jwk.JWK.generate(kid=name, **kw)
    tok = jwt.JWT(header={"alg": alg, "kid": name},
                  claims={"sub": "u", "exp": int(time.time()) + 300})
    tok.make_signed_token(key)
    token = tok.serialize()
    sig = token.split(".")[2]
    ok(len(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))) == sig_len,
       "%s: jwcrypto's signature is %d bytes" % (name, sig_len))
    pub = json.loads(key.export_public())
    files = {
        # a PEM key has no kid: "KID#FILE" gives it the token's
        "PEM": name + "#" + write(os.path.join(tmp, name + ".pem"),
                                  key.export_to_pem()),
        "JWK": write(os.path.join(tmp, name + ".jwk"), json.dumps(pub)),
        "JWKS": write(os.path.join(tmp, name + ".jwks"),
                      json.dumps({"keys": [pub]})),
    }
    for form, path in files.items():
        rc, err = verify(path, token)
        ok(rc == 0, "%s: jwcrypto token accepted with a %s key" % (name, form),
           err)
        for what, bad in (("signature", tamper_sig(token)),
                          ("payload", tamper_payload(token))):
            rc, err = verify(path, bad)
            ok(rc == 1 and "bad_signature" in err,
               "%s, %s key: tampered %s refused" % (name, form, what), err)
    priv = write(os.path.join(tmp, name + ".priv.jwk"),
                 key.export_private())
    p = subprocess.run([JWTREV, "sign", "--key", priv, "--kid", name,
                        "--sub", "u", "--ttl", "300"], capture_output=True)
    ok(p.returncode == 0, "%s: jwtrev sign with jwcrypto's private JWK" % name,
       p.stderr.decode())
    try:
        back = jwt.JWT(jwt=p.stdout.decode().strip(), key=key,
                       algs=[alg])
        good = json.loads(back.claims)["sub"] == "u"
    except Exception as e:  # jwcrypto raises on any failure
        good, err = False, e
    ok(good, "%s: jwtrev's %s token verified by jwcrypto" % (name, alg))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        run(tmp, "ed448", "EdDSA", {"kty": "OKP", "crv": "Ed448"}, 114)
        run(tmp, "es256k", "ES256K", {"kty": "EC", "crv": "secp256k1"}, 64)
    print("1..%d" % count)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
