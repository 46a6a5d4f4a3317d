"""Regenerates boundaries.json with Python's cryptography: python3 make_boundaries.py > boundaries.json"""
import base64, json, sys
import cryptography
from cryptography.fernet import Fernet, InvalidToken

SECRET = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
NOW = 499162800  # 1985-10-26T01:20:00-07:00, as in the spec vectors
IV = bytes(range(16))
f = Fernet(SECRET)

def token(ts, src=b"hello"):
    return f._encrypt_from_parts(src, ts, IV).decode()

def iso(ts):
    import datetime
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).isoformat().replace("+00:00", "Z")

def case(desc, tok, now, ttl, src=None):
    c = {"desc": desc, "token": tok, "now": iso(now), "secret": SECRET}
    if ttl is not None:
        c["ttl_sec"] = ttl
    # the verdict is Python's own, so Java is compared with the reference, not with our reading of it
    try:
        got = f.decrypt_at_time(tok, ttl, now) if ttl is not None else f.decrypt(tok)
        c["src"] = got.decode()
    except (InvalidToken, ValueError):
        c["valid"] = False
    if src is not None and c.get("src") != src:
        sys.exit("unexpected verdict for " + desc)
    return c

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

def respell(tok):
    # with "==" the last character before the padding carries 4 unused bits; Python ignores them when decoding
    body = tok.rstrip("=")
    pad = len(tok) - len(body)
    assert pad == 2, "pick a plaintext whose token ends in =="
    last = ALPHABET.index(body[-1])
    respelled = body[:-1] + ALPHABET[last | 1] + "=" * pad
    assert base64.urlsafe_b64decode(respelled) == base64.urlsafe_b64decode(tok)
    return respelled

def unpadded(tok):
    return tok.rstrip("=")

cases = [
    case("expiry boundary: timestamp + ttl == now is accepted", token(NOW - 60), NOW, 60, "hello"),
    case("one second past expiry is rejected", token(NOW - 61), NOW, 60),
    case("skew boundary: timestamp == now + 60 is accepted", token(NOW + 60), NOW, 60, "hello"),
    case("one second beyond the skew is rejected", token(NOW + 61), NOW, 60),
    case("without a ttl a far-future token is accepted", token(NOW + 10**9), NOW, None, "hello"),
    case("without a ttl an ancient token is accepted", token(1), NOW, None, "hello"),
    case("empty plaintext", token(NOW, b""), NOW, 60, ""),
    case("plaintext of exactly one block", token(NOW, b"0123456789abcdef"), NOW, 60, "0123456789abcdef"),
    case("timestamp with the top bit set, no ttl", token(2**63 + 5), NOW, None, "hello"),
    case("timestamp with the top bit set is in the future", token(2**63 + 5), NOW, 60),
]
padded = token(NOW, b"hello!")  # 6 bytes of plaintext: the raw token is not a multiple of 3, so base64 has padding
# a token whose url-safe form uses '-' or '_', so that its standard-alphabet form differs
dashed = next(t for t in (token(NOW, b"x" * n) for n in range(64)) if "-" in t or "_" in t)
strict = [
    {"desc": "unpadded base64 is rejected", "token": unpadded(padded)},
    {"desc": "standard base64 alphabet is rejected", "token": base64.b64encode(base64.urlsafe_b64decode(dashed)).decode()},
    {"desc": "a trailing newline is rejected (the Cipher does not trim)", "token": padded + "\n"},
    {"desc": "a leading space is rejected", "token": " " + padded},
    {"desc": "padding in the middle is rejected", "token": padded[:40] + "=" + padded[41:]},
    {"desc": "version byte 0x81 is rejected", "token": base64.urlsafe_b64encode(b"\x81" + base64.urlsafe_b64decode(padded)[1:]).decode()},
    {"desc": "empty token is rejected", "token": ""},
    {"desc": "a final character with its unused bits set is rejected (a second spelling of a valid token)",
     "token": respell(padded)},
]
for c in strict:
    c.update({"now": iso(NOW), "ttl_sec": 60, "secret": SECRET, "valid": False})
json.dump({
    "source": "provider/src/test/resources/vectors/make_boundaries.py, run with Python "
              + sys.version.split()[0] + " and cryptography " + cryptography.__version__
              + "; verdicts of valid cases are Python's own. Strictness cases are this project's choice: "
              + "Python's lenient base64 accepts some of them, the Cipher rejects them all.",
    "vectors": cases + strict,
}, sys.stdout, indent=2)
print()
