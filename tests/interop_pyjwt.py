#!/usr/bin/python3
"""Interop with an independent implementation, Debian's PyJWT, both ways.

For every algorithm: tokens from `jwtrev sign` verified by PyJWT
(jwt.decode with the public key and algorithms=[alg]); tokens from PyJWT
(jwt.encode) verified by `jwtrev verify`, with a PEM key or secret file and
with the key as a JWK (made by jwcrypto); a PyJWT token with an unknown kid
and one with a tampered payload rejected with the right reason.  Prints TAP.
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwcrypto import jwk

JWTREV = os.environ["JWTREV"]
ISS = "https://issuer.example"
AUD = "api"

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


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def make_keys(d):
    """alg -> (signing key for PyJWT, jwtrev sign options, jwtrev verify
    (flag, file), public JWK dict).  One RSA key serves RS* and PS*."""
    keys = {}
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    curves = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(),
              "ES512": ec.SECP521R1()}
    asym = {alg: rsa_key for alg in
            ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")}
    for alg, curve in curves.items():
        asym[alg] = ec.generate_private_key(curve)
    asym["EdDSA"] = ed25519.Ed25519PrivateKey.generate()
    for alg, key in asym.items():
        priv = key.private_bytes(serialization.Encoding.PEM,
                                 serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
        pub = key.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo)
        keyfile = write(os.path.join(d, alg + ".key"), priv)
        pubfile = write(os.path.join(d, alg + ".pub"), pub)
        pub_jwk = json.loads(jwk.JWK.from_pem(pub).export_public())
        keys[alg] = (key, ["--key", keyfile], ("--key", pubfile), pub_jwk)
    for alg, size in (("HS256", 32), ("HS384", 48), ("HS512", 64)):
        # size hex characters from a fixed text: raw random bytes could
        # start with '{' (refused as JSON) or end in the \n the loader
        # strips.  The whole hash output, as HMAC needs at least that.
        secret = hashlib.sha512(("jwtrev interop " + alg).encode()) \
            .hexdigest()[:size].encode()
        path = write(os.path.join(d, alg + ".secret"), secret)
        oct_jwk = {"kty": "oct", "k": b64u(secret)}
        keys[alg] = (secret, ["--secret", path], ("--secret", path), oct_jwk)
    return keys


def run(args, token=None):
    p = subprocess.run([JWTREV] + args, input=token, capture_output=True,
                       text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def claims_now():
    now = int(time.time())
    return {"iss": ISS, "sub": "alice", "aud": AUD, "iat": now,
            "exp": now + 600, "jti": b64u(os.urandom(12))}


def jwtrev_to_pyjwt(alg, keys):
    key, sign_opt, _, _ = keys[alg]
    rc, token, err = run(["sign"] + sign_opt + [
        "--alg", alg, "--kid", "k-" + alg, "--iss", ISS, "--sub", "alice",
        "--aud", AUD, "--ttl", "600", "--jti", "auto"])
    ok(rc == 0, "%s: jwtrev sign" % alg, err)
    vkey = key if alg.startswith("HS") else key.public_key()
    try:
        claims = jwt.decode(token.strip(), vkey, algorithms=[alg],
                            audience=AUD, issuer=ISS)
        header = jwt.get_unverified_header(token.strip())
        good = (claims["sub"] == "alice" and len(claims["jti"]) == 22
                and header == {"alg": alg, "typ": "JWT", "kid": "k-" + alg})
        ok(good, "%s: PyJWT verifies the jwtrev token" % alg,
           (claims, header))
    except jwt.PyJWTError as e:
        ok(False, "%s: PyJWT verifies the jwtrev token" % alg, repr(e))


def pyjwt_to_jwtrev(alg, keys, d):
    key, _, (flag, path), pub_jwk = keys[alg]
    claims = claims_now()
    policy = ["--alg", alg, "--iss", ISS, "--aud", AUD]

    plain = jwt.encode(claims, key, algorithm=alg)
    rc, out, err = run(["verify", flag, path] + policy, plain + "\n")
    got = json.loads(out) if rc == 0 else err
    ok(rc == 0 and got == claims,
       "%s: jwtrev verifies the PyJWT token (PEM/secret)" % alg, got)

    token = jwt.encode(claims, key, algorithm=alg, headers={"kid": "k1"})
    # A PEM key or secret has no kid of its own: KID#FILE gives it one.
    verify_opt = [flag, "k1#" + path]
    rc, out, err = run(["verify"] + verify_opt + policy, token)
    ok(rc == 0 and json.loads(out) == claims,
       "%s: jwtrev verifies the PyJWT token with a kid (KID#FILE)" % alg,
       err)

    jwk_file = write(os.path.join(d, alg + ".jwk"), json.dumps(
        dict(pub_jwk, kid="k1", alg=alg, use="sig")).encode())
    rc, out, err = run(["verify", "--key", jwk_file, "--iss", ISS,
                        "--aud", AUD], token)
    ok(rc == 0 and json.loads(out) == claims,
       "%s: jwtrev verifies the PyJWT token (JWK with kid)" % alg, err)

    other = jwt.encode(claims, key, algorithm=alg, headers={"kid": "k9"})
    rc, _, err = run(["verify", "--key", jwk_file], other)
    ok(rc == 1 and err.startswith("rejected: key_not_found: "),
       "%s: a PyJWT token with an unknown kid is rejected" % alg, err)

    h, _, s = token.split(".")
    forged = dict(claims, sub="mallory")
    p = b64u(json.dumps(forged, separators=(",", ":")).encode())
    rc, _, err = run(["verify"] + verify_opt + policy, "%s.%s.%s" % (h, p, s))
    ok(rc == 1 and err.startswith("rejected: bad_signature: "),
       "%s: a PyJWT token with a tampered payload is rejected" % alg, err)
    ok(p not in err and s not in err and h not in err,
       "%s: the rejected token is not echoed" % alg, err)


def main():
    algs = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256",
            "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
    with tempfile.TemporaryDirectory() as d:
        keys = make_keys(d)
        for alg in algs:
            jwtrev_to_pyjwt(alg, keys)
            pyjwt_to_jwtrev(alg, keys, d)
    print("1..%d" % count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
