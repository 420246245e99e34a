"""Issuing a certificate of completion: a worker job once a case reaches ``fully_offboarded``.

Why a job and not the close itself: the certificate carries the final-state entry's inclusion proof in a
signed checkpoint, and no checkpoint can hold an entry before the unit of work that appends it has
committed. So the close enqueues ``certificate.issue`` in its own unit (``schedule_certificate``), and the
worker, moments later: (1) takes the first checkpoint that covers the entry, publishing one if none does;
(2) derives the statement from the case's ledger entries (``vault/certificates/statement.py``), proves the
entry in that checkpoint and signs the canonical JSON with the organization's Ed25519 key; (3) renders and
PAdES-signs the PDF outside any transaction (a TSA may be slow), and writes a long-term (B-LTA) one to the
object store; (4) stores both, appends ``certificate.issued``, records a long-term PDF as the certificate's
stored PDF (``certificate.pdf_stored``, ``certificate_store.py``) and enqueues the emails to the owner and
the client contacts, in one unit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from vault.certificates.certificate_downloads import CERTIFICATE_SOURCE
from vault.certificates.certificate_pdf import render_certificate_pdf
from vault.certificates.certificate_store import certificate_subject
from vault.certificates.schedule import CERTIFICATE_ISSUE
from vault.certificates.statement import Entry, derive_statement
from vault.clock import rfc3339
from vault.config import Settings
from vault.db import Unit
from vault.errors import GiveUp, NotFound
from vault.handover.receipts import SignedDocument, sign_document
from vault.jobs.mailing import enqueue_mail
from vault.jobs.queue import ClaimedJob
from vault.ledger import keyring, log, service
from vault.ledger.checkpoint import PublishedCheckpoint
from vault.ledger.entries import EntryDraft
from vault.ledger.publish import first_checkpoint_covering
from vault.models import Case, Certificate, Checkpoint, LedgerEntry, Organization, new_id
from vault.pdfs.stored import WrittenPdf, record_first, write_long_term
from vault.witnessing.cosigned import cosigned_checkpoint

if TYPE_CHECKING:
    from vault.jobs.registry import Registry
    from vault.services import Services

CERTIFICATE_TYPE = "offboard.certificate/v1"
ISSUER = "system:offboard"


def case_entries(session: Session, organization_id: str, case_id: str) -> list[Entry]:
    """The case's ledger entries in index order, decoded from their exact bytes."""
    query = select(LedgerEntry).where(LedgerEntry.organization_id == organization_id, LedgerEntry.case_id == case_id)
    rows = session.exec(query.order_by(col(LedgerEntry.idx))).all()
    return [(row.idx, json.loads(bytes(row.body))) for row in rows]


def existing_certificate(session: Session, case_id: str, final_index: int) -> Certificate | None:
    query = select(Certificate).where(Certificate.case_id == case_id, Certificate.final_index == final_index)
    return session.exec(query).first()


def _covering_checkpoint(session: Session, settings: Settings, org_id: str, index: int) -> int:
    """The id of the first checkpoint whose tree holds entry ``index``; publishes one if none does."""
    checkpoint = first_checkpoint_covering(session, org_id, index)
    if checkpoint is None:
        org = session.get(Organization, org_id)
        if org is None:
            raise NotFound(f"no organization {org_id}")
        checkpoint = service.current_checkpoint(session, settings, org)
    assert checkpoint.id is not None  # noqa: S101 - a stored checkpoint has its row id
    return checkpoint.id


@dataclass(frozen=True, slots=True)
class Drafted:
    """A signed certificate statement, before its PDF exists."""

    signed: SignedDocument
    organization: Organization
    issued_at: datetime


def draft_certificate(
    session: Session, settings: Settings, *, case: Case, final_index: int, checkpoint_id: int, now: datetime
) -> Drafted:
    """Derive, prove and sign the certificate of ``case``'s closing at ``final_index``."""
    org = session.get(Organization, case.organization_id)
    checkpoint = session.get(Checkpoint, checkpoint_id)
    if org is None or checkpoint is None:
        raise NotFound(f"the organization or checkpoint of case {case.id} is gone")
    derived = derive_statement(case_entries(session, org.id, case.id), final_index=final_index)
    proof = service.prove_inclusion(session, org.id, final_index, checkpoint.size)
    key = keyring.active_key(session, org.id)
    signer = keyring.load_signer(settings, key)
    document: dict[str, Any] = {
        "type": CERTIFICATE_TYPE,
        "id": new_id(),
        "issued_at": rfc3339(now),
        "organization": {"id": org.id, "name": org.name, "slug": org.slug},
        **derived,
        "ledger": {
            "inclusion": proof.to_json(),
            "checkpoint": PublishedCheckpoint(checkpoint.note, checkpoint.key_id).to_json(),
            "cosigned_note": cosigned_checkpoint(session, org, checkpoint).cosigned_note,
        },
        "signer": {"key_name": signer.name, "key_id": key.key_id, "vkey": signer.verifier.vkey()},
    }
    return Drafted(sign_document(signer, document), org, now)


def _notify(session: Session, services: Services, row: Certificate, document: dict[str, Any]) -> None:
    """One ``mail.send`` job per recipient, attaching the certificate's files (read when each is sent)."""
    case = document["case"]
    org = session.get(Organization, row.organization_id)
    base_url = services.settings.base_url.rstrip("/")
    context = {
        "organization": document["organization"]["name"],
        "client_name": case["client_name"],
        "case_id": case["id"],
        "certificate_id": row.id,
        "sha256": row.sha256,
        "key_id": row.key_id,
        "closed": document["dates"]["closed"],
        "ledger_index": row.final_index,
        "console_url": f"{base_url}/cases/{case['id']}",
        "keys_url": f"{base_url}/.well-known/offboard/keys?organization={document['organization']['slug']}",
        "verify_url": f"{base_url}/.well-known/offboard/verify.html",
    }
    recipients = [(True, case["owner"])] + [(False, c) for c in case.get("contacts") or []]
    for for_owner, to in recipients:
        if isinstance(to, str) and "@" in to:
            enqueue_mail(
                session,
                organization_id=row.organization_id,
                case_id=row.case_id,
                key=f"certificate:{row.id}:{to}",
                template="certificate",
                to=to,
                context={**context, "for_owner": for_owner},
                run_at=row.created_at,
                reply_to=None if for_owner or org is None else org.reply_to,
                attach={"source": CERTIFICATE_SOURCE, "id": row.id},
            )


def record_certificate(
    unit: Unit,
    services: Services,
    *,
    case: Case,
    final_index: int,
    drafted: Drafted,
    pdf: bytes,
    written: WrittenPdf | None = None,
) -> Certificate:
    """Store the certificate, append ``certificate.issued`` and enqueue its emails (once per closing); a
    long-term PDF ``written`` to the object store is recorded as its stored PDF (``certificate.pdf_stored``)."""
    found = existing_certificate(unit, case.id, final_index)
    if found is not None:
        return found
    signed = drafted.signed
    document = json.loads(signed.body)
    row = Certificate(
        id=document["id"],
        organization_id=case.organization_id,
        case_id=case.id,
        final_index=final_index,
        document=signed.body,
        sha256=signed.sha256,
        signature=signed.signature,
        key_id=signed.key_id,
        key_name=signed.key_name,
        pdf=pdf,
        created_at=drafted.issued_at,
    )
    unit.add(row)
    unit.flush()
    data = {
        "certificate": row.id,
        "sha256": row.sha256,
        "key_id": row.key_id,
        "signature": signed.detached.to_json()["signature"],
        "final_index": final_index,
        "checkpoint_size": document["ledger"]["checkpoint"]["size"],
    }
    draft = EntryDraft("certificate.issued", case.organization_id, case.id, ISSUER, data)
    row.ledger_index = log.append(unit, draft, clock=lambda: drafted.issued_at).index
    unit.add(row)
    _notify(unit, services, row, document)
    if written is not None:
        record_first(unit, certificate_subject(row), written, clock=services.clock)
    return row


def issue_certificate(services: Services, *, organization_id: str, case_id: str, final_index: int) -> Certificate:
    """Issue the certificate of ``case_id``'s closing at ``final_index`` (idempotent: a second call returns
    the first certificate)."""
    settings, now = services.settings, services.clock()

    def case_of(session: Session) -> Case:
        case = session.get(Case, case_id)
        if case is None or case.organization_id != organization_id:
            raise GiveUp(f"no case {case_id} in organization {organization_id}")
        return case

    case = services.read(case_of)
    found = services.read(lambda s: existing_certificate(s, case_id, final_index))
    if found is not None:
        return found
    checkpoint_id = services.transact(lambda u: _covering_checkpoint(u, settings, organization_id, final_index))
    drafted = services.read(
        lambda s: draft_certificate(
            s, settings, case=case, final_index=final_index, checkpoint_id=checkpoint_id, now=now
        )
    )
    pdf = render_certificate_pdf(drafted.signed, settings, drafted.organization, created=now, clock=services.clock)
    # Written before the unit (the store is no transaction); lost to a concurrent issuer, it is an orphan.
    written = write_long_term(services.store, pdf) if settings.pdf_ltv else None
    return services.transact(
        lambda u: record_certificate(
            u, services, case=case, final_index=final_index, drafted=drafted, pdf=pdf, written=written
        )
    )


def issue_job(services: Services, job: ClaimedJob, now: datetime) -> None:  # noqa: ARG001 - the handler shape
    """The handler of ``certificate.issue``."""
    issue_certificate(
        services,
        organization_id=job.organization_id,
        case_id=str(job.payload["case_id"]),
        final_index=int(job.payload["final_index"]),
    )


def register(registry: Registry) -> None:
    """Add ``certificate.issue`` to the worker (``vault/jobs/catalog.py``)."""
    registry.register_handler(CERTIFICATE_ISSUE, issue_job)
