"""Orphan objects and stale temp files: find them, report them with their age, remove what is safe to remove.

An **orphan** is a stored object that no evidence row (``Evidence.storage_key``) or stored PDF names. Ingest commits
the object first and its row after (``vault/evidence/ingest.py``), so a crash in between leaves one. A **stale
temp file** is the leftover of a write interrupted mid-upload: ``tmp/*.part`` in a local folder, an
incomplete multipart upload or a staging object on S3.

``repair`` removes temp files not written for ``TEMP_FILE_MIN_AGE`` and deletes orphans not written for
the minimum age (a day by default) unless retention or a legal hold keeps them. It never deletes an
object that a committed row names; why the order of its checks guarantees that is said where it happens.
The format of the report is in docs/storage.md, "Orphans and temporary files".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from storage.base import ObjectMissing, ObjectRetained, ObjectRewritten, ObjectStore, StoreError, TempFile
from storage.local import LocalStore
from vault.clock import rfc3339
from vault.db import Read
from vault.errors import InvalidInput, StorageError
from vault.models import Evidence, StoredPdf
from vault.store import store_errors

logger = logging.getLogger("offboard.storage")

#: Temp files younger than this are never removed. Every chunk an upload writes moves its temp file's
#: time on, so an upload in progress (in this process or another one) has a file seconds old; an hour
#: without a write means its writer is gone.
TEMP_FILE_MIN_AGE = timedelta(hours=1)
#: Orphans younger than this are kept by ``repair`` unless ``--orphan-min-age`` says otherwise.
ORPHAN_MIN_AGE = timedelta(days=1)
#: The least ``--orphan-min-age`` accepted: an ingest commits its object moments (at most the PDF parse
#: timeout and one transaction) before its row, and an object that young may be one of those.
ORPHAN_MIN_AGE_FLOOR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Orphan:
    """A stored object that no evidence row names."""

    key: str
    size: int
    #: Its last write (a write of the same bytes counts; on S3 the listing gives the upload time).
    modified: datetime
    age: timedelta


@dataclass(frozen=True, slots=True)
class StaleTempFile:
    temp: TempFile
    age: timedelta


@dataclass(frozen=True, slots=True)
class RepairAction:
    """What ``repair`` did about one orphan or temp file."""

    #: ``orphan`` or ``temp file``.
    subject: str
    #: The object's key, or the temp file's name.
    target: str
    #: ``deleted`` (orphan), ``removed`` / ``restored`` (temp file), ``kept`` (on purpose), ``gone``
    #: (someone else removed it first) or ``failed`` (the store refused for another reason).
    outcome: str
    #: Why, in words: "under COMPLIANCE retention until ...", "younger than 1 day", ...
    detail: str
    age: timedelta
    #: End of the retention that kept the object, when that is the reason and the store said it.
    retained_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class RepairReport:
    orphan_min_age: timedelta
    actions: tuple[RepairAction, ...]

    @property
    def ok(self) -> bool:
        """Everything was removed or kept on purpose; ``False`` if any removal failed."""
        return not any(a.outcome == "failed" for a in self.actions)

    def count(self, subject: str, outcome: str) -> int:
        return sum(1 for a in self.actions if a.subject == subject and a.outcome == outcome)


def find_orphans(store: ObjectStore, referenced: Collection[str], *, now: datetime) -> tuple[Orphan, ...]:
    """Objects whose key is not in ``referenced`` (the storage keys of every evidence row)."""
    with store_errors(f"cannot list the objects of {store.url}"):
        return tuple(
            Orphan(key=o.key, size=o.size, modified=o.modified, age=now - o.modified)
            for o in store.list_objects()
            if o.key not in referenced
        )


def stale_temp_files(store: ObjectStore, *, now: datetime) -> tuple[StaleTempFile, ...]:
    with store_errors(f"cannot list the temp files of {store.url}"):
        return tuple(StaleTempFile(t, now - t.modified) for t in store.stale_temp_files(now - TEMP_FILE_MIN_AGE))


def remove_stale_temp_files(store: ObjectStore, *, now: datetime) -> list[RepairAction]:
    """Remove (or, for an interrupted deletion, put back) every temp file older than ``TEMP_FILE_MIN_AGE``."""
    actions: list[RepairAction] = []
    for stale in stale_temp_files(store, now=now):
        temp = stale.temp
        restoring = temp.what == "interrupted deletion"
        try:
            store.remove_temp_file(temp)
        except ObjectRewritten as exc:
            outcome, detail = "kept", f"written again at {rfc3339(exc.written)}: its writer is alive"
        except ObjectMissing:
            outcome, detail = "gone", "already removed"
        except ObjectRetained as exc:
            outcome, detail = "kept", f"under retention: {exc}"
        except StoreError as exc:
            outcome, detail = "failed", str(exc)
        else:
            outcome = "restored" if restoring else "removed"
            detail = "put back under its key; the next audit decides about it" if restoring else temp.what
        actions.append(RepairAction("temp file", temp.name, outcome, detail, stale.age))
    return actions


def remove_temp_files_at_start(store: ObjectStore, *, now: datetime) -> int:
    """Start-up clean-up of a local folder's temp files; returns how many were removed. Never raises.

    Only a local folder: it is on this machine and cheap to list. An S3 bucket is not contacted at
    start-up (an unreachable endpoint would hold the start for minutes of retries); ``offboard audit
    --repair`` cleans its staging leftovers, and a lifecycle rule can too (docs/storage.md).
    """
    if not isinstance(store, LocalStore):
        return 0
    try:
        actions = remove_stale_temp_files(store, now=now)
    except StorageError as exc:
        logger.warning("start-up: cannot clean temp files of %s: %s", store.url, exc)
        return 0
    for action in actions:
        if action.outcome == "failed":
            logger.warning("start-up: cannot remove %s from %s: %s", action.target, store.url, action.detail)
    removed = sum(1 for a in actions if a.outcome in {"removed", "restored"})
    logger.info(
        "start-up: removed %d stale temp file(s) (older than %s) from %s",
        removed,
        age_text(TEMP_FILE_MIN_AGE),
        store.url,
    )
    return removed


def repair(
    read: Read, store: ObjectStore, orphans: Iterable[Orphan], *, now: datetime, orphan_min_age: timedelta
) -> RepairReport:
    """Remove stale temp files, then delete each orphan older than ``orphan_min_age`` that may go."""
    check_orphan_min_age(orphan_min_age)
    actions = remove_stale_temp_files(store, now=now)
    cutoff = now - orphan_min_age
    for orphan in orphans:
        actions.append(_repair_orphan(read, store, orphan, cutoff=cutoff, orphan_min_age=orphan_min_age))
    return RepairReport(orphan_min_age=orphan_min_age, actions=tuple(actions))


def _repair_orphan(
    read: Read, store: ObjectStore, orphan: Orphan, *, cutoff: datetime, orphan_min_age: timedelta
) -> RepairAction:
    def act(outcome: str, detail: str, retained_until: datetime | None = None) -> RepairAction:
        return RepairAction("orphan", orphan.key, outcome, detail, orphan.age, retained_until)

    if orphan.modified >= cutoff:
        return act("kept", f"younger than {age_text(orphan_min_age)}")
    # Why this order never deletes an object that a committed row names. Ingest commits the object to
    # the store first and its row moments later (well under ORPHAN_MIN_AGE_FLOOR). So a row naming an
    # object not written since the cutoff has committed already, unless its ingest did not write the
    # object but found it stored. The rows are therefore read again here, not taken from the audit's
    # snapshot (which may be hours old): that catches every committed row. An ingest that found the
    # object stored has freshened it (a write of the same bytes counts as a write), and the delete is
    # conditional on no write since the cutoff, checked in an order that a racing write cannot slip
    # through (the local folder renames the object away before reading its time; S3 puts a delete
    # marker first): such an ingest either keeps the object or stores its bytes anew.
    row = _row_naming(read, orphan.key)
    if row is not None:
        return act("kept", f"now named by {row} (an upload committed it during the audit)")
    try:
        store.delete(orphan.key, unless_written_since=cutoff)
    except ObjectRetained as exc:
        return act("kept", _retention_text(exc), exc.retention.until if exc.retention else None)
    except ObjectRewritten as exc:
        return act("kept", f"written again at {rfc3339(exc.written)} (an upload of the same bytes)")
    except ObjectMissing:
        return act("gone", "already deleted")
    except StoreError as exc:
        return act("failed", str(exc))
    return act("deleted", f"no evidence record, not written for {age_text(orphan_min_age)}")


def _retention_text(exc: ObjectRetained) -> str:
    held = exc.retention
    if held is None:
        return str(exc)  # the server refused without saying why; its words are the best we have
    parts = []
    if held.until is not None:
        parts.append(f"under {held.mode + ' ' if held.mode else ''}retention until {rfc3339(held.until)}")
    if held.legal_hold:
        parts.append("a legal hold" if parts else "under a legal hold")
    return " and ".join(parts)


def _row_naming(read: Read, key: str) -> str | None:
    def naming(session: Session) -> str | None:
        evidence = session.exec(select(Evidence.id).where(Evidence.storage_key == key).limit(1)).first()
        if evidence is not None:
            return f"evidence {evidence}"
        # A stored PDF (vault/pdfs/stored.py) is written the same way: object first, its row moments later.
        pdf = session.exec(select(StoredPdf).where(StoredPdf.storage_key == key).limit(1)).first()
        return f"the stored PDF of {pdf.kind} {pdf.subject_id}" if pdf is not None else None

    return read(naming)


_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?")


def parse_min_age(text: str) -> timedelta:
    """``36`` (hours), or a duration: ``2d``, ``36h``, ``90m``, ``1d12h``; at least the floor."""
    value = text.strip().lower()
    expected = "expected hours (36) or a duration (2d, 36h, 90m, 1d12h)"
    if re.fullmatch(r"\d+(\.\d+)?", value):
        age = timedelta(hours=float(value))
    else:
        match = _DURATION.fullmatch(value)
        if match is None or not value:
            raise InvalidInput(f"orphan min age: {expected}, found {text!r}")
        days, hours, minutes = (int(part or 0) for part in match.groups())
        age = timedelta(days=days, hours=hours, minutes=minutes)
    check_orphan_min_age(age, given=text)
    return age


def check_orphan_min_age(age: timedelta, *, given: str | None = None) -> None:
    if age < ORPHAN_MIN_AGE_FLOOR:
        found = given if given is not None else age_text(age)
        raise InvalidInput(
            f"orphan min age must be at least {age_text(ORPHAN_MIN_AGE_FLOOR)} (an upload commits its object "
            f"moments before its record), found {found!r}"
        )


def age_text(age: timedelta) -> str:
    """``2 days 3 hours``, ``5 hours``, ``12 minutes 5 seconds``: the largest unit and the next one."""
    seconds = max(int(age.total_seconds()), 0)
    units = [("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)]
    for index, (name, size) in enumerate(units):
        if seconds >= size or size == 1:
            first, rest = divmod(seconds, size)
            text = _plural(first, name)
            if index + 1 < len(units) and rest // units[index + 1][1]:
                text += " " + _plural(rest // units[index + 1][1], units[index + 1][0])
            return text
    raise AssertionError("unreachable: the last unit is one second")


def _plural(amount: int, name: str) -> str:
    return f"{amount} {name}{'' if amount == 1 else 's'}"
