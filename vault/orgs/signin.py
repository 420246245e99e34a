"""Staff sign-in and console sessions (``docs/console.md``).

A session is a random 256-bit secret in the browser's cookie; the database keeps only its SHA-256, found
by that hash and then compared in constant time (as API tokens are, ``vault/orgs/organizations.py``). It ends
at sign-out, after ``idle`` without a request, or ``absolute`` after sign-in, whichever comes first, and
every sign-in issues a new secret (the browser's previous one, if any, ends), so a secret planted before sign-in is
worthless after it. Sign-ins and sign-outs are ledger entries (``staff.signed_in``, ``staff.signed_out``).

The password check (``check_credentials``) runs on a read session: Argon2id takes tens of milliseconds
and must not hold the write lock. A wrong password and an unknown email get the same error after the same
work, and both count against the email and the client's address (``SignInLimits``).

The CSRF token of a session is derived from its secret (HMAC-SHA256), so it needs no column, changes with
every sign-in, and tells nothing about the secret to whoever reads it from a page.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from vault.clock import Clock, system_clock
from vault.config import Settings
from vault.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.models import ConsoleSession, Organization, StaffCredential, StaffMember
from vault.orgs import passwords
from vault.orgs.organizations import Principal, Role
from vault.orgs.staff import find_staff, normalize_email
from vault.ratelimit import FailureLimiter

#: The one answer to a refused sign-in, whichever of email or password was wrong.
REFUSED = "the email address or the password is not right"
ENDED = "your session has ended; sign in again"
BAD_CSRF = "the form's security token is missing or does not match this session; reload the page and try again"
_CSRF_LABEL = b"offboard console csrf v1"


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta
    #: ``last_seen_at`` is written at most this often, so reading pages is not a write per request; the idle
    #: timeout is therefore exact to within this much.
    touch_every: timedelta = timedelta(minutes=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionPolicy:
        return cls(
            idle=timedelta(hours=settings.console_session_idle_hours),
            absolute=timedelta(days=settings.console_session_absolute_days),
        )


@dataclass(frozen=True, slots=True)
class RequestOrigin:
    """Where a sign-in or sign-out came from, as recorded in its ledger entry."""

    address: str
    user_agent: str


@dataclass(frozen=True, slots=True)
class StaffIdentity:
    """A staff member as the console shows and authorizes them."""

    staff_id: str
    organization_id: str
    organization_name: str
    email: str
    name: str
    role: Role
    #: The path of the organization's logo (``/brand/logo/<sha256>``), or ``None``.
    organization_logo: str | None = None

    @property
    def principal(self) -> Principal:
        return Principal(organization_id=self.organization_id, role=self.role, actor=f"staff:{self.email}")


@dataclass(frozen=True, slots=True)
class IssuedSession:
    """A new session. ``secret`` goes into the cookie and is never stored."""

    session_id: str
    secret: str
    csrf_token: str
    identity: StaffIdentity
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A session that a request presented and that is still valid."""

    session_id: str
    csrf_token: str
    identity: StaffIdentity
    #: Whether ``last_seen_at`` is older than ``touch_every`` and should be written (``touch_session``).
    stale: bool


@dataclass(slots=True)
class SignInLimits:
    """Failed sign-ins counted per email and per client address (state of one process)."""

    account: FailureLimiter
    address: FailureLimiter

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock = system_clock) -> SignInLimits:
        window = settings.signin_rate_limit_window_seconds
        refusal = "too many failed sign-ins; wait a while and try again"
        return cls(
            account=FailureLimiter(settings.signin_rate_limit_account_failures, window, clock=clock, refusal=refusal),
            address=FailureLimiter(settings.signin_rate_limit_address_failures, window, clock=clock, refusal=refusal),
        )


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def csrf_token_for(secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), _CSRF_LABEL, hashlib.sha256).hexdigest()


def check_csrf(expected: str, presented: str | None) -> None:
    """Raise ``Forbidden`` unless ``presented`` is ``expected``; compared in constant time."""
    if not presented or not hmac.compare_digest(expected.encode("utf-8"), presented.encode("utf-8")):
        raise Forbidden(BAD_CSRF)


def _identity(session: Session, member: StaffMember) -> StaffIdentity:
    org = session.get(Organization, member.organization_id)
    return StaffIdentity(
        staff_id=member.id,
        organization_id=member.organization_id,
        organization_name=org.name if org is not None else "",
        email=member.email,
        name=member.name,
        role=Role(member.role),
        organization_logo=f"/brand/logo/{org.logo_sha256}" if org is not None and org.logo_sha256 else None,
    )


def _account(email: str) -> str:
    """The email as staff rows store it; an unparsable one stays as typed (it then matches no one).
    Lookups compare it case-insensitively: people and providers capitalise addresses as they like."""
    try:
        return normalize_email(email)
    except InvalidInput:
        return email.strip()


def set_password(
    session: Session, principal: Principal, *, email: str, password: str, clock: Clock = system_clock
) -> StaffMember:
    """Give a staff member a (new) password (admins only) and record ``staff.password_set``. The policy
    is ``passwords.check_policy``; the member's open sessions end, so a leaked password stops working."""
    principal.require(Role.ADMIN)
    normalized = normalize_email(email)
    member = find_staff(session, principal.organization_id, normalized)
    if member is None:
        raise NotFound(f"{normalized} is not a staff member of this organization; add them first (offboard staff add)")
    passwords.check_policy(password, email=member.email)
    now = clock()
    credential = session.get(StaffCredential, member.id)
    if credential is None:
        credential = StaffCredential(staff_id=member.id, organization_id=member.organization_id, password_hash="")
    credential.password_hash = passwords.hash_password(password)
    credential.updated_at = now
    session.add(credential)
    ended = end_all_sessions(session, member.id, reason="password-changed", clock=lambda: now)
    log.append(
        session,
        EntryDraft(
            type="staff.password_set",
            organization_id=member.organization_id,
            case_id=None,
            actor=principal.actor,
            data={"staff": member.id, "email": member.email, "sessions_ended": ended},
        ),
        clock=lambda: now,
    )
    return member


#: Someone who is staff of several organizations signs in to the default one, else the oldest.
_ORGANIZATION_ORDER = (col(Organization.is_default).desc(), col(Organization.created_at))

#: The refusal of a single sign-on whose (verified) email is no active staff member's.
NOT_STAFF = "no active staff member here has the email address {email}; ask an administrator to add you"


def identity_for_verified_email(session: Session, email: str) -> StaffIdentity:
    """The active staff member with ``email``, which an OpenID Connect provider has verified; a verified
    email is the credential, so no password is involved. ``Unauthorized`` if there is none. Read-only."""
    account = _account(email)
    query = (
        select(StaffMember)
        .join(Organization, col(Organization.id) == col(StaffMember.organization_id))
        .where(func.lower(col(StaffMember.email)) == account.lower(), col(StaffMember.active).is_(True))
        .order_by(*_ORGANIZATION_ORDER)
    )
    member = session.exec(query).first()
    if member is None:
        raise Unauthorized(NOT_STAFF.format(email=account))
    return _identity(session, member)


def check_credentials(
    session: Session, *, email: str, password: str, origin: RequestOrigin, limits: SignInLimits
) -> StaffIdentity:
    """The active staff member whose email and password these are; ``Unauthorized`` (``REFUSED``) if none,
    ``RateLimited`` once the email or the address has used up its failures. Read-only."""
    account = _account(email)
    limits.address.check(origin.address)
    limits.account.check(account.lower())
    query = (
        select(StaffMember, StaffCredential)
        .join(StaffCredential, col(StaffCredential.staff_id) == col(StaffMember.id))
        .join(Organization, col(Organization.id) == col(StaffMember.organization_id))
        .where(func.lower(col(StaffMember.email)) == account.lower(), col(StaffMember.active).is_(True))
        .order_by(*_ORGANIZATION_ORDER)
    )
    rows = list(session.exec(query).all()) if len(password) <= passwords.MAX_LENGTH else []
    if not rows:
        passwords.burn_verification(password[: passwords.MAX_LENGTH])
    for member, credential in rows:
        if passwords.verify_password(credential.password_hash, password):
            return _identity(session, member)
    limits.address.fail(origin.address)
    limits.account.fail(account.lower())
    raise Unauthorized(REFUSED)


def start_session(
    session: Session,
    *,
    identity: StaffIdentity,
    origin: RequestOrigin,
    policy: SessionPolicy,
    replacing: str | None = None,
    method: str = "password",
    clock: Clock = system_clock,
) -> IssuedSession:
    """Open a session for ``identity`` (just checked by ``check_credentials``) and record ``staff.signed_in``.
    ``replacing`` is the cookie the browser still held: that session ends, so sign-in always rotates.
    ``method`` (``password`` or ``oidc``) is recorded in the entry."""
    member = session.get(StaffMember, identity.staff_id)
    if member is None or not member.active:
        raise Unauthorized(REFUSED)
    now = clock()
    replaced = _end(session, replacing, now, "replaced") if replacing else None
    secret = secrets.token_urlsafe(32)
    row = ConsoleSession(
        organization_id=member.organization_id,
        staff_id=member.id,
        token_hash=hash_secret(secret),
        created_at=now,
        last_seen_at=now,
        expires_at=now + policy.absolute,
        address=origin.address[:64],
        user_agent=origin.user_agent[:512],
    )
    session.add(row)
    session.flush()
    data = {**_entry_data(member, row, origin), "method": method}
    if replaced is not None:
        data["replaced"] = replaced.id
    _record(session, "staff.signed_in", member, data, now)
    return IssuedSession(row.id, secret, csrf_token_for(secret), _identity(session, member), row.expires_at)


def resolve_session(
    session: Session, secret: str | None, *, policy: SessionPolicy, clock: Clock = system_clock
) -> LiveSession:
    """The live session of a cookie value; ``Unauthorized`` (``ENDED``) if it is unknown, ended, idle too
    long, past its absolute limit, or its staff member was deactivated. Read-only."""
    row = _find(session, secret)
    now = clock()
    if (
        row is None
        or secret is None
        or row.ended_at is not None
        or now >= row.last_seen_at + policy.idle
        or now >= min(row.expires_at, row.created_at + policy.absolute)
    ):
        raise Unauthorized(ENDED)
    member = session.get(StaffMember, row.staff_id)
    if member is None or not member.active or member.organization_id != row.organization_id:
        raise Unauthorized(ENDED)
    stale = now - row.last_seen_at >= policy.touch_every
    return LiveSession(row.id, csrf_token_for(secret), _identity(session, member), stale)


def touch_session(session: Session, session_id: str, *, clock: Clock = system_clock) -> None:
    """Record activity on a session (the idle timeout counts from here)."""
    row = session.get(ConsoleSession, session_id)
    if row is not None and row.ended_at is None:
        row.last_seen_at = clock()
        session.add(row)


def end_session(session: Session, secret: str, *, origin: RequestOrigin, clock: Clock = system_clock) -> bool:
    """Sign out: end the session of ``secret`` and record ``staff.signed_out``. ``False`` if it had already
    ended (or never existed): signing out twice is not an error and records nothing."""
    now = clock()
    row = _end(session, secret, now, "signed-out")
    if row is None:
        return False
    member = session.get(StaffMember, row.staff_id)
    if member is not None:
        _record(session, "staff.signed_out", member, _entry_data(member, row, origin), now)
    return True


def end_all_sessions(session: Session, staff_id: str, *, reason: str, clock: Clock = system_clock) -> int:
    """End every live session of a staff member (after a password change); returns how many ended."""
    now = clock()
    rows = session.exec(
        select(ConsoleSession).where(ConsoleSession.staff_id == staff_id, col(ConsoleSession.ended_at).is_(None))
    ).all()
    for row in rows:
        row.ended_at, row.ended_reason = now, reason
        session.add(row)
    return len(rows)


def _find(session: Session, secret: str | None) -> ConsoleSession | None:
    if not secret or len(secret) > 128:
        return None
    digest = hash_secret(secret)
    row = session.exec(select(ConsoleSession).where(ConsoleSession.token_hash == digest)).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return row


def _end(session: Session, secret: str, now: datetime, reason: str) -> ConsoleSession | None:
    row = _find(session, secret)
    if row is None or row.ended_at is not None:
        return None
    row.ended_at, row.ended_reason = now, reason
    session.add(row)
    return row


def _entry_data(member: StaffMember, row: ConsoleSession, origin: RequestOrigin) -> dict[str, object]:
    return {
        "staff": member.id,
        "email": member.email,
        "session": row.id,
        "address": origin.address[:64],
        "user_agent": origin.user_agent[:512],
    }


def _record(session: Session, entry_type: str, member: StaffMember, data: dict[str, object], now: datetime) -> None:
    log.append(
        session,
        EntryDraft(
            type=entry_type,
            organization_id=member.organization_id,
            case_id=None,
            actor=f"staff:{member.email}",
            data=data,
        ),
        clock=lambda: now,
    )
