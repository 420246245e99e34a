"""A second, test-only tlog-cosignature/v1 implementation, written differently from ``signing/cosignature.py``:
``struct`` packing, pyca/cryptography's Ed25519 instead of PyNaCl, and the spec's text read afresh. The unit
tests compare the two on every vector; neither is checked against the other alone."""

from __future__ import annotations

import base64
import struct
from hashlib import sha256

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def public_key(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, key: bytes) -> bytes:
    # "SHA-256(<name> || "\n" || 0x04 || 32-byte Ed25519 cosigner public key)[:4]"
    return sha256(b"%s\n\x04%s" % (name.encode(), key)).digest()[0:4]


def vkey(name: str, key: bytes) -> str:
    return "+".join((name, key_id(name, key).hex(), base64.standard_b64encode(b"\x04" + key).decode()))


def message(checkpoint_body: str, timestamp: int) -> bytes:
    # Two newline-terminated lines, then the note body including its final newline.
    return ("cosignature/v1\n" + "time " + str(timestamp) + "\n").encode() + checkpoint_body.encode()


def line(name: str, seed: bytes, checkpoint_body: str, timestamp: int) -> str:
    signature = Ed25519PrivateKey.from_private_bytes(seed).sign(message(checkpoint_body, timestamp))
    blob = key_id(name, public_key(seed)) + struct.pack(">Q", timestamp) + signature
    return "\u2014 " + name + " " + base64.standard_b64encode(blob).decode() + "\n"
