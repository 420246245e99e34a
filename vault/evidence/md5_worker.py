"""The worker's side of evidence MD5s (``md5.py`` says why and when): the ``evidence.md5`` handler."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from vault.db import Unit
from vault.evidence.ingest import stream_verified
from vault.evidence.md5 import EVIDENCE_MD5
from vault.jobs.registry import Registry
from vault.ledger import log
from vault.ledger.entries import EntryDraft, decode_entry
from vault.models import Evidence, LedgerEntry
from vault.pdfs.stored import SYSTEM_ACTOR

if TYPE_CHECKING:
    from vault.jobs.queue import ClaimedJob
    from vault.services import Services


def md5_job(services: Services, job: ClaimedJob, _now: datetime) -> None:
    """The ``evidence.md5`` handler: hash the object (checked against its SHA-256), record the MD5 once."""
    evidence_id = str(job.payload.get("evidence", ""))

    def load(session: Session) -> Evidence | None:
        row = session.get(Evidence, evidence_id)
        return row if row is not None and row.organization_id == job.organization_id else None

    row = services.read(load)
    if row is None:
        return  # the file's case is gone with it: nothing to record
    digest = hashlib.md5(usedforsecurity=False)
    for chunk in stream_verified(services.store, row):
        digest.update(chunk)
    draft = EntryDraft(
        type=EVIDENCE_MD5,
        organization_id=row.organization_id,
        case_id=row.case_id,
        actor=SYSTEM_ACTOR,
        data={"evidence": row.id, "sha256": row.sha256, "md5": digest.hexdigest()},
    )

    def record(session: Unit) -> None:
        log.lock_log(session, row.organization_id)
        if not recorded(session, row):  # a run cut short after its append left it recorded
            log.append(session, draft)

    services.transact(record)


def recorded(session: Session, row: Evidence) -> bool:
    """Whether the case's log already records this file's MD5 (only entries after its own can)."""
    query = select(LedgerEntry.body).where(
        col(LedgerEntry.organization_id) == row.organization_id,
        col(LedgerEntry.case_id) == row.case_id,
        col(LedgerEntry.entry_type) == EVIDENCE_MD5,
        col(LedgerEntry.idx) > (row.ledger_index if row.ledger_index is not None else -1),
    )
    return any(decode_entry(body).get("data", {}).get("evidence") == row.id for body in session.exec(query))


def register(registry: Registry) -> None:
    """The handler of evidence MD5s (``vault/jobs/catalog.py``)."""
    registry.register_handler(EVIDENCE_MD5, md5_job)
