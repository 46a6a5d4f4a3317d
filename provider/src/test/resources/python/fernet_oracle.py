"""Answers PythonInteropTest's questions with Python's cryptography.fernet.

Protocol: one JSON object per line on stdin, one JSON answer per line on stdout, until stdin closes.
Bytes travel as url-safe base64 text (tokens and keys as they are). The first line written, unasked,
describes this interpreter, or says why it cannot serve (no cryptography).
Python 3 standard library and `cryptography` only.
"""
import base64
import json
import os
import platform
import sys

try:
    import cryptography
    from cryptography.fernet import Fernet, InvalidToken, MultiFernet
    from cryptography.hazmat.primitives import hashes, hmac, padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
except ImportError as e:
    print(json.dumps({"error": "cryptography is not importable: %s" % e}), flush=True)
    sys.exit(0)


def b64(data):
    return base64.urlsafe_b64encode(data).decode("ascii")


def unb64(text):
    return base64.urlsafe_b64decode(text.encode("ascii"))


def fernet(keys):
    fernets = [Fernet(key.encode("ascii")) for key in keys]
    return fernets[0] if len(fernets) == 1 else MultiFernet(fernets)


def verdict(reader, token, ttl=None, now=None):
    """Returns {"data": ...} when the token is accepted, {"rejected": exception name} otherwise."""
    try:
        if ttl is None:
            return {"data": b64(reader.decrypt(token))}
        return {"data": b64(reader.decrypt_at_time(token, ttl, now))}
    except Exception as e:  # InvalidToken, or whatever else Python raises for garbage
        return {"rejected": type(e).__name__}


def signed(key, body):
    """Returns a token of arbitrary body bytes, correctly signed with key: for inputs a Fernet encoder never makes."""
    raw = unb64(key)
    mac = hmac.HMAC(raw[:16], hashes.SHA256())
    mac.update(body)
    return base64.urlsafe_b64encode(body + mac.finalize())


def raw_cbc(key, iv, padded):
    encryptor = Cipher(algorithms.AES(unb64(key)[16:]), modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def flip(token, index):
    raw = bytearray(unb64(token.decode("ascii")))
    raw[index] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw))


def tampered(key, other_key, data, timestamp):
    """Returns invalid variants of one token, each with Python's own verdict."""
    token = Fernet(key.encode("ascii")).encrypt_at_time(data, timestamp)
    raw = unb64(token.decode("ascii"))
    iv = os.urandom(16)
    header = b"\x80" + timestamp.to_bytes(8, "big") + iv
    padder = padding.PKCS7(128).padder()
    good_padding = padder.update(data) + padder.finalize()
    variants = {
        "version bit flipped": flip(token, 0),
        "timestamp bit flipped": flip(token, 8),
        "iv bit flipped": flip(token, 9),
        "ciphertext bit flipped": flip(token, 25),
        "last ciphertext bit flipped": flip(token, len(raw) - 33),
        "tag bit flipped": flip(token, len(raw) - 1),
        "one block cut": base64.urlsafe_b64encode(raw[:25] + raw[41:]),
        "tag cut": base64.urlsafe_b64encode(raw[:-32]),
        "header only": base64.urlsafe_b64encode(raw[:9]),
        "empty": b"",
        "padding stripped": token.rstrip(b"="),
        "signed by another key": Fernet(other_key.encode("ascii")).encrypt_at_time(data, timestamp),
        "signed, version 0x81": signed(key, b"\x81" + header[1:] + raw_cbc(key, iv, good_padding)),
        "signed, no ciphertext": signed(key, header),
        "signed, ciphertext not whole blocks": signed(key, header + raw_cbc(key, iv, good_padding)[:-1]),
        "signed, padding byte 0": signed(key, header + raw_cbc(key, iv, good_padding[:-1] + b"\x00")),
        "signed, padding byte 17": signed(key, header + raw_cbc(key, iv, good_padding[:-1] + b"\x11")),
        "signed, inconsistent padding": signed(key, header + raw_cbc(key, iv, bytes(14) + b"\x01\x02")),
    }
    reader = Fernet(key.encode("ascii"))
    return [dict(name=name, token=variant.decode("ascii"), **verdict(reader, variant))
            for name, variant in variants.items()]


def lenient(key, data):
    """Returns spellings of a valid token that are not canonical base64, each with Python's verdict."""
    token = Fernet(key.encode("ascii")).encrypt(data)
    while b"-" not in token and b"_" not in token:
        # about 1 token in 100 has neither: its "standard alphabet" spelling would be the token itself
        token = Fernet(key.encode("ascii")).encrypt(data)
    variants = {
        "newline appended": token + b"\n",
        "space inside": token[:50] + b" " + token[50:],
        "stray character inside": token[:50] + b"!" + token[50:],
        "standard alphabet": token.replace(b"-", b"+").replace(b"_", b"/"),
        "extra padding": token + b"==",
        "data after padding": token + b"AAAA",
    }
    reader = Fernet(key.encode("ascii"))
    return [dict(name=name, token=variant.decode("ascii"), **verdict(reader, variant))
            for name, variant in variants.items()]


def answer(request):
    op = request["op"]
    if op == "generate_key":
        return {"key": Fernet.generate_key().decode("ascii")}
    if op == "encrypt_at_time":
        token = fernet(request["keys"]).encrypt_at_time(unb64(request["data"]), request["time"])
        return {"token": token.decode("ascii")}
    if op == "encrypt_from_parts":
        token = Fernet(request["key"].encode("ascii"))._encrypt_from_parts(
            unb64(request["data"]), request["time"], unb64(request["iv"]))
        return {"token": token.decode("ascii")}
    if op == "decrypt":
        token = request["token"].encode("ascii")
        return verdict(fernet(request["keys"]), token, request.get("ttl"), request.get("now"))
    if op == "extract_timestamp":
        return {"time": fernet(request["keys"]).extract_timestamp(request["token"].encode("ascii"))}
    if op == "rotate":
        keys = [Fernet(key.encode("ascii")) for key in request["keys"]]
        return {"token": MultiFernet(keys).rotate(request["token"].encode("ascii")).decode("ascii")}
    if op == "tampered":
        return {"variants": tampered(request["key"], request["other_key"], unb64(request["data"]), request["time"])}
    if op == "lenient":
        return {"variants": lenient(request["key"], unb64(request["data"]))}
    raise ValueError("unknown op " + op)


def main():
    print(json.dumps({
        "python": platform.python_version(),
        "executable": os.path.realpath(sys.executable),
        "cryptography": cryptography.__version__,
    }), flush=True)
    for line in sys.stdin:
        try:
            reply = answer(json.loads(line))
        except Exception as e:
            reply = {"error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
