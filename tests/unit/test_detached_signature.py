"""signing.detached: one detached-signature value, its receipt and bundle renderings, and their parsers."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from signing.detached import DetachedSignature
from signing.errors import BadSignature, MalformedSignature
from signing.keys import generate_key

KEY = generate_key("offboard.example/acme", random=lambda n: b"\x05" * n)
OTHER = generate_key("offboard.example/acme", random=lambda n: b"\x06" * n)
BODY = b'{"id":"r-1","type":"offboard.receipt/v1"}'
SIG = DetachedSignature.sign(KEY, BODY)
B64 = base64.b64encode(SIG.signature).decode()


def test_sign_carries_key_digest_and_verifies() -> None:
    assert SIG.key_id == KEY.key_id.hex() and SIG.key_name == KEY.name
    assert SIG.sha256 == hashlib.sha256(BODY).hexdigest()
    SIG.verify(KEY.verifier, BODY)
    with pytest.raises(BadSignature):
        SIG.verify(KEY.verifier, BODY + b" ")
    with pytest.raises(BadSignature, match=f"by key {SIG.key_id}, not by"):
        SIG.verify(OTHER.verifier, BODY)


def test_receipt_rendering_is_the_published_shape_and_round_trips() -> None:
    data = SIG.to_json()
    assert list(data) == ["alg", "key_id", "key_name", "signature", "sha256"]
    expected = {"alg": "Ed25519", "key_id": SIG.key_id, "key_name": KEY.name, "signature": B64, "sha256": SIG.sha256}
    assert data == expected
    assert DetachedSignature.from_json(json.loads(json.dumps(data))) == SIG


def test_bundle_rendering_is_the_published_shape_and_round_trips() -> None:
    data = SIG.to_bundle_json()
    assert data == {"algorithm": "Ed25519", "key_id": SIG.key_id, "signature": B64}
    parsed = DetachedSignature.from_bundle_json(data)
    assert (parsed.key_id, parsed.signature, parsed.key_name, parsed.sha256) == (SIG.key_id, SIG.signature, None, None)
    # The bundle's file is unsigned: a field it does not define is ignored, as verify.html ignores it.
    assert DetachedSignature.from_bundle_json({**data, "note": "x"}) == parsed


def test_each_reader_refuses_the_other_rendering_naming_the_field() -> None:
    with pytest.raises(MalformedSignature, match="the field 'alg'"):
        DetachedSignature.from_json(SIG.to_bundle_json())
    with pytest.raises(MalformedSignature, match="the field 'algorithm'"):
        DetachedSignature.from_bundle_json(SIG.to_json())


def test_a_signature_without_name_or_digest_has_no_receipt_rendering() -> None:
    with pytest.raises(MalformedSignature, match="needs the key's name"):
        DetachedSignature(SIG.key_id, SIG.signature).to_json()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"algorithm": "RSA"}, "expected 'algorithm' 'Ed25519', found 'RSA'"),
        ({"key_id": "ABCD1234"}, "'key_id' of 8 lower-case hex digits, found 'ABCD1234'"),
        ({"key_id": 12345678}, "'key_id' of 8 lower-case hex digits"),
        ({"signature": 7}, "'signature' as a base64 string, found 7"),
        ({"signature": "not base64!"}, "'signature' in standard base64"),
        ({"signature": B64.rstrip("=")}, "standard base64"),
        ({"signature": base64.b64encode(b"short").decode()}, "'signature' of 64 bytes, found 5"),
    ],
)
def test_malformed_bundle_records_are_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(MalformedSignature, match=message):
        DetachedSignature.from_bundle_json({**SIG.to_bundle_json(), **change})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "as a JSON object, found list"),
        ({**SIG.to_json(), "extra": 1}, "unexpected field 'extra'"),
        ({**SIG.to_json(), "alg": "ed25519"}, "expected 'alg' 'Ed25519'"),
        ({**SIG.to_json(), "sha256": "AB" * 32}, "'sha256' of 64 lower-case hex digits"),
        ({**SIG.to_json(), "key_name": ""}, "non-empty 'key_name'"),
    ],
)
def test_malformed_receipt_records_are_refused(data: object, message: str) -> None:
    with pytest.raises(MalformedSignature, match=message):
        DetachedSignature.from_json(data)
