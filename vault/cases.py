"""Offboarding cases: opening one and finding it within its organization.

A case of another organization is reported exactly like a case that does not exist.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session, col, select

from vault.clock import Clock, system_clock
from vault.errors import InvalidInput, NotFound
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.models import Case
from vault.orgs import Principal


def normalize_email(value: str) -> str:
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(f"not a valid email address: {value!r} ({exc})") from None


def open_case(
    session: Session, principal: Principal, *, client_name: str, owner_email: str, clock: Clock = system_clock
) -> Case:
    """Open a case and record ``case.opened`` in the ledger, in the caller's transaction."""
    principal.can_write()
    client_name = client_name.strip()
    if not client_name or len(client_name) > 300:
        raise InvalidInput("client name must be 1 to 300 characters")
    now = clock()
    case = Case(
        organization_id=principal.organization_id,
        client_name=client_name,
        owner_email=normalize_email(owner_email),
        opened_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    log.append(
        session,
        EntryDraft(
            type="case.opened",
            organization_id=case.organization_id,
            case_id=case.id,
            actor=principal.actor,
            data={"client_name": case.client_name, "owner": case.owner_email, "status": case.status},
        ),
        clock=clock,
    )
    return case


def get_case(session: Session, organization_id: str, case_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None or case.organization_id != organization_id:
        raise NotFound(f"no case {case_id!r} in this organization")
    return case


def list_cases(session: Session, organization_id: str) -> list[Case]:
    return list(
        session.exec(select(Case).where(Case.organization_id == organization_id).order_by(col(Case.opened_at))).all()
    )
