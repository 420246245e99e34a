"""Database engines, the read session, the unit of work, and migrations. The only module that opens
database sessions (``tests/unit/test_sessions.py``).

- ``read_session(engine)``: every read; on SQLite ``BEGIN DEFERRED``, so it never takes the write lock.
- ``Unit``: the session of one unit of work, with its ledger writer. The product makes them only through
  ``Services.transact`` (``vault/ledger/sequencer.py``, group commit), which keeps one on its connection
  (``WriteConnection``) and empties it after every batch; ``session_scope`` and ``run_in_transaction``
  make one of their own, for tests and tools.

SQLite (the embedded default) runs in WAL mode with ``synchronous=FULL`` and a writing transaction takes
the write lock at its start (``BEGIN IMMEDIATE``), so two writers never interleave a ledger append.
PostgreSQL serializes ledger appends with a transaction-scoped advisory lock (see ``vault/ledger/log.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from vault.config import Settings
from vault.errors import WritePathMisuse
from vault.ledger.driver import Driver
from vault.ledger.log import Edges, LedgerWriter
from vault.schema_head import MIGRATIONS as MIGRATIONS
from vault.schema_head import file_head

if TYPE_CHECKING:
    from alembic.config import Config


def make_engine(settings: Settings) -> Engine:
    """Create the engine for ``settings``; SQLite gets its durability pragmas on every connection."""
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite so BEGIN IMMEDIATE below is what runs.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Readers (see ``reader``) take no write lock; they begin here, before the dialect's ``do_begin``.
        if connection.get_execution_options().get(READ_ONLY, False):
            connection.exec_driver_sql("BEGIN DEFERRED")

    # Everything else locks up front, so a transaction never has to upgrade from reading to writing (which
    # SQLite answers with "database is locked"). Straight to the driver, from inside SQLAlchemy's begin: a
    # failure here (a lock timeout, a closed handle) still arrives wrapped, so a dropped connection is
    # recognised and replaced, without the statement machinery of ``exec_driver_sql`` on every write.
    engine.dialect.do_begin = _begin_immediate  # type: ignore[method-assign]


def _begin_immediate(dbapi_connection: Any) -> None:
    if not dbapi_connection.in_transaction:  # a reader has begun already (``BEGIN DEFERRED`` above)
        dbapi_connection.execute("BEGIN IMMEDIATE")


READ_ONLY = "offboard_read_only"


def reader(engine: Engine) -> Engine:
    """The same engine for transactions that only read: on SQLite they run without the write lock."""
    return engine.execution_options(**{READ_ONLY: True})


class ReadSession(Session):
    """A session that only reads: it never commits, so a change made in it would be lost without a word.
    Flushing one (explicitly, or by autoflush before a query) raises instead."""

    def flush(self, objects: Sequence[Any] | None = None) -> None:
        if self.new or self.dirty or self.deleted:
            raise ReadOnlySession("this session only reads; write through Services.transact (a unit of work)")
        super().flush(objects)


class ReadOnlySession(WritePathMisuse):
    """A change was made in a read session (a programming error: writes go through ``Services.transact``)."""

    code = "read-session-write"


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """The one read session: never takes the write lock (``BEGIN DEFERRED`` on SQLite), never commits.

    Rows it loads stay usable after it closes (``expire_on_commit=False``), so callers read what they need,
    leave the block, and only then do slow work (PDF layout, signing, network) with what they read.
    """
    with ReadSession(reader(engine), expire_on_commit=False) as session:
        yield session


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    cfg.attributes["engine"] = engine
    return cfg


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest migration: read from the files (``vault/schema_head.py``), from alembic when they do not
    name exactly one head."""
    head = file_head()
    if head is not None:
        return head
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        value = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return str(value) if value is not None else None


def migrate(engine: Engine) -> None:
    """Apply every Alembic migration up to head. Safe and cheap to run on every start."""
    if current_revision(engine) == head_revision():
        return
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


T = TypeVar("T")


class Unit(Session):
    """The session of one unit of work: ORM changes and ledger appends, committed together.

    Its ``ledger`` (a ``LedgerWriter``) holds the appends sequenced in this transaction. They are
    written before anything the ORM flushes is read back (``flush`` also runs before every ORM query, by
    autoflush), so ORM reads of ``ledger_entry`` inside the unit see the unit's own appends; and at
    ``commit``, after the ORM's rows. Made only here: by ``Sequencer`` (group commit, the product's one
    write path through ``Services.transact``) and by ``session_scope`` (tests and tools).
    """

    def __init__(
        self, bind: Engine | Connection, *, edges: Edges | None = None, begin: Callable[[], Driver] | None = None
    ) -> None:
        # On a connection whose transaction the ledger began, the ORM joins it and commits it (fully).
        super().__init__(bind=bind, expire_on_commit=False, join_transaction_mode="control_fully")
        self.ledger = LedgerWriter(self, edges, begin)

    def flush(self, objects: Sequence[Any] | None = None) -> None:
        super().flush(objects)
        self.ledger.flush()

    def commit(self) -> None:
        self.flush()
        super().commit()
        self.ledger.committed()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.ledger.reset()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.ledger.reset()


class WriteConnection:
    """The write path's kept connection and the one unit of work on it, reused batch after batch
    (``vault/ledger/sequencer.py``): a batch pays for its statements, not for a new session.

    The transaction begins at the first statement, the ledger's (through a cursor kept with the
    connection) or the ORM's. A batch whose units only appended commits the connection straight away;
    one that used the ORM commits through the session, which flushes its rows before the ledger's.

    On SQLite the ledger begins and commits its transactions on the driver connection itself
    (``BEGIN IMMEDIATE`` / ``COMMIT``): SQLAlchemy's transaction objects and events cost a third of the
    CPU of a lone append there. The ORM, when a unit uses it, joins that transaction (``_begin_immediate``
    sees it begun) and commits it. Driver errors are raised as SQLAlchemy would raise them, so a lost
    connection is still recognised and replaced, and a locked or full database is still a 503.
    """

    def __init__(self, engine: Engine, edges: Edges) -> None:
        self.connection = engine.connect()
        self._driver = Driver.on(self.connection)
        #: The sqlite3 connection, on SQLite (``None`` on PostgreSQL, whose begin sends nothing anyway).
        self._sqlite: Any = None if self._driver.postgres else self.connection.connection.dbapi_connection
        self.unit = Unit(self.connection, edges=edges, begin=self._begun)

    @property
    def usable(self) -> bool:
        return not (self.connection.invalidated or self.connection.closed)

    def _begun(self) -> Driver:
        if self._sqlite is not None:
            if not self._driver_began():
                self._on_driver("BEGIN IMMEDIATE", lambda: self._driver.cursor.execute("BEGIN IMMEDIATE"))
        elif not self.connection.in_transaction():
            self.connection.begin()
        return self._driver

    def _driver_began(self) -> bool:
        """Whether the sqlite3 connection is in a transaction (SQLAlchemy's or the ledger's own)."""
        return self._sqlite is not None and bool(self._on_driver("BEGIN", lambda: self._sqlite.in_transaction))

    def _in_driver_transaction(self) -> bool:
        """A transaction the ledger began on the driver, which SQLAlchemy has not joined."""
        return self._driver_began() and not self.connection.in_transaction()

    def _on_driver(self, statement: str, call: Callable[[], object]) -> object:
        """Run ``call`` on the driver connection; its error raised the way SQLAlchemy raises it (a closed
        handle is a lost connection: ``connection_invalidated``, so the write path replaces it)."""
        try:
            return call()
        except self.connection.dialect.loaded_dbapi.Error as exc:
            dialect = self.connection.dialect
            gone = dialect.is_disconnect(exc, self._sqlite, self._driver.cursor)
            if gone:
                self.connection.invalidate(exc)
            raise DBAPIError.instance(
                statement, (), exc, dialect.loaded_dbapi.Error, connection_invalidated=gone, dialect=dialect
            ) from exc

    def commit(self) -> None:
        unit = self.unit
        if unit.in_transaction():
            unit.commit()
        elif self.connection.in_transaction():
            unit.ledger.flush()
            self.connection.commit()
            unit.ledger.committed()
        elif self._in_driver_transaction():
            unit.ledger.flush()
            self._on_driver("COMMIT", self._sqlite.commit)
            unit.ledger.committed()

    def rollback(self) -> None:
        try:
            self.unit.rollback()
        finally:
            if self.connection.in_transaction():
                self.connection.rollback()
            elif self._in_driver_transaction():
                self._on_driver("ROLLBACK", self._sqlite.rollback)

    def end(self) -> None:
        """Empty the unit for the next batch, rolling back whatever a failed batch left open."""
        unit = self.unit
        try:
            open_ = self.connection.in_transaction() or self._driver_began()
            if not (open_ or unit.in_transaction() or unit.identity_map or unit.new):
                unit.ledger.reset()  # a batch that only appended, committed: nothing else to clear
                return
            self.rollback()
            unit.close()
        except DBAPIError:
            pass  # the connection is gone (and invalidated, so replaced): nothing of the batch committed

    def close(self) -> None:
        try:
            self.end()
        finally:
            self.connection.close()


class Read(Protocol):
    """Runs ``work`` in the one read session and returns its result (``Services.read``). For domain code
    that reads in steps between slow I/O (an audit, a background loop): it asks for a read session per step
    rather than opening one."""

    def __call__(self, work: Callable[[Session], T], /) -> T: ...


class Transact(Protocol):
    """Runs a unit of work in a committed transaction and returns its result: ``Services.transact``
    (group commit), or ``run_in_transaction`` bound to an engine in tests and tools."""

    def __call__(self, work: Callable[[Unit], T], /) -> T: ...


def run_in_transaction(engine: Engine, work: Callable[[Unit], T]) -> T:
    """Run ``work`` in its own unit of work and commit it (tests and tools; the product uses Services)."""
    with session_scope(engine) as session:
        return work(session)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Unit]:
    """A unit of work of its own that commits on success and rolls back on any exception (tests and
    tools: it takes the write lock for its whole block and shares no commit with other writers)."""
    with Unit(engine) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
