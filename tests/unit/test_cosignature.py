"""C2SP tlog-cosignature/v1 (``signing/cosignature.py``) against published vectors and vectors derived from
the spec by a second implementation (``cosignature_oracle.py``); mutation probes (issue 16, requirement 5)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from signing.cosignature import (
    Cosignature,
    cosign,
    cosigner_of,
    parse_cosigner_vkey,
    signed_message,
    verified_cosignatures,
)
from signing.errors import BadSignature, InvalidArgument, InvalidKey, MalformedNote, UnverifiedNote
from signing.keys import KeyId, Signer, key_id, parse_vkey
from signing.note import sign_note
from tests.unit import cosignature_oracle as oracle

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "data" / "cosignature_vectors.json").read_text(encoding="utf-8")
)
DERIVED = VECTORS["derived"]


@pytest.mark.parametrize("text", VECTORS["published"]["vkeys"])
def test_published_cosigner_vkeys_parse_and_their_key_ids_recompute(text: str) -> None:
    verifier = parse_cosigner_vkey(text)
    assert verifier.vkey() == text
    assert oracle.key_id(verifier.name, verifier.public_key) == bytes(verifier.key_id)


@pytest.mark.parametrize("text", VECTORS["published"]["not_cosigner_vkeys"])
def test_plain_note_keys_and_broken_vkeys_are_not_cosigner_keys(text: str) -> None:
    with pytest.raises(InvalidKey):
        parse_cosigner_vkey(text)


@pytest.mark.parametrize("case", VECTORS["published"]["timestamps"])
def test_published_cosignature_timestamps_decode(case: dict[str, Any]) -> None:
    blob = base64.b64decode(case["signature"])
    assert Cosignature.from_signature("w", KeyId(blob[:4]), blob[4:]).timestamp == case["timestamp"]


@pytest.mark.parametrize("text", VECTORS["published"]["not_cosignatures"])
def test_a_plain_note_signature_is_not_a_cosignature(text: str) -> None:
    blob = base64.b64decode(text)
    with pytest.raises(MalformedNote):
        Cosignature.from_signature("w", KeyId(blob[:4]), blob[4:])


@pytest.mark.parametrize("case", DERIVED, ids=[c["name"] for c in DERIVED])
def test_derived_vectors_both_implementations_agree(case: dict[str, Any]) -> None:
    signer = Signer(name=case["name"], seed=bytes.fromhex(case["seed"]))
    cosigner = cosigner_of(signer)
    assert cosigner.public_key.hex() == case["public_key"] == oracle.public_key(signer.seed).hex()
    assert bytes(cosigner.key_id).hex() == case["key_id"]
    assert cosigner.vkey() == case["vkey"] == oracle.vkey(signer.name, signer.public_key)
    assert signed_message(case["body"], case["timestamp"]) == case["message"].encode()
    assert oracle.message(case["body"], case["timestamp"]) == case["message"].encode()
    line = cosign(signer, case["body"], case["timestamp"]).to_line()
    assert line == case["line"] == oracle.line(signer.name, signer.seed, case["body"], case["timestamp"])
    (found,) = verified_cosignatures(case["body"] + "\n" + line, [parse_cosigner_vkey(case["vkey"])])
    assert found.timestamp == case["timestamp"]


def test_the_key_id_uses_type_0x04_not_the_note_type_0x01() -> None:
    signer = Signer(name="witness.example/w1", seed=b"\x01" * 32)
    assert cosigner_of(signer).key_id != key_id(signer.name, signer.public_key)
    # The same note signed as a plain note does not pass as a cosignature, nor a cosignature as a note.
    body = DERIVED[0]["body"]
    with pytest.raises(UnverifiedNote):
        verified_cosignatures(sign_note(body, [signer]), [cosigner_of(signer)])
    with pytest.raises(InvalidKey):
        parse_vkey(cosigner_of(signer).vkey())


def _mutate_line(line: str, position: int) -> str:
    name, encoded = line.removeprefix("\u2014 ").rstrip("\n").split(" ")
    blob = bytearray(base64.b64decode(encoded))
    blob[position] ^= 0x01
    return f"\u2014 {name} {base64.b64encode(bytes(blob)).decode()}\n"


@pytest.mark.parametrize("position", [4, 11, 12, 75], ids=["timestamp-high", "timestamp-low", "sig-first", "sig-last"])
def test_mutations_of_timestamp_or_signature_fail(position: int) -> None:
    case = DERIVED[0]
    with pytest.raises(BadSignature):
        verified_cosignatures(
            case["body"] + "\n" + _mutate_line(case["line"], position), [parse_cosigner_vkey(case["vkey"])]
        )


def test_the_signature_covers_every_body_line_including_extensions() -> None:
    case = DERIVED[1]
    altered = case["body"].replace("an extension line", "an extension lime")
    with pytest.raises(BadSignature):
        verified_cosignatures(altered + "\n" + case["line"], [parse_cosigner_vkey(case["vkey"])])


def test_unknown_cosigners_are_ignored_and_a_wrong_length_is_malformed() -> None:
    case, other = DERIVED[0], DERIVED[2]
    note = case["body"] + "\n" + case["line"] + other["line"]
    assert len(verified_cosignatures(note, [parse_cosigner_vkey(case["vkey"])])) == 1
    short = case["line"].rstrip("\n")[:-8] + "\n"
    with pytest.raises(MalformedNote):
        verified_cosignatures(case["body"] + "\n" + short, [parse_cosigner_vkey(case["vkey"])])


def test_timestamps_are_bounded_and_a_witness_never_signs_zero() -> None:
    signer = Signer(name="w", seed=b"\x02" * 32)
    with pytest.raises(InvalidArgument):
        cosign(signer, DERIVED[0]["body"], 0)
    with pytest.raises(InvalidArgument):
        signed_message(DERIVED[0]["body"], 2**63)
    blob = (2**63).to_bytes(8, "big") + b"\x00" * 64
    with pytest.raises(MalformedNote):
        Cosignature.from_signature("w", KeyId(b"\x00" * 4), blob)
