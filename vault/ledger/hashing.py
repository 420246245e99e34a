"""RFC 9162 section 2.1.1: the Merkle tree hash of leaves and interior nodes (SHA-256)."""

from __future__ import annotations

import hashlib
from typing import NewType

#: SHA-256(0x00 || entry bytes).
LeafHash = NewType("LeafHash", bytes)
#: The Merkle tree hash of a whole tree of some size.
RootHash = NewType("RootHash", bytes)

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
#: MTH({}) = SHA-256() for the empty tree.
EMPTY_ROOT = RootHash(hashlib.sha256(b"").digest())


def leaf_hash(entry: bytes) -> LeafHash:
    """MTH of a one-leaf tree: SHA-256(0x00 || entry)."""
    return LeafHash(hashlib.sha256(LEAF_PREFIX + entry).digest())


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()
