"""RFC 8493 tag files as written and parsed by vault.bundle.bagit."""

from __future__ import annotations

import hashlib

import pytest

from vault.bundle import bagit
from vault.bundle.layout import bag_root, evidence_path, parse_indexed


def test_bagit_txt_is_exactly_version_1_0() -> None:
    assert bagit.BAGIT_TXT_BODY == b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"


def test_manifest_round_trip_with_percent_encoding() -> None:
    digests = {"data/b": "ab" * 32, "data/a%\nb\r": "cd" * 32}
    text = bagit.manifest_text(digests)
    assert text.decode().splitlines()[0] == f"{'cd' * 32}  data/a%25%0Ab%0D"
    assert bagit.parse_manifest(text, "sha256", "m") == digests
    assert bagit.parse_manifest(b"AB" * 32 + b" \t data/x\n\n", "sha256", "m") == {"data/x": "ab" * 32}


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"abc  data/x\n", "line 1"),
        (b"ab" * 32 + b"\n", "line 1"),
        (("zz" * 32 + "  data/x\n").encode(), "line 1"),
        ((("ab" * 32 + "  data/x\n") * 2).encode(), "twice"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_malformed_manifests(data: bytes, needle: str) -> None:
    with pytest.raises(bagit.MalformedBag, match=needle):
        bagit.parse_manifest(data, "sha256", "manifest-sha256.txt")


def test_sha512_length_enforced() -> None:
    line = f"{hashlib.sha256(b'').hexdigest()}  data/x\n".encode()
    with pytest.raises(bagit.MalformedBag, match="128 hex digits"):
        bagit.parse_manifest(line, "sha512", "manifest-sha512.txt")


def test_bag_info_values_cannot_forge_labels() -> None:
    text = bagit.bag_info_text([("Source-Organization", "Evil\nPayload-Oxum: 1.1"), ("Payload-Oxum", "5.2")])
    info = bagit.BagInfo.parse(text)
    assert info.get("payload-oxum") == "5.2"
    assert info.get("Source-Organization") == "Evil Payload-Oxum: 1.1"
    folded = bagit.BagInfo.parse(b"Label: one\n  two\n")
    assert folded.get("Label") == "one two"
    with pytest.raises(bagit.MalformedBag, match="line 1"):
        bagit.BagInfo.parse(b"no colon here\n")
    with pytest.raises(bagit.MalformedBag, match="not UTF-8"):
        bagit.BagInfo.parse(b"\xff")


def test_oxum() -> None:
    assert bagit.payload_oxum([3, 4]) == "7.2"
    assert bagit.parse_oxum("7.2") == (7, 2)
    for bad in ("7", "a.b", "-1.2"):
        with pytest.raises(bagit.MalformedBag):
            bagit.parse_oxum(bad)


def test_layout_names_are_safe() -> None:
    assert evidence_path("e1", "../../etc/passwd") == "data/evidence/e1-etc_passwd"
    assert bag_root("a/b") == "offboard-case-a_b"
    assert parse_indexed("data/ledger/entries/12.json", "data/ledger/entries/", ".json") == 12
    assert parse_indexed("data/ledger/entries/012.json", "data/ledger/entries/", ".json") is None
    assert parse_indexed("data/other/1.json", "data/ledger/entries/", ".json") is None
