"""tree.py: which stored nodes each computation needs, and the errors for impossible ranges."""

from __future__ import annotations

import pytest

from tests.unit import reference_tree
from vault.errors import IntegrityFailure, InvalidInput
from vault.ledger import tree
from vault.ledger.hashing import EMPTY_ROOT, leaf_hash

ENTRIES = [bytes([i]) for i in range(64)]
NODES = reference_tree.all_perfect_nodes(ENTRIES)


def test_empty_tree_needs_nothing_and_has_the_empty_root() -> None:
    assert tree.root_nodes_needed(0) == []
    assert tree.root_from_nodes(0, {}) == EMPTY_ROOT


@pytest.mark.parametrize(
    ("size", "expected"),
    [(1, [(0, 0)]), (2, [(1, 0)]), (3, [(1, 0), (0, 2)]), (8, [(3, 0)]), (13, [(3, 0), (2, 2), (0, 12)])],
)
def test_root_needs_one_node_per_set_bit(size: int, expected: list[tree.NodeId]) -> None:
    assert tree.root_nodes_needed(size) == expected


@pytest.mark.parametrize("size", range(1, 65))
def test_needed_nodes_exist_in_the_tree_and_are_few(size: int) -> None:
    stored = reference_tree.all_perfect_nodes(ENTRIES[:size])
    bound = 2 * size.bit_length() + 2
    assert set(tree.root_nodes_needed(size)) <= stored.keys()
    for index in range(size):
        needed = tree.inclusion_nodes_needed(index, size)
        assert set(needed) <= stored.keys()
        assert len(needed) == len(set(needed)) <= bound
    for first in range(1, size + 1):
        needed = tree.consistency_nodes_needed(first, size)
        assert set(needed) <= stored.keys()
        assert len(needed) == len(set(needed)) <= bound


@pytest.mark.parametrize("size", [1, 2, 3, 13, 37, 63, 64])
def test_inclusion_proofs_sharing_folded_ranges_match_the_reference(size: int) -> None:
    entries = ENTRIES[:size]
    folded: dict[tuple[int, int], bytes] = {}
    for index in range(size):  # one memo for every leaf of the tree, as a bundle's plan uses it
        assert tree.inclusion_proof(index, size, NODES, folded=folded) == reference_tree.path(index, entries)
    assert len(folded) < size * max(1, size.bit_length())  # shared, not one per leaf and level


def test_nodes_completed_by_append_builds_the_stored_tree() -> None:
    built: dict[tree.NodeId, bytes] = {}
    for index, entry in enumerate(ENTRIES[:37]):
        siblings = {node: built[node] for node in tree.left_siblings_needed(index)}
        built.update(tree.nodes_completed_by_append(index, leaf_hash(entry), siblings))
    assert built == reference_tree.all_perfect_nodes(ENTRIES[:37])


@pytest.mark.parametrize("size", [-1, -8])
def test_negative_size_has_no_root(size: int) -> None:
    with pytest.raises(tree.InvalidTreeRange, match=f"found {size}"):
        tree.root_nodes_needed(size)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (5, 5), (9, 5), (-1, 5)])
def test_inclusion_index_must_be_inside_the_tree(index: int, size: int) -> None:
    with pytest.raises(tree.InvalidTreeRange, match=f"found index {index} and size {size}"):
        tree.inclusion_nodes_needed(index, size)
    with pytest.raises(tree.InvalidTreeRange):
        tree.inclusion_proof(index, size, NODES)


@pytest.mark.parametrize(("first", "second"), [(0, 0), (0, 4), (-1, 4)])
def test_consistency_from_the_empty_tree_is_not_produced(first: int, second: int) -> None:
    with pytest.raises(tree.InvalidTreeRange, match="non-empty tree"):
        tree.consistency_nodes_needed(first, second)
    with pytest.raises(tree.InvalidTreeRange):
        tree.consistency_proof(first, second, NODES)


def test_consistency_first_after_second_is_refused() -> None:
    with pytest.raises(tree.InvalidTreeRange, match="found first 5 and second 4"):
        tree.consistency_proof(5, 4, NODES)


def test_equal_sizes_have_an_empty_consistency_proof() -> None:
    assert tree.consistency_nodes_needed(7, 7) == []
    assert tree.consistency_proof(7, 7, {}) == []


@pytest.mark.parametrize(("start", "end"), [(3, 3), (5, 2), (-1, 2)])
def test_empty_or_negative_range_is_refused(start: int, end: int) -> None:
    with pytest.raises(tree.InvalidTreeRange, match="non-empty leaf range"):
        tree.range_nodes(start, end)


def test_unaligned_range_is_not_a_subtree() -> None:
    with pytest.raises(tree.InvalidTreeRange, match=r"\[1, 3\) is not a subtree"):
        tree.range_nodes(1, 3)


def test_missing_node_is_named() -> None:
    nodes = dict(NODES)
    del nodes[(3, 0)]
    with pytest.raises(IntegrityFailure, match=r"first \(3, 0\)") as caught:
        tree.root_from_nodes(13, nodes)
    assert caught.value.details == {"missing": [[3, 0]]}
    with pytest.raises(IntegrityFailure):
        tree.inclusion_proof(12, 13, nodes)


def test_range_errors_are_invalid_input() -> None:
    assert issubclass(tree.InvalidTreeRange, InvalidInput)
