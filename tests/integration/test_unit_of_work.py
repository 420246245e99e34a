"""The unit of work (``vault/db.py``'s ``Unit``, from ``Services.transact``) and its ledger writer.

Appends go through the unit's own ``LedgerWriter``: ORM reads inside the unit see them, a read session
cannot append at all, a unit cannot start another, and no SQLAlchemy hook is registered for every
session of the process.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlmodel import Session, col, select

from vault.db import Unit, read_session, session_scope
from vault.errors import WritePathMisuse
from vault.ledger import log
from vault.ledger.driver import lock_key
from vault.ledger.entries import EntryDraft
from vault.ledger.sequencer import NestedUnitOfWork
from vault.models import LedgerEntry
from vault.orgs.organizations import create_organization


def _draft(org_id: str, n: int, case_id: str | None = None) -> EntryDraft:
    return EntryDraft("test.unit", org_id, case_id, "test:unit", {"n": n})


def _org(services: Any) -> str:
    with session_scope(services.engine) as session:
        return create_organization(session, name="Units").id


def test_orm_reads_in_a_unit_see_its_own_appends(services: Any) -> None:
    org_id = _org(services)

    def work(session: Unit) -> tuple[list[int], int | None]:
        log.append(session, _draft(org_id, 0, "case-1"))
        log.append(session, _draft(org_id, 1, "case-1"))
        # No explicit flush: the ORM's autoflush writes the unit's appends before it queries.
        rows = session.exec(select(LedgerEntry).where(LedgerEntry.organization_id == org_id)).all()
        got = session.get(LedgerEntry, (org_id, 1))
        return sorted(row.idx for row in rows), got.idx if got is not None else None

    assert services.transact(work) == ([0, 1], 1)
    with read_session(services.engine) as session:
        query = select(LedgerEntry.idx).where(LedgerEntry.organization_id == org_id).order_by(col(LedgerEntry.idx))
        assert list(session.exec(query).all()) == [0, 1]


def test_a_failed_unit_leaves_no_entry_and_the_next_one_continues(services: Any) -> None:
    org_id = _org(services)
    services.transact(lambda s: log.append(s, _draft(org_id, 0)))

    def failing(session: Unit) -> None:
        log.append(session, _draft(org_id, 1))
        raise ValueError("the unit fails after appending")

    with pytest.raises(ValueError, match="fails after appending"):
        services.transact(failing)
    assert services.transact(lambda s: log.append(s, _draft(org_id, 2)).index) == 1
    with read_session(services.engine) as session:
        assert log.size(session, org_id) == 2


def test_a_unit_cannot_start_another(services: Any) -> None:
    org_id = _org(services)

    def outer(session: Unit) -> None:
        log.append(session, _draft(org_id, 0))
        services.transact(lambda inner: log.append(inner, _draft(org_id, 1)))

    with pytest.raises(NestedUnitOfWork, match="pass the unit's session down"):
        services.transact(outer)
    # The write path is still usable, and the outer unit committed nothing.
    assert services.transact(lambda s: log.append(s, _draft(org_id, 2)).index) == 0


def test_a_read_session_cannot_append(services: Any) -> None:
    org_id = _org(services)
    with read_session(services.engine) as session, pytest.raises(WritePathMisuse, match="need a unit of work"):
        log.append(session, _draft(org_id, 0))


def test_no_hook_is_registered_for_every_session() -> None:
    import vault.services  # noqa: F401 - everything the write path imports is loaded

    with Session() as session:  # an instance's listeners include every class-wide one
        for name in ("before_commit", "after_commit", "after_transaction_end", "before_flush", "after_flush"):
            assert len(getattr(session.dispatch, name)) == 0, name


def test_a_change_in_a_read_session_is_refused_not_lost(services: Any) -> None:
    from vault.db import ReadOnlySession
    from vault.models import Organization

    org_id = _org(services)
    with read_session(services.engine) as session:
        org = session.get(Organization, org_id)
        assert org is not None
        org.name = "Renamed in a read session"
        with pytest.raises(ReadOnlySession, match="write through Services.transact"):
            session.exec(select(Organization)).all()  # autoflush would have written it


def _another_writer_can_lock(services: Any, org_id: str) -> bool:
    """Whether a writer outside the write path could take the organization's log lock right now."""
    if services.engine.dialect.name == "sqlite":
        other = sqlite3.connect(services.engine.url.database, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc)
            return False
        finally:
            other.close()
    with services.engine.connect() as connection:
        got = connection.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": lock_key(org_id)}).scalar()
        connection.rollback()
        return bool(got)


def test_a_unit_holds_the_log_lock_from_its_first_append_and_readers_do_not_wait(services: Any) -> None:
    org_id = _org(services)
    seen: dict[str, object] = {}

    def work(session: Unit) -> None:
        log.append(session, _draft(org_id, 0))
        seen["another writer locks"] = _another_writer_can_lock(services, org_id)
        with read_session(services.engine) as reader:
            seen["a reader sees"] = log.size(reader, org_id)

    services.transact(work)
    assert seen == {"another writer locks": False, "a reader sees": 0}
    assert _another_writer_can_lock(services, org_id), "the lock ends with the unit's commit"
    with read_session(services.engine) as reader:
        assert log.size(reader, org_id) == 1


def test_each_unit_starts_with_an_empty_session(services: Any) -> None:
    # The write path keeps its session from batch to batch; nothing a unit loaded is seen by the next.
    from vault.models import Organization

    org_id = _org(services)
    loaded = services.transact(lambda s: s.get(Organization, org_id))
    assert services.transact(lambda s: (len(s.identity_map), list(s.new), s.in_transaction())) == (0, [], False)
    assert loaded is not None and inspect(loaded).detached and loaded.id == org_id
