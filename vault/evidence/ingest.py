"""Evidence ingest and retrieval: stream -> hash -> store -> row + ledger entry.

Order matters for the crash guarantee: the object is committed to the store first, then the row and its
``evidence.stored`` ledger entry commit in one database transaction. A crash in between leaves an orphan
object (``offboard audit`` reports it), never a record without its object.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.base import ObjectCorrupt, ObjectMissing, ObjectStore, ObjectWriter, StoredObject, StoreError, object_key
from vault.cases.lifecycle import get_case, writable_case
from vault.clock import Clock, rfc3339, system_clock
from vault.db import Transact, Unit
from vault.errors import (
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    StorageError,
    UnacceptableUpload,
    VerificationFailed,
)
from vault.evidence.filenames import checked_filename
from vault.evidence.md5 import enqueue_md5
from vault.evidence.pdfinfo import PdfInfo, inspect_pdf, looks_like_pdf
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.models import Evidence
from vault.orgs.organizations import Principal
from vault.store import store_errors


class EvidenceKind(StrEnum):
    DELIVERABLE = "deliverable"
    CONFIRMATION = "confirmation"
    COMMUNICATION = "communication"
    OTHER = "other"


def parse_kind(value: str | None) -> EvidenceKind:
    try:
        return EvidenceKind((value or "").strip().lower())
    except ValueError:
        allowed = ", ".join(k.value for k in EvidenceKind)
        raise InvalidInput(f"kind must be one of {allowed}; got {value!r}") from None


@dataclass(frozen=True, slots=True)
class IngestLimits:
    max_bytes: int
    pdf_parse_max_bytes: int
    pdf_parse_timeout: float


@dataclass(frozen=True, slots=True)
class IngestResult:
    evidence: Evidence
    #: True when the same bytes were already stored in this case; nothing new was recorded.
    duplicate: bool


class EvidenceIngest:
    """One streamed upload into a case. Feed chunks, then ``finish()``; ``abort()`` on any failure.

    Each byte is hashed once, as it is written to the store; PDFs small enough to inspect are also teed
    into a private temporary file for the metadata parser, so the store is never read back for it.
    Start one with ``begin`` (which checks the case); the object is written outside any transaction and
    only the row and its ledger entry go through ``transact`` (the unit of work) at ``finish``.
    """

    def __init__(
        self,
        store: ObjectStore,
        principal: Principal,
        case_id: str,
        limits: IngestLimits,
        *,
        transact: Transact,
        clock: Clock = system_clock,
    ) -> None:
        self._transact = transact
        self._store = store
        self._principal = principal
        self._case_id = case_id
        self._limits = limits
        self._clock = clock
        self._opened: ObjectWriter | None = None
        # PDF tee state: bytes seen while undecided, then a temp file (tee) or nothing (off).
        self._undecided: bytearray | None = bytearray()
        self._pdf: IO[bytes] | None = None
        self._done = False

    @classmethod
    def begin(
        cls,
        session: Session,
        store: ObjectStore,
        principal: Principal,
        case_id: str,
        limits: IngestLimits,
        *,
        transact: Transact,
        clock: Clock = system_clock,
    ) -> EvidenceIngest:
        """An upload into ``case_id`` once ``principal`` may write there (read in ``session``)."""
        principal.can_write()
        writable_case(session, principal.organization_id, case_id)
        return cls(store, principal, case_id, limits, transact=transact, clock=clock)

    @property
    def _writer(self) -> ObjectWriter:
        # Opened on first use: making the object writer is I/O (a temporary file, a multipart upload).
        if self._opened is None:
            with store_errors("object store write failed"):
                self._opened = self._store.writer()
        return self._opened

    @property
    def size(self) -> int:
        return self._opened.size if self._opened is not None else 0

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self._writer.size + len(chunk) > self._limits.max_bytes:
            self.abort()
            raise PayloadTooLarge(
                f"upload exceeds the limit of {self._limits.max_bytes} bytes", details={"limit": self._limits.max_bytes}
            )
        try:
            self._writer.write(chunk)
        except StoreError as exc:
            self.abort()
            raise StorageError(f"object store write failed: {exc}") from exc
        self._tee_pdf(chunk)

    def _tee_pdf(self, chunk: bytes) -> None:
        if self._undecided is not None:
            self._undecided += chunk
            if len(self._undecided) >= 1024:
                self._decide_pdf()
        elif self._pdf is not None:
            if self._writer.size > self._limits.pdf_parse_max_bytes:
                self._drop_pdf_tee()
            else:
                self._pdf.write(chunk)

    def _decide_pdf(self) -> None:
        seen, self._undecided = self._undecided, None
        if seen is not None and looks_like_pdf(bytes(seen[:1024])) and len(seen) <= self._limits.pdf_parse_max_bytes:
            self._pdf = tempfile.NamedTemporaryFile(prefix="offboard-pdf-", suffix=".pdf")  # noqa: SIM115
            self._pdf.write(seen)

    def _drop_pdf_tee(self) -> None:
        self._undecided = None
        if self._pdf is not None:
            self._pdf.close()
            self._pdf = None

    def abort(self) -> None:
        if not self._done:
            self._done = True
            if self._opened is not None:
                self._opened.abort()
            self._drop_pdf_tee()

    def finish(
        self, *, filename: str | None, kind: str | None, content_type: str | None, description: str | None
    ) -> IngestResult:
        """Commit the object, then the row and its ledger entry; returns the existing row for duplicates."""
        try:
            evidence_kind = parse_kind(kind)
            name = checked_filename(filename)
            if description is not None and len(description) > 4000:
                raise InvalidInput("description must be at most 4000 characters")
            if self.size == 0:
                raise UnacceptableUpload(
                    "the file is empty (0 bytes): an empty file is never evidence; a confirmation given in "
                    "words is recorded as a case note"
                )
            if self._undecided is not None:
                self._decide_pdf()
            try:
                stored = self._writer.commit()
            except StoreError as exc:
                raise StorageError(f"object store commit failed: {exc}") from exc
            self._done = True
            pdf_info = self._inspect_pdf()
        except BaseException:
            self.abort()
            raise
        finally:
            if self._done:
                self._drop_pdf_tee()
        return self._record(stored, evidence_kind, name, content_type, description, pdf_info)

    def _inspect_pdf(self) -> PdfInfo | None:
        if self._pdf is None:
            return None
        self._pdf.flush()
        return inspect_pdf(Path(self._pdf.name), timeout=self._limits.pdf_parse_timeout)

    def _record(
        self,
        stored: StoredObject,
        kind: EvidenceKind,
        filename: str,
        content_type: str | None,
        description: str | None,
        pdf_info: PdfInfo | None,
    ) -> IngestResult:
        org = self._principal.organization_id
        content_type = (content_type or "application/octet-stream").split(";")[0].strip()[:200] or (
            "application/octet-stream"
        )

        def work(session: Unit) -> IngestResult:
            log.lock_log(session, org)
            existing = find_duplicate(session, self._case_id, stored.sha256)
            if existing is not None:
                return IngestResult(existing, duplicate=True)
            writable_case(session, org, self._case_id)
            now = self._clock()
            row = Evidence(
                organization_id=org,
                case_id=self._case_id,
                sha256=stored.sha256,
                size=stored.size,
                content_type=content_type,
                original_filename=filename,
                kind=kind.value,
                description=description,
                storage_key=stored.key,
                version_id=stored.version_id,
                pdf_info=pdf_info.to_json() if pdf_info is not None else None,
                stored_at=now,
            )
            session.add(row)
            session.flush()
            appended = log.append(session, evidence_entry(row, self._principal.actor), clock=lambda: now)
            row.ledger_index = appended.index
            session.add(row)
            session.flush()
            enqueue_md5(session, row, now)  # for the load file, off the upload (``md5.py``)
            return IngestResult(row, duplicate=False)

        try:
            return self._transact(work)
        except IntegrityError:
            # A concurrent upload of the same bytes won the race; answer with its row.
            existing = self._transact(lambda session: find_duplicate(session, self._case_id, stored.sha256))
            if existing is None:
                raise
            return IngestResult(existing, duplicate=True)


def evidence_entry(row: Evidence, actor: str) -> EntryDraft:
    return EntryDraft(
        type="evidence.stored",
        organization_id=row.organization_id,
        case_id=row.case_id,
        actor=actor,
        data={
            "evidence": row.id,
            "sha256": row.sha256,
            "size": row.size,
            "filename": row.original_filename,
            "kind": row.kind,
            "content_type": row.content_type,
            "storage_key": row.storage_key,
            "version_id": row.version_id,
            "stored_at": rfc3339(row.stored_at),
        },
    )


def find_duplicate(session: Session, case_id: str, sha256: str) -> Evidence | None:
    return session.exec(select(Evidence).where(Evidence.case_id == case_id, Evidence.sha256 == sha256)).first()


def get_evidence(session: Session, organization_id: str, evidence_id: str) -> Evidence:
    row = session.get(Evidence, evidence_id)
    if row is None or row.organization_id != organization_id:
        raise NotFound(f"no evidence {evidence_id!r} in this organization")
    return row


def list_evidence(session: Session, organization_id: str, case_id: str) -> list[Evidence]:
    get_case(session, organization_id, case_id)
    query = select(Evidence).where(Evidence.case_id == case_id).order_by(Evidence.stored_at)  # type: ignore[arg-type]
    return list(session.exec(query).all())


def stream_verified(store: ObjectStore, row: Evidence) -> Iterator[bytes]:
    """The object's bytes; raises ``VerificationFailed`` at the end if they are not the recorded bytes.

    Keys are content addresses and every store re-hashes what it reads against the key, so this only has
    to tie the row to its key and check the size. Callers that write to disk must not keep the output
    unless the iterator finishes without raising.
    """
    try:
        named = object_key(row.sha256)
    except StoreError:  # a damaged row whose sha256 is not hex names no object at all
        named = None
    if row.storage_key != named:
        raise VerificationFailed(
            f"evidence {row.id}: the record's sha256 {row.sha256} does not name its object {row.storage_key}"
        )
    size = 0
    try:
        for chunk in store.open(row.storage_key):
            size += len(chunk)
            yield chunk
    except ObjectMissing as exc:
        raise VerificationFailed(f"evidence {row.id}: object {row.storage_key} is missing from the store") from exc
    except ObjectCorrupt as exc:
        raise VerificationFailed(f"evidence {row.id}: stored bytes do not match the record: {exc}") from exc
    except StoreError as exc:
        raise StorageError(f"evidence {row.id}: reading {row.storage_key} failed: {exc}") from exc
    if size != row.size:
        raise VerificationFailed(
            f"evidence {row.id}: stored bytes do not match the record (expected {row.size} bytes, found {size})"
        )
