"""What a case view shows besides the row: progress, overdue obligations and the ledger timeline.

Due dates count from the client's intent date (the day offboarding starts), never from when work began:
a step is due on ``intent_date + due_offset_days``; access must be revoked by the target end date. An
item is overdue from the day after it was due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from vault.cases.lifecycle import CaseStatus, get_case
from vault.errors import VerificationFailed
from vault.ledger.entries import decode_entry
from vault.models import AccessItem, Case, CaseStep, LedgerEntry
from vault.states import AccessStatus, StepStatus


@dataclass(frozen=True, slots=True)
class Progress:
    steps_done: int
    steps_required: int
    optional_done: int
    optional_total: int
    access_revoked: int
    access_total: int


@dataclass(frozen=True, slots=True)
class OverdueItem:
    #: ``step`` or ``access``.
    kind: str
    #: The step key or the access item id.
    ref: str
    title: str
    due: date
    days_overdue: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "ref": self.ref,
            "title": self.title,
            "due": self.due.isoformat(),
            "days_overdue": self.days_overdue,
        }


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One ledger entry of the case: its index in the organization's log and its decoded body."""

    index: int
    type: str
    time: str
    actor: str
    data: dict[str, Any]
    leaf_hash: str


def step_due(case: Case, step: CaseStep) -> date:
    return case.intent_date + timedelta(days=step.due_offset_days)


def progress(session: Session, case: Case) -> Progress:
    steps = session.exec(select(CaseStep).where(CaseStep.case_id == case.id)).all()
    items = session.exec(select(AccessItem).where(AccessItem.case_id == case.id)).all()
    required = [s for s in steps if s.required]
    optional = [s for s in steps if not s.required]
    return Progress(
        steps_done=sum(s.status == StepStatus.DONE for s in required),
        steps_required=len(required),
        optional_done=sum(s.status == StepStatus.DONE for s in optional),
        optional_total=len(optional),
        access_revoked=sum(i.status == AccessStatus.REVOKED for i in items),
        access_total=len(items),
    )


def overdue_items(session: Session, case: Case, today: date) -> list[OverdueItem]:
    """Required steps past due and access not revoked by the target end date (none once closed)."""
    if case.status == CaseStatus.FULLY_OFFBOARDED:
        return []
    out: list[OverdueItem] = []
    steps = session.exec(select(CaseStep).where(CaseStep.case_id == case.id).order_by(col(CaseStep.position))).all()
    for step in steps:
        due = step_due(case, step)
        if step.required and step.status != StepStatus.DONE and due < today:
            out.append(OverdueItem("step", step.key, step.title, due, (today - due).days))
    target = case.target_end_date
    if target is not None and target < today:
        items = session.exec(
            select(AccessItem).where(AccessItem.case_id == case.id, AccessItem.status == AccessStatus.ACTIVE.value)
        )
        for item in items.all():
            out.append(OverdueItem("access", item.id, item.name, target, (today - target).days))
    return out


def overdue_cases(session: Session, organization_id: str, today: date) -> list[Case]:
    query = select(Case).where(
        Case.organization_id == organization_id, Case.status != CaseStatus.FULLY_OFFBOARDED.value
    )
    return [c for c in session.exec(query.order_by(col(Case.opened_at))).all() if overdue_items(session, c, today)]


def timeline(session: Session, organization_id: str, case_id: str) -> list[TimelineEvent]:
    """The case's ledger entries in log order, read straight from the log (the entries are the record)."""
    get_case(session, organization_id, case_id)
    rows = session.exec(
        select(LedgerEntry)
        .where(LedgerEntry.organization_id == organization_id, LedgerEntry.case_id == case_id)
        .order_by(col(LedgerEntry.idx))
    ).all()
    return [_event(row, case_id) for row in rows]


def timeline_page(
    session: Session, organization_id: str, case_id: str, *, before: int | None = None, limit: int = 200
) -> list[TimelineEvent]:
    """Up to ``limit`` of the case's entries, newest first, those with an index below ``before`` when given.

    One page is one indexed query of ``limit`` rows, so a case with thousands of entries pages quickly."""
    get_case(session, organization_id, case_id)
    query = select(LedgerEntry).where(LedgerEntry.organization_id == organization_id, LedgerEntry.case_id == case_id)
    if before is not None:
        query = query.where(LedgerEntry.idx < before)
    rows = session.exec(query.order_by(col(LedgerEntry.idx).desc()).limit(limit)).all()
    return [_event(row, case_id) for row in rows]


def _event(row: LedgerEntry, case_id: str) -> TimelineEvent:
    body = decode_entry(bytes(row.body))
    if body.get("case") != case_id:
        raise VerificationFailed(f"ledger entry {row.idx} is indexed under case {case_id} but names {body.get('case')}")
    return TimelineEvent(
        index=row.idx,
        type=str(body["type"]),
        time=str(body["time"]),
        actor=str(body["actor"]),
        data=dict(body["data"]),
        leaf_hash=bytes(row.leaf_hash).hex(),
    )
