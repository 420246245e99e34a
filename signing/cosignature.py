"""C2SP tlog-cosignature/v1 (Ed25519): the cosigner key id and vkey, the signed message, and signature lines.

Written by hand because it is the core protocol of the product's witnesses: every byte is the spec's,
and no Python library implements it. From c2sp.org/tlog-cosignature:

- key id (section "Format"): ``SHA-256(<name> || "\\n" || 0x04 || 32-byte Ed25519 public key)[:4]``. The
  signature type byte is 0x04, not the 0x01 of plain signed-note Ed25519 keys, so a cosignature never
  verifies as a plain note signature and a log key never passes for a witness key.
- vkey: ``<name>+<8 hex key id>+base64(0x04 || public key)``.
- signature (``timestamped_signature``): ``u64 timestamp`` big-endian, then the 64-byte Ed25519
  signature; on the note line ``— <name> base64(key id || timestamp || signature)``, 76 bytes decoded.
  The timestamp is POSIX seconds, at most 2^63 - 1; a witness never sends 0.
- signed message (section "Ed25519 signed message"): ``cosignature/v1\\n``, ``time <decimal, no leading
  zeros>\\n``, then the whole checkpoint note body with its final newline and without signature lines.

The private key is a plain signed-note key (``signing.keys.Signer``, Go's ``PRIVATE+KEY+...`` string):
the same Ed25519 seed, with the 0x04 key id derived from it, as transparency-dev's
``NewSignerForCosignatureV1`` does.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import nacl.exceptions
import nacl.signing

from signing.errors import BadSignature, InvalidArgument, InvalidKey, MalformedNote, UnverifiedNote
from signing.keys import PUBLIC_KEY_SIZE, SIGNATURE_SIZE, KeyId, Signer, b64decode_strict, check_key_name
from signing.note import SIGNATURE_PREFIX, check_body, parse_note

#: The signature type byte of Ed25519 cosignature/v1 keys.
COSIGNATURE_V1 = 0x04
HEADER = "cosignature/v1"
TIMESTAMP_SIZE = 8
#: ``u64`` on the wire, but the spec caps it so it fits a signed 64-bit integer.
MAX_TIMESTAMP = 2**63 - 1
#: Decoded bytes after the key id on a signature line: timestamp then signature.
TIMESTAMPED_SIGNATURE_SIZE = TIMESTAMP_SIZE + SIGNATURE_SIZE


def cosigner_key_id(name: str, public_key: bytes) -> KeyId:
    """SHA-256(name || 0x0A || 0x04 || public key)[:4]."""
    return KeyId(hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([COSIGNATURE_V1]) + public_key).digest()[:4])


def _check_timestamp(timestamp: int) -> int:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise InvalidArgument(f"expected a POSIX timestamp between 0 and 2^63 - 1, found {timestamp!r}")
    return timestamp


def signed_message(body: str, timestamp: int) -> bytes:
    """The bytes a cosigner signs: header line, ``time <timestamp>`` line, then the checkpoint body."""
    check_body(body)
    return f"{HEADER}\ntime {_check_timestamp(timestamp)}\n{body}".encode()


@dataclass(frozen=True, slots=True)
class CosignerVerifier:
    """A known cosigner (witness): its name, its 0x04 key id and its Ed25519 public key."""

    #: The key name on signature lines; C2SP recommends a schema-less URL.
    name: str
    #: SHA-256(name || 0x0A || 0x04 || public_key)[:4]; checked on construction.
    key_id: KeyId
    #: The 32-byte Ed25519 public key.
    public_key: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.public_key) != PUBLIC_KEY_SIZE:
            raise InvalidKey(f"expected a {PUBLIC_KEY_SIZE}-byte public key, found {len(self.public_key)} bytes")
        expected = cosigner_key_id(self.name, self.public_key)
        if self.key_id != expected:
            raise InvalidKey(
                f"key id {bytes(self.key_id).hex()} does not match cosigner {self.name!r} and its public key "
                f"(expected {expected.hex()})"
            )

    @classmethod
    def from_public_key(cls, name: str, public_key: bytes) -> CosignerVerifier:
        return cls(name=name, key_id=cosigner_key_id(name, public_key), public_key=bytes(public_key))

    def vkey(self) -> str:
        """``name+<8 hex key id>+base64(0x04 || public key)``."""
        encoded = base64.b64encode(bytes([COSIGNATURE_V1]) + self.public_key).decode("ascii")
        return f"{self.name}+{bytes(self.key_id).hex()}+{encoded}"

    def verify(self, body: str, cosignature: Cosignature) -> None:
        """Raise ``BadSignature`` unless ``cosignature`` is this cosigner's over checkpoint ``body``."""
        if (cosignature.name, bytes(cosignature.key_id)) != (self.name, bytes(self.key_id)):
            raise BadSignature(f"the cosignature is by {cosignature.name!r}, not by {self.name!r}")
        message = signed_message(body, cosignature.timestamp)
        try:
            nacl.signing.VerifyKey(self.public_key).verify(message, cosignature.signature)
        except nacl.exceptions.CryptoError as exc:
            raise BadSignature(
                f"cosignature by {self.name!r} ({bytes(self.key_id).hex()}) at time {cosignature.timestamp} "
                "does not verify"
            ) from exc


def parse_cosigner_vkey(text: str) -> CosignerVerifier:
    """Parse ``name+<hex id>+base64(0x04 || pk)``, splitting on the first two '+' only (base64 uses '+')."""
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise InvalidKey(f"expected a cosigner key 'name+keyid+base64', found {text!r}")
    name, id_text, encoded = parts
    check_key_name(name)
    if len(id_text) != 8 or any(ch not in "0123456789abcdef" for ch in id_text):
        raise InvalidKey(f"expected a key id of 8 lowercase hex digits, found {id_text!r}")
    raw = b64decode_strict(encoded, "a cosigner public key")
    if len(raw) != 1 + PUBLIC_KEY_SIZE or raw[0] != COSIGNATURE_V1:
        kind = f"type 0x{raw[0]:02x}" if raw else "nothing"
        raise InvalidKey(
            f"expected a cosignature/v1 key: 0x04 followed by {PUBLIC_KEY_SIZE} bytes, found {kind} "
            f"and {len(raw)} bytes"
        )
    return CosignerVerifier(name=name, key_id=KeyId(bytes.fromhex(id_text)), public_key=raw[1:])


def cosigner_of(signer: Signer) -> CosignerVerifier:
    """The cosigner verifier of a note signing key: the same name and public key, key id with 0x04."""
    return CosignerVerifier.from_public_key(signer.name, signer.public_key)


@dataclass(frozen=True, slots=True)
class Cosignature:
    """One cosignature line, parsed: who, when, and the 64-byte signature. Not verified by existing."""

    #: The cosigner's key name.
    name: str
    #: The 4-byte cosigner key id.
    key_id: KeyId
    #: POSIX seconds at which it was made (0 to 2^63 - 1).
    timestamp: int
    #: The Ed25519 signature of ``signed_message(body, timestamp)``.
    signature: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.key_id) != 4:
            raise InvalidArgument(f"expected a 4-byte key id, found {len(self.key_id)} bytes")
        _check_timestamp(self.timestamp)
        if len(self.signature) != SIGNATURE_SIZE:
            raise InvalidArgument(f"expected a {SIGNATURE_SIZE}-byte signature, found {len(self.signature)} bytes")

    def to_line(self) -> str:
        """``— <name> base64(key id || u64 timestamp || signature)`` with its newline."""
        blob = bytes(self.key_id) + self.timestamp.to_bytes(TIMESTAMP_SIZE, "big") + self.signature
        return f"{SIGNATURE_PREFIX}{self.name} {base64.b64encode(blob).decode('ascii')}\n"

    @classmethod
    def from_signature(cls, name: str, key_id: KeyId, blob: bytes) -> Cosignature:
        """From a note signature line's parts; ``blob`` is what follows the key id (timestamp, signature)."""
        if len(blob) != TIMESTAMPED_SIGNATURE_SIZE:
            raise MalformedNote(
                f"expected a cosignature of {TIMESTAMPED_SIGNATURE_SIZE} bytes after the key id from {name!r}, "
                f"found {len(blob)} bytes"
            )
        timestamp = int.from_bytes(blob[:TIMESTAMP_SIZE], "big")
        if timestamp > MAX_TIMESTAMP:
            raise MalformedNote(f"the cosignature from {name!r} has a timestamp beyond 2^63 - 1")
        return cls(name=name, key_id=key_id, timestamp=timestamp, signature=blob[TIMESTAMP_SIZE:])


def cosign(signer: Signer, body: str, timestamp: int) -> Cosignature:
    """The cosignature/v1 of checkpoint ``body`` at ``timestamp`` by ``signer``'s seed (key id with 0x04)."""
    if timestamp == 0:
        raise InvalidArgument("a cosignature's timestamp must not be zero (tlog-witness)")
    cosigner = cosigner_of(signer)
    return Cosignature(
        name=cosigner.name,
        key_id=cosigner.key_id,
        timestamp=timestamp,
        signature=signer.sign(signed_message(body, timestamp)),
    )


def verified_cosignatures(note_text: str | bytes, cosigners: Sequence[CosignerVerifier]) -> tuple[Cosignature, ...]:
    """The cosignatures on a signed note from the known ``cosigners``, each verified, in line order.

    Signature lines of other keys (the log's own, unknown witnesses) are ignored, as signed-note asks; a
    line whose name and key id match a known cosigner but does not verify rejects the whole note
    (``BadSignature``), and so does a note with none from a known cosigner (``UnverifiedNote``).
    """
    known = {(c.name, bytes(c.key_id)): c for c in cosigners}
    note = parse_note(note_text)
    found: list[Cosignature] = []
    for line in note.signatures:
        cosigner = known.get((line.name, bytes(line.key_id)))
        if cosigner is None:
            continue
        cosignature = Cosignature.from_signature(line.name, line.key_id, line.signature)
        cosigner.verify(note.body, cosignature)
        found.append(cosignature)
    if not found:
        names = ", ".join(sorted(c.name for c in cosigners)) or "none given"
        raise UnverifiedNote(f"no cosignature on the note is from a known cosigner (known: {names})")
    return tuple(found)


__all__ = [
    "COSIGNATURE_V1",
    "Cosignature",
    "CosignerVerifier",
    "cosign",
    "cosigner_key_id",
    "cosigner_of",
    "parse_cosigner_vkey",
    "signed_message",
    "verified_cosignatures",
]
