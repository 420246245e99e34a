"""Proof texts: C2SP tlog-proof@v1, and the JSON shape of inclusion and consistency proofs.

tlog-proof (c2sp.org/tlog-proof): the line ``c2sp.org/tlog-proof@v1``; optionally ``extra <base64>``;
``index <n>``; one base64 hash per line from the leaf's sibling up to the root's child; an empty line;
then the signed checkpoint verbatim. Files use the extension ``.tlog-proof``.

JSON proofs (``InclusionProof``, ``ConsistencyProof``: one frozen value and one ``to_json``/``from_json``
each, whose ``*JSON`` TypedDicts the API's schemas are built from) carry hashes as standard padded base64
(RFC 4648 section 4) and sizes as integers.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from signing.errors import MalformedNote
from signing.keys import Verifier
from signing.note import parse_note
from vault.errors import InvalidInput
from vault.ledger.checkpoint import (
    CheckpointBody,
    SignedCheckpoint,
    b64decode_hash,
    b64encode,
    open_checkpoint,
    parse_decimal,
)
from vault.ledger.hashing import HASH_SIZE
from vault.ledger.verifiers import IndexOutOfRange, verify_consistency, verify_inclusion

HEADER = "c2sp.org/tlog-proof@v1"
FILE_EXTENSION = ".tlog-proof"


class MalformedProof(InvalidInput):
    """Proof text or JSON that breaks its format."""

    code = "malformed-proof"


def _check_hashes(hashes: Sequence[bytes]) -> None:
    for position, value in enumerate(hashes):
        if len(value) != HASH_SIZE:
            raise MalformedProof(f"expected proof hash [{position}] of {HASH_SIZE} bytes, found {len(value)} bytes")


@dataclass(frozen=True, slots=True)
class TlogProof:
    """An offline-verifiable proof that entry ``index`` is in the log a signed checkpoint describes."""

    #: Zero-based index of the entry in the log.
    index: int
    #: The inclusion proof, leaf's sibling first.
    hashes: tuple[bytes, ...]
    #: The signed checkpoint note, verbatim (signatures not yet checked).
    checkpoint: str
    #: Optional opaque, unauthenticated extra data; None when absent (never empty).
    extra: bytes | None = None
    #: The checkpoint's parsed body (structure only; trust it after ``verify_tlog_proof``).
    body: CheckpointBody = field(init=False)

    def __post_init__(self) -> None:
        if isinstance(self.index, bool) or not isinstance(self.index, int) or self.index < 0:
            raise MalformedProof(f"expected an index >= 0, found {self.index!r}")
        _check_hashes(self.hashes)
        if self.extra is not None and not self.extra:
            raise MalformedProof("extra data, when present, must not be empty")
        try:
            note_body = parse_note(self.checkpoint).body
        except MalformedNote as exc:
            raise MalformedProof(f"the embedded checkpoint is not a signed note: {exc}") from exc
        object.__setattr__(self, "body", CheckpointBody.from_text(note_body))

    @classmethod
    def of(cls, proof: InclusionProof, checkpoint: str) -> TlogProof:
        """``proof`` as a tlog-proof around the signed ``checkpoint``, which must be of the proof's tree size."""
        value = cls(index=proof.index, hashes=proof.hashes, checkpoint=checkpoint)
        if value.body.size != proof.tree_size:
            raise MalformedProof(
                f"the proof is against tree size {proof.tree_size}, the checkpoint has size {value.body.size}"
            )
        return value

    def to_text(self) -> str:
        lines = [HEADER]
        if self.extra is not None:
            lines.append(f"extra {b64encode(self.extra)}")
        lines.append(f"index {self.index}")
        lines.extend(b64encode(h) for h in self.hashes)
        return "".join(line + "\n" for line in lines) + "\n" + self.checkpoint

    @classmethod
    def from_text(cls, text: str) -> TlogProof:
        """Parse a ``.tlog-proof`` text; the checkpoint is kept verbatim and parsed for structure."""
        head, separator, checkpoint = text.partition("\n\n")
        if not separator:
            raise MalformedProof("expected an empty line between the proof and the checkpoint")
        lines = head.split("\n")
        if lines[0] != HEADER:
            raise MalformedProof(f"expected the first line {HEADER!r}, found {lines[0]!r}")
        rest = lines[1:]
        extra: bytes | None = None
        if rest and rest[0].startswith("extra "):
            extra = _b64decode(rest[0].removeprefix("extra "), "the extra data")
            rest = rest[1:]
        if not rest or not rest[0].startswith("index "):
            raise MalformedProof("expected a line 'index <n>' after the header")
        index = parse_decimal(rest[0].removeprefix("index "), "the index", MalformedProof)
        hashes = tuple(b64decode_hash(line, f"proof hash [{i}]", MalformedProof) for i, line in enumerate(rest[1:]))
        return cls(index=index, hashes=hashes, checkpoint=checkpoint, extra=extra)


def _b64decode(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise MalformedProof(f"expected {what} in standard base64, found {text!r}") from exc
    if not raw or b64encode(raw) != text:
        raise MalformedProof(f"expected {what} in canonical, non-empty standard base64, found {text!r}")
    return raw


def verify_tlog_proof(
    proof: TlogProof, leaf_hash: bytes, verifiers: Sequence[Verifier], *, origin: str
) -> SignedCheckpoint:
    """Check the checkpoint's signatures and origin, then the entry's inclusion in that tree.

    Returns the verified checkpoint; raises a ``VerificationFailed`` subclass otherwise. The tree size
    comes only from the signed checkpoint, never from elsewhere.
    """
    signed = open_checkpoint(proof.checkpoint, verifiers, origin=origin)
    if proof.index >= signed.body.size:
        raise IndexOutOfRange(f"entry index {proof.index} is not below the checkpoint size {signed.body.size}")
    verify_inclusion(leaf_hash, proof.index, signed.body.size, proof.hashes, signed.body.root_hash)
    return signed


# --- JSON --------------------------------------------------------------------------------------------


class InclusionProofJSON(TypedDict):
    """``InclusionProof.to_json()``: what ``GET /api/v1/ledger/proof/inclusion`` and ``ledger prove --json`` print."""

    index: int
    tree_size: int
    leaf_hash: str
    hashes: list[str]


class ConsistencyProofJSON(TypedDict):
    """``ConsistencyProof.to_json()``: the API's, the CLI's and (bundle format 3) the bundle's shape."""

    first: int
    second: int
    hashes: list[str]


def _json_object(data: object, keys: tuple[str, ...], what: str) -> Mapping[str, Any]:
    """``data`` as an object with exactly ``keys``: a misspelt or foreign field is named, never ignored."""
    if not isinstance(data, Mapping):
        raise MalformedProof(f"expected {what} as a JSON object, found {type(data).__name__}")
    found = sorted(str(k) for k in data)
    if found != sorted(keys):
        unexpected = [k for k in found if k not in keys]
        missing = [k for k in keys if k not in data]
        named = f"unexpected field {unexpected[0]!r}" if unexpected else f"no field {missing[0]!r}"
        raise MalformedProof(f"expected {what} with the fields {', '.join(map(repr, keys))}; found {named}")
    return data


def _json_int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedProof(f"expected {key!r} to be an integer >= 0, found {value!r}")
    return value


def _json_hashes(data: Mapping[str, Any], key: str) -> tuple[bytes, ...]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MalformedProof(f"expected {key!r} to be a list of base64 strings")
    return tuple(b64decode_hash(item, f"{key}[{i}]", MalformedProof) for i, item in enumerate(value))


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """RFC 9162 section 2.1.3 PATH for entry ``index`` of the tree of ``tree_size`` leaves.

    JSON ``{"index": n, "tree_size": n, "leaf_hash": base64, "hashes": [base64, ...]}``, the one shape
    of the API and the CLI. ``leaf_hash`` says which entry the log proved; a verifier hashes the entry
    bytes it holds and checks those (``verify``), never this field alone.
    """

    #: Zero-based index of the entry.
    index: int
    #: Size of the tree the proof is against.
    tree_size: int
    #: RFC 9162 leaf hash of the entry bytes, as the log stores it.
    leaf_hash: bytes
    #: The proof, leaf's sibling first.
    hashes: tuple[bytes, ...]

    def __post_init__(self) -> None:
        for name in ("index", "tree_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise MalformedProof(f"expected {name} to be an integer >= 0, found {value!r}")
        if len(self.leaf_hash) != HASH_SIZE:
            raise MalformedProof(f"expected a leaf hash of {HASH_SIZE} bytes, found {len(self.leaf_hash)} bytes")
        _check_hashes(self.hashes)

    def to_json(self) -> InclusionProofJSON:
        return {
            "index": self.index,
            "tree_size": self.tree_size,
            "leaf_hash": b64encode(self.leaf_hash),
            "hashes": [b64encode(h) for h in self.hashes],
        }

    @classmethod
    def from_json(cls, data: object) -> InclusionProof:
        """Parse the JSON shape exactly; raise ``MalformedProof`` naming the first field that is wrong."""
        obj = _json_object(data, ("index", "tree_size", "leaf_hash", "hashes"), "an inclusion proof")
        leaf = obj["leaf_hash"]
        if not isinstance(leaf, str):
            raise MalformedProof(f"expected 'leaf_hash' to be a base64 string, found {leaf!r}")
        return cls(
            index=_json_int(obj, "index"),
            tree_size=_json_int(obj, "tree_size"),
            leaf_hash=b64decode_hash(leaf, "'leaf_hash'", MalformedProof),
            hashes=_json_hashes(obj, "hashes"),
        )

    def verify(self, leaf_hash: bytes, root: bytes) -> None:
        """Raise unless ``leaf_hash`` (of the bytes the caller holds) is leaf ``index`` of the tree ``root``."""
        verify_inclusion(leaf_hash, self.index, self.tree_size, self.hashes, root)


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """RFC 9162 section 2.1.4 PROOF that the tree of ``first`` leaves is a prefix of that of ``second``.

    JSON ``{"first": n, "second": n, "hashes": [base64, ...]}`` (``to_json``/``from_json``): the API's,
    the CLI's and, from bundle format 3, the bundle's ``<n>.consistency.json``. Bundles of formats 1 and
    2 name the sizes ``first_size``/``second_size``: ``from_legacy_json`` reads those, and only those;
    nothing writes them any more.
    """

    #: Size of the earlier tree (at least 1: nothing is consistent with the empty tree).
    first: int
    #: Size of the later tree.
    second: int
    #: The proof, in RFC 9162 order.
    hashes: tuple[bytes, ...]

    def __post_init__(self) -> None:
        for name in ("first", "second"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise MalformedProof(f"expected {name} to be an integer >= 0, found {value!r}")
        _check_hashes(self.hashes)

    def to_json(self) -> ConsistencyProofJSON:
        return {"first": self.first, "second": self.second, "hashes": [b64encode(h) for h in self.hashes]}

    @classmethod
    def from_json(cls, data: object) -> ConsistencyProof:
        """Parse ``{"first", "second", "hashes"}`` exactly; the old names are an unexpected field here."""
        obj = _json_object(data, ("first", "second", "hashes"), "a consistency proof")
        return cls(_json_int(obj, "first"), _json_int(obj, "second"), _json_hashes(obj, "hashes"))

    @classmethod
    def from_legacy_json(cls, data: object) -> ConsistencyProof:
        """Parse bundle formats 1 and 2's ``{"first_size", "second_size", "hashes"}`` exactly."""
        keys = ("first_size", "second_size", "hashes")
        obj = _json_object(data, keys, "a consistency proof of bundle format 1 or 2")
        return cls(_json_int(obj, "first_size"), _json_int(obj, "second_size"), _json_hashes(obj, "hashes"))

    def verify(self, first_root: bytes, second_root: bytes) -> None:
        verify_consistency(self.first, self.second, self.hashes, first_root, second_root)
