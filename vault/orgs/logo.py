"""The organization's logo: a PNG or JPEG image of at most 512 KiB, shown on the console's header, the
client's acknowledgment pages and the emails to clients.

The type is sniffed from the bytes, never taken from the upload's name or Content-Type: a PNG must carry
its signature and a well-formed IHDR chunk, a JPEG its start and end markers. Everything else is refused,
SVG on purpose (it is a document that can carry script and links). The image is served from
``/brand/logo/<sha256>`` with ``X-Content-Type-Options: nosniff`` and a sandboxing Content-Security-Policy,
so even a polyglot file is only ever an image. An admin's change is an ``organization.logo_changed``
ledger entry with the new hash, type and size (``null`` values when removed).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from sqlmodel import Session, select

from vault.clock import Clock, system_clock
from vault.errors import NotFound, PayloadTooLarge, UnacceptableUpload
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.models import Organization, OrganizationLogo
from vault.orgs.organizations import Principal, Role

#: The largest logo accepted, in bytes.
LOGO_MAX_BYTES = 512 * 1024
#: The largest width or height accepted, in pixels (a header shows a logo at most a few hundred wide).
LOGO_MAX_PIXELS = 4096
_PNG = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True, slots=True)
class LogoImage:
    """A stored logo as the route serving it needs it."""

    sha256: str
    content_type: str
    data: bytes


def logo_content_type(data: bytes) -> str:
    """``image/png`` or ``image/jpeg`` sniffed from ``data``; ``UnacceptableUpload`` for anything else."""
    if not data:
        raise UnacceptableUpload("the logo file is empty")
    if len(data) > LOGO_MAX_BYTES:
        raise PayloadTooLarge(f"the logo is {len(data)} bytes; at most {LOGO_MAX_BYTES // 1024} KiB is accepted")
    if data.startswith(_PNG):
        # IHDR must come first: 4-byte length 13, the type, then width and height (each 1 .. 2^31-1).
        if data[8:16] != b"\x00\x00\x00\x0dIHDR" or len(data) < 33:
            raise UnacceptableUpload("the logo is not a well-formed PNG image")
        width, height = struct.unpack(">II", data[16:24])
        if not (0 < width <= LOGO_MAX_PIXELS and 0 < height <= LOGO_MAX_PIXELS):
            raise UnacceptableUpload(f"the logo must be at most {LOGO_MAX_PIXELS} pixels wide and high")
        return "image/png"
    if data.startswith(b"\xff\xd8\xff") and data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return "image/jpeg"
    head = data[:512].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml")) or b"<svg" in head:
        raise UnacceptableUpload("SVG logos are not accepted (they can carry scripts); upload a PNG or JPEG image")
    raise UnacceptableUpload("the logo must be a PNG or JPEG image")


def _organization(session: Session, principal: Principal) -> Organization:
    principal.require(Role.ADMIN)
    org = session.get(Organization, principal.organization_id)
    if org is None:
        raise NotFound("the organization no longer exists")
    return org


def _record(session: Session, principal: Principal, data: dict[str, object], clock: Clock) -> None:
    draft = EntryDraft("organization.logo_changed", principal.organization_id, None, principal.actor, data)
    log.append(session, draft, clock=clock)


def set_logo(session: Session, principal: Principal, *, data: bytes, clock: Clock = system_clock) -> str:
    """Store ``data`` as the organization's logo (admins only); its SHA-256. The same image records nothing."""
    content_type = logo_content_type(data)
    org = _organization(session, principal)
    digest = hashlib.sha256(data).hexdigest()
    if org.logo_sha256 == digest:
        return digest
    row = session.get(OrganizationLogo, org.id)
    if row is None:
        row = OrganizationLogo(organization_id=org.id, sha256=digest, content_type=content_type, data=data)
    row.sha256, row.content_type, row.data, row.uploaded_at = digest, content_type, data, clock()
    org.logo_sha256 = digest
    session.add(row)
    session.add(org)
    _record(session, principal, {"sha256": digest, "content_type": content_type, "size": len(data)}, clock)
    return digest


def remove_logo(session: Session, principal: Principal, *, clock: Clock = system_clock) -> bool:
    """Remove the organization's logo (admins only); False when there was none."""
    org = _organization(session, principal)
    row = session.get(OrganizationLogo, org.id)
    if org.logo_sha256 is None and row is None:
        return False
    if row is not None:
        session.delete(row)
    org.logo_sha256 = None
    session.add(org)
    _record(session, principal, {"sha256": None, "content_type": None, "size": None}, clock)
    return True


def logo_image(session: Session, sha256: str) -> LogoImage:
    """The logo whose SHA-256 is ``sha256``, whichever organization uses it; ``NotFound`` otherwise."""
    if len(sha256) != 64:
        raise NotFound("no such logo")
    row = session.exec(select(OrganizationLogo).where(OrganizationLogo.sha256 == sha256.lower()).limit(1)).first()
    if row is None:
        raise NotFound("no such logo")
    return LogoImage(row.sha256, row.content_type, row.data)
