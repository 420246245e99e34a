"""A certificate's three files as people get them (``docs/certificate.md``, "Where it is"): its PDF (the newest
stored version of a long-term one), the signed canonical JSON and the detached signature over that JSON.

One set of names and bytes for every place that hands them out: the API, the console, the files embedded in
the PDF and the certificate emails (``email_attachments``, a ``mail.send`` attachment source: the files are
read when the email is sent, so a re-timestamped PDF goes out as its newest version).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from storage.base import ObjectStore
from vault.certificates.certificate_store import certificate_pdf
from vault.certificates.lookup import signed_certificate
from vault.db import Read
from vault.errors import GiveUp
from vault.handover.receipts import SignedDocument
from vault.mail import Attachment
from vault.models import Certificate

if TYPE_CHECKING:
    from vault.services import Services

#: The ``source`` of a ``mail.send`` job's ``attach`` reference naming a certificate (``{"id": ...}``).
CERTIFICATE_SOURCE = "certificate"


@dataclass(frozen=True, slots=True)
class CertificateFile:
    """One file of a certificate, as downloaded or attached."""

    #: ``certificate-<id>.pdf``, ``certificate-<id>.json`` or ``certificate-<id>.sig.json``.
    name: str
    content: bytes
    #: ``maintype/subtype``.
    media_type: str


def file_stem(certificate_id: str) -> str:
    return f"certificate-{certificate_id}"


def signed_files(signed: SignedDocument, certificate_id: str) -> tuple[CertificateFile, CertificateFile]:
    """The signed JSON (the exact RFC 8785 bytes the signature covers) and its detached signature
    (``DetachedSignature.to_json()``, indented)."""
    stem = file_stem(certificate_id)
    signature = json.dumps(signed.detached.to_json(), indent=2).encode()
    return (
        CertificateFile(f"{stem}.json", signed.body, "application/json"),
        CertificateFile(f"{stem}.sig.json", signature, "application/json"),
    )


def pdf_file(read: Read, store: ObjectStore, row: Certificate) -> CertificateFile:
    """The PDF people get: the newest stored version, else the PDF as issued."""
    return CertificateFile(f"{file_stem(row.id)}.pdf", certificate_pdf(read, store, row), "application/pdf")


def certificate_downloads(read: Read, store: ObjectStore, row: Certificate) -> tuple[CertificateFile, ...]:
    """The PDF, the signed JSON and its signature, in that order."""
    return (pdf_file(read, store, row), *signed_files(signed_certificate(row), row.id))


def email_attachments(services: Services, organization_id: str, ref: Mapping[str, Any]) -> tuple[Attachment, ...]:
    """The ``certificate`` attachment source of ``mail.send``: the three files of certificate ``ref["id"]``
    of ``organization_id``. Runs outside any transaction (the PDF may be read from the object store)."""
    certificate_id = ref.get("id")
    row = services.read(lambda session: session.get(Certificate, certificate_id)) if certificate_id else None
    if row is None or row.organization_id != organization_id:
        raise GiveUp(f"the email attaches certificate {certificate_id!r}, which this organization does not have")
    files = certificate_downloads(services.read, services.store, row)
    return tuple(Attachment(f.name, f.content, f.media_type) for f in files)
