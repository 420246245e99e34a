"""``offboard verify --witness-key``: the cosignatures of a bundle's witnessed checkpoint (``docs/bundle.md``,
"Witnesses"; issue 16, requirement 4).

``data/ledger/witnessed.checkpoint`` is a C2SP signed note: the log's checkpoint, then one line per witness
cosignature (C2SP tlog-cosignature/v1: the ``cosignature/v1`` message with its timestamp, the 0x04 key id).
It must verify with the log's trusted keys and be the bundle's checkpoint, or an earlier checkpoint the
bundle proves consistent with its own; then each witness key the user gave is checked against its line
(``vault.witnessing.cosigners.check_cosignatures``), and at least ``required`` of them must have cosigned.
Without witness keys the report says plainly that no independent witness was checked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from signing.keys import Verifier
from vault.errors import InvalidInput, OffboardError
from vault.ledger.checkpoint import SignedCheckpoint, open_checkpoint
from vault.witnessing.cosigners import WitnessKey, check_cosignatures

KIND = "witness"
NO_WITNESS = "no independent witness was checked"


@dataclass(frozen=True, slots=True)
class WitnessPolicy:
    """The witness keys the user trusts and how many of them must have cosigned."""

    keys: tuple[WitnessKey, ...]
    #: At least 1 and at most ``len(keys)``.
    required: int

    @classmethod
    def of(cls, keys: Sequence[WitnessKey], required: int | None) -> WitnessPolicy:
        """``required`` defaults to every key given; a key given twice counts once."""
        unique = tuple({key.vkey: key for key in keys}.values())
        if not unique:
            raise InvalidInput("give at least one witness key (--witness-key) to require cosignatures")
        wanted = len(unique) if required is None else required
        if not 1 <= wanted <= len(unique):
            raise InvalidInput(
                f"--witnesses-required must be between 1 and {len(unique)} (the keys given), found {wanted}"
            )
        return cls(keys=unique, required=wanted)


@dataclass(frozen=True, slots=True)
class WitnessVerdict:
    """The checks of the witnessed checkpoint and one sentence for the report."""

    checks: tuple[tuple[str, str, bool, str], ...]
    summary: str


def _tie(
    witnessed: SignedCheckpoint, bundle: SignedCheckpoint, earlier_text: Callable[[int], str | None]
) -> str | None:
    """Why the witnessed checkpoint is not part of the bundle's history, or ``None`` when it is."""
    size = witnessed.body.size
    if size > bundle.body.size:
        return f"it has size {size}, beyond the bundle's checkpoint (size {bundle.body.size})"
    if size == bundle.body.size:
        return None if witnessed.note.body == bundle.note.body else "same size as the bundle's checkpoint, another root"
    earlier = earlier_text(size)
    if earlier is None or not earlier.startswith(witnessed.note.body + "\n"):
        return f"the bundle carries no earlier checkpoint of size {size} proven consistent with its own"
    return None


def check_witnesses(
    text: str | None,
    *,
    item: str,
    policy: WitnessPolicy | None,
    trusted: Sequence[Verifier],
    checkpoint: SignedCheckpoint | None,
    earlier_text: Callable[[int], str | None],
) -> WitnessVerdict:
    """Check the witnessed checkpoint ``text`` (``None``: absent) against ``policy`` (``None``: no keys)."""
    if text is None:
        if policy is None:
            return WitnessVerdict((), f"{NO_WITNESS} (and the bundle carries no cosigned checkpoint)")
        detail = "the bundle carries no cosigned checkpoint: no witness had cosigned one when it was exported"
        return WitnessVerdict(((KIND, item, False, detail),), detail)
    if checkpoint is None:
        detail = "the bundle's own checkpoint did not verify, so its witnessed checkpoint cannot be tied to it"
        return WitnessVerdict(((KIND, item, False, detail),), detail)
    try:
        witnessed = open_checkpoint(text, trusted, origin=checkpoint.body.origin)
    except OffboardError as exc:
        detail = f"the cosigned checkpoint is not one of this log's: {exc.message}"
        return WitnessVerdict(((KIND, item, False, detail),), detail)
    size = witnessed.body.size
    problem = _tie(witnessed, checkpoint, earlier_text)
    if problem is not None:
        detail = f"the cosigned checkpoint is not part of the bundle's log: {problem}"
        return WitnessVerdict(((KIND, item, False, detail),), detail)
    pending = f"; entries from index {size} on are not yet witnessed" if size < checkpoint.body.size else ""
    if policy is None:
        detail = f"checkpoint of size {size} signed by the log, carrying cosignature lines that were not checked"
        return WitnessVerdict(((KIND, item, True, detail),), f"{NO_WITNESS} (pass --witness-key to check them)")
    ok, detail = count_cosignatures(text, policy, size=size, pending=pending)
    return WitnessVerdict(((KIND, item, ok, detail),), detail)


def count_cosignatures(text: str, policy: WitnessPolicy, *, size: int, pending: str = "") -> tuple[bool, str]:
    """Whether at least ``policy.required`` of its keys cosigned the signed note ``text``, and which did."""
    signed: list[str] = []
    missing: list[str] = []
    for key in policy.keys:
        try:
            found = check_cosignatures(text, [], key)
        except OffboardError as exc:
            missing.append(f"{key.name} ({key.key_id}): {exc.message.split(': ', 1)[-1]}")
            continue
        signed.append(f"{key.name} ({key.key_id}) at time {found[0].timestamp}")
    cosigned = "; ".join(signed) or "none"
    not_by = f"; not cosigned by {'; '.join(missing)}" if missing else ""
    detail = (
        f"{len(signed)} of {len(policy.keys)} witness keys cosigned the checkpoint of size {size} "
        f"({policy.required} required): {cosigned}{not_by}{pending}"
    )
    return len(signed) >= policy.required, detail


__all__ = ["NO_WITNESS", "WitnessPolicy", "WitnessVerdict", "check_witnesses", "count_cosignatures"]
