"""RFC 9162 section 2.1.3.2 for the many inclusion proofs of one bundle, all against one signed tree.

Every entry of a bundle carries a proof against the same checkpoint, so neighbouring proofs fold
through the same interior nodes: leaves 0 and 1 share every node above their parent. ``SharedTree``
verifies each proof in full (every hash of every proof takes part, in the RFC's order), but computes
``SHA-256(0x01 || left || right)`` once per distinct pair, remembering the result; a pair seen before
has the same hash, so nothing is skipped, only recomputed. It only ever says "verifies": anything else
(bad sizes, wrong lengths, another root) is handed to ``vault.ledger.verifiers.verify_inclusion``, whose
error is the one reported, so a failing proof reads exactly as it would without the cache.

``parse_proof_head`` reads the part of a C2SP tlog-proof before its embedded checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence

from vault.ledger.checkpoint import b64decode_hash, parse_decimal
from vault.ledger.hashing import HASH_SIZE, node_hash
from vault.ledger.proofs import HEADER, MalformedProof
from vault.ledger.verifiers import inclusion_steps, verify_inclusion

#: Remembered pairs at most (a genuine bundle of n entries needs about 2n; a hostile one cannot make
#: the cache grow past about 60 MB).
MAX_PARENTS = 1 << 18


class SharedTree:
    """Inclusion proofs against one tree of ``size`` leaves with ``root``, sharing interior node hashes."""

    def __init__(self, size: int, root: bytes) -> None:
        self.size = size
        self.root = bytes(root)
        self._parents: dict[tuple[bytes, bytes], bytes] = {}

    def verify(self, leaf: bytes, index: int, proof: Sequence[bytes]) -> None:
        """Raise (``InvalidProof``) unless ``proof`` shows ``leaf`` is leaf ``index`` of this tree."""
        if self._folds_to_root(leaf, index, proof):
            return
        verify_inclusion(leaf, index, self.size, proof, self.root)
        # Not reached: the cache only ever reproduces the reference's computation. Were it ever to
        # disagree, the reference above has the last word either way.

    def _folds_to_root(self, leaf: bytes, index: int, proof: Sequence[bytes]) -> bool:
        if len(self.root) != HASH_SIZE or len(leaf) != HASH_SIZE or not 0 <= index < self.size:
            return False
        directions = inclusion_steps(index, self.size)
        if len(proof) != len(directions) or any(len(sibling) != HASH_SIZE for sibling in proof):
            return False
        parents = self._parents
        result = bytes(leaf)
        for sibling, on_left in zip(proof, directions, strict=True):
            pair = (bytes(sibling), result) if on_left else (result, bytes(sibling))
            parent = parents.get(pair)
            if parent is None:
                parent = node_hash(*pair)
                if len(parents) < MAX_PARENTS:
                    parents[pair] = parent
            result = parent
        return result == self.root


def parse_proof_head(head: str, decoded: dict[str, bytes] | None = None) -> tuple[int, tuple[bytes, ...]]:
    """Index and hashes of a C2SP tlog-proof's head (the lines before the empty line), strictly.

    ``decoded`` caches hash lines already decoded: proofs against one checkpoint share most of their
    upper hashes, and a line that decoded once decodes to the same bytes again.
    """
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise MalformedProof(f"expected the first line {HEADER!r}, found {lines[0]!r}")
    rest = lines[1:]
    if rest and rest[0].startswith("extra "):
        rest = rest[1:]  # opaque and unauthenticated: ignored, as the spec allows
    if not rest or not rest[0].startswith("index "):
        raise MalformedProof("expected a line 'index <n>' after the header")
    index = parse_decimal(rest[0].removeprefix("index "), "the index", MalformedProof)
    cache = decoded if decoded is not None else {}
    hashes = []
    for position, line in enumerate(rest[1:]):
        raw = cache.get(line)
        if raw is None:
            raw = cache[line] = b64decode_hash(line, f"proof hash [{position}]", MalformedProof)
        hashes.append(raw)
    return index, tuple(hashes)


__all__ = ["SharedTree", "parse_proof_head"]
