"""The background publisher: signs a checkpoint shortly after entries are appended, and anchors
checkpoints in time with an RFC 3161 TSA when one is configured.

It polls the heads every ``checkpoint_delay_seconds`` (default 0.2 s), so appends made by any process
(API workers, the CLI) are covered by a signed checkpoint well within one second; one checkpoint covers
every append of that interval (group signing).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from sqlmodel import col, select

from signing.errors import TimestampError
from signing.timestamps import TimestampAnchor, load_pem_roots, request_timestamp
from vault.clock import Clock, system_clock
from vault.config import Settings
from vault.db import Read, Transact
from vault.errors import ConfigurationError, OffboardError
from vault.ledger.publish import publish_all
from vault.models import Checkpoint, TimestampToken
from vault.witnessing.submitter import WitnessRunner

logger = logging.getLogger("offboard.ledger")


def tsa_roots(settings: Settings) -> list[x509.Certificate]:
    path: Path | None = settings.tsa_roots_file
    if path is None:
        raise ConfigurationError("OFFBOARD_TSA_URL is set but OFFBOARD_TSA_ROOTS_FILE (PEM roots) is not")
    try:
        return load_pem_roots(path.read_bytes())
    except (OSError, TimestampError) as exc:
        raise ConfigurationError(f"cannot read TSA roots from {path}: {exc}") from exc


class Anchorer:
    """Requests at most one timestamp per interval, for the newest checkpoint of each organization."""

    def __init__(self, read: Read, settings: Settings, *, transact: Transact, clock: Clock = system_clock) -> None:
        self._read = read
        self._transact = transact
        self._settings = settings
        self._clock = clock
        self._anchors: dict[str, TimestampAnchor] = {}
        self._roots = tsa_roots(settings) if settings.tsa_url else []

    def anchor(self, checkpoint: Checkpoint) -> TimestampToken | None:
        url = self._settings.tsa_url
        if not url:
            return None
        now = self._clock()
        interval = self._settings.tsa_interval_seconds
        limiter = self._anchors.setdefault(checkpoint.organization_id, TimestampAnchor(interval))
        if not limiter.due(now) or self._recently_anchored(
            checkpoint.organization_id, now - timedelta(seconds=interval)
        ):
            return None
        limiter.record(now)  # failures count too, so a down TSA is not asked for every checkpoint
        try:
            record = request_timestamp(url, checkpoint.note.encode("utf-8"), roots=self._roots)
        except TimestampError as exc:
            logger.warning("timestamping checkpoint %s failed: %s", checkpoint.id, exc)
            return None
        assert checkpoint.id is not None  # noqa: S101 - a stored checkpoint always has an id
        token = TimestampToken(
            checkpoint_id=checkpoint.id, token=record.token_der, gen_time=record.gen_time, tsa_url=url
        )
        # The TSA answered above, outside any transaction; only its token is written.
        self._transact(lambda session: session.add(token))
        return token

    def _recently_anchored(self, organization_id: str, since: datetime) -> bool:
        query = (
            select(TimestampToken.id)
            .join(Checkpoint, col(Checkpoint.id) == col(TimestampToken.checkpoint_id))
            .where(Checkpoint.organization_id == organization_id, col(TimestampToken.gen_time) >= since)
        )
        return self._read(lambda session: session.exec(query).first() is not None)


def publish_and_anchor(
    read: Read,
    settings: Settings,
    anchorer: Anchorer | None,
    *,
    transact: Transact,
    clock: Clock = system_clock,
) -> list[Checkpoint]:
    signed = publish_all(read, transact, settings, clock=clock)
    if anchorer is not None:
        for checkpoint in signed:
            anchorer.anchor(checkpoint)
    return signed


class Publisher:
    """A daemon thread running ``publish_and_anchor`` every ``checkpoint_delay_seconds``."""

    def __init__(self, read: Read, settings: Settings, *, transact: Transact, clock: Clock = system_clock) -> None:
        self._read = read
        self._transact = transact
        self._settings = settings
        self._clock = clock
        self._anchorer = Anchorer(read, settings, transact=transact, clock=clock) if settings.tsa_url else None
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
                signed = publish_and_anchor(
                    self._read, self._settings, self._anchorer, transact=self._transact, clock=self._clock
                )
                if signed:
                    self._witnesses.nudge()
            except OffboardError as exc:
                # Must be loud but must not kill the thread; `offboard ledger verify` explains integrity failures.
                logger.error("checkpoint publishing refused: %s", exc.message)
            except Exception:
                logger.exception("checkpoint publishing failed")
