"""RFC 9162 section 2.1: tree heads and proofs computed from stored perfect subtrees.

The log stores the hash of every complete perfect subtree ("node" (level, index) covers leaves
[index * 2^level, (index + 1) * 2^level)). Any range hash needed by a root or a proof is then a fold of
O(log n) stored nodes, so nothing re-hashes all leaves.

Every computation comes in two halves so the database can answer in one query: ``*_nodes_needed`` names
the stored nodes, and the matching function folds them from a mapping. Proof paths follow RFC 9162
section 2.1.3.1 (PATH) and section 2.1.4.1 (PROOF / SUBPROOF) exactly.
"""

from __future__ import annotations

from collections.abc import Mapping

from vault.errors import IntegrityFailure, InvalidInput
from vault.ledger.hashing import EMPTY_ROOT, RootHash, node_hash

NodeId = tuple[int, int]
"""(level, index) of a perfect subtree."""

Range = tuple[int, int]
"""A half-open leaf range [start, end) that is a subtree of the RFC 9162 tree."""


class InvalidTreeRange(InvalidInput):
    """A proof or root was asked for sizes or an index the tree cannot have."""

    code = "invalid-tree-range"


def nodes_completed_by_append(index: int, leaf: bytes, left_siblings: dict[NodeId, bytes]) -> dict[NodeId, bytes]:
    """The nodes that become complete when leaf ``index`` is appended: (0, index) and each parent it closes.

    ``left_siblings`` must hold the nodes named by ``left_siblings_needed(index)``.
    """
    out: dict[NodeId, bytes] = {(0, index): leaf}
    level, idx, current = 0, index, leaf
    while idx % 2 == 1:
        current = node_hash(left_siblings[(level, idx - 1)], current)
        level, idx = level + 1, idx // 2
        out[(level, idx)] = current
    return out


def left_siblings_needed(index: int) -> list[NodeId]:
    """Stored nodes that appending leaf ``index`` combines with (one per trailing 1 bit of ``index``)."""
    needed: list[NodeId] = []
    level, idx = 0, index
    while idx % 2 == 1:
        needed.append((level, idx - 1))
        level, idx = level + 1, idx // 2
    return needed


# --- range decomposition -------------------------------------------------------------------------


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n`` >= 2): RFC 9162's k."""
    return 1 << ((n - 1).bit_length() - 1)


def range_nodes(start: int, end: int) -> list[NodeId]:
    """The perfect subtrees, left to right, whose fold is MTH(D[start:end]).

    Valid for every subtree of the RFC 9162 tree: ``start`` is a multiple of a power of two that is at
    least ``end - start``, so the range splits into aligned perfect pieces, largest first.
    """
    if not 0 <= start < end:
        raise InvalidTreeRange(f"expected a non-empty leaf range, found [{start}, {end})")
    nodes: list[NodeId] = []
    pos = start
    for level in range((end - start).bit_length() - 1, -1, -1):
        width = 1 << level
        if (end - pos) & width:
            if pos % width:
                raise InvalidTreeRange(f"leaf range [{start}, {end}) is not a subtree of the Merkle tree")
            nodes.append((level, pos >> level))
            pos += width
    return nodes


def _fold(ids: list[NodeId], nodes: Mapping[NodeId, bytes]) -> bytes:
    """Hash perfect subtrees left to right into one range hash, folding from the right edge."""
    missing = [node for node in ids if node not in nodes]
    if missing:
        # The mapping comes from the stored tree, so a gap is damage to the ledger, not a bad request.
        raise IntegrityFailure(
            f"the node mapping lacks {len(missing)} needed node(s), first {missing[0]}",
            details={"missing": [list(node) for node in missing]},
        )
    result = nodes[ids[-1]]
    for node in reversed(ids[:-1]):
        result = node_hash(nodes[node], result)
    return result


def _union(ranges: list[Range]) -> list[NodeId]:
    """Every node the ranges need, each once, in a stable order."""
    seen: dict[NodeId, None] = {}
    for start, end in ranges:
        for node in range_nodes(start, end):
            seen[node] = None
    return list(seen)


# --- roots ---------------------------------------------------------------------------------------


def root_nodes_needed(size: int) -> list[NodeId]:
    """The stored nodes whose fold is the root of the tree of ``size`` leaves (none for the empty tree)."""
    if size < 0:
        raise InvalidTreeRange(f"expected a tree size >= 0, found {size}")
    return [] if size == 0 else range_nodes(0, size)


def root_from_nodes(size: int, nodes: Mapping[NodeId, bytes]) -> RootHash:
    """MTH(D[0:size]) from the nodes named by ``root_nodes_needed(size)``; EMPTY_ROOT for size 0."""
    needed = root_nodes_needed(size)
    return EMPTY_ROOT if not needed else RootHash(_fold(needed, nodes))


# --- inclusion (RFC 9162 section 2.1.3.1) --------------------------------------------------------


def _path_ranges(index: int, size: int) -> list[Range]:
    """The subtree ranges whose hashes form PATH(index, D[0:size]), leaf's sibling first."""
    if size < 1 or not 0 <= index < size:
        raise InvalidTreeRange(f"expected 0 <= index < size, found index {index} and size {size}")
    top_down: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        mid = start + _split(end - start)
        if index < mid:
            top_down.append((mid, end))
            end = mid
        else:
            top_down.append((start, mid))
            start = mid
    return top_down[::-1]


def inclusion_nodes_needed(index: int, size: int) -> list[NodeId]:
    """The stored nodes from which ``inclusion_proof(index, size, ...)`` is computed."""
    return _union(_path_ranges(index, size))


def inclusion_proof(
    index: int, size: int, nodes: Mapping[NodeId, bytes], *, folded: dict[Range, bytes] | None = None
) -> list[bytes]:
    """PATH(index, D[0:size]): the audit path from the leaf's sibling up to the root's child.

    ``folded`` remembers range hashes across calls: the proofs of many leaves of one tree share most of them
    (the right edge of a tree that is not a power of two is folded again for every leaf left of it).
    """
    if folded is None:
        return [_fold(range_nodes(start, end), nodes) for start, end in _path_ranges(index, size)]
    path = []
    for span in _path_ranges(index, size):
        found = folded.get(span)
        if found is None:
            found = folded[span] = _fold(range_nodes(*span), nodes)
        path.append(found)
    return path


# --- consistency (RFC 9162 section 2.1.4.1) ------------------------------------------------------


def _consistency_ranges(first: int, second: int) -> list[Range]:
    """The subtree ranges whose hashes form PROOF(first, D[0:second]), deepest first."""
    if first < 1:
        raise InvalidTreeRange(f"consistency proofs start from a non-empty tree, found first size {first}")
    if first > second:
        raise InvalidTreeRange(f"expected first <= second, found first {first} and second {second}")
    top_down: list[Range] = []
    start, end, complete = 0, second, True
    # SUBPROOF(m, D[start:end], b): descend until the old tree's edge is the subtree's edge.
    while first != end:
        mid = start + _split(end - start)
        if first <= mid:
            top_down.append((mid, end))
            end = mid
        else:
            top_down.append((start, mid))
            start, complete = mid, False
    if not complete:
        top_down.append((start, end))
    return top_down[::-1]


def consistency_nodes_needed(first: int, second: int) -> list[NodeId]:
    """The stored nodes from which ``consistency_proof(first, second, ...)`` is computed."""
    return _union(_consistency_ranges(first, second))


def consistency_proof(first: int, second: int, nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    """PROOF(first, D[0:second]); empty when the sizes are equal. Sizes from 0 are refused."""
    return [_fold(range_nodes(start, end), nodes) for start, end in _consistency_ranges(first, second)]
