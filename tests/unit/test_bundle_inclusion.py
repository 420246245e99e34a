"""SharedTree accepts exactly the proofs vault.ledger.verifiers accepts, reusing one cache for all of them."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tests.unit import reference_tree
from vault.bundle.inclusion import SharedTree
from vault.ledger.hashing import leaf_hash
from vault.ledger.verifiers import InvalidProof, inclusion_proof_length, inclusion_steps, verify_inclusion

SIZE = 37


def reference_verdict(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> str:
    try:
        verify_inclusion(leaf, index, size, proof, root)
    except InvalidProof as exc:
        return f"{type(exc).__name__}: {exc.message}"
    return "ok"


def shared_verdict(tree: SharedTree, leaf: bytes, index: int, proof: Sequence[bytes]) -> str:
    try:
        tree.verify(leaf, index, proof)
    except InvalidProof as exc:
        return f"{type(exc).__name__}: {exc.message}"
    return "ok"


def test_directions_have_the_proof_length_for_every_small_tree() -> None:
    for size in range(1, 200):
        for index in range(size):
            assert len(inclusion_steps(index, size)) == inclusion_proof_length(index, size)


def test_every_proof_and_every_mutation_gets_the_reference_verdict() -> None:
    entries = [i.to_bytes(2, "big") for i in range(SIZE)]
    root = reference_tree.mth(entries)
    tree = SharedTree(SIZE, root)
    # Interleave good and bad proofs on one tree, so a cached pair is reused by both kinds.
    for index in range(SIZE):
        leaf = leaf_hash(entries[index])
        proof = reference_tree.path(index, entries)
        other = leaf_hash(entries[(index + 1) % SIZE])
        probes: list[tuple[bytes, int, list[bytes]]] = [
            (leaf, index, proof),
            (other, index, proof),  # wrong leaf
            (leaf, (index + 1) % SIZE, proof),  # wrong index
            (leaf, index, [*proof, proof[0]]),  # trailing hash
            (leaf, index, proof[:-1]),  # one hash short
            (leaf, index, [proof[0][:31], *proof[1:]]),  # malformed hash
            (leaf, SIZE, proof),  # index outside the tree
            (leaf, -1, proof),
            (leaf[:31], index, proof),
        ]
        for position in range(len(proof)):
            flipped = bytearray(proof[position])
            flipped[position % 32] ^= 0x04
            probes.append((leaf, index, [*proof[:position], bytes(flipped), *proof[position + 1 :]]))
        for probe_leaf, probe_index, probe_proof in probes:
            expected = reference_verdict(probe_leaf, probe_index, SIZE, probe_proof, root)
            assert shared_verdict(tree, probe_leaf, probe_index, probe_proof) == expected
        assert reference_verdict(leaf, index, SIZE, proof, root) == "ok"


@pytest.mark.parametrize("size", [1, 2, 3, 8, 9])
def test_a_tree_of_another_root_rejects_everything(size: int) -> None:
    entries = [bytes([i]) for i in range(size)]
    other_root = reference_tree.mth([*entries[:-1], b"changed"])
    tree = SharedTree(size, other_root)
    for index in range(size):
        proof = reference_tree.path(index, entries)
        leaf = leaf_hash(entries[index])
        verdict = shared_verdict(tree, leaf, index, proof)
        assert verdict == reference_verdict(leaf, index, size, proof, other_root) != "ok"
