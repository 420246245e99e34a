"""Mutation probes: every way a valid proof can be bent must be rejected, with the error naming why.

Follows the probes of transparency-dev/merkle's verifier tests (wrong leaf, index +-1, index ^ 2, size
*2 and /2, garbage before and after, a flipped bit in every hash, swapped roots) over every proof of
small trees, plus malformed inputs (31/33-byte hashes, empty first tree).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import pytest

from tests.unit import reference_tree
from vault.errors import VerificationFailed
from vault.ledger.hashing import EMPTY_ROOT, leaf_hash
from vault.ledger.tree import consistency_proof, inclusion_proof
from vault.ledger.verifiers import (
    IndexOutOfRange,
    InvalidProof,
    InvalidSizes,
    MalformedHash,
    RootMismatch,
    WrongProofLength,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

ENTRIES = [hashlib.sha256(i.to_bytes(2, "big")).digest()[: 1 + i % 7] for i in range(20)]
NODES = reference_tree.all_perfect_nodes(ENTRIES)
ROOTS = [reference_tree.mth(ENTRIES[:n]) for n in range(len(ENTRIES) + 1)]
SOME_HASH = hashlib.sha256(b"some other hash").digest()

INCLUSION_CASES = [(i, n) for n in range(1, 18) for i in range(n)]
CONSISTENCY_CASES = [(m, n) for n in range(1, 18) for m in range(1, n + 1)]


def flip_bit(value: bytes, position: int = 3) -> bytes:
    return value[:position] + bytes([value[position] ^ 0x08]) + value[position + 1 :]


def rejected(check: Callable[[], None], error: type[InvalidProof] = InvalidProof) -> None:
    with pytest.raises(error):
        check()


@pytest.mark.parametrize(("index", "size"), INCLUSION_CASES)
def test_inclusion_probes_are_rejected(index: int, size: int) -> None:
    leaf, root = leaf_hash(ENTRIES[index]), ROOTS[size]
    proof = inclusion_proof(index, size, NODES)
    verify_inclusion(leaf, index, size, proof, root)

    def probe(i: int, n: int, r: bytes, lf: bytes, p: Sequence[bytes]) -> Callable[[], None]:
        return lambda: verify_inclusion(lf, i, n, p, r)

    rejected(probe(index, size, root, leaf_hash(b"WrongLeaf"), proof), RootMismatch)
    rejected(probe(index, size, EMPTY_ROOT, leaf, proof), RootMismatch)
    rejected(probe(index, size, SOME_HASH, leaf, proof), RootMismatch)
    rejected(probe(index - 1, size, root, leaf, proof))
    rejected(probe(index + 1, size, root, leaf, proof))
    rejected(probe(index ^ 2, size, root, leaf, proof))
    rejected(probe(index, size * 2, root, leaf, proof))
    rejected(probe(index, size // 2, root, leaf, proof))
    # The proof offered for a neighbouring tree, checked against that tree's real root.
    if size + 1 < len(ROOTS):
        rejected(probe(index, size + 1, ROOTS[size + 1], leaf, proof))
    if index < size - 1:
        rejected(probe(index, size - 1, ROOTS[size - 1], leaf, proof))
    rejected(probe(index, size, root, leaf, [*proof, SOME_HASH]), WrongProofLength)
    rejected(probe(index, size, root, leaf, [*proof, root]), WrongProofLength)
    rejected(probe(index, size, root, leaf, [SOME_HASH, *proof]), WrongProofLength)
    if proof:
        rejected(probe(index, size, root, leaf, proof[:-1]), WrongProofLength)
        rejected(probe(index, size, root, leaf, proof[1:]), WrongProofLength)
    for position in range(len(proof)):
        bent = [*proof]
        bent[position] = flip_bit(bent[position])
        rejected(probe(index, size, root, leaf, bent), RootMismatch)


@pytest.mark.parametrize(("first", "second"), CONSISTENCY_CASES)
def test_consistency_probes_are_rejected(first: int, second: int) -> None:
    r1, r2 = ROOTS[first], ROOTS[second]
    proof = consistency_proof(first, second, NODES)
    verify_consistency(first, second, proof, r1, r2)

    def probe(m: int, n: int, a: bytes, b: bytes, p: Sequence[bytes]) -> Callable[[], None]:
        return lambda: verify_consistency(m, n, p, a, b)

    if first != second:
        rejected(probe(first, second, r2, r1, proof), RootMismatch)
    rejected(probe(first, second, SOME_HASH, r2, proof), RootMismatch)
    rejected(probe(first, second, r1, SOME_HASH, proof), RootMismatch)
    rejected(probe(first, second, EMPTY_ROOT, r2, proof), RootMismatch)
    rejected(probe(first - 1, second, ROOTS[first - 1], r2, proof))
    if first < second:
        rejected(probe(first + 1, second, ROOTS[first + 1], r2, proof))
        rejected(probe(first, second - 1, r1, ROOTS[second - 1], proof))
    if second + 1 < len(ROOTS):
        rejected(probe(first, second + 1, r1, ROOTS[second + 1], proof))
    rejected(probe(first, second * 2, r1, r2, proof))
    if second // 2 >= first:
        rejected(probe(first, second // 2, r1, r2, proof))
    rejected(probe(first, second, r1, r2, [*proof, SOME_HASH]), WrongProofLength)
    rejected(probe(first, second, r1, r2, [*proof, r2]), WrongProofLength)
    rejected(probe(first, second, r1, r2, [r1, *proof]), WrongProofLength)
    if proof:
        rejected(probe(first, second, r1, r2, proof[:-1]), WrongProofLength)
        rejected(probe(first, second, r1, r2, proof[1:]), WrongProofLength)
    for position in range(len(proof)):
        bent = [*proof]
        bent[position] = flip_bit(bent[position])
        rejected(probe(first, second, r1, r2, bent), RootMismatch)


@pytest.mark.parametrize("length", [0, 31, 33])
def test_inclusion_hashes_of_the_wrong_length_are_malformed(length: int) -> None:
    proof = inclusion_proof(5, 8, NODES)
    leaf, root, bad = leaf_hash(ENTRIES[5]), ROOTS[8], b"\x01" * length
    with pytest.raises(MalformedHash, match=f"found {length} bytes"):
        verify_inclusion(bad, 5, 8, proof, root)
    with pytest.raises(MalformedHash, match="root hash"):
        verify_inclusion(leaf, 5, 8, proof, bad)
    with pytest.raises(MalformedHash, match=r"proof hash \[1\]"):
        verify_inclusion(leaf, 5, 8, [proof[0], bad, proof[2]], root)


@pytest.mark.parametrize("length", [0, 31, 33])
def test_consistency_hashes_of_the_wrong_length_are_malformed(length: int) -> None:
    proof = consistency_proof(3, 7, NODES)
    bad = b"\x02" * length
    with pytest.raises(MalformedHash, match="first root"):
        verify_consistency(3, 7, proof, bad, ROOTS[7])
    with pytest.raises(MalformedHash, match="second root"):
        verify_consistency(3, 7, proof, ROOTS[3], bad)
    with pytest.raises(MalformedHash, match=r"proof hash \[0\]"):
        verify_consistency(3, 7, [bad, *proof[1:]], ROOTS[3], ROOTS[7])


def test_a_31_byte_hash_is_not_padded_into_a_valid_proof() -> None:
    proof = inclusion_proof(1, 2, NODES)
    with pytest.raises(MalformedHash):
        verify_inclusion(leaf_hash(ENTRIES[1]), 1, 2, [proof[0][:31]], ROOTS[2])


@pytest.mark.parametrize(("index", "size"), [(-1, 5), (5, 5), (6, 5), (0, 0), (0, -1)])
def test_inclusion_index_outside_the_tree(index: int, size: int) -> None:
    with pytest.raises(IndexOutOfRange, match=f"found index {index} and size {size}"):
        root_from_inclusion_proof(leaf_hash(b"x"), index, size, [])


@pytest.mark.parametrize(("first", "second"), [(0, 0), (0, 5), (-1, 5), (6, 5)])
def test_consistency_sizes_refused(first: int, second: int) -> None:
    with pytest.raises(InvalidSizes):
        verify_consistency(first, second, [], EMPTY_ROOT, ROOTS[5])


def test_consistency_from_the_empty_tree_is_refused_even_with_matching_roots() -> None:
    with pytest.raises(InvalidSizes, match="empty tree"):
        verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)


def test_equal_sizes_need_an_empty_proof_and_equal_roots() -> None:
    verify_consistency(6, 6, [], ROOTS[6], ROOTS[6])
    with pytest.raises(WrongProofLength, match="expected 0 hashes"):
        verify_consistency(6, 6, [ROOTS[6]], ROOTS[6], ROOTS[6])
    with pytest.raises(RootMismatch, match="equal size 6"):
        verify_consistency(6, 6, [], ROOTS[6], ROOTS[5])


def test_wrong_length_message_says_expected_and_found() -> None:
    proof = inclusion_proof(0, 8, NODES)
    with pytest.raises(WrongProofLength, match="expected 3 hashes for index 0 in size 8, found 2"):
        verify_inclusion(leaf_hash(ENTRIES[0]), 0, 8, proof[:2], ROOTS[8])


def test_every_proof_error_is_a_verification_failure() -> None:
    for error in (MalformedHash, IndexOutOfRange, InvalidSizes, WrongProofLength, RootMismatch):
        assert issubclass(error, VerificationFailed)


def test_the_root_hash_alone_does_not_bind_the_tree_size() -> None:
    """Why the size must come from a signed checkpoint: RFC 9162 verification accepts a proof for leaf 0
    of size 3 as a proof for size 4 when checked against the size-3 root, because the path shapes match.
    """
    proof = inclusion_proof(0, 3, NODES)
    verify_inclusion(leaf_hash(ENTRIES[0]), 0, 4, proof, ROOTS[3])
    with pytest.raises(RootMismatch):
        verify_inclusion(leaf_hash(ENTRIES[0]), 0, 4, proof, ROOTS[4])
