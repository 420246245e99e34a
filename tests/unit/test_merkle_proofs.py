"""vault.ledger.proofs: C2SP tlog-proof text and the JSON proof shapes, built from tree.py."""

from __future__ import annotations

import base64
import json

import pytest

from signing.keys import Signer, generate_key
from tests.unit import reference_tree
from vault.errors import VerificationFailed
from vault.ledger import tree
from vault.ledger.checkpoint import (
    CheckpointBody,
    CheckpointOriginMismatch,
    CheckpointSignatureInvalid,
    MalformedCheckpoint,
    sign_checkpoint,
)
from vault.ledger.hashing import RootHash, leaf_hash
from vault.ledger.proofs import (
    HEADER,
    ConsistencyProof,
    InclusionProof,
    MalformedProof,
    TlogProof,
    verify_tlog_proof,
)
from vault.ledger.verifiers import IndexOutOfRange, RootMismatch, WrongProofLength

ORIGIN = "offboard.example/org/7"
LOG = generate_key(ORIGIN, random=lambda size: b"\x01" * size)
STRANGER = generate_key("stranger.example", random=lambda size: b"\x02" * size)
ENTRIES = [f"entry {i}".encode() for i in range(11)]
NODES = reference_tree.all_perfect_nodes(ENTRIES)
SIZE = len(ENTRIES)
ROOT = RootHash(reference_tree.mth(ENTRIES))


def signed_checkpoint(signer: Signer = LOG, origin: str = ORIGIN, size: int = SIZE) -> str:
    root = RootHash(reference_tree.mth(ENTRIES[:size]))
    return sign_checkpoint(CheckpointBody(origin=origin, size=size, root_hash=root), [signer])


def make_proof(index: int, extra: bytes | None = None, checkpoint: str | None = None) -> TlogProof:
    hashes = tuple(tree.inclusion_proof(index, SIZE, NODES))
    return TlogProof(index=index, hashes=hashes, checkpoint=checkpoint or signed_checkpoint(), extra=extra)


def test_text_layout_follows_the_spec() -> None:
    proof = make_proof(6, extra=b"receipt-42")
    lines = proof.to_text().split("\n")
    assert lines[0] == HEADER
    assert lines[1] == "extra " + base64.b64encode(b"receipt-42").decode()
    assert lines[2] == "index 6"
    assert [base64.b64decode(line) for line in lines[3 : 3 + len(proof.hashes)]] == list(proof.hashes)
    assert lines[3 + len(proof.hashes)] == ""
    assert proof.to_text().endswith("\n\n" + proof.checkpoint)


@pytest.mark.parametrize("index", range(SIZE))
def test_round_trip_and_verify_every_index(index: int) -> None:
    proof = make_proof(index)
    parsed = TlogProof.from_text(proof.to_text())
    assert parsed == proof
    assert parsed.body.size == SIZE
    signed = verify_tlog_proof(parsed, leaf_hash(ENTRIES[index]), [LOG.verifier], origin=ORIGIN)
    assert signed.body.root_hash == ROOT


def test_single_entry_log_has_no_hash_lines() -> None:
    checkpoint = signed_checkpoint(size=1)
    proof = TlogProof(index=0, hashes=(), checkpoint=checkpoint)
    assert proof.to_text() == f"{HEADER}\nindex 0\n\n{checkpoint}"
    parsed = TlogProof.from_text(proof.to_text())
    verify_tlog_proof(parsed, leaf_hash(ENTRIES[0]), [LOG.verifier], origin=ORIGIN)


def test_extra_round_trips() -> None:
    assert TlogProof.from_text(make_proof(3, extra=b"\x00\xff").to_text()).extra == b"\x00\xff"


def test_wrong_entry_is_rejected() -> None:
    with pytest.raises(RootMismatch):
        verify_tlog_proof(make_proof(4), leaf_hash(ENTRIES[5]), [LOG.verifier], origin=ORIGIN)


def test_index_beyond_the_checkpoint_is_rejected() -> None:
    proof = TlogProof(index=SIZE, hashes=(), checkpoint=signed_checkpoint())
    with pytest.raises(IndexOutOfRange, match="not below the checkpoint size 11"):
        verify_tlog_proof(proof, leaf_hash(b"x"), [LOG.verifier], origin=ORIGIN)


def test_proof_against_a_smaller_checkpoint_is_rejected() -> None:
    proof = make_proof(2, checkpoint=signed_checkpoint(size=SIZE - 1))
    with pytest.raises(VerificationFailed):
        verify_tlog_proof(proof, leaf_hash(ENTRIES[2]), [LOG.verifier], origin=ORIGIN)


def test_truncated_proof_is_rejected() -> None:
    proof = make_proof(2)
    short = TlogProof(index=2, hashes=proof.hashes[:-1], checkpoint=proof.checkpoint)
    with pytest.raises(WrongProofLength):
        verify_tlog_proof(short, leaf_hash(ENTRIES[2]), [LOG.verifier], origin=ORIGIN)


def test_untrusted_signer_or_other_origin_is_rejected() -> None:
    with pytest.raises(CheckpointSignatureInvalid):
        verify_tlog_proof(
            make_proof(1, checkpoint=signed_checkpoint(STRANGER)), leaf_hash(ENTRIES[1]), [LOG.verifier], origin=ORIGIN
        )
    with pytest.raises(CheckpointOriginMismatch):
        verify_tlog_proof(
            make_proof(1, checkpoint=signed_checkpoint(origin="x.example")),
            leaf_hash(ENTRIES[1]),
            [LOG.verifier],
            origin=ORIGIN,
        )


GOOD = make_proof(6, extra=b"x").to_text()
HASH_LINE = GOOD.split("\n")[3]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace(HEADER, "c2sp.org/tlog-proof@v2"), "first line"),
        (GOOD.replace("index 6", "index 06"), "no leading zeros"),
        (GOOD.replace("index 6", "index -6"), "no leading zeros"),
        (GOOD.replace("index 6", "idx 6"), "'index <n>'"),
        (GOOD.replace("extra eA==", "extra eA"), "standard base64"),
        (GOOD.replace("extra eA==", "extra "), "non-empty"),
        (GOOD.replace("extra eA==\nindex 6", "index 6\nextra eA=="), "standard base64"),
        (GOOD.replace(HASH_LINE, HASH_LINE[:-1]), "standard base64"),
        (GOOD.replace(HASH_LINE, base64.b64encode(b"\0" * 31).decode()), "32 bytes, found 31"),
        (GOOD.replace(HASH_LINE, base64.b64encode(b"\0" * 33).decode()), "32 bytes, found 33"),
        (GOOD.split("\n\n", 1)[0] + "\n", "empty line between"),
        (GOOD.replace("\n\n", "\n", 1), "proof hash \\[4\\] in standard base64"),
        (GOOD.split("\n\n", 1)[0] + "\n\nnot a note\n", "not a signed note"),
    ],
)
def test_malformed_proof_text_is_rejected(text: str, message: str) -> None:
    with pytest.raises(MalformedProof, match=message):
        TlogProof.from_text(text)


def test_embedded_note_that_is_not_a_checkpoint_is_rejected() -> None:
    from signing.note import sign_note

    with pytest.raises(MalformedCheckpoint):
        TlogProof(index=0, hashes=(), checkpoint=sign_note("hello\n", [LOG]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"index": -1}, "index >= 0"),
        ({"hashes": (b"\0" * 31,)}, "32 bytes, found 31"),
        ({"extra": b""}, "must not be empty"),
    ],
)
def test_invalid_values_cannot_be_constructed(kwargs: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"index": 0, "hashes": (), "checkpoint": signed_checkpoint(), **kwargs}
    with pytest.raises(MalformedProof, match=message):
        TlogProof(**values)  # type: ignore[arg-type]


# --- JSON ----------------------------------------------------------------------------------------


def test_inclusion_json_round_trip_and_verify() -> None:
    leaf = leaf_hash(ENTRIES[5])
    proof = InclusionProof(index=5, tree_size=SIZE, leaf_hash=leaf, hashes=tuple(tree.inclusion_proof(5, SIZE, NODES)))
    data = proof.to_json()
    assert list(data) == ["index", "tree_size", "leaf_hash", "hashes"]
    assert data["leaf_hash"] == base64.b64encode(leaf).decode()
    assert data["hashes"][0] == base64.b64encode(proof.hashes[0]).decode()
    assert all(h.endswith("=") for h in data["hashes"])
    assert InclusionProof.from_json(json.loads(json.dumps(data))) == proof
    proof.verify(leaf, ROOT)
    with pytest.raises(RootMismatch):
        proof.verify(leaf_hash(ENTRIES[4]), ROOT)


def test_consistency_json_round_trip_and_verify() -> None:
    first_root = reference_tree.mth(ENTRIES[:6])
    proof = ConsistencyProof(first=6, second=SIZE, hashes=tuple(tree.consistency_proof(6, SIZE, NODES)))
    assert list(proof.to_json()) == ["first", "second", "hashes"]
    assert ConsistencyProof.from_json(proof.to_json()) == proof
    proof.verify(first_root, ROOT)
    with pytest.raises(RootMismatch):
        proof.verify(ROOT, first_root)


def test_legacy_consistency_json_is_read_only_by_its_own_reader() -> None:
    """Bundle formats 1 and 2 say first_size/second_size; each reader refuses the other's names, naming them."""
    proof = ConsistencyProof(first=6, second=SIZE, hashes=tuple(tree.consistency_proof(6, SIZE, NODES)))
    legacy = {"first_size": 6, "second_size": SIZE, "hashes": proof.to_json()["hashes"]}
    assert ConsistencyProof.from_legacy_json(legacy) == proof
    with pytest.raises(MalformedProof, match="found unexpected field 'first_size'"):
        ConsistencyProof.from_json(legacy)
    with pytest.raises(MalformedProof, match="format 1 or 2 .*found unexpected field 'first'"):
        ConsistencyProof.from_legacy_json(proof.to_json())


LEAF = base64.b64encode(b"\x07" * 32).decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "as a JSON object, found list"),
        ({"tree_size": 3, "leaf_hash": LEAF, "hashes": []}, "found no field 'index'"),
        ({"leaf_index": 1, "tree_size": 3, "leaf_hash": LEAF, "hashes": []}, "unexpected field 'leaf_index'"),
        ({"index": 1, "tree_size": 3, "leaf_hash": LEAF, "hashes": [], "x": 1}, "unexpected field 'x'"),
        ({"index": "1", "tree_size": 3, "leaf_hash": LEAF, "hashes": []}, "'index' to be an integer"),
        ({"index": True, "tree_size": 3, "leaf_hash": LEAF, "hashes": []}, "'index' to be an integer"),
        ({"index": 1, "tree_size": -3, "leaf_hash": LEAF, "hashes": []}, "'tree_size' to be an integer"),
        ({"index": 1, "tree_size": 3, "leaf_hash": 7, "hashes": []}, "'leaf_hash' to be a base64 string"),
        ({"index": 1, "tree_size": 3, "leaf_hash": "AAAA", "hashes": []}, "'leaf_hash' of 32 bytes, found 3"),
        ({"index": 1, "tree_size": 3, "leaf_hash": LEAF, "hashes": "abc"}, "list of base64"),
        ({"index": 1, "tree_size": 3, "leaf_hash": LEAF, "hashes": [1]}, "list of base64"),
        ({"index": 1, "tree_size": 3, "leaf_hash": LEAF, "hashes": ["AAAA"]}, "32 bytes, found 3"),
        ({"index": 1, "tree_size": 3, "leaf_hash": LEAF, "hashes": ["not base64!"]}, "standard base64"),
    ],
)
def test_malformed_json_is_rejected(data: object, message: str) -> None:
    with pytest.raises(MalformedProof, match=message):
        InclusionProof.from_json(data)


def test_malformed_consistency_json_is_rejected() -> None:
    with pytest.raises(MalformedProof, match="found no field 'second'"):
        ConsistencyProof.from_json({"first": 1, "hashes": []})
    with pytest.raises(MalformedProof, match="'first' to be an integer"):
        ConsistencyProof.from_json({"first": 1.5, "second": 2, "hashes": []})
    with pytest.raises(MalformedProof, match="32 bytes"):
        ConsistencyProof(first=1, second=2, hashes=(b"\0",))
    with pytest.raises(MalformedProof, match="second to be an integer"):
        ConsistencyProof(first=1, second=-2, hashes=())


def test_the_documented_example_verifies() -> None:
    """docs/ledger.md shows a vkey, a signed checkpoint and a tlog-proof; they must stay true."""
    from pathlib import Path

    from signing.keys import parse_private_key, parse_vkey

    doc = (Path(__file__).parent.parent.parent / "docs" / "ledger.md").read_text(encoding="utf-8")
    blocks = doc.split("```text\n")
    proof_text = next(block for block in blocks if block.startswith(HEADER)).split("```")[0]
    vkey_text = next(block for block in blocks if block.startswith("offboard.example/acme+")).split("\n")[0]
    proof = TlogProof.from_text(proof_text)
    entries = [f"entry {i}".encode() for i in range(5)]
    signed = verify_tlog_proof(proof, leaf_hash(entries[2]), [parse_vkey(vkey_text)], origin="offboard.example/acme")
    assert signed.body.root_hash == reference_tree.mth(entries)
    assert proof.checkpoint in doc
    private = next(block for block in blocks if block.startswith("PRIVATE+KEY+")).split("\n")[0]
    assert parse_private_key(private).verifier == parse_vkey(vkey_text)


def test_the_documented_json_proofs_parse_and_verify() -> None:
    """docs/ledger.md shows one proof of each kind as JSON for the five-entry log; they must stay true."""
    from pathlib import Path

    doc = (Path(__file__).parent.parent.parent / "docs" / "ledger.md").read_text(encoding="utf-8")
    blocks = [block.split("```")[0] for block in doc.split("```json\n")[1:]]
    inclusion = InclusionProof.from_json(json.loads(next(b for b in blocks if b.startswith('{"index"'))))
    consistency = ConsistencyProof.from_json(json.loads(next(b for b in blocks if b.startswith('{"first"'))))
    entries = [f"entry {i}".encode() for i in range(5)]
    root = reference_tree.mth(entries)
    assert inclusion.leaf_hash == leaf_hash(entries[inclusion.index])
    inclusion.verify(leaf_hash(entries[inclusion.index]), root)
    consistency.verify(reference_tree.mth(entries[: consistency.first]), root)


def test_an_inclusion_proof_becomes_a_tlog_proof_only_around_its_own_tree() -> None:
    proof = InclusionProof(3, SIZE, leaf_hash(ENTRIES[3]), tuple(tree.inclusion_proof(3, SIZE, NODES)))
    tlog = TlogProof.of(proof, signed_checkpoint())
    assert (tlog.index, tlog.hashes) == (3, proof.hashes)
    verify_tlog_proof(tlog, leaf_hash(ENTRIES[3]), [LOG.verifier], origin=ORIGIN)
    with pytest.raises(MalformedProof, match=f"against tree size {SIZE}, the checkpoint has size 5"):
        TlogProof.of(proof, signed_checkpoint(size=5))
