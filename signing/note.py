"""C2SP signed-note: signing and opening notes with Ed25519 keys.

A note is UTF-8 text ending in a newline, then an empty line, then one or more signature lines
``— <key name> <base64(4-byte key id || 64-byte signature)>`` (U+2014 em dash, space). The text is
separated from the signatures by the *last* empty line, so the text itself may contain empty lines.

Verification (section "Signatures"): a signature is from a known key when both its name and key id
match a verifier; unknown signatures are ignored; a known key whose signature fails rejects the whole
note; a note with no verified signature is rejected.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from signing.errors import BadSignature, InvalidArgument, InvalidKey, MalformedNote, UnverifiedNote
from signing.keys import KeyId, Signer, Verifier, b64decode_strict, check_key_name

EM_DASH = "\u2014"
SIGNATURE_PREFIX = EM_DASH + " "
#: Go's reference implementation accepts up to 100; the spec asks for at least 16.
MAX_SIGNATURES = 100


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One parsed signature line; not yet verified."""

    #: The key name on the line.
    name: str
    #: The first four bytes of the decoded signature.
    key_id: KeyId
    #: The rest of the decoded signature (64 bytes for Ed25519, other lengths for other types).
    signature: bytes


@dataclass(frozen=True, slots=True)
class Note:
    """A structurally valid signed note whose signatures have not been checked. Never trust ``body`` here."""

    #: The signed text, including its final newline but not the separating empty line.
    body: str
    #: The signature lines in order.
    signatures: tuple[NoteSignature, ...]


@dataclass(frozen=True, slots=True)
class VerifiedNote:
    """A note with at least one verified signature from a known key, and no failed known signature."""

    #: The signed text, including its final newline.
    body: str
    #: The known keys whose signatures verified, each once, in signature order.
    verified_by: tuple[Verifier, ...]
    #: Signatures from keys not among the verifiers, (name, key id), ignored as the spec requires.
    ignored: tuple[tuple[str, KeyId], ...]


def _check_text(text: str, what: str) -> None:
    bad = next((ch for ch in text if (ord(ch) < 0x20 and ch != "\n") or ord(ch) == 0x7F), None)
    if bad is not None:
        raise MalformedNote(f"{what} may not contain control characters other than newline, found {bad!r}")


def check_body(body: str) -> str:
    """Note text must be non-empty, end with a newline and hold no control character but newline."""
    if not body.endswith("\n"):
        raise MalformedNote("expected non-empty note text ending in a newline")
    _check_text(body, "note text")
    return body


def signature_line(signer: Signer, body: str) -> str:
    """``— <name> <base64(key id || signature)>`` with its newline."""
    blob = signer.key_id + signer.sign(body.encode("utf-8"))
    return f"{SIGNATURE_PREFIX}{signer.name} {base64.b64encode(blob).decode('ascii')}\n"


def sign_note(body: str, signers: Sequence[Signer]) -> str:
    """The signed note: ``body``, an empty line, then one signature line per signer."""
    check_body(body)
    if not signers:
        raise InvalidArgument("expected at least one signer")
    return body + "\n" + "".join(signature_line(signer, body) for signer in signers)


def parse_note(text: str | bytes) -> Note:
    """Split a signed note into text and signature lines, checking the format but no signature."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedNote("a signed note must be valid UTF-8") from exc
    return _parse_note_text(text)


# A bundle's 10,000 tlog-proofs embed one checkpoint verbatim: parsing it once per distinct text rather than once
# per proof took a second off exporting and verifying such a bundle. A ``Note`` is immutable, so sharing one is
# safe; a malformed note raises every time (exceptions are not cached).
@lru_cache(maxsize=64)
def _parse_note_text(text: str) -> Note:
    _check_text(text, "a signed note")
    if not text.endswith("\n"):
        raise MalformedNote("expected a signed note ending in a newline")
    split = text.rfind("\n\n")
    if split < 0:
        raise MalformedNote("expected an empty line between the note text and its signatures")
    body, block = text[: split + 1], text[split + 2 :]
    check_body(body)
    lines = block[:-1].split("\n") if block else []
    if not lines:
        raise MalformedNote("expected at least one signature line after the empty line")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNote(f"expected at most {MAX_SIGNATURES} signatures, found {len(lines)}")
    return Note(body=body, signatures=tuple(_parse_signature_line(line) for line in lines))


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise MalformedNote(f"expected a signature line starting with '{SIGNATURE_PREFIX}', found {line!r}")
    name, space, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    if not space or not encoded:
        raise MalformedNote(f"expected '{SIGNATURE_PREFIX}<name> <base64 signature>', found {line!r}")
    try:
        check_key_name(name)
        blob = b64decode_strict(encoded, "a signature")
    except InvalidKey as exc:
        raise MalformedNote(f"malformed signature line {line!r}: {exc}") from exc
    if len(blob) < 5:
        raise MalformedNote(f"expected a key id and a signature, found {len(blob)} bytes on {line!r}")
    return NoteSignature(name=name, key_id=KeyId(blob[:4]), signature=blob[4:])


def open_note(text: str | bytes, verifiers: Sequence[Verifier]) -> VerifiedNote:
    """Parse and verify a signed note against the known ``verifiers``.

    Raises ``MalformedNote`` for bad structure, ``BadSignature`` when a known key's signature fails and
    ``UnverifiedNote`` when no signature comes from a known key.
    """
    known: dict[tuple[str, bytes], Verifier] = {}
    for candidate in verifiers:
        other = known.setdefault((candidate.name, bytes(candidate.key_id)), candidate)
        if other.public_key != candidate.public_key:
            raise InvalidKey(f"two different verifiers share name {candidate.name!r} and key id")
    note = parse_note(text)
    message = note.body.encode("utf-8")
    verified: dict[tuple[str, bytes], Verifier] = {}
    ignored: list[tuple[str, KeyId]] = []
    for sig in note.signatures:
        verifier = known.get((sig.name, bytes(sig.key_id)))
        if verifier is None:
            ignored.append((sig.name, sig.key_id))
            continue
        verifier.verify(message, sig.signature)
        verified.setdefault((sig.name, bytes(sig.key_id)), verifier)
    if not verified:
        names = ", ".join(sorted({name for name, _ in ignored})) or "none"
        raise UnverifiedNote(f"no signature on the note is from a known key (signed by: {names})")
    return VerifiedNote(body=note.body, verified_by=tuple(verified.values()), ignored=tuple(ignored))


__all__ = [
    "BadSignature",
    "Note",
    "NoteSignature",
    "VerifiedNote",
    "open_note",
    "parse_note",
    "sign_note",
]
