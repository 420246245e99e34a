"""``vault/bundle/since.py`` on its own: every way a kept checkpoint can fail to be a prefix of the bundle's
log, with trees from the test-only reference tree (issue 16, requirement 4)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from signing.keys import Signer, generate_key
from tests.unit.reference_tree import mth, proof
from vault.bundle.since import check_since
from vault.ledger.checkpoint import CheckpointBody, open_checkpoint, sign_checkpoint
from vault.ledger.hashing import RootHash
from vault.ledger.proofs import ConsistencyProof, InclusionProof, TlogProof

ORIGIN = "log.example/default"
ENTRIES = [f"e{i}".encode() for i in range(20)]
KEY: Signer = generate_key(ORIGIN, random=lambda n: b"\x05" * n)


def _note(entries: list[bytes], signer: Signer = KEY, origin: str = ORIGIN) -> str:
    return sign_checkpoint(CheckpointBody(origin=origin, size=len(entries), root_hash=RootHash(mth(entries))), [signer])


def _proofs(entries: list[bytes]) -> Callable[[int], ConsistencyProof | None]:
    def read(size: int) -> ConsistencyProof | None:
        return ConsistencyProof(size, len(entries), tuple(proof(size, entries))) if 0 < size < len(entries) else None

    return read


def _check(
    kept: str, bundle: list[bytes] = ENTRIES, proofs: Callable[[int], ConsistencyProof | None] | None = None
) -> tuple[bool, str]:
    signed = open_checkpoint(_note(bundle), [KEY.verifier])
    _, _, ok, detail = check_since(
        kept, item="kept", trusted=[KEY.verifier], checkpoint=signed, proof_from=proofs or _proofs(bundle)
    )
    return ok, detail


def test_a_prefix_passes_as_a_checkpoint_and_as_a_tlog_proof() -> None:
    assert _check(_note(ENTRIES[:7]))[0]
    inclusion = InclusionProof(3, 7, b"\x00" * 32, tuple(b"\x01" * 32 for _ in range(3)))
    assert _check(TlogProof.of(inclusion, _note(ENTRIES[:7])).to_text())[0]
    assert _check(_note(ENTRIES))[0]


def test_a_fork_fails_saying_so() -> None:
    forked = [*ENTRIES[:4], b"rewritten", *ENTRIES[5:7]]
    ok, detail = _check(_note(forked))
    assert not ok and "the log has forked" in detail
    ok, detail = _check(_note([*ENTRIES[:19], b"other"]))
    assert not ok and "same size, another root" in detail


@pytest.mark.parametrize(
    ("kept", "expected"),
    [
        (_note(ENTRIES[:7], signer=generate_key(ORIGIN, random=lambda n: b"\x06" * n)), "not one of this log's"),
        (_note(ENTRIES[:7], origin="other.example/log"), "not one of this log's"),
        (_note([*ENTRIES, b"later"]), "newer than the bundle's"),
        ("not a note\n", "not one of this log's"),
    ],
    ids=["other-key", "other-origin", "newer", "garbage"],
)
def test_what_cannot_be_held_against_the_bundle_fails(kept: str, expected: str) -> None:
    ok, detail = _check(kept)
    assert not ok and expected in detail


def test_no_carried_proof_from_the_kept_size_fails() -> None:
    ok, detail = _check(_note(ENTRIES[:7]), proofs=lambda _size: None)
    assert not ok and "carries no consistency proof from size 7" in detail
