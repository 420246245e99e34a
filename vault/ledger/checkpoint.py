"""C2SP tlog-checkpoint: the note body naming a log's origin, tree size and root hash, and its signing.

Body lines (each ending in a newline): origin (non-empty), tree size in ASCII decimal with no leading
zeros, the standard base64 of the 32-byte RFC 9162 root, then optional non-empty extension lines.
``CheckpointBody`` is checked on construction, so one that exists is well formed. Signing and opening
go through ``signing.note`` (C2SP signed-note); its errors are re-raised as vault errors here.

``PublishedCheckpoint`` is the one wire value of a checkpoint as Offboard publishes it: the signed note
verbatim (``GET /api/v1/ledger/checkpoint`` serves ``to_text()``), and its JSON
``{"size", "root_hash", "key_id", "note"}`` (``to_json``/``from_json``) that receipts give the client and
``offboard ledger checkpoint --json`` prints.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypedDict

from signing.errors import BadSignature, InvalidKey, MalformedNote
from signing.keys import Signer, Verifier
from signing.note import VerifiedNote, open_note, parse_note, sign_note
from vault.errors import InvalidInput, VerificationFailed
from vault.ledger.hashing import HASH_SIZE, RootHash

#: C2SP does not bound the size; 64 bits is what every other implementation can hold.
MAX_TREE_SIZE = 2**64 - 1


class MalformedCheckpoint(InvalidInput):
    """Checkpoint text or values that break a rule of C2SP tlog-checkpoint."""

    code = "malformed-checkpoint"


class CheckpointSignatureInvalid(VerificationFailed):
    """A checkpoint note is malformed, carries a failing signature, or no trusted key signed it."""

    code = "checkpoint-signature-invalid"


class CheckpointOriginMismatch(VerificationFailed):
    """A correctly signed checkpoint is for another log than the one expected."""

    code = "checkpoint-origin-mismatch"


def b64encode(raw: bytes) -> str:
    """Standard padded base64 (RFC 4648 section 4), the encoding of every hash in ledger texts."""
    return base64.b64encode(raw).decode("ascii")


def b64decode_hash(text: str, what: str, error: type[InvalidInput] = MalformedCheckpoint) -> bytes:
    """Decode canonical standard base64 of exactly 32 bytes, or raise ``error`` naming ``what``."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise error(f"expected {what} in standard base64, found {text!r}") from exc
    if b64encode(raw) != text:
        raise error(f"expected {what} in canonical standard base64, found {text!r}")
    if len(raw) != HASH_SIZE:
        raise error(f"expected {what} of {HASH_SIZE} bytes, found {len(raw)} bytes")
    return raw


def parse_decimal(text: str, what: str, error: type[InvalidInput] = MalformedCheckpoint) -> int:
    """ASCII decimal with no sign and no leading zeros (except ``0`` itself), at most 2^64 - 1."""
    if not text or not text.isascii() or not text.isdigit() or (text[0] == "0" and text != "0"):
        raise error(f"expected {what} in decimal with no leading zeros, found {text!r}")
    value = int(text)
    if value > MAX_TREE_SIZE:
        raise error(f"expected {what} below 2^64, found {text}")
    return value


def _check_line(line: str, what: str) -> None:
    if not line:
        raise MalformedCheckpoint(f"expected a non-empty {what}")
    bad = next((ch for ch in line if ord(ch) < 0x20 or ord(ch) == 0x7F), None)
    if bad is not None:
        raise MalformedCheckpoint(f"the {what} may not contain control characters, found {bad!r}")


@dataclass(frozen=True, slots=True)
class CheckpointBody:
    """The text of a checkpoint: which log, how many entries, which root."""

    #: The log's unique identity, e.g. ``offboard.example/org/<id>``; no newline.
    origin: str
    #: Number of leaves in the tree.
    size: int
    #: RFC 9162 root hash of the tree at ``size`` (32 bytes).
    root_hash: RootHash
    #: Optional extension lines, each non-empty, in order.
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin line")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or not 0 <= self.size <= MAX_TREE_SIZE:
            raise MalformedCheckpoint(f"expected a tree size between 0 and 2^64 - 1, found {self.size!r}")
        if len(self.root_hash) != HASH_SIZE:
            raise MalformedCheckpoint(f"expected a {HASH_SIZE}-byte root hash, found {len(self.root_hash)} bytes")
        for line in self.extensions:
            _check_line(line, "extension line")

    def to_text(self) -> str:
        lines = [self.origin, str(self.size), b64encode(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def from_text(cls, text: str) -> CheckpointBody:
        """Parse checkpoint note text, checking every rule of C2SP tlog-checkpoint."""
        if not text.endswith("\n"):
            raise MalformedCheckpoint("expected checkpoint text ending in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedCheckpoint(f"expected at least 3 checkpoint lines, found {len(lines)}")
        origin, size_text, root_text, *extensions = lines
        _check_line(origin, "origin line")
        size = parse_decimal(size_text, "the tree size")
        root = b64decode_hash(root_text, "the root hash")
        return cls(origin=origin, size=size, root_hash=RootHash(root), extensions=tuple(extensions))


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint whose note verified against trusted keys."""

    #: The parsed body.
    body: CheckpointBody
    #: The signed note exactly as received (what a tlog-proof embeds verbatim).
    text: str
    #: Which keys vouched for it, and which unknown signatures were ignored.
    note: VerifiedNote


class PublishedCheckpointJSON(TypedDict):
    """``PublishedCheckpoint.to_json()``: sizes as integers, the root in standard base64."""

    size: int
    root_hash: str
    key_id: str
    note: str


_KEY_ID_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class PublishedCheckpoint:
    """A signed checkpoint note as published, with the size and root its body states and the key that signed.

    Construction parses the note's structure and checks ``key_id`` is among its signatures, so the size
    and root always are the note's own. Trusting it still takes ``open_checkpoint`` with known keys.
    """

    #: The signed note, verbatim.
    note: str
    #: 8 lower-case hex digits: the C2SP key id of the organization key that signed it.
    key_id: str
    #: The note's parsed body.
    body: CheckpointBody = field(init=False)

    def __post_init__(self) -> None:
        try:
            parsed = parse_note(self.note)
        except MalformedNote as exc:
            raise MalformedCheckpoint(f"the checkpoint is not a signed note: {exc}") from exc
        if not isinstance(self.key_id, str) or len(self.key_id) != 8 or not set(self.key_id) <= _KEY_ID_HEX:
            raise MalformedCheckpoint(f"expected 'key_id' of 8 lower-case hex digits, found {self.key_id!r}")
        if self.key_id not in {bytes(sig.key_id).hex() for sig in parsed.signatures}:
            raise MalformedCheckpoint(f"the checkpoint note carries no signature by key {self.key_id}")
        object.__setattr__(self, "body", CheckpointBody.from_text(parsed.body))

    @property
    def size(self) -> int:
        return self.body.size

    @property
    def root_hash(self) -> RootHash:
        return self.body.root_hash

    def to_text(self) -> str:
        return self.note

    def to_json(self) -> PublishedCheckpointJSON:
        return {"size": self.size, "root_hash": b64encode(self.root_hash), "key_id": self.key_id, "note": self.note}

    @classmethod
    def from_json(cls, data: object) -> PublishedCheckpoint:
        """Parse the JSON shape exactly; its size and root must be those the note states."""
        keys = ("size", "root_hash", "key_id", "note")
        if not isinstance(data, dict) or sorted(data) != sorted(keys):
            found = sorted(data) if isinstance(data, dict) else type(data).__name__
            raise MalformedCheckpoint(f"expected a checkpoint object with the fields {list(keys)}, found {found}")
        if not isinstance(data["note"], str):
            raise MalformedCheckpoint(f"expected 'note' to be the signed note text, found {data['note']!r}")
        value = cls(note=data["note"], key_id=data["key_id"])
        if data["size"] != value.size or isinstance(data["size"], bool):
            raise MalformedCheckpoint(f"'size' says {data['size']!r}, the note says {value.size}")
        root = b64encode(value.root_hash)
        if data["root_hash"] != root:
            raise MalformedCheckpoint(f"'root_hash' says {data['root_hash']!r}, the note says {root}")
        return value


def sign_checkpoint(body: CheckpointBody, signers: Sequence[Signer]) -> str:
    """The signed checkpoint note text. The caller must never sign two inconsistent checkpoints."""
    return sign_note(body.to_text(), signers)


def open_checkpoint(text: str | bytes, verifiers: Sequence[Verifier], *, origin: str | None = None) -> SignedCheckpoint:
    """Verify a signed checkpoint and parse its body; when ``origin`` is given, the log must match it."""
    try:
        note = open_note(text, verifiers)
    except (MalformedNote, BadSignature, InvalidKey) as exc:
        raise CheckpointSignatureInvalid(f"checkpoint signature check failed: {exc}") from exc
    body = CheckpointBody.from_text(note.body)
    if origin is not None and body.origin != origin:
        raise CheckpointOriginMismatch(f"expected a checkpoint for {origin!r}, found one for {body.origin!r}")
    raw = text.decode("utf-8") if isinstance(text, bytes) else text
    return SignedCheckpoint(body=body, text=raw, note=note)
