"""A witness's folder: its key (``witness.key``, mode 0600) and its state file (``witness.sqlite``).

``offboard witness init --dir DIR`` makes both; ``offboard witness serve`` opens them with the log keys
it is given. The key is a plain signed-note Ed25519 key (Go's ``PRIVATE+KEY+...`` string); its public
half is published as a tlog-cosignature vkey (type 0x04, ``signing.cosignature``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from signing.errors import InvalidKey, KeyFileError
from signing.keys import Signer, generate_key, load_private_key, parse_vkey, save_private_key
from vault.clock import Clock, system_clock
from vault.errors import ConfigurationError, InvalidInput
from vault.witness.cosigner import Witness, logs_by_origin
from vault.witness.statefile import WitnessState

KEY_FILE = "witness.key"
STATE_FILE = "witness.sqlite"


class WitnessKeyError(ConfigurationError):
    """The witness folder's key is missing, unsafe or malformed, or cannot be written."""

    code = "witness-key-error"


class InvalidLogKey(InvalidInput):
    """A ``--log`` value is not a signed-note verifier key of a log."""

    code = "witness-invalid-log-key"


@dataclass(frozen=True, slots=True)
class WitnessHome:
    """What ``init_witness`` found or made."""

    #: The witness's signing key.
    signer: Signer
    #: False when the folder already held a key, which was kept.
    created: bool


def init_witness(directory: Path, *, name: str) -> WitnessHome:
    """Make ``directory`` a witness folder: a new key named ``name`` and an empty state; an existing key stays."""
    directory.mkdir(parents=True, exist_ok=True)
    key_path = directory / KEY_FILE
    created = not key_path.exists()
    try:
        if created:
            save_private_key(key_path, generate_key(name))
        signer = load_private_key(key_path)
    except (KeyFileError, InvalidKey) as exc:
        raise WitnessKeyError(str(exc)) from exc
    WitnessState(directory / STATE_FILE)
    return WitnessHome(signer=signer, created=created)


def open_witness(directory: Path, log_vkeys: Sequence[str], *, clock: Clock = system_clock) -> Witness:
    """The witness of ``directory`` serving the logs whose signed-note vkeys are given (key name = origin)."""
    if not log_vkeys:
        raise InvalidLogKey("expected at least one log key (--log VKEY)")
    verifiers = []
    for text in log_vkeys:
        try:
            verifiers.append(parse_vkey(text.strip()))
        except InvalidKey as exc:
            raise InvalidLogKey(f"expected a log's verifier key 'name+keyid+base64(0x01 || key)': {exc}") from exc
    key_path = directory / KEY_FILE
    try:
        signer = load_private_key(key_path)
    except KeyFileError as exc:
        raise WitnessKeyError(f"{exc} (run `offboard witness init --dir {directory}` first)") from exc
    state = WitnessState(directory / STATE_FILE)
    return Witness(signer=signer, logs=logs_by_origin(verifiers), state=state, clock=clock)
