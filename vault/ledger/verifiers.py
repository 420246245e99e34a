"""RFC 9162 sections 2.1.3.2 and 2.1.4.2: verifying inclusion and consistency proofs.

Pure functions that return nothing and raise a subclass of ``InvalidProof`` naming the one precondition
that failed. The step-by-step state machine is the RFC's, including the "right-shift until fn is odd or
0" step after hashing on the left that a widespread snippet omits (it rejects valid proofs).

Proof lengths are checked up front against the length the RFC's state machine consumes, so a proof one
hash too short or carrying trailing garbage is reported as such rather than as a root mismatch.
"""

from __future__ import annotations

from collections.abc import Sequence

from vault.errors import VerificationFailed
from vault.ledger.hashing import HASH_SIZE, RootHash, node_hash


class InvalidProof(VerificationFailed):
    """An inclusion or consistency proof does not prove what it claims."""

    code = "invalid-proof"


class MalformedHash(InvalidProof):
    """A leaf hash, root hash or proof hash is not 32 bytes."""

    code = "malformed-hash"


class IndexOutOfRange(InvalidProof):
    """The leaf index is negative or not below the tree size."""

    code = "index-out-of-range"


class InvalidSizes(InvalidProof):
    """Consistency sizes are out of order, or the first tree is empty (nothing to be consistent with)."""

    code = "invalid-sizes"


class WrongProofLength(InvalidProof):
    """The proof has more or fewer hashes than the sizes require."""

    code = "wrong-proof-length"


class RootMismatch(InvalidProof):
    """The proof is well formed but recomputes a different root."""

    code = "root-mismatch"


def _check_hash(what: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise MalformedHash(f"expected {what} of {HASH_SIZE} bytes, found {len(value)} bytes")


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    for position, value in enumerate(proof):
        _check_hash(f"proof hash [{position}]", value)


def inclusion_steps(index: int, size: int) -> list[bool]:
    """For each proof hash, True when it goes on the left. The state machine of section 2.1.3.2."""
    fn, sn = index, size - 1
    steps: list[bool] = []
    while sn != 0:
        if fn & 1 or fn == sn:
            steps.append(True)
            # We were the right edge of this level: climb until we are a right child again.
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            steps.append(False)
        fn, sn = fn >> 1, sn >> 1
    return steps


def inclusion_proof_length(index: int, size: int) -> int:
    """How many hashes PATH(index, D[0:size]) has."""
    return len(inclusion_steps(index, size))


def root_from_inclusion_proof(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]) -> RootHash:
    """The root that ``proof`` leads to from ``leaf_hash`` at ``index`` in a tree of ``size`` leaves."""
    _check_hash("a leaf hash", leaf_hash)
    if not 0 <= index < size:
        raise IndexOutOfRange(f"expected 0 <= index < size, found index {index} and size {size}")
    _check_proof_hashes(proof)
    steps = inclusion_steps(index, size)
    if len(proof) != len(steps):
        raise WrongProofLength(f"expected {len(steps)} hashes for index {index} in size {size}, found {len(proof)}")
    result = bytes(leaf_hash)
    for sibling, on_left in zip(proof, steps, strict=True):
        result = node_hash(sibling, result) if on_left else node_hash(result, sibling)
    return RootHash(result)


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Raise unless ``proof`` shows ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``."""
    _check_hash("a root hash", root)
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if computed != root:
        raise RootMismatch(
            f"inclusion proof for index {index} in size {size} leads to root {computed.hex()}, "
            f"expected {bytes(root).hex()}"
        )


def _consistency_steps(first: int, second: int) -> tuple[bool, list[bool]]:
    """(seed is first_hash, per-hash "hash into both roots" flags) for section 2.1.4.2, 0 < first < second."""
    seeded = first & (first - 1) == 0
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    steps: list[bool] = []
    while sn != 0:
        if fn & 1 or fn == sn:
            steps.append(True)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            steps.append(False)
        fn, sn = fn >> 1, sn >> 1
    return seeded, steps


def consistency_proof_length(first: int, second: int) -> int:
    """How many hashes PROOF(first, D[0:second]) has (0 when the sizes are equal)."""
    if first == second:
        return 0
    seeded, steps = _consistency_steps(first, second)
    return len(steps) + (0 if seeded else 1)


def verify_consistency(first: int, second: int, proof: Sequence[bytes], first_root: bytes, second_root: bytes) -> None:
    """Raise unless ``proof`` shows the tree of ``first`` leaves is a prefix of the tree of ``second``."""
    _check_hash("the first root hash", first_root)
    _check_hash("the second root hash", second_root)
    if first < 1:
        raise InvalidSizes(f"consistency proofs from an empty tree are refused, found first size {first}")
    if first > second:
        raise InvalidSizes(f"expected first <= second, found first {first} and second {second}")
    _check_proof_hashes(proof)
    expected = consistency_proof_length(first, second)
    if len(proof) != expected:
        raise WrongProofLength(f"expected {expected} hashes from size {first} to size {second}, found {len(proof)}")
    if first == second:
        # The RFC's algorithm starts from a non-empty path; equal sizes prove consistency by equal roots.
        if first_root != second_root:
            raise RootMismatch(f"trees of equal size {first} have different roots")
        return
    seeded, steps = _consistency_steps(first, second)
    path = [bytes(first_root), *proof] if seeded else list(proof)
    fr = sr = path[0]
    for c, into_both in zip(path[1:], steps, strict=True):
        if into_both:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
        else:
            sr = node_hash(sr, c)
    if fr != first_root:
        raise RootMismatch(f"consistency proof recomputes first root {fr.hex()}, expected {bytes(first_root).hex()}")
    if sr != second_root:
        raise RootMismatch(f"consistency proof recomputes second root {sr.hex()}, expected {bytes(second_root).hex()}")
