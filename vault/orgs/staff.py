"""The people and credentials of an organization: staff members (case owners) and API token management.

Only admins add or change staff and tokens. A staff member or token of another organization is reported
exactly like one that does not exist. The last active admin can be neither demoted nor deactivated, so an
organization always keeps someone who can manage it.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session, col, select

from vault.clock import Clock, system_clock
from vault.errors import Conflict, InvalidInput, NotFound
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.models import ApiToken, StaffMember
from vault.orgs.organizations import Principal, Role


def normalize_email(value: str) -> str:
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(f"not a valid email address: {value!r} ({exc})") from None


def parse_role(value: Role | str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(f"role must be one of admin, member, viewer; got {value!r}") from None


def add_staff(
    session: Session,
    principal: Principal,
    *,
    email: str,
    name: str = "",
    role: Role | str = Role.MEMBER,
    clock: Clock = system_clock,
) -> StaffMember:
    """Add a staff member (admins only) and record ``staff.added``."""
    principal.require(Role.ADMIN)
    email = normalize_email(email)
    name = name.strip()
    if len(name) > 200:
        raise InvalidInput("staff name must be at most 200 characters")
    role = parse_role(role)
    if find_staff(session, principal.organization_id, email) is not None:
        raise Conflict(f"{email} is already a staff member of this organization")
    now = clock()
    member = StaffMember(
        organization_id=principal.organization_id, email=email, name=name, role=role.value, created_at=now
    )
    session.add(member)
    session.flush()
    appended = log.append(
        session,
        EntryDraft(
            type="staff.added",
            organization_id=principal.organization_id,
            case_id=None,
            actor=principal.actor,
            data={"staff": member.id, "email": email, "name": name, "role": role.value},
        ),
        clock=lambda: now,
    )
    member.ledger_index = appended.index
    session.add(member)
    return member


def set_staff_active(
    session: Session, principal: Principal, staff_id: str, *, active: bool, clock: Clock = system_clock
) -> StaffMember:
    """Deactivate (or reactivate) a staff member; inactive members cannot become case owners."""
    principal.require(Role.ADMIN)
    member = get_staff(session, principal.organization_id, staff_id)
    if member.active == active:
        return member
    if not active:
        _keep_an_admin(session, member, "deactivate")
    member.active = active
    session.add(member)
    log.append(
        session,
        EntryDraft(
            type="staff.activated" if active else "staff.deactivated",
            organization_id=principal.organization_id,
            case_id=None,
            actor=principal.actor,
            data={"staff": member.id, "email": member.email},
        ),
        clock=clock,
    )
    return member


def set_staff_role(
    session: Session, principal: Principal, staff_id: str, *, role: Role | str, clock: Clock = system_clock
) -> StaffMember:
    """Change a staff member's role (admins only) and record ``staff.role_changed``; the same role is a no-op."""
    principal.require(Role.ADMIN)
    member = get_staff(session, principal.organization_id, staff_id)  # another organization's: NotFound first
    new_role = parse_role(role)
    if member.role == new_role.value:
        return member
    if new_role is not Role.ADMIN:
        _keep_an_admin(session, member, f"make {new_role.value}")
    old_role, member.role = member.role, new_role.value
    session.add(member)
    log.append(
        session,
        EntryDraft(
            type="staff.role_changed",
            organization_id=principal.organization_id,
            case_id=None,
            actor=principal.actor,
            data={"staff": member.id, "email": member.email, "old": old_role, "new": new_role.value},
        ),
        clock=clock,
    )
    return member


def _keep_an_admin(session: Session, member: StaffMember, action: str) -> None:
    if member.role != Role.ADMIN.value or not member.active:
        return
    others = [
        m
        for m in list_staff(session, member.organization_id)
        if m.id != member.id and m.active and m.role == Role.ADMIN.value
    ]
    if not others:
        raise Conflict(
            f"cannot {action} {member.email}: they are the organization's last active admin; make someone else "
            "an admin first"
        )


def find_staff(session: Session, organization_id: str, email: str) -> StaffMember | None:
    return session.exec(
        select(StaffMember).where(StaffMember.organization_id == organization_id, StaffMember.email == email)
    ).first()


def get_staff(session: Session, organization_id: str, staff_id: str) -> StaffMember:
    member = session.get(StaffMember, staff_id)
    if member is None or member.organization_id != organization_id:
        raise NotFound(f"no staff member {staff_id!r} in this organization")
    return member


def staff_by_email(session: Session, organization_id: str, email: str) -> StaffMember:
    """The active staff member with ``email``; case owners must be one."""
    normalized = normalize_email(email)
    member = find_staff(session, organization_id, normalized)
    if member is None:
        raise InvalidInput(
            f"{normalized} is not a staff member of this organization; add them first (offboard staff add)"
        )
    if not member.active:
        raise InvalidInput(f"{normalized} is no longer an active staff member of this organization")
    return member


def list_staff(session: Session, organization_id: str) -> list[StaffMember]:
    query = select(StaffMember).where(StaffMember.organization_id == organization_id).order_by(col(StaffMember.email))
    return list(session.exec(query).all())


def list_tokens(session: Session, principal: Principal) -> list[ApiToken]:
    """The organization's tokens (hashes never leave the domain); admins only."""
    principal.require(Role.ADMIN)
    query = (
        select(ApiToken).where(ApiToken.organization_id == principal.organization_id).order_by(col(ApiToken.created_at))
    )
    return list(session.exec(query).all())


def get_token(session: Session, principal: Principal, token_id: str) -> ApiToken:
    """A token of the organization (admins only)."""
    principal.require(Role.ADMIN)
    row = session.get(ApiToken, token_id)
    if row is None or row.organization_id != principal.organization_id:
        raise NotFound(f"no token {token_id!r} in this organization")
    return row


def revoke_token(session: Session, principal: Principal, token_id: str, *, clock: Clock = system_clock) -> ApiToken:
    """Revoke a token of the organization (admins only); revoking twice is a no-op."""
    row = get_token(session, principal, token_id)
    if row.revoked_at is None:
        row.revoked_at = clock()
        session.add(row)
        session.flush()
    return row
