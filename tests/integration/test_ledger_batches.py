"""Batched appends build exactly the tree that one-by-one appends build, whatever the batch boundaries."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, col, select

from tests.helpers import verify_ledger_now
from vault.db import session_scope
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.ledger.integrity import _Compact
from vault.ledger.publish import head
from vault.models import LedgerEntry, Organization
from vault.orgs.organizations import create_organization


@pytest.mark.parametrize(
    "batches", [[37], [5, 11, 1, 20], [16, 16, 5], [3, 29, 5], [1] * 9 + [40], [3, 2 * log.INSERT_CHUNK + 7]]
)
def test_batches_build_the_same_tree(services: Any, batches: list[int]) -> None:
    with session_scope(services.engine) as session:
        org_id = create_organization(session, name="Batched").id
    n = 0
    for size in batches:
        with session_scope(services.engine) as session:
            log.append_many(session, [EntryDraft("t", org_id, None, "a", {"n": n + i}) for i in range(size)])
        n += size
    with Session(services.engine) as session:
        org = session.get(Organization, org_id)
        assert org is not None and log.size(session, org_id) == n
        rows = session.exec(
            select(LedgerEntry).where(LedgerEntry.organization_id == org_id).order_by(col(LedgerEntry.idx))
        ).all()
        reference = _Compact()
        for expected, row in enumerate(rows):
            assert row.idx == expected
            reference.push(bytes(row.leaf_hash))
            assert head(session, org_id, expected + 1).root_hash == reference.root()
    report = verify_ledger_now(services, org)
    assert report.ok, report.problems
