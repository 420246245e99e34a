"""Organizations (tenants), their name as clients see it, and their API tokens.

A rename is an admin's act and a ``organization.renamed`` ledger entry; receipts already issued keep the name
they were signed with, later emails, pages, receipts and bundle reports use the new one.

A token secret is 256 random bits from ``secrets``; only its SHA-256 is stored. Lookup is by that hash, and
the stored hash is then compared in constant time, so neither the database index nor Python's string
comparison leaks how much of a guess was right.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, select

from vault.clock import Clock, system_clock
from vault.errors import Conflict, InvalidInput, NotFound, Unauthorized
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.models import ApiToken, Organization
from vault.states import LogVisibility

TOKEN_PREFIX = "obt_"  # noqa: S105 - a public prefix that makes leaked tokens greppable
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


class Role(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting: an organization and a role, from a token (API) or the local operator (CLI)."""

    organization_id: str
    role: Role
    #: The name recorded as ``actor`` in ledger entries, e.g. ``token:ci-uploader`` or ``cli:alice``.
    actor: str

    def require(self, *allowed: Role) -> None:
        """Raise ``Forbidden`` unless this principal has one of ``allowed``."""
        from vault.errors import Forbidden

        if self.role not in allowed:
            wanted = " or ".join(r.value for r in allowed)
            raise Forbidden(f"this action needs the role {wanted}; the credential has {self.role.value}")

    def can_write(self) -> None:
        self.require(Role.ADMIN, Role.MEMBER)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A newly created token. ``secret`` is shown once and never stored."""

    id: str
    name: str
    role: Role
    organization_id: str
    secret: str


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64].strip("-")
    return slug or "org"


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def organization_name(value: str) -> str:
    """A name clients are shown: 1 to 200 characters, no control characters, outer spaces dropped."""
    name = value.strip()
    if not name:
        raise InvalidInput("organization name must not be empty")
    if len(name) > 200:
        raise InvalidInput(f"organization name must be at most 200 characters; got {len(name)}")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise InvalidInput("organization name must not contain control characters (tabs, line breaks, ...)")
    return name


def create_organization(
    session: Session, *, name: str, slug: str | None = None, is_default: bool = False, clock: Clock = system_clock
) -> Organization:
    name = organization_name(name)
    slug = slug or slugify(name)
    if not _SLUG.match(slug):
        raise InvalidInput(f"organization slug must be lower-case letters, digits and dashes; got {slug!r}")
    if session.exec(select(Organization).where(Organization.slug == slug)).first() is not None:
        raise Conflict(f"an organization with slug {slug!r} already exists")
    org = Organization(name=name, slug=slug, is_default=is_default, created_at=clock())
    session.add(org)
    session.flush()
    return org


def rename_organization(
    session: Session, principal: Principal, *, name: str, clock: Clock = system_clock
) -> Organization:
    """Rename the principal's organization (admins only) and record ``organization.renamed``; the same
    name again changes and records nothing."""
    principal.require(Role.ADMIN)
    new_name = organization_name(name)
    org = session.get(Organization, principal.organization_id)
    if org is None:
        raise NotFound("the organization no longer exists")
    if org.name == new_name:
        return org
    old_name, org.name = org.name, new_name
    session.add(org)
    log.append(
        session,
        EntryDraft(
            type="organization.renamed",
            organization_id=org.id,
            case_id=None,
            actor=principal.actor,
            data={"old": old_name, "new": new_name},
        ),
        clock=clock,
    )
    return org


def default_organization(session: Session) -> Organization | None:
    return session.exec(select(Organization).where(Organization.is_default == True)).first()  # noqa: E712


def organization_by_slug(session: Session, slug: str | None) -> Organization:
    """The organization named by ``slug``, or the default one when ``slug`` is ``None``."""
    if slug is None:
        org = default_organization(session)
        if org is None:
            raise NotFound("no default organization: run `offboard init` first")
        return org
    org = session.exec(select(Organization).where(Organization.slug == slug)).first()
    if org is None:
        raise NotFound(f"no organization with slug {slug!r}")
    return org


def create_token(
    session: Session, *, organization_id: str, name: str, role: Role | str, clock: Clock = system_clock
) -> IssuedToken:
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(f"role must be one of admin, member, viewer; got {role!r}") from None
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("token name must be 1 to 200 characters")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        organization_id=organization_id, name=name, role=role.value, token_hash=hash_token(secret), created_at=clock()
    )
    session.add(row)
    session.flush()
    return IssuedToken(id=row.id, name=name, role=role, organization_id=organization_id, secret=secret)


def authenticate(session: Session, secret: str | None) -> Principal:
    """The principal a bearer secret stands for; ``Unauthorized`` for a missing, unknown or revoked one."""
    if not secret:
        raise Unauthorized("a bearer token is required (Authorization: Bearer <token>)")
    digest = hash_token(secret)
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == digest)).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest) or row.revoked_at is not None:
        raise Unauthorized("the bearer token is not valid")
    return Principal(organization_id=row.organization_id, role=Role(row.role), actor=f"token:{row.name}")


@dataclass(frozen=True, slots=True)
class LogReader:
    """Who reads an organization's log (``/tlog/<slug>/``): the organization's id and visibility, and the
    organization of the bearer token given (``None``: no token, or an unknown or revoked one)."""

    organization_id: str
    visibility: LogVisibility
    token_organization_id: str | None


def log_reader(session: Session, slug: str, secret: str | None) -> LogReader:
    """The organization of ``slug`` and the token's, in one statement and without ORM objects: tile readers
    send many small requests, and two ORM lookups were most of a cached tile's time (``bench/witness.py``).
    ``NotFound`` for an unknown slug. The lookup by hash is the same as ``authenticate``'s."""
    digest = hash_token(secret) if secret else ""  # no stored hash is empty: no token, no match
    token = (
        select(ApiToken.organization_id)
        .where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))  # type: ignore[union-attr]
        .scalar_subquery()
    )
    statement = select(Organization.id, Organization.log_visibility, token)
    row = session.connection().execute(statement.where(Organization.slug == slug)).first()
    if row is None:
        raise NotFound(f"no organization with slug {slug!r}")
    return LogReader(row[0], LogVisibility(row[1]), row[2])
