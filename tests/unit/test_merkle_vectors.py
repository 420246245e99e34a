"""Published RFC 6962 / RFC 9162 vectors: the CT eight-leaf corpus and transparency-dev/merkle testdata."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.unit import reference_tree
from vault.ledger import tree
from vault.ledger.hashing import EMPTY_ROOT, leaf_hash
from vault.ledger.verifiers import verify_consistency, verify_inclusion

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "data" / "merkle_vectors.json").read_text(encoding="utf-8")
)
LEAVES = [bytes.fromhex(h) for h in VECTORS["leaves_hex"]]
NODES = reference_tree.all_perfect_nodes(LEAVES)


def b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def test_the_corpus_endpoints_match_the_field_notes() -> None:
    assert VECTORS["roots_hex"]["1"].startswith("6e340b9c") and VECTORS["roots_hex"]["1"].endswith("a01d")
    assert VECTORS["roots_hex"]["8"].startswith("5dc9da79") and VECTORS["roots_hex"]["8"].endswith("4328")


@pytest.mark.parametrize("size", range(0, 9))
def test_published_roots_from_stored_nodes(size: int) -> None:
    expected = bytes.fromhex(VECTORS["roots_hex"][str(size)])
    nodes = {node: NODES[node] for node in tree.root_nodes_needed(size)}
    assert tree.root_from_nodes(size, nodes) == expected


@pytest.mark.parametrize("size", range(0, 9))
def test_reference_tree_agrees_with_published_roots(size: int) -> None:
    assert reference_tree.mth(LEAVES[:size]).hex() == VECTORS["roots_hex"][str(size)]


def test_empty_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == VECTORS["roots_hex"]["0"]


@pytest.mark.parametrize("case", VECTORS["inclusion"], ids=lambda c: f"{c['leaf_index']}-in-{c['tree_size']}")
def test_published_inclusion_proofs(case: dict[str, Any]) -> None:
    index, size = case["leaf_index"], case["tree_size"]
    proof = [b64(h) for h in case["proof"]]
    assert leaf_hash(LEAVES[index]) == b64(case["leaf_hash"])
    verify_inclusion(b64(case["leaf_hash"]), index, size, proof, b64(case["root"]))
    assert tree.inclusion_proof(index, size, NODES) == proof


@pytest.mark.parametrize("case", VECTORS["consistency"], ids=lambda c: f"{c['size1']}-to-{c['size2']}")
def test_published_consistency_proofs(case: dict[str, Any]) -> None:
    first, second = case["size1"], case["size2"]
    proof = [b64(h) for h in case["proof"]]
    verify_consistency(first, second, proof, b64(case["root1"]), b64(case["root2"]))
    assert tree.consistency_proof(first, second, NODES) == proof
