"""``vault.bundle.witness_checks``: the witnessed checkpoint is tied to the bundle's log before its
cosignatures count, the policy's bounds, and the verdict's one line (issue 16, requirement 4)."""

from __future__ import annotations

import hashlib

import pytest

from signing.cosignature import cosign, cosigner_of
from signing.keys import Signer, Verifier, generate_key
from signing.note import parse_note
from vault.bundle.witness_checks import NO_WITNESS, WitnessPolicy, WitnessVerdict, check_witnesses
from vault.errors import InvalidInput
from vault.ledger.checkpoint import CheckpointBody, SignedCheckpoint, open_checkpoint, sign_checkpoint
from vault.ledger.hashing import RootHash
from vault.witnessing.cosigners import parse_witness_key

ORIGIN = "vault.test/org/1"
LOG = generate_key(ORIGIN)
TRUSTED = [Verifier.from_public_key(LOG.name, LOG.public_key)]
W1, W2 = generate_key("witness.test/w1"), generate_key("witness.test/w2")


def _note(size: int, root: bytes = b"r") -> str:
    return sign_checkpoint(CheckpointBody(ORIGIN, size, RootHash(hashlib.sha256(root).digest())), [LOG])


def _cosigned(note: str, *witnesses: Signer) -> str:
    body = parse_note(note).body
    return note + "".join(cosign(w, body, 1_800_000_000).to_line() for w in witnesses)


def _bundle(size: int, root: bytes = b"r") -> SignedCheckpoint:
    return open_checkpoint(_note(size, root), TRUSTED)


def _policy(*witnesses: Signer, required: int | None = None) -> WitnessPolicy:
    return WitnessPolicy.of([parse_witness_key(cosigner_of(w).vkey()) for w in witnesses], required)


def _check(
    text: str | None, policy: WitnessPolicy | None, bundle: SignedCheckpoint, earlier: str | None = None
) -> WitnessVerdict:
    return check_witnesses(
        text, item="w", policy=policy, trusted=TRUSTED, checkpoint=bundle, earlier_text=lambda _size: earlier
    )


def test_both_witnesses_on_the_bundles_own_checkpoint() -> None:
    verdict = _check(_cosigned(_note(5), W1, W2), _policy(W1, W2), _bundle(5))
    ((kind, _, ok, detail),) = verdict.checks
    assert kind == "witness" and ok, detail
    assert detail.startswith("2 of 2 witness keys cosigned the checkpoint of size 5 (2 required): witness.test/w1")
    assert verdict.summary == detail


def test_an_earlier_witnessed_checkpoint_must_be_carried_as_an_earlier_checkpoint() -> None:
    earlier = _note(3)
    verdict = _check(_cosigned(earlier, W1), _policy(W1), _bundle(5), earlier)
    assert verdict.checks[0][2] and verdict.checks[0][3].endswith("entries from index 3 on are not yet witnessed")
    missing = _check(_cosigned(earlier, W1), _policy(W1), _bundle(5), None)
    assert not missing.checks[0][2] and "no earlier checkpoint of size 3" in missing.checks[0][3]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (_cosigned(_note(6), W1), "beyond the bundle's checkpoint"),
        (_cosigned(_note(5, b"other"), W1), "another root"),
        (_cosigned(sign_checkpoint(CheckpointBody(ORIGIN, 5, RootHash(bytes(32))), [generate_key(ORIGIN)]), W1),
         "not one of this log's"),
    ],
)  # fmt: skip
def test_a_checkpoint_outside_the_bundles_log_fails_whatever_its_cosignatures(text: str, why: str) -> None:
    ((_, _, ok, detail),) = _check(text, _policy(W1), _bundle(5)).checks
    assert not ok and why in detail, detail


def test_fewer_than_required_fails_naming_each_key() -> None:
    verdict = _check(_cosigned(_note(5), W1), _policy(W1, W2), _bundle(5))
    ((_, _, ok, detail),) = verdict.checks
    assert not ok and detail.startswith("1 of 2 witness keys cosigned") and "not cosigned by witness.test/w2" in detail
    assert _check(_cosigned(_note(5), W1), _policy(W1, W2, required=1), _bundle(5)).checks[0][2]


def test_without_keys_no_witness_was_checked() -> None:
    carried = _check(_cosigned(_note(5), W1), None, _bundle(5))
    assert carried.summary.startswith(NO_WITNESS) and carried.checks[0][2]
    absent = _check(None, None, _bundle(5))
    assert absent.summary.startswith(NO_WITNESS) and absent.checks == ()
    ((_, _, ok, detail),) = _check(None, _policy(W1), _bundle(5)).checks
    assert not ok and "carries no cosigned checkpoint" in detail


def test_policy_bounds() -> None:
    key = parse_witness_key(cosigner_of(W1).vkey())
    assert WitnessPolicy.of([key, key], None).required == 1  # a key given twice counts once
    for required in (0, 2):
        with pytest.raises(InvalidInput, match="between 1 and 1"):
            WitnessPolicy.of([key], required)
    with pytest.raises(InvalidInput):
        WitnessPolicy.of([], None)
