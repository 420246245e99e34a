"""Witness keys and cosignature lines as the witness client sees them, through ``signing.cosignature``
(C2SP tlog-cosignature/v1); its errors become vault errors here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from signing.cosignature import CosignerVerifier, parse_cosigner_vkey, verified_cosignatures
from signing.errors import SigningError
from vault.errors import UnacceptableWitness, VerificationFailed


@dataclass(frozen=True, slots=True)
class WitnessKey:
    """A witness's cosigner key: its name, 8-hex key id and vkey (type 0x04)."""

    name: str
    key_id: str
    vkey: str
    verifier: CosignerVerifier


@dataclass(frozen=True, slots=True)
class CheckedCosignature:
    """One cosignature line that verified against a witness key over a checkpoint."""

    key: WitnessKey
    #: POSIX seconds the witness stated.
    timestamp: int
    #: The signature line verbatim, with its newline.
    line: str


def parse_witness_key(text: str) -> WitnessKey:
    """A cosigner vkey ``name+<8 hex id>+base64(0x04 || public key)``, or ``UnacceptableWitness`` saying why not."""
    try:
        verifier = parse_cosigner_vkey(text.strip())
    except SigningError as exc:
        raise UnacceptableWitness(f"not a witness key (tlog-cosignature/v1 vkey): {exc}") from exc
    return WitnessKey(name=verifier.name, key_id=bytes(verifier.key_id).hex(), vkey=verifier.vkey(), verifier=verifier)


def check_cosignatures(note: str, lines: Sequence[str], key: WitnessKey) -> list[CheckedCosignature]:
    """The ``lines`` (a witness's answer) that are valid cosignatures by ``key`` over the signed ``note``.

    Lines of other keys are ignored; a line of ``key`` that does not verify raises ``VerificationFailed``.
    """
    text = note + "".join(lines)
    try:
        found = verified_cosignatures(text, [key.verifier])
    except SigningError as exc:
        raise VerificationFailed(f"the answer of witness {key.name} holds no valid cosignature: {exc}") from exc
    return [CheckedCosignature(key=key, timestamp=c.timestamp, line=c.to_line()) for c in found]
