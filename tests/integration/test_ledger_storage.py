"""How the tree is stored: one row per append, the writer's cached right edge, and the 0004 migration that
moved interior nodes from their own table into the entry rows that complete them."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import Session, col, select

from tests.helpers import verify_ledger_now
from tests.unit.reference_tree import all_perfect_nodes, mth
from vault.db import alembic_config, session_scope
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.ledger.hashing import leaf_hash
from vault.ledger.publish import head
from vault.models import LedgerEntry, Organization
from vault.orgs.organizations import create_organization
from vault.services import build_services


def _append(services: Any, org_id: str, count: int, tag: str) -> None:
    for n in range(count):
        with session_scope(services.engine) as session:
            log.append(session, EntryDraft("test.entry", org_id, None, tag, {"n": n}))


def _bodies(services: Any, org_id: str) -> list[bytes]:
    with Session(services.engine) as session:
        rows = session.exec(
            select(LedgerEntry).where(LedgerEntry.organization_id == org_id).order_by(col(LedgerEntry.idx))
        ).all()
    assert [r.idx for r in rows] == list(range(len(rows)))
    return [bytes(r.body) for r in rows]


def test_each_append_writes_one_row_carrying_the_nodes_it_completes(services: Any) -> None:
    with session_scope(services.engine) as session:
        org_id = create_organization(session, name="Rows").id
    _append(services, org_id, 8, "a")
    with Session(services.engine) as session:
        rows = session.exec(select(LedgerEntry).order_by(col(LedgerEntry.idx))).all()
        # Leaf 7 (binary 111) completes (1, 3), (2, 1) and (3, 0): the root of the 8-leaf tree is last.
        assert [len(r.parents) // 32 for r in rows] == [0, 1, 0, 2, 0, 1, 0, 3]
        bodies = [bytes(r.body) for r in rows]
        assert rows[7].parents[64:96] == mth(bodies) == head(session, org_id).root_hash
        assert rows[5].parents == mth(bodies[4:6])


def test_writers_that_do_not_share_a_cache_build_one_tree(settings: Any) -> None:
    # Two services on one database stand for two API processes: each caches the right edge it last wrote,
    # and must notice (under the lock) that the other one appended since.
    first, second = build_services(settings), build_services(settings)
    try:
        with session_scope(first.engine) as session:
            org_id = create_organization(session, name="Two writers").id
        for count, services in ((3, first), (2, second), (4, first), (1, second), (5, first)):
            _append(services, org_id, count, "w")
        bodies = _bodies(first, org_id)
        assert len(bodies) == 15
        with Session(second.engine) as session:
            org = session.get(Organization, org_id)
            for size in range(1, 16):
                assert head(session, org_id, size).root_hash == mth(bodies[:size])
        assert org is not None
        report = verify_ledger_now(first, org)
        assert report.ok, report.problems
    finally:
        first.close()
        second.close()


def test_a_rolled_back_append_leaves_no_trace_in_the_cached_edge(services: Any) -> None:
    with session_scope(services.engine) as session:
        org_id = create_organization(session, name="Rollback").id
    _append(services, org_id, 3, "a")
    with pytest.raises(RuntimeError), session_scope(services.engine) as session:
        log.append(session, EntryDraft("test.entry", org_id, None, "lost", {}))
        raise RuntimeError("the domain write failed")
    _append(services, org_id, 2, "b")
    bodies = _bodies(services, org_id)
    assert len(bodies) == 5 and b"lost" not in b"".join(bodies)
    with Session(services.engine) as session:
        assert head(session, org_id).root_hash == mth(bodies)


def test_migration_moves_stored_nodes_into_entry_rows_and_back(services: Any) -> None:
    sizes = {}
    for name, count in (("Migrated", 13), ("Also migrated", 6)):
        with session_scope(services.engine) as session:
            org_id = create_organization(session, name=name).id
        _append(services, org_id, count, "m")
        sizes[org_id] = count
    bodies = {org_id: _bodies(services, org_id) for org_id in sizes}
    config = alembic_config(services.engine)
    command.downgrade(config, "0003")
    with Session(services.engine) as session:
        for org_id, count in sizes.items():
            where = text("SELECT level, idx, hash FROM ledger_node WHERE organization_id = :o").bindparams(o=org_id)
            stored = session.exec(where).all()  # type: ignore[call-overload]
            assert {(int(lv), int(i)): bytes(h) for lv, i, h in stored} == all_perfect_nodes(bodies[org_id])
            head_size = text("SELECT size FROM ledger_head WHERE organization_id = :o").bindparams(o=org_id)
            assert session.exec(head_size).one()[0] == count  # type: ignore[call-overload]
    command.upgrade(config, "head")
    for org_id in sizes:
        with Session(services.engine) as session:
            org = session.get(Organization, org_id)
            everything = list(all_perfect_nodes(bodies[org_id]))
            assert log.fetch_nodes(session, org_id, everything) == all_perfect_nodes(bodies[org_id])
            assert head(session, org_id).root_hash == mth(bodies[org_id])
        assert org is not None
        _append(services, org_id, 4, "after")  # the writer's cached edge is checked against the migrated rows
        assert verify_ledger_now(services, org).ok


def test_audit_names_a_row_whose_stored_nodes_are_missing_or_forged(services: Any) -> None:
    with session_scope(services.engine) as session:
        org_id = create_organization(session, name="Forged").id
    _append(services, org_id, 8, "f")
    with session_scope(services.engine) as session:
        row = session.exec(select(LedgerEntry).where(LedgerEntry.idx == 5)).one()
        row.parents = b""
        session.add(row)
    with Session(services.engine) as session:
        org = session.get(Organization, org_id)
    assert org is not None
    report = verify_ledger_now(services, org)
    assert report.first_bad_index == 5, report.problems
    assert any("stores 0 tree node(s), its append completes 1" in p.detail for p in report.problems)


def test_audit_names_an_entry_written_into_the_table_at_the_unsigned_end(services: Any) -> None:
    with session_scope(services.engine) as session:
        org_id = create_organization(session, name="Tail").id
    _append(services, org_id, 4, "t")
    forged = b'{"actor":"x","case":null,"data":{},"organization":"someone else","time":"t","type":"test.entry","v":1}'
    with session_scope(services.engine) as session:
        session.add(
            LedgerEntry(
                organization_id=org_id, idx=4, leaf_hash=leaf_hash(forged), body=forged, entry_type="test.entry"
            )
        )
        org = session.get(Organization, org_id)
    assert org is not None
    report = verify_ledger_now(services, org)
    assert report.first_bad_index == 4
    assert any("'organization' is 'someone else'" in p.detail for p in report.problems)


def test_publisher_finds_exactly_the_organizations_with_unsigned_entries(services: Any) -> None:
    from vault.ledger import keyring
    from vault.ledger.publish import publish, stale_organizations

    orgs = {}
    for name, count in (("Quiet", 0), ("Signed", 3), ("Behind", 2)):
        with session_scope(services.engine) as session:
            org = create_organization(session, name=name)
            keyring.ensure_key(session, services.settings, org)
            orgs[name] = org.id
        _append(services, org.id, count, "p")
    with Session(services.engine) as session:
        assert stale_organizations(session) == sorted([orgs["Signed"], orgs["Behind"]])
    for name in ("Signed", "Behind"):
        with session_scope(services.engine) as session:
            publish(session, services.settings, session.get(Organization, orgs[name]))
    _append(services, orgs["Behind"], 1, "later")
    with Session(services.engine) as session:
        assert stale_organizations(session) == [orgs["Behind"]]
