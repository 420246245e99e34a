"""The background publisher: signs a checkpoint shortly after entries are appended, and has witnesses
cosign it. (Timestamping checkpoints with an RFC 3161 TSA is the worker's: ``vault/ledger/anchoring.py``.)

It polls the heads every ``checkpoint_delay_seconds`` (default 0.2 s), so appends made by any process
(API workers, the CLI) are covered by a signed checkpoint well within one second; one checkpoint covers
every append of that interval (group signing).
"""

from __future__ import annotations

import logging
import threading

from vault.clock import Clock, system_clock
from vault.config import Settings
from vault.db import Read, Transact
from vault.errors import OffboardError
from vault.ledger.publish import publish_all
from vault.witnessing.submitter import WitnessRunner

logger = logging.getLogger("offboard.ledger")


class Publisher:
    """A daemon thread running ``publish_all`` every ``checkpoint_delay_seconds``."""

    def __init__(self, read: Read, settings: Settings, *, transact: Transact, clock: Clock = system_clock) -> None:
        self._read = read
        self._transact = transact
        self._settings = settings
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="offboard-publisher", daemon=True)
        # Witnesses are asked on their own thread, so a slow one never holds up signing.
        self._witnesses = WitnessRunner(read, settings, transact=transact, clock=clock)

    def start(self) -> None:
        self._witnesses.start()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._witnesses.stop()

    def _run(self) -> None:
        interval = max(self._settings.checkpoint_delay_seconds, 0.05)
        while not self._stop.wait(interval):
            try:
                signed = publish_all(self._read, self._transact, self._settings, clock=self._clock)
                if signed:
                    self._witnesses.nudge()
            except OffboardError as exc:
                # Must be loud but must not kill the thread; `offboard ledger verify` explains integrity failures.
                logger.error("checkpoint publishing refused: %s", exc.message)
            except Exception:
                logger.exception("checkpoint publishing failed")
