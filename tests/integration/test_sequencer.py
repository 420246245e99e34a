"""Group commit: concurrent units share transactions; a failing unit is undone alone."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session

from tests.helpers import verify_ledger_now
from vault.db import session_scope
from vault.errors import InvalidInput
from vault.ledger import log
from vault.ledger import sequencer as sequencer_module
from vault.ledger.entries import EntryDraft, decode_entry
from vault.ledger.sequencer import Sequencer
from vault.models import Organization
from vault.orgs.organizations import create_organization


def test_concurrent_units_are_batched_and_failures_isolated(services: Any) -> None:
    with session_scope(services.engine) as session:
        org_id = create_organization(session, name="Grouped").id
    sequencer = Sequencer(services.engine)
    results: dict[int, Any] = {}

    def unit(n: int) -> Any:
        def work(session: Session) -> int:
            index = log.append(session, EntryDraft("t", org_id, None, "a", {"n": n})).index
            if n % 7 == 3:
                log.append(session, EntryDraft("t", org_id, None, "a", {"n": n, "second": True}))
                raise InvalidInput(f"unit {n} fails after appending")
            return index

        return work

    def run(n: int) -> None:
        try:
            results[n] = sequencer.run(unit(n))
        except InvalidInput as exc:
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(80)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sequencer.close()

    failed = [n for n, r in results.items() if isinstance(r, InvalidInput)]
    assert sorted(failed) == [n for n in range(80) if n % 7 == 3]
    indexes = sorted(r for r in results.values() if isinstance(r, int))
    assert indexes == list(range(80 - len(failed))), "failed units must leave no gap and no entry"
    assert sequencer.units == 80 and 1 <= sequencer.batches <= 80
    with Session(services.engine) as session:
        assert log.size(session, org_id) == 80 - len(failed)
        org = session.get(Organization, org_id)
    report = verify_ledger_now(services, org)
    assert report.ok, report.problems


def test_many_appends_in_one_transaction_then_reads_see_them(services: Any) -> None:
    with session_scope(services.engine) as session:
        org_id = create_organization(session, name="Write behind").id
        for n in range(20):
            assert log.append(session, EntryDraft("t", org_id, None, "a", {"n": n})).index == n
        assert log.size(session, org_id) == 20  # reads flush what was sequenced
        assert log.entry(session, org_id, 19).idx == 19
        log.append(session, EntryDraft("t", org_id, None, "a", {"n": 20}))
    with Session(services.engine) as session:
        assert log.size(session, org_id) == 21


def test_rolled_back_transaction_leaves_no_entries(services: Any) -> None:
    with session_scope(services.engine) as session:
        org_id = create_organization(session, name="Rollback").id
    with pytest.raises(RuntimeError), session_scope(services.engine) as session:
        log.append(session, EntryDraft("t", org_id, None, "a", {}))
        raise RuntimeError("crash before commit")
    with session_scope(services.engine) as session:
        assert log.append(session, EntryDraft("t", org_id, None, "a", {})).index == 0


def test_a_dropped_writer_connection_is_replaced_without_losing_the_batch(services: Any) -> None:
    # The sequencer keeps one connection across batches. If it is dropped (PostgreSQL: the server ends
    # the backend, as on a restart; SQLite: the file handle is closed under it), the next batch fails on
    # its first statement, before anything could commit: it runs again on a new connection and its caller
    # never sees the drop.
    postgres = services.engine.dialect.name == "postgresql"
    with session_scope(services.engine) as session:
        org_id = create_organization(session, name="Dropped").id
    sequencer = Sequencer(services.engine)
    try:
        first = sequencer.run(lambda s: s.connection().connection.driver_connection)
        if postgres:
            pid = first.info.backend_pid
            with session_scope(services.engine) as session:
                session.exec(text("SELECT pg_terminate_backend(:pid)").bindparams(pid=pid))  # type: ignore[call-overload]
        else:
            first.close()
        index = sequencer.run(lambda s: log.append(s, EntryDraft("t", org_id, None, "a", {})).index)
        second = sequencer.run(lambda s: s.connection().connection.driver_connection)
    finally:
        sequencer.close()
    assert index == 0 and second is not first
    with Session(services.engine) as session:
        assert log.size(session, org_id) == 1


def test_a_lone_writer_commits_on_its_own_thread(services: Any) -> None:
    # No writer thread: a caller that finds no batch in progress leads one itself, so a lone request pays
    # no thread hand-off.
    sequencer = Sequencer(services.engine)
    try:
        ran_on = [sequencer.run(lambda _s: threading.get_ident()) for _ in range(3)]
        sequencer.close()  # drops the kept connection; the next unit opens a new one
        ran_on.append(sequencer.run(lambda _s: threading.get_ident()))
    finally:
        sequencer.close()
    assert ran_on == [threading.get_ident()] * 4
    assert sequencer.batches == 4 and sequencer.units == 4


def test_waiting_units_are_committed_by_the_next_leader_in_one_batch(services: Any) -> None:
    with session_scope(services.engine) as session:
        org_id = create_organization(session, name="Leaders").id
    sequencer = Sequencer(services.engine)
    leading, release = threading.Event(), threading.Event()
    ran_on: dict[str, int] = {}
    indexes: dict[str, int] = {}

    def call(name: str) -> None:
        def unit(session: Session) -> int:
            if name == "first":
                leading.set()
                release.wait(10)
            ran_on[name] = threading.get_ident()
            return log.append(session, EntryDraft("t", org_id, None, name, {})).index

        indexes[name] = sequencer.run(unit)

    first = threading.Thread(target=call, args=("first",))
    first.start()
    assert leading.wait(10), "the first caller leads its own batch"
    followers = [threading.Thread(target=call, args=(name,)) for name in ("b", "c", "d")]
    for thread in followers:
        thread.start()
    for _ in range(1000):  # until the three followers wait behind the blocked leader
        if len(sequencer._waiting) == 3:
            break
        release.wait(0.01)
    assert len(sequencer._waiting) == 3
    release.set()
    for thread in (first, *followers):
        thread.join(10)
    sequencer.close()

    assert indexes["first"] == 0 and sorted(indexes.values()) == [0, 1, 2, 3]
    assert sequencer.batches == 2, "the three followers share the second batch"
    assert ran_on["first"] != ran_on["b"]
    assert ran_on["b"] == ran_on["c"] == ran_on["d"], "the oldest follower led the batch for all three"
    with Session(services.engine) as session:
        assert log.size(session, org_id) == 4


class Interrupted(BaseException):
    """Stands for an exception raised in a waiting caller's thread (KeyboardInterrupt, SystemExit)."""


@pytest.mark.parametrize("when", ["while queued", "once made leader"])
def test_a_caller_that_stops_waiting_leaves_no_one_stranded(
    services: Any, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    with session_scope(services.engine) as session:
        org_id = create_organization(session, name=f"Interrupted {when}").id
    sequencer = Sequencer(services.engine)
    leading, release = threading.Event(), threading.Event()
    ran: list[str] = []
    outcomes: dict[str, Any] = {}

    def unit(name: str) -> Any:
        def work(session: Session) -> int:
            if name == "a":
                leading.set()
                release.wait(10)
            ran.append(name)
            return log.append(session, EntryDraft("t", org_id, None, name, {})).index

        work.__name__ = name
        return work

    original = sequencer_module._Unit.wait

    def wait(self: Any) -> bool:
        if self.work.__name__ == "b" and when == "while queued":
            raise Interrupted
        settled: bool = original(self)
        if self.work.__name__ == "b":
            raise Interrupted
        return settled

    monkeypatch.setattr(sequencer_module._Unit, "wait", wait)

    def call(name: str) -> None:
        try:
            outcomes[name] = sequencer.run(unit(name))
        except Interrupted as exc:
            outcomes[name] = exc

    threads = {name: threading.Thread(target=call, args=(name,)) for name in "abc"}
    threads["a"].start()
    assert leading.wait(10)
    threads["b"].start()
    if when == "while queued":
        threads["b"].join(10)  # it raised before waiting: its unit is taken back
    else:
        _wait_for(lambda: len(sequencer._waiting) == 1)
    threads["c"].start()
    _wait_for(lambda: len(sequencer._waiting) == (1 if when == "while queued" else 2))
    release.set()
    for thread in threads.values():
        thread.join(10)
    sequencer.close()

    assert isinstance(outcomes["b"], Interrupted) and "b" not in ran, "b's unit was taken back, never run"
    assert outcomes["a"] == 0 and outcomes["c"] == 1, "c was committed by a leader after a"
    with Session(services.engine) as session:
        assert log.size(session, org_id) == 2


def _wait_for(condition: Any) -> None:
    for _ in range(1000):
        if condition():
            return
        threading.Event().wait(0.01)
    raise AssertionError("condition not reached")


def test_a_failing_unit_whose_appends_were_already_written_is_undone_alone(services: Any) -> None:
    # The batch is retried with a savepoint per unit; a unit that wrote its appends (a read of the log
    # flushes them) before failing must lose them with its savepoint, whatever the units before it did.
    with session_scope(services.engine) as session:
        org_id = create_organization(session, name="Written then failed").id
    sequencer = Sequencer(services.engine)
    leading, release = threading.Event(), threading.Event()
    outcomes: dict[str, Any] = {}

    def call(name: str) -> None:
        def unit(session: Session) -> int:
            if name == "first":
                leading.set()
                release.wait(10)
            index = log.append(session, EntryDraft("t", org_id, None, name, {})).index
            if name == "c":
                assert log.size(session, org_id) == index + 1  # written, inside the unit's transaction
                raise InvalidInput("c fails after its append was written")
            return index

        try:
            outcomes[name] = sequencer.run(unit)
        except InvalidInput as exc:
            outcomes[name] = exc

    first = threading.Thread(target=call, args=("first",))
    first.start()
    assert leading.wait(10)
    followers = []
    for queued, name in enumerate(("b", "c", "d"), start=1):  # queued in this order behind the blocked leader
        followers.append(threading.Thread(target=call, args=(name,)))
        followers[-1].start()
        _wait_for(lambda queued=queued: len(sequencer._waiting) == queued)
    release.set()
    for thread in (first, *followers):
        thread.join(10)
    sequencer.close()

    assert isinstance(outcomes["c"], InvalidInput)
    assert (outcomes["first"], outcomes["b"], outcomes["d"]) == (0, 1, 2)
    assert sequencer.batches == 2
    with Session(services.engine) as session:
        assert log.size(session, org_id) == 3
        bodies = [log.entry(session, org_id, index).body for index in range(3)]
        assert [decode_entry(body)["actor"] for body in bodies] == ["first", "b", "d"]
        org = session.get(Organization, org_id)
    report = verify_ledger_now(services, org)
    assert report.ok, report.problems


def test_on_sqlite_a_locked_database_reaches_the_caller_as_sqlalchemy_raises_it(tmp_path: Any) -> None:
    # On SQLite the write path begins and commits the ledger's transactions on the driver connection. A
    # driver error there must still arrive as SQLAlchemy's OperationalError, which the adapters answer with
    # 503 database-unavailable (a raw sqlite3 error would be a 500), and the path must go on afterwards.
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from vault.config import Settings
    from vault.errors import database_unavailable
    from vault.services import build_services
    from vault.setup import initialize

    services = build_services(Settings(home=tmp_path / "home", base_url="http://t.example"))
    initialize(services)
    with session_scope(services.engine) as session:
        org_id = create_organization(session, name="Locked").id
    sequencer = Sequencer(services.engine)
    other = sqlite3.connect(services.settings.resolved_database_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        sequencer.run(lambda s: s.connection().exec_driver_sql("PRAGMA busy_timeout=50"))
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        with pytest.raises(OperationalError) as raised:
            sequencer.run(lambda s: log.append(s, EntryDraft("t", org_id, None, "a", {})))
        unavailable = database_unavailable(raised.value)
        assert unavailable is not None and "locked" in unavailable.message
        other.execute("ROLLBACK")
        # The next unit appends and, through the ORM in the same batch, reads the organization back.
        index, name = sequencer.run(
            lambda s: (log.append(s, EntryDraft("t", org_id, None, "a", {})).index, s.get(Organization, org_id).name)
        )
    finally:
        other.close()
        sequencer.close()
    assert (index, name) == (0, "Locked")
    with Session(services.engine) as session:
        assert log.size(session, org_id) == 1
    services.close()


def test_on_sqlite_a_commit_on_a_lost_driver_connection_fails_as_sqlalchemy_raises_it(tmp_path: Any) -> None:
    # The ledger-only batch commits on the sqlite3 connection itself. If that connection is gone by then,
    # the caller gets SQLAlchemy's error (a lost connection, so the path replaces it), never a raw sqlite3
    # error; nothing of the batch is written, and the next unit commits on a new connection.
    from sqlalchemy.exc import DBAPIError

    from vault.config import Settings
    from vault.services import build_services
    from vault.setup import initialize

    services = build_services(Settings(home=tmp_path / "home", base_url="http://t.example"))
    initialize(services)
    with session_scope(services.engine) as session:
        org_id = create_organization(session, name="Lost").id
    sequencer = Sequencer(services.engine)

    def append_then_lose_the_connection(s: Any) -> None:
        log.append(s, EntryDraft("t", org_id, None, "a", {}))
        s.ledger.driver().cursor.connection.close()  # the handle dies before the commit

    try:
        with pytest.raises(DBAPIError) as raised:
            sequencer.run(append_then_lose_the_connection)
        assert raised.value.connection_invalidated
        index = sequencer.run(lambda s: log.append(s, EntryDraft("t", org_id, None, "a", {})).index)
    finally:
        sequencer.close()
    assert index == 0
    with Session(services.engine) as session:
        assert log.size(session, org_id) == 1
    services.close()
