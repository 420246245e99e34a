"""A detached Ed25519 signature over exact bytes (RFC 8032 section 5.1), and its two JSON renderings.

Offboard publishes the same signature in two shapes that others already verify, so both stay as they are
and this one type writes and reads each:

- the *receipt rendering* (``to_json``/``from_json``), in receipt and acknowledgment ``.sig.json`` files
  (attached to the receipt PDF) and in the API's and CLI's receipt views (``docs/receipts.md``)::

      {"alg": "Ed25519", "key_id": "<8 hex>", "key_name": "<name>", "signature": "<base64>", "sha256": "<hex>"}

- the *bundle rendering* (``to_bundle_json``/``from_bundle_json``), the ``data/receipts/<id>.sig`` files
  of an evidence bundle (``docs/bundle.md``), written as RFC 8785 JSON::

      {"algorithm": "Ed25519", "key_id": "<8 hex>", "signature": "<base64>"}

``key_id`` is the C2SP key id of the signing key in lower-case hex (the same key signs the ledger's
checkpoints); ``signature`` is standard padded base64 (RFC 4648 section 4), canonical, of 64 bytes.
Parsing raises ``MalformedSignature`` naming the field; this package never imports ``vault``, whose
callers turn it into their own error or verdict.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, TypedDict

from signing.errors import BadSignature, MalformedSignature
from signing.keys import Signer, Verifier

#: The only algorithm Offboard signs documents with.
ALGORITHM: Final = "Ed25519"
SIGNATURE_SIZE: Final = 64
_KEY_ID = re.compile(r"^[0-9a-f]{8}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ReceiptSignatureJSON(TypedDict):
    """The receipt rendering (``DetachedSignature.to_json``)."""

    alg: str
    key_id: str
    key_name: str
    signature: str
    sha256: str


class BundleSignatureJSON(TypedDict):
    """The bundle rendering (``DetachedSignature.to_bundle_json``)."""

    algorithm: str
    key_id: str
    signature: str


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True, slots=True)
class DetachedSignature:
    """Who signed which bytes: a key id, the 64-byte signature and, when known, the key's name and digest."""

    #: The C2SP key id of the signing key, 8 lower-case hex digits.
    key_id: str
    #: The Ed25519 signature, 64 bytes.
    signature: bytes
    #: The signing key's name (the ledger's origin); the receipt rendering carries it, the bundle's does not.
    key_name: str | None = None
    #: Lower-case hex SHA-256 of the signed bytes; the receipt rendering carries it, the bundle's does not.
    sha256: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.key_id, str) or not _KEY_ID.match(self.key_id):
            raise MalformedSignature(f"expected 'key_id' of 8 lower-case hex digits, found {self.key_id!r}")
        if not isinstance(self.signature, bytes) or len(self.signature) != SIGNATURE_SIZE:
            found = len(self.signature) if isinstance(self.signature, bytes) else repr(self.signature)
            raise MalformedSignature(f"expected a 'signature' of {SIGNATURE_SIZE} bytes, found {found}")
        if self.key_name is not None and (not isinstance(self.key_name, str) or not self.key_name):
            raise MalformedSignature(f"expected a non-empty 'key_name', found {self.key_name!r}")
        if self.sha256 is not None and (not isinstance(self.sha256, str) or not _SHA256.match(self.sha256)):
            raise MalformedSignature(f"expected 'sha256' of 64 lower-case hex digits, found {self.sha256!r}")

    @classmethod
    def sign(cls, signer: Signer, body: bytes) -> DetachedSignature:
        """Sign ``body`` exactly; the result carries the key's name and the body's SHA-256."""
        return cls(
            key_id=signer.key_id.hex(),
            signature=signer.sign(body),
            key_name=signer.name,
            sha256=hashlib.sha256(body).hexdigest(),
        )

    def verify(self, verifier: Verifier, body: bytes) -> None:
        """Raise ``BadSignature`` unless ``verifier`` is the named key and its signature over ``body`` holds."""
        if bytes(verifier.key_id).hex() != self.key_id:
            found = f"{verifier.name!r} ({bytes(verifier.key_id).hex()})"
            raise BadSignature(f"signature is by key {self.key_id}, not by {found}")
        verifier.verify(body, self.signature)

    # --- the receipt rendering ---------------------------------------------------------------------

    def to_json(self) -> ReceiptSignatureJSON:
        """The receipt rendering; only a signature that knows its key name and digest has one."""
        if self.key_name is None or self.sha256 is None:
            raise MalformedSignature("the receipt rendering needs the key's name and the signed bytes' SHA-256")
        return {
            "alg": ALGORITHM,
            "key_id": self.key_id,
            "key_name": self.key_name,
            "signature": _b64(self.signature),
            "sha256": self.sha256,
        }

    @classmethod
    def from_json(cls, data: object) -> DetachedSignature:
        """Parse the receipt rendering: exactly its five fields."""
        obj = _object(data, ("alg", "key_id", "key_name", "signature", "sha256"), exact=True)
        _algorithm(obj, "alg")
        return cls(obj["key_id"], _signature(obj["signature"]), key_name=obj["key_name"], sha256=obj["sha256"])

    # --- the bundle rendering ----------------------------------------------------------------------

    def to_bundle_json(self) -> BundleSignatureJSON:
        return {"algorithm": ALGORITHM, "key_id": self.key_id, "signature": _b64(self.signature)}

    @classmethod
    def from_bundle_json(cls, data: object) -> DetachedSignature:
        """Parse the bundle rendering. Other fields are ignored, as ``verify.html`` ignores them: the file is
        not signed, so nothing in it but the signature itself can count."""
        obj = _object(data, ("algorithm", "key_id", "signature"), exact=False)
        _algorithm(obj, "algorithm")
        return cls(obj["key_id"], _signature(obj["signature"]))


def _object(data: object, keys: tuple[str, ...], *, exact: bool) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise MalformedSignature(f"expected a signature record as a JSON object, found {type(data).__name__}")
    missing = [k for k in keys if k not in data]
    if missing:
        raise MalformedSignature(f"expected a signature record with the field {missing[0]!r}; it has none")
    unexpected = sorted(str(k) for k in data if k not in keys)
    if exact and unexpected:
        raise MalformedSignature(f"unexpected field {unexpected[0]!r} in a signature record")
    return data


def _algorithm(obj: Mapping[str, Any], key: str) -> None:
    if obj[key] != ALGORITHM:
        raise MalformedSignature(f"expected {key!r} {ALGORITHM!r}, found {obj[key]!r}")


def _signature(text: object) -> bytes:
    if not isinstance(text, str):
        raise MalformedSignature(f"expected 'signature' as a base64 string, found {text!r}")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise MalformedSignature(f"expected 'signature' in standard base64, found {text!r}") from exc
    if _b64(raw) != text:
        raise MalformedSignature(f"expected 'signature' in canonical standard base64, found {text!r}")
    return raw


__all__ = ["ALGORITHM", "BundleSignatureJSON", "DetachedSignature", "ReceiptSignatureJSON"]
