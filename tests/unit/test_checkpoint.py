"""vault.ledger.checkpoint: C2SP tlog-checkpoint bodies, and signing and opening them as notes."""

from __future__ import annotations

import base64

import pytest

from signing.keys import Signer, generate_key
from vault.errors import InvalidInput, VerificationFailed
from vault.ledger.checkpoint import (
    CheckpointBody,
    CheckpointOriginMismatch,
    CheckpointSignatureInvalid,
    MalformedCheckpoint,
    PublishedCheckpoint,
    open_checkpoint,
    sign_checkpoint,
)
from vault.ledger.hashing import EMPTY_ROOT, RootHash

ROOT = RootHash(bytes.fromhex("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"))
ROOT_B64 = base64.b64encode(ROOT).decode()
ORIGIN = "offboard.example/org/7"
URLSAFE_ROOT = base64.urlsafe_b64encode(bytes([0xFB]) * 32).decode()


def key(name: str, fill: int) -> Signer:
    return generate_key(name, random=lambda size: bytes([fill]) * size)


LOG = key(ORIGIN, 1)
OTHER = key("other.example/log", 2)


def test_text_round_trip() -> None:
    body = CheckpointBody(origin=ORIGIN, size=3, root_hash=ROOT)
    assert body.to_text() == f"{ORIGIN}\n3\n{ROOT_B64}\n"
    assert CheckpointBody.from_text(body.to_text()) == body


def test_extensions_round_trip() -> None:
    body = CheckpointBody(origin=ORIGIN, size=0, root_hash=EMPTY_ROOT, extensions=("ext one", "ext two"))
    text = body.to_text()
    assert text.endswith("\next one\next two\n")
    assert CheckpointBody.from_text(text) == body


def test_the_c2sp_example_parses() -> None:
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    body = CheckpointBody.from_text(text)
    assert (body.origin, body.size, body.extensions) == ("example.com/behind-the-sofa", 20852163, ())
    assert body.to_text() == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"{ORIGIN}\n3\n{ROOT_B64}", "ending in a newline"),
        (f"{ORIGIN}\n3\n", "at least 3"),
        (f"\n3\n{ROOT_B64}\n", "non-empty origin"),
        (f"{ORIGIN}\n03\n{ROOT_B64}\n", "no leading zeros"),
        (f"{ORIGIN}\n+3\n{ROOT_B64}\n", "no leading zeros"),
        (f"{ORIGIN}\n-1\n{ROOT_B64}\n", "no leading zeros"),
        (f"{ORIGIN}\n 3\n{ROOT_B64}\n", "no leading zeros"),
        (f"{ORIGIN}\n\n{ROOT_B64}\n", "no leading zeros"),
        (f"{ORIGIN}\n\u0663\n{ROOT_B64}\n", "no leading zeros"),
        (f"{ORIGIN}\n18446744073709551616\n{ROOT_B64}\n", "below 2\\^64"),
        (f"{ORIGIN}\n3\n{ROOT_B64[:-1]}\n", "standard base64"),
        (f"{ORIGIN}\n3\n{base64.b64encode(ROOT[:31]).decode()}\n", "32 bytes, found 31"),
        (f"{ORIGIN}\n3\n{base64.b64encode(ROOT + b'x').decode()}\n", "32 bytes, found 33"),
        (f"{ORIGIN}\n3\n{URLSAFE_ROOT}\n", "standard base64"),
        (f"{ORIGIN}\n3\n{ROOT_B64[:-2]}d=\n", "canonical"),  # nonzero padding bits
        (f"{ORIGIN}\n3\n{ROOT_B64}\n\n", "non-empty extension"),
        (f"{ORIGIN}\n3\n{ROOT_B64}\next\r\n", "control characters"),
        (f"{ORIGIN}\t\n3\n{ROOT_B64}\n", "control characters"),
    ],
)
def test_malformed_text_is_rejected(text: str, message: str) -> None:
    with pytest.raises(MalformedCheckpoint, match=message):
        CheckpointBody.from_text(text)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"origin": ""}, "non-empty origin"),
        ({"origin": "a\nb"}, "control characters"),
        ({"size": -1}, "tree size"),
        ({"size": 2**64}, "tree size"),
        ({"size": True}, "tree size"),
        ({"root_hash": RootHash(b"\0" * 31)}, "32-byte root"),
        ({"extensions": ("",)}, "non-empty extension"),
        ({"extensions": ("a\nb",)}, "control characters"),
    ],
)
def test_invalid_values_cannot_be_constructed(kwargs: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"origin": ORIGIN, "size": 3, "root_hash": ROOT, **kwargs}
    with pytest.raises(MalformedCheckpoint, match=message):
        CheckpointBody(**values)  # type: ignore[arg-type]


def test_signed_checkpoint_round_trip() -> None:
    body = CheckpointBody(origin=ORIGIN, size=3, root_hash=ROOT)
    text = sign_checkpoint(body, [LOG])
    assert text.startswith(body.to_text() + "\n— " + ORIGIN + " ")
    signed = open_checkpoint(text, [LOG.verifier], origin=ORIGIN)
    assert signed.body == body
    assert signed.text == text
    assert signed.note.verified_by == (LOG.verifier,)
    assert open_checkpoint(text.encode(), [LOG.verifier]).body == body


def test_flipped_bit_in_a_signed_checkpoint_is_rejected() -> None:
    text = sign_checkpoint(CheckpointBody(origin=ORIGIN, size=3, root_hash=ROOT), [LOG])
    bent = text.replace("\n3\n", "\n2\n", 1)
    with pytest.raises(CheckpointSignatureInvalid, match="does not verify"):
        open_checkpoint(bent, [LOG.verifier])


def test_unknown_key_is_ignored_and_wrong_key_rejected() -> None:
    body = CheckpointBody(origin=ORIGIN, size=3, root_hash=ROOT)
    signed = open_checkpoint(sign_checkpoint(body, [OTHER, LOG]), [LOG.verifier])
    assert signed.note.ignored == ((OTHER.name, OTHER.key_id),)
    with pytest.raises(CheckpointSignatureInvalid, match="no signature on the note is from a known key"):
        open_checkpoint(sign_checkpoint(body, [OTHER]), [LOG.verifier])


def test_checkpoint_for_another_origin_is_rejected() -> None:
    text = sign_checkpoint(CheckpointBody(origin="elsewhere.example", size=3, root_hash=ROOT), [LOG])
    with pytest.raises(CheckpointOriginMismatch, match="expected a checkpoint for 'offboard.example/org/7'"):
        open_checkpoint(text, [LOG.verifier], origin=ORIGIN)


def test_a_signed_note_that_is_not_a_checkpoint_is_malformed() -> None:
    from signing.note import sign_note

    with pytest.raises(MalformedCheckpoint):
        open_checkpoint(sign_note("just words\n", [LOG]), [LOG.verifier])


def test_malformed_note_is_a_signature_failure() -> None:
    with pytest.raises(CheckpointSignatureInvalid, match="empty line"):
        open_checkpoint(f"{ORIGIN}\n3\n{ROOT_B64}\n", [LOG.verifier])


def test_errors_sit_in_the_vault_tree() -> None:
    assert issubclass(MalformedCheckpoint, InvalidInput)
    assert issubclass(CheckpointSignatureInvalid, VerificationFailed)
    assert issubclass(CheckpointOriginMismatch, VerificationFailed)


# --- the published checkpoint ---------------------------------------------------------------------


def published() -> PublishedCheckpoint:
    note = sign_checkpoint(CheckpointBody(origin=ORIGIN, size=3, root_hash=ROOT), [LOG])
    return PublishedCheckpoint(note, LOG.key_id.hex())


def test_published_checkpoint_json_is_the_receipts_shape_and_round_trips() -> None:
    value = published()
    assert value.to_text() == value.note and (value.size, value.root_hash) == (3, ROOT)
    data = value.to_json()
    assert data == {"size": 3, "root_hash": ROOT_B64, "key_id": LOG.key_id.hex(), "note": value.note}
    assert list(data) == ["size", "root_hash", "key_id", "note"]
    assert PublishedCheckpoint.from_json(data) == value


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"size": 4}, "'size' says 4, the note says 3"),
        ({"size": True}, "'size' says True"),
        ({"root_hash": base64.b64encode(bytes(32)).decode()}, "'root_hash' says"),
        ({"key_id": OTHER.key_id.hex()}, f"no signature by key {OTHER.key_id.hex()}"),
        ({"key_id": "XYZ"}, "8 lower-case hex digits"),
        ({"note": "not a note"}, "not a signed note"),
        ({"note": 7}, "'note' to be the signed note text"),
        ({"extra": 1}, "with the fields"),
    ],
)
def test_published_checkpoint_json_must_agree_with_its_note(change: dict[str, object], message: str) -> None:
    with pytest.raises(MalformedCheckpoint, match=message):
        PublishedCheckpoint.from_json({**published().to_json(), **change})
