"""Evidence MD5s for the load file: the upload enqueues a job; some minutes later the worker hashes the
bytes (checked against the SHA-256) and records the MD5 as an ``evidence.md5`` ledger entry, once; an export
takes the MD5s its entries record instead of hashing the files again."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import col, select, update

from bench.bundle import seed
from tests.conftest import OWNER_EMAIL
from tests.integration.test_bundle_export import members
from vault.bundle import layout
from vault.bundle.export import BundleStream, prepare
from vault.bundle.verify import verify_bundle
from vault.cases.lifecycle import open_case
from vault.clock import system_clock
from vault.db import read_session, session_scope
from vault.evidence.ingest import EvidenceIngest
from vault.evidence.md5 import EVIDENCE_MD5, MD5_DELAY
from vault.jobs.loop import run_once
from vault.ledger import log
from vault.ledger.entries import EntryDraft, decode_entry
from vault.models import Evidence, Job, LedgerEntry
from vault.orgs.organizations import Principal, Role


def _upload(services: Any, principal: Principal, case_id: str, data: bytes, name: str) -> Evidence:
    ingest = EvidenceIngest(services.store, principal, case_id, services.ingest_limits, transact=services.transact)
    ingest.feed(data)
    return ingest.finish(filename=name, kind="deliverable", content_type=None, description=None).evidence


def _recorded(services: Any, case_id: str) -> list[dict[str, Any]]:
    with read_session(services.engine) as session:
        query = select(LedgerEntry).where(LedgerEntry.case_id == case_id, LedgerEntry.entry_type == EVIDENCE_MD5)
        return [decode_entry(row.body) for row in session.exec(query.order_by(col(LedgerEntry.idx)))]


def _case(services: Any, initialized: Any, name: str) -> tuple[Principal, str]:
    principal = Principal(initialized.organization_id, Role.ADMIN, "staff:admin@example.com")
    with session_scope(services.engine) as session:
        return principal, open_case(session, principal, client_name=name, owner_email=OWNER_EMAIL).id


def test_the_worker_records_each_uploads_md5_once_some_minutes_after_it(
    services: Any, initialized: Any, owner: str
) -> None:
    principal, case_id = _case(services, initialized, "Hashed")
    data = [b"first deliverable " * 1000, b"second " * 70_000]
    rows = [_upload(services, principal, case_id, blob, f"file-{n}.bin") for n, blob in enumerate(data)]
    with read_session(services.engine) as session:
        jobs = session.exec(select(Job).where(Job.kind == EVIDENCE_MD5)).all()
    assert sorted(job.key for job in jobs) == sorted(row.id for row in rows)
    now = system_clock()
    run_once(services, now=now + timedelta(seconds=30))  # not due yet: more uploads may be coming
    assert _recorded(services, case_id) == []
    report = run_once(services, now=now + MD5_DELAY + timedelta(minutes=1))
    assert report.failed == 0
    entries = _recorded(services, case_id)
    assert [e["data"] for e in entries] == [
        {"evidence": row.id, "sha256": row.sha256, "md5": hashlib.md5(blob, usedforsecurity=False).hexdigest()}
        for row, blob in zip(rows, data, strict=True)
    ]
    assert {e["actor"] for e in entries} == {"system:offboard"}
    # Run again (a job cut short after its append, say): still one entry per file.
    with session_scope(services.engine) as session:
        session.exec(update(Job).where(col(Job.kind) == EVIDENCE_MD5).values(done_at=None, attempts=0))  # type: ignore[call-overload]
    again = run_once(services, now=now + MD5_DELAY + timedelta(minutes=2))
    assert again.claimed == 2 and again.failed == 0
    assert len(_recorded(services, case_id)) == 2


def test_bytes_that_do_not_match_the_record_get_no_md5(services: Any, initialized: Any, owner: str) -> None:
    # The worker reads the bytes through the same SHA-256 check as every retrieval: what fails it is not
    # hashed. Here the record no longer names its object (a damaged row), on either store.
    principal, case_id = _case(services, initialized, "Damaged")
    row = _upload(services, principal, case_id, b"original bytes " * 100, "file.bin")
    with session_scope(services.engine) as session:
        session.exec(update(Evidence).where(col(Evidence.id) == row.id).values(sha256="f" * 64))  # type: ignore[call-overload]
    report = run_once(services, now=system_clock() + MD5_DELAY + timedelta(minutes=1))
    assert report.retried + report.failed == 1
    assert _recorded(services, case_id) == []


def _load_file_md5s(data: bytes) -> dict[str, str]:
    files = members(data)
    rows = csv.DictReader(io.StringIO(files[layout.LOADFILE_CSV].decode("utf-8"), newline=""))
    return {row["BAG_PATH"]: row["MD5"] for row in rows}


def test_an_export_takes_the_md5s_its_entries_record(tmp_path: Path) -> None:
    seeded = seed(tmp_path, total=3 * (2 << 20), entries=30, files=3)
    services = seeded.services
    try:
        run_once(services, now=system_clock() + MD5_DELAY + timedelta(minutes=1))
        assert len(_recorded(services, seeded.case_id)) == 3
        plan = prepare(services.transact, services.settings, seeded.principal, seeded.case_id)
        good = b"".join(BundleStream(services.transact, services.store, plan))
        files = members(good)
        found = _load_file_md5s(good)
        assert len(found) == 3
        assert found == {path: hashlib.md5(files[path], usedforsecurity=False).hexdigest() for path in found}
        (tmp_path / "good.zip").write_bytes(good)
        assert verify_bundle(tmp_path / "good.zip").ok

    finally:
        services.close()


def test_an_export_hashes_only_the_files_whose_md5_no_entry_records(tmp_path: Path) -> None:
    # No worker ran here. One file's MD5 is recorded by hand with a value that is not its bytes' MD5: the
    # export shows that value (it did not hash the file again) and hashes the other files as it copies them.
    seeded = seed(tmp_path, total=3 * (2 << 20), entries=30, files=3)
    services = seeded.services
    try:
        with read_session(services.engine) as session:
            first = session.exec(select(Evidence).where(Evidence.case_id == seeded.case_id)).first()
        assert first is not None
        marker = "1" * 32
        with session_scope(services.engine) as session:
            data = {"evidence": first.id, "sha256": first.sha256, "md5": marker}
            log.append(session, EntryDraft(EVIDENCE_MD5, first.organization_id, first.case_id, "test", data))
        plan = prepare(services.transact, services.settings, seeded.principal, seeded.case_id)
        bundle = b"".join(BundleStream(services.transact, services.store, plan))
        files, found = members(bundle), _load_file_md5s(bundle)
        path = layout.evidence_path(first.id, first.original_filename)
        assert found[path] == marker
        others = {p: m for p, m in found.items() if p != path}
        assert len(others) == 2
        assert others == {p: hashlib.md5(files[p], usedforsecurity=False).hexdigest() for p in others}
    finally:
        services.close()
