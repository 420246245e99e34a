"""Submitting each new checkpoint to the organization's witnesses and storing their cosignatures.

A pass takes each organization's latest checkpoint and sends it to every witness that has not cosigned
it (``exchange.add_checkpoint``), all witnesses at once, outside any transaction, with short timeouts.
The old size is the witness's last known size for this log; on 409 the request is sent once more from
the size the witness gave; a 422, or a witness claiming a size beyond the checkpoint, is an alert
(logged and stored in ``witness_alert``) and that checkpoint is never sent to it again. A witness that
failed otherwise is tried again after ``witness_retry_seconds``. Cosignatures are verified against the
witness's key before they are stored. ``WitnessRunner`` runs passes on its own thread, woken by the
publisher after it signs, so a slow witness never holds up appends or signing.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlmodel import Session, select

from vault.clock import Clock, system_clock
from vault.config import Settings
from vault.db import Read, Transact, Unit
from vault.errors import OffboardError
from vault.ledger import log
from vault.ledger.publish import latest_checkpoint
from vault.ledger.tree import consistency_nodes_needed, consistency_proof
from vault.models import Cosignature, Witness, WitnessAlert
from vault.states import WitnessStatus
from vault.witnessing.cosigners import CheckedCosignature, check_cosignatures, parse_witness_key
from vault.witnessing.exchange import Answer, Outcome, add_checkpoint
from vault.witnessing.roster import witnesses_of

logger = logging.getLogger("offboard.witness")

_STATUS = {
    Outcome.COSIGNED: WitnessStatus.COSIGNED,
    Outcome.REJECTED: WitnessStatus.REJECTED,
    Outcome.UNREACHABLE: WitnessStatus.UNREACHABLE,
    Outcome.FAILED: WitnessStatus.FAILED,
    Outcome.CONFLICT: WitnessStatus.FAILED,
}


@dataclass(frozen=True, slots=True)
class Job:
    """One checkpoint to send to one witness."""

    organization_id: str
    witness_id: str
    url: str
    vkey: str
    known_size: int
    checkpoint_id: int
    size: int
    note: str


@dataclass(frozen=True, slots=True)
class Result:
    """What one job ended with: the witness's answer, its size now, and the cosignatures that verified."""

    job: Job
    answer: Answer
    known_size: int
    cosignatures: tuple[CheckedCosignature, ...] = ()
    #: Set when the outcome must be stored as an alert (never retried for this checkpoint).
    alert: str | None = None


def _due(witness: Witness, checkpoint_id: int, cosigned: set[str], retry_before: datetime) -> bool:
    if witness.key_id in cosigned:
        return False
    if witness.last_checkpoint_id != checkpoint_id or witness.last_attempt_at is None:
        return True
    if witness.status == WitnessStatus.REJECTED:
        return False  # never retried blindly: only a newer checkpoint is sent
    return witness.last_attempt_at.replace(tzinfo=None) <= retry_before


def due_jobs(session: Session, settings: Settings, *, clock: Clock, checkpoint_id: int | None = None) -> list[Job]:
    """Jobs for every organization's latest checkpoint (or only that of ``checkpoint_id``)."""
    retry_before = (clock() - timedelta(seconds=settings.witness_retry_seconds)).replace(tzinfo=None)
    org_ids = sorted(set(session.exec(select(Witness.organization_id))))
    jobs = []
    for org_id in org_ids:
        latest = latest_checkpoint(session, org_id)
        if latest is None or latest.id is None or (checkpoint_id is not None and latest.id != checkpoint_id):
            continue
        query = select(Cosignature.witness_key_id).where(Cosignature.checkpoint_id == latest.id)
        cosigned = set(session.exec(query))
        for w in witnesses_of(session, org_id):
            if checkpoint_id is not None or _due(w, latest.id, cosigned, retry_before):
                if w.key_id not in cosigned:
                    jobs.append(Job(org_id, w.id, w.url, w.vkey, w.known_size, latest.id, latest.size, latest.note))
    return jobs


def _proof(read: Read, organization_id: str, old: int, size: int) -> list[bytes]:
    if old in (0, size):
        return []
    nodes = read(lambda session: log.fetch_nodes(session, organization_id, consistency_nodes_needed(old, size)))
    return list(consistency_proof(old, size, nodes))


def run_job(client: httpx.Client, read: Read, job: Job) -> Result:
    """Send the job's checkpoint; on 409 send it once more from the witness's size."""
    old = job.known_size if job.known_size <= job.size else 0
    answer = add_checkpoint(client, job.url, old, _proof(read, job.organization_id, old, job.size), job.note)
    if answer.outcome == Outcome.CONFLICT and answer.size is not None:
        if answer.size > job.size:
            alert = f"the witness holds size {answer.size}, beyond this log's checkpoint of size {job.size}"
            return Result(job, answer, answer.size, alert=alert)
        old = answer.size
        answer = add_checkpoint(client, job.url, old, _proof(read, job.organization_id, old, job.size), job.note)
    if answer.outcome == Outcome.REJECTED:
        return Result(job, answer, old, alert=answer.detail)
    if answer.outcome != Outcome.COSIGNED:
        return Result(job, answer, answer.size if answer.size is not None else old)
    try:
        found = check_cosignatures(job.note, answer.lines, parse_witness_key(job.vkey))
    except OffboardError as exc:
        return Result(job, Answer(Outcome.FAILED, exc.message), old)
    return Result(job, answer, job.size, cosignatures=tuple(found))


def record(session: Session, result: Result, *, clock: Clock) -> None:
    """Store a job's cosignatures, alert and the witness's new state (if it is still configured)."""
    job, now = result.job, clock()
    held = select(Cosignature.witness_key_id).where(Cosignature.checkpoint_id == job.checkpoint_id)
    stored = set(session.exec(held))  # another process's pass may have stored the same answer first
    for found in result.cosignatures:
        if found.key.key_id in stored:
            continue
        stored.add(found.key.key_id)
        session.add(
            Cosignature(
                checkpoint_id=job.checkpoint_id,
                organization_id=job.organization_id,
                witness_name=found.key.name,
                witness_key_id=found.key.key_id,
                witness_vkey=found.key.vkey,
                timestamp=found.timestamp,
                line=found.line,
                received_at=now,
            )
        )
    witness = session.get(Witness, job.witness_id)
    if result.alert is not None:
        name, url = (witness.name, witness.url) if witness is not None else ("?", job.url)
        session.add(WitnessAlert(organization_id=job.organization_id, witness_name=name, witness_url=url,
                                 checkpoint_id=job.checkpoint_id, checkpoint_size=job.size,
                                 detail=result.alert[:1000], raised_at=now))  # fmt: skip
    if witness is not None:
        status = WitnessStatus.REJECTED if result.alert is not None else _STATUS[result.answer.outcome]
        witness.status = status.value
        witness.detail = result.answer.detail[:1000]
        witness.known_size = result.known_size
        witness.last_checkpoint_id = job.checkpoint_id
        witness.last_attempt_at = now
        session.add(witness)


def witness_pass(
    read: Read,
    transact: Transact,
    settings: Settings,
    *,
    clock: Clock = system_clock,
    checkpoint_id: int | None = None,
) -> list[Result]:
    """One pass: send what is due to every witness at once, then record every answer."""
    jobs = read(lambda session: due_jobs(session, settings, clock=clock, checkpoint_id=checkpoint_id))
    if not jobs:
        return []
    timeout = httpx.Timeout(settings.witness_timeout_seconds)
    with httpx.Client(timeout=timeout, follow_redirects=False) as client, ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda job: run_job(client, read, job), jobs))
    for result in results:
        if result.alert is not None:
            logger.error("ALERT witness %s, checkpoint size %d: %s", result.job.url, result.job.size, result.alert)
        elif result.answer.outcome != Outcome.COSIGNED:
            logger.warning("witness %s: %s", result.job.url, result.answer.detail)

    def work(session: Unit) -> None:
        for result in results:
            record(session, result, clock=clock)

    transact(work)
    return results


class WitnessRunner:
    """A daemon thread running ``witness_pass`` when nudged (a new checkpoint) and every retry interval."""

    def __init__(self, read: Read, settings: Settings, *, transact: Transact, clock: Clock = system_clock) -> None:
        self._read, self._transact, self._settings, self._clock = read, transact, settings, clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="offboard-witnesses", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def nudge(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        interval = min(self._settings.witness_retry_seconds, 5.0)
        while not self._stop.is_set():
            self._wake.wait(interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                witness_pass(self._read, self._transact, self._settings, clock=self._clock)
            except OffboardError as exc:
                logger.error("witness submission refused: %s", exc.message)
            except Exception:
                logger.exception("witness submission failed")
