"""Case links in the log: every entry of a case names the case's previous entry, whoever wrote it (one
transaction, several, group commit with a failed unit, two processes), ``ledger verify`` catches a wrong
link, and a bundle whose case began before links existed says how far its completeness is proven."""

from __future__ import annotations

import io
import json
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from tests.conftest import add_owner
from tests.helpers import run_cli, verify_ledger_now
from tests.integration.bundle_corpus import export
from vault import canonical
from vault.bundle import layout
from vault.bundle.verify import verify_bundle
from vault.cases.lifecycle import add_note, open_case
from vault.clock import rfc3339
from vault.db import session_scope
from vault.evidence.ingest import EvidenceIngest
from vault.ledger import log
from vault.ledger.entries import CaseLink, EntryDraft, case_link
from vault.ledger.hashing import leaf_hash
from vault.models import LedgerEntry, Organization
from vault.orgs.organizations import Principal, Role, create_organization
from vault.services import build_services


def _draft(org_id: str, case_id: str | None, n: int) -> EntryDraft:
    return EntryDraft("test.entry", org_id, case_id, "test:links", {"n": n})


def assert_chains(services: Any, org_id: str) -> dict[str, list[int]]:
    """Walk every case's entries in index order: each links to the one before (the first to none)."""
    with Session(services.engine) as session:
        rows = session.exec(
            select(LedgerEntry).where(LedgerEntry.organization_id == org_id).order_by(col(LedgerEntry.idx))
        ).all()
        org = session.get(Organization, org_id)
    heads: dict[str, CaseLink] = {}
    seen: dict[str, list[int]] = {}
    for row in rows:
        body = json.loads(bytes(row.body))
        if row.case_id is None:
            assert "prev" not in body
            continue
        assert case_link(body) == heads.get(row.case_id), (row.idx, body)
        heads[row.case_id] = CaseLink(row.idx, leaf_hash(bytes(row.body)))
        seen.setdefault(row.case_id, []).append(row.idx)
    assert org is not None
    report = verify_ledger_now(services, org)
    assert report.ok, report.problems
    return seen


def test_links_across_transactions_batches_and_a_rolled_back_unit(services: Any) -> None:
    with session_scope(services.engine) as session:
        org_id = create_organization(session, name="Links").id
    for n in range(3):
        with session_scope(services.engine) as session:
            log.append(session, _draft(org_id, "case-a", n))
            log.append(session, _draft(org_id, None, n))
    with session_scope(services.engine) as session:  # several appends of two cases in one transaction
        log.append_many(session, [_draft(org_id, c, n) for n in range(3) for c in ("case-a", "case-b")])
        mark = log.mark(session)
        log.append(session, _draft(org_id, "case-b", 99))
        log.append(session, _draft(org_id, "case-c", 99))
        log.rewind(session, mark)  # the unit failed: its appends are forgotten, links included
        log.append(session, _draft(org_id, "case-b", 100))

    def unit(n: int) -> None:
        def work(session: Session) -> None:
            log.append(session, _draft(org_id, "case-a" if n % 2 else "case-c", n))
            if n == 5:
                raise ValueError("this unit fails; its neighbours in the batch commit")

        try:
            services.transact(work)
        except ValueError:
            assert n == 5

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(unit, range(16)))
    seen = assert_chains(services, org_id)
    assert len(seen["case-a"]) == 3 + 3 + 7 and len(seen["case-b"]) == 3 + 1 and len(seen["case-c"]) == 8


def test_two_writers_that_do_not_share_a_cache_keep_one_chain(settings: Any) -> None:
    first, second = build_services(settings), build_services(settings)
    try:
        with session_scope(first.engine) as session:
            org_id = create_organization(session, name="Two writers").id
        for n, services in enumerate((first, second, first, first, second, first)):
            with session_scope(services.engine) as session:
                log.append(session, _draft(org_id, "shared", n))
        assert len(assert_chains(first, org_id)["shared"]) == 6
    finally:
        first.close()
        second.close()


def test_ledger_verify_names_a_wrong_link(services: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with session_scope(services.engine) as session:
        org_id = create_organization(session, name="Forked").id
        org = session.get(Organization, org_id)
    for n in range(3):
        with session_scope(services.engine) as session:
            log.append(session, _draft(org_id, "case-a", n))
    # A writer that links to the wrong entry (the first, not the last): the tree is sound, the chain is not.
    monkeypatch.setattr(log.LedgerWriter, "_case_head", lambda *_: CaseLink(0, b"\x01" * 32))
    with session_scope(services.engine) as session:
        log.append(session, _draft(org_id, "case-a", 3))
    assert org is not None
    report = verify_ledger_now(services, org)
    assert not report.ok
    assert [p.detail for p in report.problems] == [
        "entry 3: it links to entry 0 as its case's previous entry; the previous one is entry 2"
    ]


def _version_1(draft: EntryDraft, time: Any, prev: Any = None) -> bytes:  # noqa: ARG001 - what the last release wrote
    document = {
        "v": 1,
        "type": draft.type,
        "time": rfc3339(time),
        "organization": draft.organization_id,
        "case": draft.case_id,
        "actor": draft.actor,
        "data": draft.data,
    }
    return canonical.dumps(document)


def test_a_case_begun_before_links_verifies_with_a_warning(
    services: Any, initialized: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    principal = Principal(initialized.organization_id, Role.ADMIN, "test:legacy")
    owner = add_owner(services, initialized.organization_id)
    with monkeypatch.context() as old_release:
        old_release.setattr(log, "encode_entry", _version_1)
        with session_scope(services.engine) as session:
            case_id = open_case(session, principal, client_name="Legacy Co", owner_email=owner).id
        ingest = EvidenceIngest(services.store, principal, case_id, services.ingest_limits, transact=services.transact)
        ingest.feed(b"delivered before the upgrade\n")
        ingest.finish(filename="old.txt", kind="deliverable", content_type="text/plain", description=None)
    with session_scope(services.engine) as session:
        add_note(session, principal, case_id, "written after the upgrade")
    data, _ = export(services, principal, case_id)
    path = tmp_path / "legacy.zip"
    path.write_bytes(data)
    files_index = json.loads(_member(data, layout.INDEX))
    first_linked = next(i for i in files_index["entries"] if json.loads(_member(data, layout.entry_path(i)))["v"] == 2)
    last_legacy = max(i for i in files_index["entries"] if i < first_linked)

    report = verify_bundle(path)
    assert report.ok and not report.complete and report.complete_from == last_legacy
    assert [w.detail.split(":")[0] for w in report.warnings] == [f"not provable for entries before index {last_legacy}"]
    code, out, _ = run_cli(capsys, "verify", str(path))
    assert code == 0
    assert f"WARNING [completeness] case: not provable for entries before index {last_legacy}" in out
    assert "completeness NOT proven" in out


def _member(data: bytes, path: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = archive.namelist()[0].split("/", 1)[0]
        return archive.read(f"{root}/{path}")
