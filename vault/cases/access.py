"""The access-revocation register of a case: every system the client or the team could reach.

Each item is revoked with who, when, how and attached evidence (a screenshot, an exported audit log, an
API response), and may then be verified by a second person. Each change is a ledger entry.
"""

from __future__ import annotations

from enum import StrEnum

from sqlmodel import Session, col, select

from vault.cases.lifecycle import (
    CaseStatus,
    begin_work,
    case_evidence,
    change_status,
    dumps_list,
    get_case,
    loads_list,
    record,
    writable_case,
)
from vault.clock import Clock, system_clock
from vault.errors import Conflict, InvalidInput, NotFound
from vault.models import AccessItem, Case
from vault.orgs.organizations import Principal
from vault.orgs.staff import staff_by_email
from vault.states import AccessStatus

MAX_ACCOUNTS = 50


class AccessKind(StrEnum):
    SSO = "sso"
    APP = "app"
    CODE_REPOSITORY = "code_repository"
    CLOUD_ACCOUNT = "cloud_account"
    SHARED_DRIVE = "shared_drive"
    OTHER = "other"


class HeldBy(StrEnum):
    CLIENT = "client"
    TEAM = "team"


def _choice(enum: type[StrEnum], what: str, value: str) -> str:
    try:
        return enum(value.strip().lower()).value
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise InvalidInput(f"{what} must be one of {allowed}; got {value!r}") from None


def _who(session: Session, case: Case, principal: Principal, staff_email: str | None) -> str:
    """A staff member's email when named (it must be one), else the acting credential."""
    if staff_email is None or not staff_email.strip():
        return principal.actor
    return staff_by_email(session, case.organization_id, staff_email).email


def get_item(session: Session, case: Case, item_id: str) -> AccessItem:
    item = session.get(AccessItem, item_id)
    if item is None or item.case_id != case.id or item.organization_id != case.organization_id:
        raise NotFound(f"no access item {item_id!r} in case {case.id}")
    return item


def list_items(session: Session, organization_id: str, case_id: str) -> list[AccessItem]:
    get_case(session, organization_id, case_id)
    query = select(AccessItem).where(AccessItem.case_id == case_id).order_by(col(AccessItem.added_at))
    return list(session.exec(query).all())


def add_item(
    session: Session,
    principal: Principal,
    case_id: str,
    *,
    name: str,
    kind: str,
    held_by: str = "client",
    accounts: list[str] | None = None,
    clock: Clock = system_clock,
) -> AccessItem:
    """Register a system; records ``access.added``. A case awaiting acknowledgment returns to work."""
    principal.can_write()
    case = writable_case(session, principal.organization_id, case_id)
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("an access item's name must be 1 to 200 characters")
    account_list = list(dict.fromkeys(a.strip() for a in accounts or [] if a.strip()))
    if len(account_list) > MAX_ACCOUNTS or any(len(a) > 320 for a in account_list):
        raise InvalidInput(f"at most {MAX_ACCOUNTS} account identifiers of at most 320 characters each")
    now = clock()
    item = AccessItem(
        organization_id=case.organization_id,
        case_id=case.id,
        name=name,
        kind=_choice(AccessKind, "kind", kind),
        held_by=_choice(HeldBy, "held_by", held_by),
        accounts=dumps_list(account_list),
        added_at=now,
        added_by=principal.actor,
    )
    session.add(item)
    session.flush()
    if case.status == CaseStatus.AWAITING_ACKNOWLEDGMENT:
        change_status(session, case, principal, CaseStatus.IN_PROGRESS, f"access item {name!r} registered", clock=clock)
    begin_work(session, case, principal, clock=clock)
    data = {
        "access_item": item.id,
        "name": name,
        "kind": item.kind,
        "held_by": item.held_by,
        "accounts": account_list,
    }
    item.added_index = record(session, case, principal, "access.added", data, lambda: now)
    session.add(item)
    return item


def revoke_item(
    session: Session,
    principal: Principal,
    case_id: str,
    item_id: str,
    *,
    method: str,
    evidence_ids: list[str],
    revoked_by: str | None = None,
    clock: Clock = system_clock,
) -> AccessItem:
    """Record that access was removed, how, by whom, with evidence; records ``access.revoked``."""
    principal.can_write()
    case = writable_case(session, principal.organization_id, case_id)
    item = get_item(session, case, item_id)
    if item.status != AccessStatus.ACTIVE:
        raise Conflict(f"access item {item.name!r} was already revoked")
    method = method.strip()
    if not method or len(method) > 4000:
        raise InvalidInput("say how the access was revoked (1 to 4000 characters)")
    if not evidence_ids:
        raise InvalidInput("a revocation needs evidence: attach at least one evidence id (screenshot, audit log)")
    evidence = case_evidence(session, case, evidence_ids)
    who = _who(session, case, principal, revoked_by)
    begin_work(session, case, principal, clock=clock)
    now = clock()
    data = {
        "access_item": item.id,
        "name": item.name,
        "revoked_by": who,
        "method": method,
        "evidence": [{"id": e.id, "sha256": e.sha256} for e in evidence],
    }
    item.revoked_index = record(session, case, principal, "access.revoked", data, lambda: now)
    item.status, item.revoked_at, item.revoked_by, item.revocation_method = AccessStatus.REVOKED.value, now, who, method
    item.revocation_evidence_ids = dumps_list([e.id for e in evidence])
    session.add(item)
    session.flush()
    return item


def verify_item(
    session: Session,
    principal: Principal,
    case_id: str,
    item_id: str,
    *,
    verified_by: str | None = None,
    clock: Clock = system_clock,
) -> AccessItem:
    """A second person confirms the revocation; records ``access.verified``."""
    principal.can_write()
    case = writable_case(session, principal.organization_id, case_id)
    item = get_item(session, case, item_id)
    if item.status != AccessStatus.REVOKED:
        raise Conflict(f"access item {item.name!r} is {item.status}; only a revoked item can be verified")
    if item.verified_at is not None:
        raise Conflict(f"access item {item.name!r} was already verified by {item.verified_by}")
    who = _who(session, case, principal, verified_by)
    if who == item.revoked_by:
        raise Conflict(f"{who} revoked this access; verification must come from a second person")
    now = clock()
    data = {"access_item": item.id, "name": item.name, "verified_by": who, "revoked_by": item.revoked_by}
    item.verified_index = record(session, case, principal, "access.verified", data, lambda: now)
    item.verified_at, item.verified_by = now, who
    session.add(item)
    session.flush()
    return item


def evidence_of(item: AccessItem) -> list[str]:
    return [str(v) for v in loads_list(item.revocation_evidence_ids)]
