"""signing.note: C2SP signed notes, checked against Go's reference example and bent in every way."""

from __future__ import annotations

import base64

import pytest

from signing.errors import BadSignature, InvalidKey, MalformedNote, SigningError, UnverifiedNote
from signing.keys import Signer, generate_key, parse_private_key, parse_vkey
from signing.note import open_note, parse_note, sign_note

GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (
    GO_TEXT
    + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
BODY = "offboard.example/org-1\n3\nrra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=\n"


def key(name: str, fill: int) -> Signer:
    return generate_key(name, random=lambda size: bytes([fill]) * size)


LOG = key("offboard.example/org-1", 1)
WITNESS = key("witness.example", 2)
STRANGER = key("stranger.example", 3)


def test_signing_reproduces_the_go_reference_note_byte_for_byte() -> None:
    assert sign_note(GO_TEXT, [parse_private_key(GO_SKEY)]) == GO_NOTE


def test_opening_the_go_reference_note() -> None:
    verified = open_note(GO_NOTE, [parse_vkey(GO_VKEY)])
    assert verified.body == GO_TEXT
    assert [v.vkey() for v in verified.verified_by] == [GO_VKEY]
    assert verified.ignored == ()


def test_round_trip_with_two_signers_and_bytes_input() -> None:
    note = sign_note(BODY, [LOG, WITNESS])
    verified = open_note(note.encode("utf-8"), [WITNESS.verifier, LOG.verifier])
    assert verified.body == BODY
    assert verified.verified_by == (LOG.verifier, WITNESS.verifier)


def test_body_may_contain_empty_lines_split_at_the_last_one() -> None:
    body = "first\n\nsecond\n"
    verified = open_note(sign_note(body, [LOG]), [LOG.verifier])
    assert verified.body == body


def test_unknown_key_is_ignored_when_a_known_one_verifies() -> None:
    note = sign_note(BODY, [STRANGER, LOG])
    verified = open_note(note, [LOG.verifier])
    assert verified.verified_by == (LOG.verifier,)
    assert verified.ignored == ((STRANGER.name, STRANGER.key_id),)


def test_same_name_other_key_is_unknown_not_failed() -> None:
    impostor = key(LOG.name, 9)
    note = sign_note(BODY, [impostor, LOG])
    assert open_note(note, [LOG.verifier]).ignored == ((LOG.name, impostor.key_id),)


def test_only_unknown_keys_is_unverified() -> None:
    with pytest.raises(UnverifiedNote, match="signed by: stranger.example"):
        open_note(sign_note(BODY, [STRANGER]), [LOG.verifier])


def test_no_verifiers_at_all_is_unverified() -> None:
    with pytest.raises(UnverifiedNote):
        open_note(sign_note(BODY, [LOG]), [])


def test_wrong_key_for_the_name_and_id_is_rejected() -> None:
    # A signature line that claims LOG's name and key id but was made by another key.
    forged_sig = STRANGER.sign(BODY.encode())
    blob = base64.b64encode(LOG.key_id + forged_sig).decode()
    note = BODY + f"\n— {LOG.name} {blob}\n"
    with pytest.raises(BadSignature, match="does not verify"):
        open_note(note, [LOG.verifier])


def test_a_failing_known_signature_rejects_even_if_another_verifies() -> None:
    good = sign_note(BODY, [LOG, WITNESS])
    lines = good.split("\n")
    sig_line = lines[-2]  # the witness line
    name, encoded = sig_line[2:].split(" ")
    raw = bytearray(base64.b64decode(encoded))
    raw[10] ^= 1
    lines[-2] = f"— {name} {base64.b64encode(bytes(raw)).decode()}"
    with pytest.raises(BadSignature):
        open_note("\n".join(lines), [LOG.verifier, WITNESS.verifier])


@pytest.mark.parametrize("position", [0, 25, len(BODY) - 2])
def test_flipped_bit_in_the_body_is_rejected(position: int) -> None:
    note = sign_note(BODY, [LOG])
    bent = note[:position] + chr(ord(note[position]) ^ 0x01) + note[position + 1 :]
    with pytest.raises(BadSignature):
        open_note(bent, [LOG.verifier])


def test_flipped_bit_in_the_signature_is_rejected() -> None:
    note = sign_note(BODY, [LOG])
    head, encoded = note.rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 0x80
    with pytest.raises(BadSignature):
        open_note(f"{head} {base64.b64encode(bytes(raw)).decode()}\n", [LOG.verifier])


def test_a_short_ed25519_signature_from_a_known_key_is_rejected() -> None:
    blob = base64.b64encode(LOG.key_id + b"\0" * 10).decode()
    with pytest.raises(BadSignature, match="64-byte signature"):
        open_note(BODY + f"\n— {LOG.name} {blob}\n", [LOG.verifier])


SIG = sign_note(BODY, [LOG])[len(BODY) + 1 :]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BODY + "\n" + SIG.rstrip("\n"), "ending in a newline"),
        (BODY + SIG, "empty line between"),
        (BODY + "\n", "at least one signature line"),
        (BODY + "\n\n", "at least one signature line"),
        (BODY + "\n" + SIG.replace("— ", "- "), "starting with"),
        (BODY + "\n" + SIG.replace("— ", "—"), "starting with"),
        (BODY + "\n" + SIG.replace(" ", "", 2).replace("—", "— ", 1), "<name> <base64 signature>"),
        (BODY + "\n" + SIG.replace("=\n", "\n"), "base64"),
        (BODY + "\n" + SIG.replace("\n", " \n"), "base64"),
        (BODY + "\n" + f"— {LOG.name} AAAA\n", "key id and a signature"),
        (BODY + "\n" + SIG + "\n", "at least one signature line"),
        ("body\r\n\n" + SIG, "control characters"),
        ("bo\x00dy\n\n" + SIG, "control characters"),
        ("\n" + SIG, "empty line between"),
        (BODY + "\n" + SIG * 101, "at most 100 signatures"),
        (BODY.encode() + b"\xff\n\n" + SIG.encode(), "valid UTF-8"),
    ],
)
def test_malformed_notes_are_rejected(text: str | bytes, message: str) -> None:
    with pytest.raises(MalformedNote, match=message):
        open_note(text, [LOG.verifier])


def test_parse_note_reports_each_signature() -> None:
    note = parse_note(sign_note(BODY, [LOG, WITNESS]))
    assert note.body == BODY
    assert [(s.name, s.key_id) for s in note.signatures] == [(LOG.name, LOG.key_id), (WITNESS.name, WITNESS.key_id)]
    assert all(len(s.signature) == 64 for s in note.signatures)


@pytest.mark.parametrize("body", ["", "no newline", "tab\tinside\n", "cr\r\n"])
def test_unsignable_bodies_are_refused(body: str) -> None:
    with pytest.raises(MalformedNote):
        sign_note(body, [LOG])


def test_signing_needs_a_signer() -> None:
    with pytest.raises(SigningError, match="at least one signer"):
        sign_note(BODY, [])


def test_ambiguous_verifiers_are_refused() -> None:
    impostor = parse_vkey(LOG.verifier.vkey())
    assert open_note(sign_note(BODY, [LOG]), [LOG.verifier, impostor]).verified_by == (LOG.verifier,)
    other = key(LOG.name, 5).verifier
    object.__setattr__(other, "key_id", LOG.key_id)  # forge a collision the constructor would refuse
    with pytest.raises(InvalidKey, match="share name"):
        open_note(sign_note(BODY, [LOG]), [LOG.verifier, other])
