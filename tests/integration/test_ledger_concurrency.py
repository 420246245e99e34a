"""Many processes appending at once never fork the tree: 8 processes x 250 appends on both backends."""

from __future__ import annotations

import multiprocessing
from typing import Any

from sqlmodel import Session, col, select

from vault.config import Settings
from vault.db import make_engine, session_scope
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.ledger.hashing import leaf_hash
from vault.ledger.integrity import _Compact
from vault.ledger.publish import head
from vault.models import LedgerEntry, Organization
from vault.orgs.organizations import create_organization

PROCESSES = 8
APPENDS = 250


def _worker(settings_json: str, organization_id: str, worker: int, start: Any) -> None:
    settings = Settings.model_validate_json(settings_json)
    engine = make_engine(settings)
    start.wait()
    for n in range(APPENDS):
        with session_scope(engine) as session:
            log.append(session, EntryDraft("test.concurrent", organization_id, None, f"worker:{worker}", {"n": n}))
    engine.dispose()


def test_concurrent_appends_from_processes(settings: Settings, services: Any) -> None:
    with session_scope(services.engine) as session:
        org_id = create_organization(session, name="Concurrent Co").id
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [
        context.Process(target=_worker, args=(settings.model_dump_json(), org_id, w, start)) for w in range(PROCESSES)
    ]
    for process in workers:
        process.start()
    start.set()
    for process in workers:
        process.join(timeout=300)
        assert process.exitcode == 0, f"worker exited with {process.exitcode}"

    with Session(services.engine) as session:
        rows = session.exec(
            select(LedgerEntry).where(LedgerEntry.organization_id == org_id).order_by(col(LedgerEntry.idx))
        ).all()
        assert [r.idx for r in rows] == list(range(PROCESSES * APPENDS))
        assert log.size(session, org_id) == PROCESSES * APPENDS
        # Every worker's appends all landed, each exactly once.
        seen = {(r.actor_from_body, r.n) for r in map(_parse, rows)}
        assert len(seen) == PROCESSES * APPENDS
        independent = _Compact()
        for row in rows:
            assert bytes(row.leaf_hash) == leaf_hash(bytes(row.body))
            independent.push(leaf_hash(bytes(row.body)))
        assert head(session, org_id).root_hash == independent.root()
        assert session.get(Organization, org_id) is not None


class _Parsed:
    def __init__(self, actor: str, n: int) -> None:
        self.actor_from_body = actor
        self.n = n


def _parse(row: LedgerEntry) -> _Parsed:
    import json

    body = json.loads(bytes(row.body))
    return _Parsed(body["actor"], body["data"]["n"])
