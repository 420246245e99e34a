"""Offboarding cases: opening one, its state machine, steps, owner and notes (``docs/cases.md``).

Every change appends its ledger entry in the caller's transaction, so the row and the entry commit
together or not at all. A case of another organization is reported exactly like a case that does not
exist. The final-state gate and the explicit transitions live in ``vault/cases/gate.py``.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, select

from vault.cases.criteria import unmet_criteria
from vault.cases.playbooks import PlaybookSpec, default_playbook, get_version, spec_of
from vault.clock import Clock, rfc3339, system_clock
from vault.errors import Conflict, InvalidInput, NotFound
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.models import Case, CaseNote, CaseStep, Evidence, PlaybookVersion
from vault.orgs.organizations import Principal
from vault.orgs.staff import normalize_email, staff_by_email
from vault.states import CaseStatus as CaseStatus  # re-exported: the case's state machine is used from here
from vault.states import StepStatus

MAX_CONTACTS = 20
MAX_NOTE = 10_000


class Trigger(StrEnum):
    CANCELLATION = "cancellation"
    CONTRACT_END = "contract_end"
    EARLY_TERMINATION = "early_termination"
    PROJECT_CONCLUDED = "project_concluded"


S = CaseStatus
#: The only moves a case can make. ``fully_offboarded`` is entered only through the gate (``vault/cases/gate.py``).
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    S.OPEN: frozenset({S.IN_PROGRESS, S.DISPUTED}),
    S.IN_PROGRESS: frozenset({S.AWAITING_ACKNOWLEDGMENT, S.FULLY_OFFBOARDED, S.DISPUTED}),
    S.AWAITING_ACKNOWLEDGMENT: frozenset({S.IN_PROGRESS, S.FULLY_OFFBOARDED, S.DISPUTED}),
    S.DISPUTED: frozenset({S.IN_PROGRESS}),
    S.FULLY_OFFBOARDED: frozenset({S.DISPUTED}),
}


def parse_trigger(value: str | None) -> Trigger:
    try:
        return Trigger((value or Trigger.CANCELLATION.value).strip().lower())
    except ValueError:
        allowed = ", ".join(t.value for t in Trigger)
        raise InvalidInput(f"trigger must be one of {allowed}; got {value!r}") from None


def loads_list(text: str) -> list[Any]:
    value = json.loads(text)
    return value if isinstance(value, list) else []


def dumps_list(values: list[Any]) -> str:
    return json.dumps(values, separators=(",", ":"))


def record(session: Session, case: Case, principal: Principal, type_: str, data: dict[str, Any], clock: Clock) -> int:
    """Append a case entry in the caller's transaction; returns its ledger index."""
    draft = EntryDraft(
        type=type_, organization_id=case.organization_id, case_id=case.id, actor=principal.actor, data=data
    )
    return log.append(session, draft, clock=clock).index


def get_case(session: Session, organization_id: str, case_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None or case.organization_id != organization_id:
        raise NotFound(f"no case {case_id!r} in this organization")
    return case


def writable_case(session: Session, organization_id: str, case_id: str) -> Case:
    """The case, unless it is fully offboarded: then only notes and a dispute may add to it."""
    case = get_case(session, organization_id, case_id)
    if case.status == CaseStatus.FULLY_OFFBOARDED:
        raise Conflict(f"case {case_id} is fully_offboarded and immutable; add a note or open a dispute instead")
    return case


def list_cases(session: Session, organization_id: str, *, status: str | None = None) -> list[Case]:
    query = select(Case).where(Case.organization_id == organization_id)
    if status is not None:
        query = query.where(Case.status == CaseStatus(status).value)
    return list(session.exec(query.order_by(col(Case.opened_at))).all())


def change_status(
    session: Session, case: Case, principal: Principal, to: CaseStatus, reason: str, *, clock: Clock
) -> int:
    """Move ``case`` to ``to`` if ``TRANSITIONS`` allows it; returns the status entry's ledger index."""
    current = CaseStatus(case.status)
    if to not in TRANSITIONS[current]:
        raise Conflict(f"a case cannot move from {current.value} to {to.value}")
    now = clock()
    data = {"from": current.value, "to": to.value, "reason": reason}
    index = record(session, case, principal, "case.status_changed", data, lambda: now)
    case.status = to.value
    case.updated_at = now
    if to == CaseStatus.FULLY_OFFBOARDED:
        case.closed_at = now
    session.add(case)
    session.flush()
    return index


def begin_work(session: Session, case: Case, principal: Principal, *, clock: Clock) -> None:
    """The first recorded work moves an open case to ``in_progress``."""
    if case.status == CaseStatus.OPEN:
        change_status(session, case, principal, CaseStatus.IN_PROGRESS, "work recorded", clock=clock)


def _contacts(values: list[str]) -> list[str]:
    contacts = list(dict.fromkeys(normalize_email(v) for v in values if v.strip()))
    if len(contacts) > MAX_CONTACTS:
        raise InvalidInput(f"a case has at most {MAX_CONTACTS} client contacts, found {len(contacts)}")
    return contacts


def _snapshot_steps(session: Session, case: Case, spec: PlaybookSpec) -> None:
    """Copy the playbook version's steps into the case: a later version of the playbook never changes it."""
    for position, step in enumerate(spec.steps):
        session.add(
            CaseStep(
                organization_id=case.organization_id,
                case_id=case.id,
                position=position,
                key=step.key,
                title=step.title,
                description=step.description,
                required=step.required,
                depends_on=dumps_list(list(step.depends_on)),
                criteria=dumps_list(list(step.criteria)),
                due_offset_days=step.due_days,
            )
        )


def _record_opening(
    session: Session,
    case: Case,
    principal: Principal,
    version: PlaybookVersion,
    *,
    contacts: list[str],
    target: date,
    now: datetime,
) -> None:
    """``case.opened`` with what the case was opened with, then ``case.playbook_snapshot`` naming the version."""
    opened = {
        "client_name": case.client_name,
        "contacts": contacts,
        "owner": case.owner_email,
        "owner_id": case.owner_id,
        "trigger": case.trigger,
        "service_type": case.service_type,
        "intent_date": case.intent_date.isoformat(),
        "target_end_date": target.isoformat(),
        "status": case.status,
    }
    record(session, case, principal, "case.opened", opened, lambda: now)
    snapshot = {
        "playbook": case.service_type,
        "version": version.version,
        "sha256": version.sha256,
        "playbook_version": version.id,
    }
    record(session, case, principal, "case.playbook_snapshot", snapshot, lambda: now)


def open_case(
    session: Session,
    principal: Principal,
    *,
    client_name: str,
    owner_email: str,
    contacts: list[str] | None = None,
    service_type: str | None = None,
    trigger: str | None = None,
    intent_date: date | None = None,
    target_end_date: date | None = None,
    clock: Clock = system_clock,
) -> Case:
    """Open a case: snapshot the playbook version into steps and record ``case.opened`` and
    ``case.playbook_snapshot``, all in the caller's transaction."""
    principal.can_write()
    client_name = client_name.strip()
    if not client_name or len(client_name) > 300:
        raise InvalidInput("client name must be 1 to 300 characters")
    org = principal.organization_id
    owner = staff_by_email(session, org, owner_email)
    contact_list = _contacts(contacts or [])
    parsed_trigger = parse_trigger(trigger)
    now = clock()
    intent = intent_date or now.date()
    if intent > now.date():
        raise InvalidInput(f"the intent date is when the client said they are leaving; {intent} is in the future")
    key = service_type.strip() if service_type else default_playbook(session, org, clock=clock).key
    version = get_version(session, org, key, clock=clock)
    spec = spec_of(version)
    target = target_end_date or intent + timedelta(days=max(s.due_days for s in spec.steps))
    if target < intent:
        raise InvalidInput(f"the target end date {target} is before the intent date {intent}")
    case = Case(
        organization_id=org,
        client_name=client_name,
        owner_email=owner.email,
        owner_id=owner.id,
        client_contacts=dumps_list(contact_list),
        service_type=key,
        trigger=parsed_trigger.value,
        intent_date=intent,
        target_end_date=target,
        playbook_version_id=version.id,
        opened_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    _snapshot_steps(session, case, spec)
    _record_opening(session, case, principal, version, contacts=contact_list, target=target, now=now)
    session.flush()
    return case


def list_steps(session: Session, organization_id: str, case_id: str) -> list[CaseStep]:
    get_case(session, organization_id, case_id)
    query = select(CaseStep).where(CaseStep.case_id == case_id).order_by(col(CaseStep.position))
    return list(session.exec(query).all())


def get_step(session: Session, case: Case, step_key: str) -> CaseStep:
    step = session.exec(select(CaseStep).where(CaseStep.case_id == case.id, CaseStep.key == step_key)).first()
    if step is None:
        raise NotFound(f"case {case.id} has no step {step_key!r}")
    return step


def case_evidence(session: Session, case: Case, evidence_ids: list[str]) -> list[Evidence]:
    """The named evidence rows, each of which must belong to ``case``."""
    rows = []
    for evidence_id in dict.fromkeys(evidence_ids):
        row = session.get(Evidence, evidence_id)
        if row is None or row.organization_id != case.organization_id or row.case_id != case.id:
            raise NotFound(f"no evidence {evidence_id!r} in case {case.id}")
        rows.append(row)
    return rows


def complete_step(
    session: Session,
    principal: Principal,
    case_id: str,
    step_key: str,
    *,
    evidence_ids: list[str] | None = None,
    note: str | None = None,
    clock: Clock = system_clock,
) -> CaseStep:
    """Complete a step once its dependencies are done and its criteria are met; records ``step.completed``."""
    principal.can_write()
    case = writable_case(session, principal.organization_id, case_id)
    step = get_step(session, case, step_key)
    if step.status == StepStatus.DONE:
        raise Conflict(f"step {step_key!r} was already completed at {rfc3339(step.completed_at or case.opened_at)}")
    deps = loads_list(step.depends_on)
    if deps:
        query = select(CaseStep).where(CaseStep.case_id == case.id, col(CaseStep.key).in_(deps))
        pending = [s.key for s in session.exec(query).all() if s.status != StepStatus.DONE]
        if pending:
            raise Conflict(
                f"step {step_key!r} depends on steps not completed yet: {', '.join(sorted(pending))}",
                details={"pending_dependencies": sorted(pending)},
            )
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"a note must be at most {MAX_NOTE} characters")
    evidence = case_evidence(session, case, evidence_ids or [])
    unmet = unmet_criteria(session, case, loads_list(step.criteria), evidence, note)
    if unmet:
        raise Conflict(
            f"step {step_key!r} does not meet its completion criteria: " + "; ".join(unmet),
            details={"unmet": unmet},
        )
    begin_work(session, case, principal, clock=clock)
    now = clock()
    data = {
        "step": step.key,
        "title": step.title,
        "evidence": [{"id": e.id, "sha256": e.sha256, "kind": e.kind} for e in evidence],
        "note": note or None,
    }
    step.ledger_index = record(session, case, principal, "step.completed", data, lambda: now)
    step.status, step.completed_at, step.completed_by = StepStatus.DONE.value, now, principal.actor
    step.evidence_ids, step.note = dumps_list([e.id for e in evidence]), note or None
    case.updated_at = now
    session.add_all([step, case])
    session.flush()
    return step


def change_owner(
    session: Session,
    principal: Principal,
    case_id: str,
    *,
    owner_email: str,
    reason: str,
    clock: Clock = system_clock,
) -> Case:
    """Reassign the one owner of a case; records ``case.owner_changed`` with the reason."""
    principal.can_write()
    case = writable_case(session, principal.organization_id, case_id)
    reason = reason.strip()
    if not reason or len(reason) > 2000:
        raise InvalidInput("reassigning the owner needs a reason of 1 to 2000 characters")
    owner = staff_by_email(session, case.organization_id, owner_email)
    if owner.id == case.owner_id:
        raise Conflict(f"{owner.email} already owns case {case.id}")
    now = clock()
    data = {
        "from": case.owner_email,
        "from_id": case.owner_id,
        "to": owner.email,
        "to_id": owner.id,
        "reason": reason,
    }
    record(session, case, principal, "case.owner_changed", data, lambda: now)
    case.owner_email, case.owner_id, case.updated_at = owner.email, owner.id, now
    session.add(case)
    session.flush()
    return case


def add_note(
    session: Session, principal: Principal, case_id: str, text: str, *, clock: Clock = system_clock
) -> CaseNote:
    """A written fact about the case; allowed in every state, fully offboarded included."""
    principal.can_write()
    case = get_case(session, principal.organization_id, case_id)
    return write_note(session, case, principal, "note", text, entry="case.note", clock=clock)


def write_note(
    session: Session,
    case: Case,
    principal: Principal,
    kind: str,
    text: str,
    *,
    entry: str | None,
    clock: Clock,
) -> CaseNote:
    """Store a note row; with ``entry`` it also records its own ledger entry carrying the text."""
    text = text.strip()
    if not text or len(text) > MAX_NOTE:
        raise InvalidInput(f"a note must be 1 to {MAX_NOTE} characters")
    now = clock()
    row = CaseNote(
        organization_id=case.organization_id,
        case_id=case.id,
        kind=kind,
        text=text,
        author=principal.actor,
        created_at=now,
    )
    session.add(row)
    session.flush()
    if entry is not None:
        row.ledger_index = record(session, case, principal, entry, {"note": row.id, "text": text}, lambda: now)
        session.add(row)
    return row


def list_notes(session: Session, organization_id: str, case_id: str) -> list[CaseNote]:
    get_case(session, organization_id, case_id)
    query = select(CaseNote).where(CaseNote.case_id == case_id).order_by(col(CaseNote.created_at))
    return list(session.exec(query).all())
