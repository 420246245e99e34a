"""The case list: one row per case with its progress and next due date, in three queries for any count.

``progress.progress`` and ``progress.overdue_items`` read one case at a time; a list of 2,000 cases built
from them would be 4,000 queries. Here the steps and the access register are aggregated per case in the
database (one grouped query each), and the rows follow the same rules as those functions: a required step
not done is due on ``intent_date + due_offset_days``, active access is due on the target end date, an item
is overdue from the day after it was due, and a fully offboarded case has nothing due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case as when_then
from sqlalchemy import func
from sqlmodel import Session, col, select

from vault.cases.lifecycle import CaseStatus
from vault.models import AccessItem, Case, CaseStep
from vault.states import AccessStatus, StepStatus

#: Longest client-name search the list accepts (longer text cannot match a 300-character name anyway).
MAX_SEARCH = 300


@dataclass(frozen=True, slots=True)
class CaseListFilter:
    """What the list is narrowed to; ``None`` or empty means no narrowing."""

    status: CaseStatus | None = None
    owner_email: str | None = None
    #: A case-insensitive substring of the client's name.
    search: str = ""


@dataclass(frozen=True, slots=True)
class CaseRow:
    """One case as the list shows it."""

    id: str
    client_name: str
    status: str
    owner_email: str
    service_type: str
    steps_done: int
    steps_required: int
    #: The earliest due date of what is still to do (a required step, or active access); ``None`` if nothing.
    next_due: date | None
    overdue: bool


def _step_counts(session: Session, organization_id: str) -> dict[str, tuple[int, int, int | None]]:
    """Per case: required steps, required steps done, and the smallest due offset of those not done."""
    required, done = col(CaseStep.required), col(CaseStep.status) == StepStatus.DONE.value
    query = (
        select(
            col(CaseStep.case_id),
            func.count().filter(required),
            func.count().filter(required & done),
            func.min(when_then((required & ~done, col(CaseStep.due_offset_days)), else_=None)),
        )
        .where(CaseStep.organization_id == organization_id)
        .group_by(col(CaseStep.case_id))
    )
    return {case_id: (total, finished, offset) for case_id, total, finished, offset in session.exec(query).all()}


def _cases_with_active_access(session: Session, organization_id: str) -> set[str]:
    query = (
        select(col(AccessItem.case_id))
        .where(AccessItem.organization_id == organization_id, AccessItem.status == AccessStatus.ACTIVE.value)
        .distinct()
    )
    return set(session.exec(query).all())


def _next_due(case: Case, offset: int | None, active_access: bool) -> date | None:
    if case.status == CaseStatus.FULLY_OFFBOARDED:
        return None
    dues = [case.intent_date + timedelta(days=offset)] if offset is not None else []
    if active_access and case.target_end_date is not None:
        dues.append(case.target_end_date)
    return min(dues, default=None)


def case_rows(session: Session, organization_id: str, *, today: date, narrow: CaseListFilter) -> list[CaseRow]:
    """The organization's cases as list rows: overdue first, then by next due date (none last), then name."""
    query = select(Case).where(Case.organization_id == organization_id)
    if narrow.status is not None:
        query = query.where(Case.status == narrow.status.value)
    if narrow.owner_email:
        query = query.where(Case.owner_email == narrow.owner_email)
    search = narrow.search.strip()[:MAX_SEARCH]
    if search:
        # LIKE wildcards typed by a person are literal characters here.
        pattern = "%" + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(func.lower(col(Case.client_name)).like(pattern, escape="\\"))
    cases = session.exec(query).all()
    steps = _step_counts(session, organization_id)
    access = _cases_with_active_access(session, organization_id)
    rows = []
    for case in cases:
        total, finished, offset = steps.get(case.id, (0, 0, None))
        due = _next_due(case, offset, case.id in access)
        rows.append(
            CaseRow(
                id=case.id,
                client_name=case.client_name,
                status=case.status,
                owner_email=case.owner_email,
                service_type=case.service_type,
                steps_done=finished,
                steps_required=total,
                next_due=due,
                overdue=due is not None and due < today,
            )
        )
    rows.sort(key=lambda r: (not r.overdue, r.next_due is None, r.next_due or today, r.client_name.lower()))
    return rows
