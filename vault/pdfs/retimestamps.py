"""Re-timestamping stored long-term PDFs of every kind: the one implementation behind ``offboard receipt
retimestamp`` and ``offboard certificate retimestamp`` (``retimestamp_named``) and the worker's daily sweep
(issue 17, requirement 4; ``docs/receipts.md`` "Stored PDFs", ``docs/worker.md`` "PDF re-timestamping").

Each PDF is its own step (``vault/pdfs/stored.py`` ``retimestamp_pdf``): read, extend through the TSA, store,
then record in a unit of its own, so the ones done before a failure stay done, and a retry (the worker's
job, or the command run again) finds only the rest still due.

The sweep enqueues one ``pdf.retimestamp`` job per organization and UTC day (the key is the organization and
the date, so two workers sweeping at once, or a second run the same day, enqueue nothing more) when any of
its stored PDFs may be due; the job re-timestamps those whose newest version's last timestamp expires within
``OFFBOARD_PDF_RETIMESTAMP_DAYS`` of the tick. A TSA that fails raises, and the job machinery retries the job
after its backoff; after the last attempt the next day's job takes over, so a due PDF is never forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from signing import pades
from signing.errors import LongTermError
from vault.cases.lifecycle import get_case
from vault.db import Unit
from vault.errors import ConfigurationError, GiveUp, InvalidInput, NotFound
from vault.handover.receipt_pdf import long_term
from vault.handover.receipts import get_receipt
from vault.jobs import queue
from vault.jobs.queue import ClaimedJob
from vault.jobs.registry import Retries
from vault.models import Job, Organization, StoredPdf
from vault.pdfs.stored import SYSTEM_ACTOR, Retimestamped, due_before, latest_pdfs, retimestamp_pdf
from vault.states import PdfKind

if TYPE_CHECKING:
    from vault.jobs.registry import Registry
    from vault.services import Services

#: ``--before`` default: re-timestamp when the last timestamp's TSA certificate expires within 90 days.
DEFAULT_BEFORE_DAYS = 90
PDF_RETIMESTAMP = "pdf.retimestamp"
#: A TSA that is down is asked again after 5, 10, 20 ... minutes, at most every 6 hours, for about 4 days.
PDF_RETRIES = Retries(max_attempts=20, base=timedelta(minutes=5), ceiling=timedelta(hours=6))


@dataclass(frozen=True, slots=True)
class PdfSelection:
    """Which stored PDFs a run looks at: of these kinds, of one subject or of one case when given.

    ``missing`` is the message of the ``InvalidInput`` raised when a subject or case is named and has no
    stored PDF of these kinds at all."""

    kinds: tuple[PdfKind, ...] = tuple(PdfKind)
    subject_id: str | None = None
    case_id: str | None = None
    missing: str = "nothing named has a stored long-term PDF"

    def newest(self, session: Session, organization_id: str, cutoff: datetime | None) -> list[StoredPdf]:
        """The newest version of each selected PDF (due before ``cutoff`` when given), oldest expiry first."""
        rows: list[StoredPdf] = []
        for kind in self.kinds:
            rows += latest_pdfs(
                session,
                organization_id=organization_id,
                kind=kind,
                subject_id=self.subject_id,
                case_id=self.case_id,
                expiring_before=cutoff,
            )
        return sorted(rows, key=lambda r: (r.timestamp_expires_at, r.kind, r.subject_id, r.edition))


def retimestamp_pdfs(
    svc: Services,
    *,
    organization_id: str,
    actor: str,
    selection: PdfSelection,
    before_days: int = DEFAULT_BEFORE_DAYS,
    everything: bool = False,
    now: datetime | None = None,
    check: Callable[[Session], object] | None = None,
) -> list[Retimestamped]:
    """Re-timestamp the organization's selected stored PDFs whose last document timestamp's TSA certificate
    expires within ``before_days`` of ``now`` (default: the clock), or every one with ``everything``.
    ``check`` runs in the read session first (that the named receipt or case exists). A PDF another run
    extended meanwhile is left alone."""
    if not svc.settings.tsa_url:
        raise ConfigurationError("re-timestamping PDFs needs a timestamp authority: set OFFBOARD_TSA_URL")
    if before_days < 0:
        raise InvalidInput(f"--before takes a number of days, 0 or more; found {before_days}")
    cutoff = None if everything else due_before(now or svc.clock(), before_days)

    def due(session: Session) -> tuple[Organization, list[StoredPdf]]:
        org = session.get(Organization, organization_id)
        if org is None:
            raise NotFound(f"no organization {organization_id}")
        if check is not None:
            check(session)
        named = selection.subject_id is not None or selection.case_id is not None
        if named and not selection.newest(session, organization_id, None):
            raise InvalidInput(selection.missing)
        return org, selection.newest(session, organization_id, cutoff)

    org, rows = svc.read(due)
    if not rows:
        return []
    _, inputs, tsa_url = long_term(svc.settings, org, clock=svc.clock)

    def stamp(data: bytes) -> bytes:
        try:
            return pades.retimestamp(data, tsa_url=tsa_url, ltv=inputs)
        except LongTermError as exc:
            raise ConfigurationError(str(exc)) from exc

    done: list[Retimestamped] = []
    for row in rows:
        made = retimestamp_pdf(svc.transact, svc.store, row, stamp=stamp, actor=actor, clock=svc.clock)
        if made is not None:
            done.append(made)
    return done


def retimestamp_named(
    svc: Services,
    kind: PdfKind,
    *,
    organization_id: str,
    actor: str,
    named: str | None = None,
    before_days: int = DEFAULT_BEFORE_DAYS,
    everything: bool = False,
) -> list[Retimestamped]:
    """``offboard <kind> retimestamp [NAMED]``: the organization's stored PDFs of ``kind``, of one receipt
    (``named``, for receipts) or of one case's certificates (for certificates) when given."""
    if kind is PdfKind.RECEIPT:
        selection = PdfSelection(
            (kind,),
            subject_id=named,
            missing=f"receipt {named} has no stored long-term PDF (one is stored when it is first downloaded "
            "with OFFBOARD_PDF_LTV=1)",
        )
        exists: Callable[[Session, str, str], object] = get_receipt
    else:
        selection = PdfSelection(
            (kind,),
            case_id=named,
            missing=f"case {named} has no certificate with a stored long-term PDF (one is stored when the "
            "certificate is issued with OFFBOARD_PDF_LTV=1)",
        )
        exists = get_case
    return retimestamp_pdfs(
        svc,
        organization_id=organization_id,
        actor=actor,
        selection=selection,
        before_days=before_days,
        everything=everything,
        check=None if named is None else lambda session: exists(session, organization_id, named),
    )


def job_key(organization_id: str, now: datetime) -> str:
    """One job per organization and UTC day."""
    return f"{organization_id}:{now.date().isoformat()}"


def due_organizations(session: Session, *, now: datetime, days: int) -> list[str]:
    """The organizations whose newest version of some stored PDF is due within ``days`` of ``now`` and
    that have no job of today yet. Versions a re-timestamp superseded do not count: once every PDF is
    extended, no job is enqueued until one is due again."""
    cutoff = due_before(now, days)
    newer = aliased(StoredPdf)
    superseded = (
        select(newer.id)
        .where(
            newer.organization_id == StoredPdf.organization_id,
            newer.kind == StoredPdf.kind,
            newer.subject_id == StoredPdf.subject_id,
            newer.edition == StoredPdf.edition,
            newer.version > StoredPdf.version,
        )
        .exists()
    )
    query = (
        select(StoredPdf.organization_id).where(col(StoredPdf.timestamp_expires_at) < cutoff, ~superseded).distinct()
    )
    found = []
    for org_id in sorted(session.exec(query).all()):
        today = select(Job.id).where(Job.kind == PDF_RETIMESTAMP, Job.key == job_key(org_id, now))
        if session.exec(today.limit(1)).first() is None:
            found.append(org_id)
    return found


def sweep(services: Services, now: datetime) -> None:
    """Enqueue today's ``pdf.retimestamp`` job of each organization with PDFs that may be due (nothing
    without ``OFFBOARD_TSA_URL`` or with ``OFFBOARD_PDF_RETIMESTAMP_DAYS=0``)."""
    days = services.settings.pdf_retimestamp_days
    if not services.settings.tsa_url or days == 0:
        return
    due = services.read(lambda session: due_organizations(session, now=now, days=days))

    def enqueue_all(unit: Unit) -> None:
        for org_id in due:
            key = job_key(org_id, now)
            queue.enqueue(unit, organization_id=org_id, kind=PDF_RETIMESTAMP, key=key, payload={}, run_at=now)

    if due:
        services.transact(enqueue_all)


def retimestamp_job(services: Services, job: ClaimedJob, now: datetime) -> None:
    """The ``pdf.retimestamp`` handler: every due stored PDF of the organization, both kinds."""
    days = services.settings.pdf_retimestamp_days
    if not services.settings.tsa_url or days == 0:
        raise GiveUp("OFFBOARD_TSA_URL is unset or OFFBOARD_PDF_RETIMESTAMP_DAYS is 0: no PDF is re-timestamped")
    retimestamp_pdfs(
        services,
        organization_id=job.organization_id,
        actor=SYSTEM_ACTOR,
        selection=PdfSelection(),
        before_days=days,
        now=now,
    )


def register(registry: Registry) -> None:
    """The sweep and the handler of PDF re-timestamping (``vault/jobs/catalog.py``)."""
    registry.register_sweep("pdf-retimestamps", sweep)
    registry.register_handler(PDF_RETIMESTAMP, retimestamp_job, retries=PDF_RETRIES)
