"""jwtmaker - test keys and tokens for the pam_jwtrev tests, made with
Debian's PyJWT and cryptography (independent of our own signer).

As a program (run by /usr/bin/python3):

    jwtmaker.py keys DIR        ES256 (P-256), RSA-2048, RSA-3072 key pairs
                                as PEM, an HMAC secret, a JWKS of the
                                public keys with kids and algs, and a
                                2048-bit RSA public key whose modulus has
                                the factor 3 (rs-badmod.pub)
    jwtmaker.py tokens DIR OUT  read token specs on stdin, one a line:
                                NAME|KEY|ALG|HEADER_JSON|CLAIMS_JSON[|OPS]
                                and write OUT/NAME.jwt (no newline)

KEY is a file name in DIR.  In CLAIMS_JSON a string "@+N" / "@-N" is the
current time plus / minus N seconds.  OPS, comma-separated: pad:N (add a
"pad" claim so the token is at least N bytes), cut:N (keep the first N
bytes), tamper (change one claim, keep the signature).
"""

import hashlib
import json
import os
import secrets
import sys
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.utils import base64url_decode, base64url_encode


def _write(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def _pem_pair(key, d, name):
    _write(os.path.join(d, name + ".key"), key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()), 0o600)
    _write(os.path.join(d, name + ".pub"), key.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo))


def _pad_coordinates(jwk, size):
    """RFC 7518 6.2.1.2: x and y are the full size of a coordinate.
    PyJWT 2.6 drops leading zero bytes (a key in 128 has one), which our
    loader rightly refuses; pad them here."""
    for c in ("x", "y"):
        raw = base64url_decode(jwk[c])
        jwk[c] = base64url_encode(raw.rjust(size, b"\0")).decode()


def make_keys(d):
    """Key pairs in d: es256, rs2048, rs3072 (.key/.pub), hs256.secret,
    and jwks.json with kids es1 (ES256), rs1 (RS256), rs5 (RS512)."""
    os.makedirs(d, exist_ok=True)
    keys = {
        "es256": ec.generate_private_key(ec.SECP256R1()),
        "rs2048": rsa.generate_private_key(65537, 2048),
        "rs3072": rsa.generate_private_key(65537, 3072),
    }
    for name, key in keys.items():
        _pem_pair(key, d, name)
    # 64 hex characters from a fixed text: raw random bytes could start
    # with '{' (refused as JSON) or end in the \n the loader strips.
    secret = hashlib.sha256(b"jwtrev pam test secret").hexdigest().encode()
    _write(os.path.join(d, "hs256.secret"), secret, 0o600)
    # q >= 1.5 * 2^2045 makes 3q exactly 2048 bits, so the small factor
    # is the one reason to refuse it (not the modulus length).
    q = secrets.randbits(2044) | (1 << 2045) | (1 << 2044) | 1
    bad = rsa.RSAPublicNumbers(65537, 3 * q).public_key()
    _write(os.path.join(d, "rs-badmod.pub"), bad.public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo))
    jwks = []
    for kid, name, alg in (("es1", "es256", "ES256"), ("rs1", "rs2048", "RS256"),
                           ("rs5", "rs3072", "RS512")):
        algo = jwt.algorithms.get_default_algorithms()[alg]
        jwk = json.loads(algo.to_jwk(keys[name].public_key()))
        if jwk["kty"] == "EC":
            _pad_coordinates(jwk, 32)
        jwk.update({"kid": kid, "alg": alg, "use": "sig"})
        jwks.append(jwk)
    _write(os.path.join(d, "jwks.json"), json.dumps({"keys": jwks}).encode())


def _times(claims, now):
    out = {}
    for k, v in claims.items():
        if isinstance(v, str) and len(v) > 1 and v[0] == "@" and v[1] in "+-":
            v = now + int(v[1:])
        out[k] = v
    return out


def sign(keydir, keyname, alg, header, claims, now=None):
    """A compact JWS of claims ("@+N" times allowed) with the given key."""
    now = int(time.time()) if now is None else now
    with open(os.path.join(keydir, keyname), "rb") as f:
        key = f.read()
    return jwt.encode(_times(claims, now), key, algorithm=alg,
                      headers=header or None)


def _tamper(token):
    h, p, s = token.split(".")
    claims = json.loads(base64url_decode(p))
    claims["sub"] = claims.get("sub", "") + "x"
    p2 = base64url_encode(json.dumps(claims, separators=(",", ":")).encode())
    return ".".join((h, p2.decode(), s))


def apply_ops(keydir, keyname, alg, header, claims, ops):
    token = sign(keydir, keyname, alg, header, claims)
    for op in ops:
        name, _, arg = op.partition(":")
        if name == "pad":
            # The claim grows 4 token bytes per 3 JSON bytes.
            want = int(arg)
            pad = ""
            while len(token) < want:
                pad += "x" * max(1, (want - len(token)) * 3 // 4)
                token = sign(keydir, keyname, alg, header,
                             dict(claims, pad=pad))
        elif name == "cut":
            token = token[:int(arg)]
        elif name == "tamper":
            token = _tamper(token)
        elif name:
            raise SystemExit("jwtmaker: unknown op " + op)
    return token


def make_tokens(keydir, outdir, lines):
    os.makedirs(outdir, exist_ok=True)
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        f = line.split("|")
        if len(f) not in (5, 6):
            raise SystemExit("jwtmaker: bad spec: " + line)
        ops = f[5].split(",") if len(f) == 6 and f[5] else []
        token = apply_ops(keydir, f[1], f[2], json.loads(f[3]),
                          json.loads(f[4]), ops)
        _write(os.path.join(outdir, f[0] + ".jwt"), token.encode())


def main(argv):
    if len(argv) == 3 and argv[1] == "keys":
        make_keys(argv[2])
    elif len(argv) == 4 and argv[1] == "tokens":
        make_tokens(argv[2], argv[3], sys.stdin)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
