"""RFC 9162 section 2.1: tree heads and proofs computed from stored perfect subtrees.

The log stores the hash of every complete perfect subtree ("node" (level, index) covers leaves
[index * 2^level, (index + 1) * 2^level)). Any range hash needed by a root or a proof is then a fold of
O(log n) stored nodes, so nothing re-hashes all leaves.
"""

from __future__ import annotations

from vault.ledger.hashing import node_hash

NodeId = tuple[int, int]
"""(level, index) of a perfect subtree."""


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
