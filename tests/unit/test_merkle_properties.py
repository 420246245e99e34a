"""Property tests: tree.py, fed only the stored perfect nodes, agrees with the recursive reference tree."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit import reference_tree
from vault.ledger import tree
from vault.ledger.hashing import leaf_hash
from vault.ledger.verifiers import (
    consistency_proof_length,
    inclusion_proof_length,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

MAX_SIZE = 70
entry_lists = st.lists(st.binary(max_size=12), min_size=1, max_size=MAX_SIZE)


def only(needed: list[tree.NodeId], nodes: dict[tree.NodeId, bytes]) -> dict[tree.NodeId, bytes]:
    """Exactly the nodes a computation asked for, as the one database query would return them."""
    return {node: nodes[node] for node in needed}


@settings(max_examples=150, deadline=None)
@given(entry_lists)
def test_roots_match_reference(entries: list[bytes]) -> None:
    nodes = reference_tree.all_perfect_nodes(entries)
    size = len(entries)
    assert tree.root_from_nodes(size, only(tree.root_nodes_needed(size), nodes)) == reference_tree.mth(entries)


@settings(max_examples=150, deadline=None)
@given(entry_lists, st.data())
def test_inclusion_proofs_match_reference_and_verify(entries: list[bytes], data: st.DataObject) -> None:
    size = len(entries)
    index = data.draw(st.integers(0, size - 1))
    nodes = reference_tree.all_perfect_nodes(entries)
    proof = tree.inclusion_proof(index, size, only(tree.inclusion_nodes_needed(index, size), nodes))
    assert proof == reference_tree.path(index, entries)
    assert len(proof) == inclusion_proof_length(index, size)
    root = reference_tree.mth(entries)
    verify_inclusion(leaf_hash(entries[index]), index, size, proof, root)
    assert root_from_inclusion_proof(leaf_hash(entries[index]), index, size, proof) == root


@settings(max_examples=150, deadline=None)
@given(entry_lists, st.data())
def test_consistency_proofs_match_reference_and_verify(entries: list[bytes], data: st.DataObject) -> None:
    second = len(entries)
    first = data.draw(st.integers(1, second))
    nodes = reference_tree.all_perfect_nodes(entries)
    proof = tree.consistency_proof(first, second, only(tree.consistency_nodes_needed(first, second), nodes))
    assert proof == reference_tree.proof(first, entries)
    assert len(proof) == consistency_proof_length(first, second)
    verify_consistency(first, second, proof, reference_tree.mth(entries[:first]), reference_tree.mth(entries))


def test_every_size_up_to_the_limit_exhaustively() -> None:
    """All roots, all inclusion proofs and all consistency proofs for sizes 1..MAX_SIZE, no sampling."""
    entries = [i.to_bytes(2, "big") for i in range(MAX_SIZE)]
    nodes = reference_tree.all_perfect_nodes(entries)
    roots = [reference_tree.mth(entries[:n]) for n in range(MAX_SIZE + 1)]
    for size in range(1, MAX_SIZE + 1):
        prefix = entries[:size]
        assert tree.root_from_nodes(size, nodes) == roots[size]
        for index in range(size):
            proof = tree.inclusion_proof(index, size, nodes)
            assert proof == reference_tree.path(index, prefix)
            verify_inclusion(leaf_hash(entries[index]), index, size, proof, roots[size])
        for first in range(1, size + 1):
            proof = tree.consistency_proof(first, size, nodes)
            assert proof == reference_tree.proof(first, prefix)
            verify_consistency(first, size, proof, roots[first], roots[size])
