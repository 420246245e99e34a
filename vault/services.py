"""The running parts of one deployment, built from settings: engine, the one write path, object store,
clock, the renderer and the mailer.

Built by ``build_services(settings, renderer=...)`` (never at import time); the API keeps one on
``app.state`` and the CLI builds one per command. Reads use ``vault.db.read_session(services.engine)``;
every write goes through ``services.transact`` (a unit of work, group-committed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

from storage.base import ObjectStore
from vault.clock import Clock, system_clock
from vault.config import Settings
from vault.db import Unit, make_engine, migrate, read_session
from vault.errors import ConfigurationError
from vault.evidence.ingest import IngestLimits
from vault.ledger.sequencer import Sequencer
from vault.ledger.tiles import FullTiles
from vault.mail import Mailer, mailer_from_settings
from vault.rendering import Renderer
from vault.store import store_from_settings

T = TypeVar("T")


@dataclass(slots=True)
class Services:
    settings: Settings
    engine: Engine
    store: ObjectStore
    clock: Clock = field(default=system_clock)
    #: The jinja2 renderer (``templates.render.Renderer``), seen through its Protocol; given by the adapter.
    renderer: Renderer | None = None
    #: The group commit behind ``transact``: one per deployment, so concurrent writers share commits.
    sequencer: Sequencer = field(init=False)
    #: The SMTP mailer, ``None`` when no ``OFFBOARD_SMTP_URL`` is set (links are then shown by hand).
    mailer: Mailer | None = field(init=False)
    #: Full tiles served lately (immutable, so kept for the next reader; ``vault/ledger/tiles.py``).
    tiles: FullTiles = field(init=False)

    def __post_init__(self) -> None:
        self.sequencer = Sequencer(self.engine)
        self.mailer = mailer_from_settings(self.settings)
        self.tiles = FullTiles()

    @property
    def templates(self) -> Renderer:
        """The renderer; ``ConfigurationError`` when the adapter built these services without one."""
        if self.renderer is None:
            raise ConfigurationError("these services were built without a renderer (build_services(renderer=...))")
        return self.renderer

    def read(self, work: Callable[[Session], T], /) -> T:
        """The one read path: run ``work`` in a read session (never the write lock) and return its result."""
        with read_session(self.engine) as session:
            return work(session)

    def transact(self, work: Callable[[Unit], T]) -> T:
        """The one write path: run ``work`` in a unit of work, group-committed with concurrent writers.

        Returns once the unit has committed. ``work`` must not call ``transact`` itself
        (``NestedUnitOfWork``): it receives the unit's session and passes it down.
        """
        return self.sequencer.run(work)

    @property
    def ingest_limits(self) -> IngestLimits:
        return IngestLimits(
            max_bytes=self.settings.max_upload_bytes,
            pdf_parse_max_bytes=self.settings.pdf_parse_max_bytes,
            pdf_parse_timeout=self.settings.pdf_parse_timeout_seconds,
        )

    def close(self) -> None:
        self.sequencer.close()
        self.engine.dispose()


def build_services(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    run_migrations: bool = True,
    renderer: Renderer | None = None,
) -> Services:
    engine = make_engine(settings)
    if run_migrations:
        migrate(engine)
    return Services(
        settings=settings, engine=engine, store=store_from_settings(settings), clock=clock, renderer=renderer
    )
