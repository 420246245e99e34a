"""Audit: re-hash every stored object against the database and find what is missing, altered or orphaned.

The report lists every problem found, not the first; ``ok`` is true only when no object is missing or
altered. Orphans (objects no row names) and stale temp files are reported with their age but are not
failures: ``vault/evidence/orphans.py`` explains them and removes what may go (``offboard audit --repair``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel import select

from storage.base import ObjectMissing, ObjectStore
from vault.clock import Clock
from vault.db import Read
from vault.errors import OffboardError
from vault.evidence.ingest import stream_verified
from vault.evidence.orphans import Orphan, StaleTempFile, find_orphans, stale_temp_files
from vault.models import Evidence
from vault.pdfs.stored import stored_pdf_keys
from vault.store import store_errors

Progress = Callable[[int], None]
"""Called with the number of bytes just checked."""


@dataclass(frozen=True, slots=True)
class AuditProblem:
    #: ``missing`` or ``altered``.
    kind: str
    storage_key: str
    #: The evidence ids recorded for the key.
    evidence_ids: tuple[str, ...]
    detail: str


@dataclass(frozen=True, slots=True)
class AuditReport:
    objects_checked: int
    bytes_checked: int
    problems: tuple[AuditProblem, ...] = field(default=())
    #: Stored objects no evidence row names, with their age.
    orphans: tuple[Orphan, ...] = field(default=())
    #: Leftovers of interrupted writes older than ``TEMP_FILE_MIN_AGE``.
    temp_files: tuple[StaleTempFile, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems


def total_recorded_bytes(read: Read) -> int:
    rows = read(lambda session: session.exec(select(Evidence.storage_key, Evidence.size)).all())
    return sum(dict(rows).values())


def audit(read: Read, store: ObjectStore, *, clock: Clock, progress: Progress | None = None) -> AuditReport:
    """Re-hash each distinct stored object once; orphans and stale temp files are reported, not failures.

    The rows are read first and the read session closed before any object is streamed."""
    rows = read(lambda session: list(session.exec(select(Evidence).order_by(Evidence.storage_key)).all()))
    by_key: dict[str, list[Evidence]] = {}
    for row in rows:
        by_key.setdefault(row.storage_key, []).append(row)
    problems: list[AuditProblem] = []
    checked = 0
    for key, group in by_key.items():
        ids = tuple(r.id for r in group)
        with store_errors(f"cannot look up {key} in {store.url}"):
            info = store.stat(key)
        if info is None:
            problems.append(AuditProblem("missing", key, ids, "object is missing from the store"))
            continue
        try:
            for chunk in stream_verified(store, group[0]):
                checked += len(chunk)
                if progress is not None:
                    progress(len(chunk))
        except OffboardError as exc:
            # The object can vanish between stat and read; anything else that fails is an altered object.
            kind = "missing" if isinstance(exc.__cause__, ObjectMissing) else "altered"
            problems.append(AuditProblem(kind, key, ids, exc.message))
        # Rows sharing a key must agree on what the bytes are.
        for other in group[1:]:
            if (other.sha256, other.size) != (group[0].sha256, group[0].size):
                problems.append(AuditProblem("altered", key, (other.id,), "rows disagree on the object's hash"))
    # Listed after the rows were read: an object whose row commits in between looks orphaned here, and
    # ``repair`` reads the rows again before deleting anything. Ages are from the time of the listing.
    now = clock()
    return AuditReport(
        objects_checked=len(by_key),
        bytes_checked=checked,
        problems=tuple(problems),
        # Stored PDFs (vault/pdfs/stored.py) are objects no evidence row names, and no orphans either.
        orphans=find_orphans(store, {*by_key, *read(stored_pdf_keys)}, now=now),
        temp_files=stale_temp_files(store, now=now),
    )
