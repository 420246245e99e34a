"""A literal, recursive RFC 9162 section 2.1 Merkle tree, used only by tests as the oracle.

Written straight from the definitions (MTH, PATH, PROOF/SUBPROOF) over a list of entries, deliberately
naive: it re-hashes everything and slices lists, so it is obviously correct rather than fast.
"""

from __future__ import annotations

import hashlib


def mth(entries: list[bytes]) -> bytes:
    """MTH(D[n]) of section 2.1.1."""
    n = len(entries)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = split(n)
    return hashlib.sha256(b"\x01" + mth(entries[:k]) + mth(entries[k:])).digest()


def split(n: int) -> int:
    """The largest power of two smaller than n, for n > 1."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def path(m: int, entries: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of section 2.1.3.1."""
    n = len(entries)
    if n == 1:
        return []
    k = split(n)
    if m < k:
        return [*path(m, entries[:k]), mth(entries[k:])]
    return [*path(m - k, entries[k:]), mth(entries[:k])]


def proof(m: int, entries: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of section 2.1.4.1."""
    return subproof(m, entries, True)


def subproof(m: int, entries: list[bytes], complete: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of section 2.1.4.1."""
    n = len(entries)
    if m == n:
        return [] if complete else [mth(entries)]
    k = split(n)
    if m <= k:
        return [*subproof(m, entries[:k], complete), mth(entries[k:])]
    return [*subproof(m - k, entries[k:], False), mth(entries[:k])]


def all_perfect_nodes(entries: list[bytes]) -> dict[tuple[int, int], bytes]:
    """Every complete perfect subtree (level, index) -> hash, as the log would have stored them."""
    nodes: dict[tuple[int, int], bytes] = {}
    level = 0
    while (1 << level) <= len(entries):
        width = 1 << level
        for index in range(len(entries) // width):
            nodes[(level, index)] = mth(entries[index * width : (index + 1) * width])
        level += 1
    return nodes
