#!/usr/bin/python3
# gen_jwk.py - JWK/JWKS test fixtures derived from the PEM keys here (run
# by generate.sh).  TEST-ONLY keys: their private halves are public.
import base64
import json
import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(n, length=None):
    length = length or (n.bit_length() + 7) // 8
    return b64(n.to_bytes(length, "big"))


def load(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


def jwk(key, private=False, **extra):
    """The JWK of a cryptography key object, with extra members first."""
    out = dict(extra)
    if isinstance(key, rsa.RSAPrivateKey):
        pub = key.public_key().public_numbers()
        out.update(kty="RSA", n=uint(pub.n), e=uint(pub.e))
        if private:
            pn = key.private_numbers()
            out.update(d=uint(pn.d), p=uint(pn.p), q=uint(pn.q),
                       dp=uint(pn.dmp1), dq=uint(pn.dmq1), qi=uint(pn.iqmp))
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        size = (key.curve.key_size + 7) // 8
        crv = {"secp256r1": "P-256", "secp384r1": "P-384",
               "secp521r1": "P-521"}[key.curve.name]
        pub = key.public_key().public_numbers()
        out.update(kty="EC", crv=crv, x=uint(pub.x, size), y=uint(pub.y, size))
        if private:
            out["d"] = uint(key.private_numbers().private_value, size)
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)
        out.update(kty="OKP", crv="Ed25519", x=b64(raw))
        if private:
            out["d"] = b64(key.private_bytes(
                serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                serialization.NoEncryption()))
    return out


def okp_raw(path, crv):
    """An OKP JWK for X25519 / Ed448 from a PEM private key (public part)."""
    key = load(path)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": crv, "x": b64(raw)}


def write(name, obj):
    with open(name, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


rsa2048, rsa3072 = load("rsa2048.pem"), load("rsa3072.pem")
ec256, ec384, ec521 = load("ec256.pem"), load("ec384.pem"), load("ec521.pem")
ed = load("ed25519.pem")
with open("hs256.bin", "rb") as f:
    hs256 = f.read()

# ---- good
write("rsa2048.jwk", jwk(rsa2048))
write("rsa2048-kid.jwk", jwk(rsa2048, kid="rsa1", alg="RS256", use="sig"))
write("rsa2048-ps384.jwk", jwk(rsa2048, kid="ps1", alg="PS384"))
write("rsa2048.priv.jwk", jwk(rsa2048, True, kid="rsa1", alg="RS256"))
write("rsa2048-crt-less.priv.jwk",
      {k: v for k, v in jwk(rsa2048, True).items()
       if k not in ("p", "q", "dp", "dq", "qi")})
write("ec256.jwk", jwk(ec256, kid="ec256"))
write("ec384.jwk", jwk(ec384, kid="ec384"))
write("ec521.jwk", jwk(ec521, kid="ec521"))
write("ec256.priv.jwk", jwk(ec256, True, kid="ec256", alg="ES256"))
write("ec384.priv.jwk", jwk(ec384, True))
write("ec521.priv.jwk", jwk(ec521, True))
write("ed25519.jwk", jwk(ed, kid="ed1"))
write("ed25519.priv.jwk", jwk(ed, True, kid="ed1", alg="EdDSA"))
write("oct.jwk", {"kty": "oct", "kid": "hs1", "k": b64(hs256)})
write("oct-hs384.jwk", {"kty": "oct", "alg": "HS384", "k": b64(hs256 * 2)})
write("good.jwks", {"keys": [
    jwk(rsa2048, kid="rsa1", alg="RS256", use="sig"),
    jwk(ec256, kid="ec1", use="sig"),
    jwk(ed, kid="ed1", key_ops=["verify"]),
    # an encryption key beside the signing keys, as identity providers
    # publish them: skipped
    jwk(rsa3072, kid="enc1", alg="RSA-OAEP", use="enc"),
    jwk(rsa3072, kid="wrap1", key_ops=["wrapKey"]),
]})
write("oct.jwks", {"keys": [
    {"kty": "oct", "kid": "a", "alg": "HS256", "k": b64(hs256)},
    {"kty": "oct", "kid": "b", "alg": "HS512", "k": b64(hs256 * 2)}]})
write("keyops-verify.jwk", jwk(ec256, key_ops=["verify", "sign"]))
# private members in a verification key: only the public part is read, so
# even a garbage d cannot matter
bad_d = jwk(rsa2048, True, kid="rsa1")
bad_d["d"] = "AA"
write("rsa2048-garbage-d.jwk", bad_d)

# ---- refused
small = load("rsa1024.pem")
write("rsa1024.jwk", jwk(small, kid="small"))
write("rsa-e3.jwk", jwk(load("rsa-e3.pem")))
even = jwk(rsa2048)
even["e"] = uint(65538)
write("rsa-even-e.jwk", even)
e1 = jwk(rsa2048)
e1["e"] = uint(1)
write("rsa-e1.jwk", e1)
big = jwk(rsa2048)
big["n"] = uint(secrets.randbits(8200) | (1 << 8199) | 1)
write("rsa-8200.jwk", big)
# the ROCA-affected public key of Wycheproof json_web_key_test.json tcId 7
write("rsa-roca.jwk", {"kty": "RSA", "alg": "RS256", "kid": "roca", "e": "AQAB",
    "n": "AanFpofbj7KjD4Lf-N2hVMKR7yewSyXhhbirIMTGpfYEhZ_lnt5UoK98DnKIgArXGT"
         "u3MaW_HhFw16HGaTDUHqPrId7fe4r11CqRw09yBFuW79V8sYIwHdzCaWflUI6auImY"
         "bVfoN9_nD5n8N8SY9DwXw7mwZM9wREPXoDPgOoIWl6q_MPsp7n0zs3Z5ZaiQWOOzl1"
         "S9OhwAfSiiOwz6efnXEaxuTEtPd7BjSx7NaFka8Dx9U7YqXy2RFj1O9PjyaDGuRh7Y"
         "XsX3iMUSP_wSyHQg_c_qHRtKUsNSGCT7OZg0hzm2KphtjnayKJvC64vAbROBR4Ubg6"
         "Bxg9IQVZ-QYyE"})
write("oct-short.jwk", {"kty": "oct", "alg": "HS256", "k": b64(hs256[:31])})
write("oct-short384.jwk", {"kty": "oct", "alg": "HS384", "k": b64(hs256)})
write("oct-empty.jwk", {"kty": "oct", "k": ""})
off = jwk(ec256, kid="off")
y = int.from_bytes(base64.urlsafe_b64decode(off["y"] + "=="), "big")
off["y"] = uint(y ^ 1, 32)
write("ec-offcurve.jwk", off)
short_x = jwk(ec256)
short_x["x"] = b64(base64.urlsafe_b64decode(short_x["x"] + "=")[1:])
write("ec-badlen.jwk", short_x)
write("ec-wrongcurve.jwk", jwk(ec384, alg="ES256"))
mism = jwk(ec256)
mism["crv"] = "P-384"
write("ec-crv-mismatch.jwk", mism)
write("x25519.jwk", okp_raw("x25519.pem", "X25519"))
write("ed448.jwk", okp_raw("ed448.pem", "Ed448"))
write("alg-misfit.jwk", jwk(ec256, alg="RS256"))
write("rsa-hs256.jwk", jwk(rsa2048, alg="HS256"))
write("oct-rs256.jwk", {"kty": "oct", "alg": "RS256", "k": b64(hs256)})
write("unknown-alg.jwk", jwk(ec521, alg="ES521"))
write("alg-none.jwk", {"kty": "oct", "alg": "none", "k": b64(hs256)})
write("alg-newline.jwk", {"kty": "oct", "alg": "HS256\nforged log line",
                          "k": "A" * 43})
write("mixed.jwks", {"keys": [
    {"kty": "oct", "kid": "s", "k": b64(hs256)}, jwk(ec256, kid="e")]})
write("dupkid.jwks", {"keys": [jwk(ec256, kid="same"), jwk(ed, kid="same")]})
write("kidless2.jwks", {"keys": [jwk(ec256), jwk(ed)]})
write("enc-only.jwks", {"keys": [jwk(rsa2048, kid="e", use="enc")]})
write("enc.jwk", jwk(rsa2048, use="enc"))
# an encryption key that says so only by its JWE alg: skipped in a set,
# refused alone
write("enc-alg.jwks", {"keys": [jwk(rsa2048, kid="oaep", alg="RSA-OAEP-256"),
                                jwk(ec256, kid="ec1", use="sig")]})
write("enc-alg.jwk", jwk(rsa2048, alg="A256KW"))
write("keyops-encrypt.jwk", jwk(rsa2048, key_ops=["encrypt"]))
write("use-number.jwk", jwk(rsa2048, use=1))
write("kty-unknown.jwk", {"kty": "DSA", "x": "AA"})
padded = jwk(rsa2048)
padded["e"] = "AQAB="
write("b64-padding.jwk", padded)
with open("dup-member.jwk", "w") as f:
    f.write('{"kty":"oct","k":"%s","k":"%s"}\n' % (b64(hs256), b64(hs256)))
write("empty.jwks", {"keys": []})
write("kid-number.jwk", jwk(ec256, kid=7))
# private JWKs whose halves do not belong together (refused for signing)
mismatch = jwk(ec256, True)
mismatch["d"] = jwk(load("ec256-trad.pem"), True)["d"]
write("ec256-mismatch.priv.jwk", mismatch)
mismatch = jwk(ed, True)
mismatch["x"] = okp_raw("x25519.pem", "Ed25519")["x"]
write("ed25519-mismatch.priv.jwk", mismatch)
mismatch = jwk(rsa2048, True)
mismatch["n"] = jwk(rsa3072)["n"]
write("rsa2048-mismatch.priv.jwk", mismatch)

# DESIGN 10's tolerance table: one good RS256 key beside a key of each
# kind that cannot be used (skipped with a warning), and the same
# unusable keys alone (refused).
with open("rsa2048-kid.jwk") as f:
    good = json.load(f)
with open("rsa1024.jwk") as f:
    small = json.load(f)
unusable = [
    dict(kid="x-enc", use="enc", **okp_raw("x25519.pem", "X25519")),
    small,
    {"kid": "legacy", "alg": "RS1", "kty": "RSA", "n": good["n"],
     "e": good["e"]},
    {"kid": "dsa", "kty": "DSA", "x": "AA"},
    {"kid": "p192", "kty": "EC", "crv": "P-192", "x": "A" * 32, "y": "A" * 32},
    {"kty": "OKP", "crv": "X448", "x": "AA"},
]
write("tolerant.jwks", {"keys": [unusable[0], good] + unusable[1:]})
write("unusable.jwks", {"keys": unusable})
