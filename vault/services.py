"""The running parts of one deployment, built from settings: engine, object store, clock.

Built by ``build_services(settings)`` (never at import time); the API keeps one on ``app.state`` and the
CLI builds one per command.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Engine

from storage.base import ObjectStore
from vault.clock import Clock, system_clock
from vault.config import Settings
from vault.db import Unit, make_engine, migrate
from vault.evidence import IngestLimits
from vault.ledger.sequencer import Sequencer
from vault.store import store_from_settings

T = TypeVar("T")


@dataclass(slots=True)
class Services:
    settings: Settings
    engine: Engine
    store: ObjectStore
    clock: Clock = field(default=system_clock)
    sequencer: Sequencer | None = None

    def transact(self, work: Callable[[Unit], T]) -> T:
        """The one write path: run ``work`` in a unit of work, group-committed with concurrent writers.

        Returns once the unit has committed. ``work`` must not call ``transact`` itself
        (``NestedUnitOfWork``): it receives the unit's session and passes it down.
        """
        if self.sequencer is None:
            self.sequencer = Sequencer(self.engine)
        return self.sequencer.run(work)

    @property
    def ingest_limits(self) -> IngestLimits:
        return IngestLimits(
            max_bytes=self.settings.max_upload_bytes,
            pdf_parse_max_bytes=self.settings.pdf_parse_max_bytes,
            pdf_parse_timeout=self.settings.pdf_parse_timeout_seconds,
        )

    def close(self) -> None:
        if self.sequencer is not None:
            self.sequencer.close()
        self.engine.dispose()


def build_services(settings: Settings, *, clock: Clock = system_clock, run_migrations: bool = True) -> Services:
    engine = make_engine(settings)
    if run_migrations:
        migrate(engine)
    return Services(settings=settings, engine=engine, store=store_from_settings(settings), clock=clock)
