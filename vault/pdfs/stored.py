"""Signed long-term PDFs kept in the object store, for any kind of subject (``kind`` + id + edition).

A PAdES B-LTA PDF is stored the first time it is rendered (``stored_or_rendered``) and served from the store
ever after, so that the version a re-timestamp made (``retimestamp_pdf``) is what every later download gets.
Objects are content-addressed and immutable: a re-timestamp writes the new bytes as a new object and a new
``stored_pdf`` version in one transaction with its ledger entry, never touching the old object (the new PDF
is an incremental update of it, and people hold the old one). Ledger entries: ``<kind>.pdf_stored`` and
``<kind>.pdf_retimestamped`` (``docs/receipts.md``, "Stored PDFs").

Rendering, the TSA round trip and the object write all happen outside any transaction; the unit that
records them takes the organization's log lock first, so two first renders racing each other record one
PDF (the loser's object stays an orphan for ``offboard audit --repair``) and two re-timestamps of one
version record one new version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from signing.errors import LongTermError
from signing.pades import DocumentTimestamp, last_document_timestamp
from storage.base import ObjectMissing, ObjectStore, StoredObject, StoreError
from vault.clock import Clock, rfc3339, system_clock
from vault.db import Read, Transact, Unit
from vault.errors import StorageError, VerificationFailed
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.models import StoredPdf
from vault.states import PdfKind
from vault.store import store_errors

#: Who records a PDF stored on its first rendering (a download, an email): the system, not the downloader.
SYSTEM_ACTOR = "system:offboard"


@dataclass(frozen=True, slots=True)
class PdfSubject:
    """What a stored PDF renders: the kind and id of its subject, where it belongs, and which edition of the
    subject it shows (a receipt's PDF changes once the receipt is acknowledged)."""

    kind: PdfKind
    subject_id: str
    organization_id: str
    case_id: str
    edition: str


@dataclass(frozen=True, slots=True)
class Retimestamped:
    """One new version made by ``retimestamp_pdf``."""

    kind: str
    subject_id: str
    edition: str
    version: int
    old_sha256: str
    new_sha256: str
    timestamp_expires_at: datetime
    """When the new last document timestamp's TSA certificate expires."""
    ledger_index: int

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject_id,
            "edition": self.edition,
            "version": self.version,
            "old_sha256": self.old_sha256,
            "new_sha256": self.new_sha256,
            "timestamp_expires_at": rfc3339(self.timestamp_expires_at),
            "ledger_index": self.ledger_index,
        }


def _versions(kind: str, subject_id: str, edition: str) -> Any:
    return (
        select(StoredPdf)
        .where(StoredPdf.kind == kind, StoredPdf.subject_id == subject_id, StoredPdf.edition == edition)
        .order_by(col(StoredPdf.version).desc())
    )


def current_pdf(session: Session, subject: PdfSubject) -> StoredPdf | None:
    """The newest stored version of ``subject``'s PDF, or ``None`` when none was stored yet."""
    row: StoredPdf | None = session.exec(_versions(subject.kind, subject.subject_id, subject.edition)).first()
    return row


def read_pdf(store: ObjectStore, row: StoredPdf) -> bytes:
    """The stored bytes of ``row``; ``VerificationFailed`` when they are missing or not the recorded ones."""
    try:
        data = b"".join(store.open(row.storage_key))  # the store re-hashes what it reads against the key
    except ObjectMissing as exc:
        raise VerificationFailed(f"stored PDF {row.storage_key} of {row.kind} {row.subject_id} is missing") from exc
    except StoreError as exc:
        raise StorageError(f"reading the stored PDF of {row.kind} {row.subject_id} failed: {exc}") from exc
    if len(data) != row.size:
        raise VerificationFailed(
            f"stored PDF of {row.kind} {row.subject_id}: expected {row.size} bytes, found {len(data)}"
        )
    return data


def write_pdf(store: ObjectStore, data: bytes) -> StoredObject:
    """Write ``data`` as one object, atomically (the store commits it whole or not at all)."""
    with store_errors(f"cannot store a PDF in {store.url}"):
        writer = store.writer()
        try:
            writer.write(data)
            return writer.commit()
        except BaseException:
            writer.abort()
            raise


def _timestamp(data: bytes) -> DocumentTimestamp:
    try:
        return last_document_timestamp(data)
    except LongTermError as exc:
        raise VerificationFailed(str(exc)) from exc


@dataclass(frozen=True, slots=True)
class WrittenPdf:
    """A long-term PDF written to the store, not yet recorded (``record_first`` does, in a unit)."""

    stored: StoredObject
    stamp: DocumentTimestamp


def write_long_term(store: ObjectStore, data: bytes) -> WrittenPdf:
    """Read ``data``'s last document timestamp and write it as one object; call it outside any transaction."""
    stamp = _timestamp(data)
    return WrittenPdf(write_pdf(store, data), stamp)


def stored_or_rendered(
    read: Read,
    transact: Transact,
    store: ObjectStore,
    subject: PdfSubject,
    render: Callable[[], bytes],
    *,
    keep: bool,
    clock: Clock = system_clock,
) -> bytes:
    """The stored PDF of ``subject``; when none is stored yet, ``render()`` it, and store and record it if
    ``keep`` (a long-term PDF)."""
    existing = read(lambda session: current_pdf(session, subject))
    if existing is not None:
        return read_pdf(store, existing)
    data = render()
    if not keep:
        return data
    written = write_long_term(store, data)
    row = transact(lambda unit: record_first(unit, subject, written, clock=clock))
    return data if row.sha256 == written.stored.sha256 else read_pdf(store, row)


def record_first(unit: Unit, subject: PdfSubject, written: WrittenPdf, *, clock: Clock = system_clock) -> StoredPdf:
    """Record ``written`` as version 1 of ``subject``'s PDF with its ``<kind>.pdf_stored`` entry; the version
    already recorded when there is one (idempotent)."""
    log.lock_log(unit, subject.organization_id)
    existing = current_pdf(unit, subject)
    if existing is not None:
        return existing  # a concurrent first rendering recorded its PDF first: everyone gets that one
    stored, stamp = written.stored, written.stamp
    row = StoredPdf(
        organization_id=subject.organization_id,
        case_id=subject.case_id,
        kind=subject.kind.value,
        subject_id=subject.subject_id,
        edition=subject.edition,
        storage_key=stored.key,
        sha256=stored.sha256,
        size=stored.size,
        timestamp_at=stamp.at,
        timestamp_expires_at=stamp.expires,
        stored_at=clock(),
    )
    data = {
        subject.kind.value: subject.subject_id,
        "edition": subject.edition,
        "version": 1,
        "sha256": stored.sha256,
        "size": stored.size,
        "timestamp_expires_at": rfc3339(stamp.expires),
    }
    draft = EntryDraft(f"{subject.kind}.pdf_stored", subject.organization_id, subject.case_id, SYSTEM_ACTOR, data)
    row.ledger_index = log.append(unit, draft, clock=clock).index
    unit.add(row)
    return row


def latest_pdfs(
    session: Session,
    *,
    organization_id: str,
    kind: PdfKind,
    subject_id: str | None = None,
    case_id: str | None = None,
    expiring_before: datetime | None = None,
) -> list[StoredPdf]:
    """The newest version of each stored PDF of ``kind`` in the organization (of one subject, or of one case,
    when given), oldest expiry first; only those whose last timestamp's TSA certificate expires before
    ``expiring_before`` when given."""
    query = select(StoredPdf).where(StoredPdf.organization_id == organization_id, StoredPdf.kind == kind.value)
    if subject_id is not None:
        query = query.where(StoredPdf.subject_id == subject_id)
    if case_id is not None:
        query = query.where(StoredPdf.case_id == case_id)
    newest: dict[tuple[str, str], StoredPdf] = {}
    for row in session.exec(query).all():
        key = (row.subject_id, row.edition)
        if key not in newest or row.version > newest[key].version:
            newest[key] = row
    rows = [r for r in newest.values() if expiring_before is None or r.timestamp_expires_at < expiring_before]
    return sorted(rows, key=lambda r: (r.timestamp_expires_at, r.subject_id, r.edition))


def stored_pdf_keys(session: Session) -> set[str]:
    """Every object key a stored PDF version names (the orphan audit must keep them)."""
    return set(session.exec(select(StoredPdf.storage_key)).all())


def retimestamp_pdf(
    transact: Transact,
    store: ObjectStore,
    row: StoredPdf,
    *,
    stamp: Callable[[bytes], bytes],
    actor: str,
    clock: Clock = system_clock,
) -> Retimestamped | None:
    """Extend ``row``'s PDF with ``stamp`` (validation data and a new document timestamp), store the result as
    the next version and record it; ``None`` when another run made a newer version first."""
    old = read_pdf(store, row)
    new = stamp(old)
    info = _timestamp(new)
    stored = write_pdf(store, new)
    return transact(lambda unit: _record_version(unit, row, stored, info, actor, clock))


def _record_version(
    unit: Unit, old: StoredPdf, stored: StoredObject, info: DocumentTimestamp, actor: str, clock: Clock
) -> Retimestamped | None:
    log.lock_log(unit, old.organization_id)
    latest: StoredPdf | None = unit.exec(_versions(old.kind, old.subject_id, old.edition)).first()
    if latest is None or latest.id != old.id:
        return None
    row = StoredPdf(
        organization_id=old.organization_id,
        case_id=old.case_id,
        kind=old.kind,
        subject_id=old.subject_id,
        edition=old.edition,
        version=old.version + 1,
        storage_key=stored.key,
        sha256=stored.sha256,
        size=stored.size,
        timestamp_at=info.at,
        timestamp_expires_at=info.expires,
        stored_at=clock(),
    )
    data = {
        old.kind: old.subject_id,
        "edition": old.edition,
        "version": row.version,
        "old_sha256": old.sha256,
        "new_sha256": stored.sha256,
        "size": stored.size,
        "timestamp_expires_at": rfc3339(info.expires),
    }
    draft = EntryDraft(f"{old.kind}.pdf_retimestamped", old.organization_id, old.case_id, actor, data)
    row.ledger_index = log.append(unit, draft, clock=clock).index
    unit.add(row)
    return Retimestamped(
        old.kind, old.subject_id, old.edition, row.version, old.sha256, stored.sha256, info.expires, row.ledger_index
    )


def due_before(now: datetime, days: int) -> datetime:
    """The expiry cut-off of ``--before DAYS``: PDFs whose TSA certificate expires before it are due."""
    return now + timedelta(days=days)
