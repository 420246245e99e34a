"""Publish: sign a checkpoint of the log's current head, after proving it consistent with the last one.

This is the third stage of the log (sequence and integrate happen in ``log.append``). It runs under the
same per-organization lock as appends, so checkpoints are signed in size order, and it refuses to sign a
head that is not an extension of the last signed checkpoint: the log never signs two inconsistent views.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel import Session, col, select

from vault.clock import Clock, system_clock
from vault.config import Settings
from vault.db import Read, Transact, Unit
from vault.errors import OffboardError, VerificationFailed
from vault.ledger import keyring, log
from vault.ledger.checkpoint import CheckpointBody, sign_checkpoint
from vault.ledger.hashing import RootHash
from vault.ledger.tree import consistency_nodes_needed, consistency_proof, root_from_nodes, root_nodes_needed
from vault.ledger.verifiers import verify_consistency
from vault.models import Checkpoint, Organization

logger = logging.getLogger("offboard.ledger")


@dataclass(frozen=True, slots=True)
class Head:
    size: int
    root_hash: RootHash


def head(session: Session, organization_id: str, size: int | None = None) -> Head:
    """Root of the tree at ``size`` (default: the committed size), from O(log n) stored nodes."""
    if size is None:
        size = log.size(session, organization_id)
    nodes = log.fetch_nodes(session, organization_id, root_nodes_needed(size))
    return Head(size, root_from_nodes(size, nodes))


def latest_checkpoint(session: Session, organization_id: str) -> Checkpoint | None:
    query = select(Checkpoint).where(Checkpoint.organization_id == organization_id)
    return session.exec(query.order_by(col(Checkpoint.size).desc(), col(Checkpoint.id).desc())).first()


def first_checkpoint_covering(session: Session, organization_id: str, index: int) -> Checkpoint | None:
    """The earliest checkpoint whose tree holds entry ``index``: the one a client's tlog-proof of it uses."""
    query = select(Checkpoint).where(Checkpoint.organization_id == organization_id, col(Checkpoint.size) > index)
    return session.exec(query.order_by(col(Checkpoint.size), col(Checkpoint.id))).first()


def publish(session: Session, settings: Settings, org: Organization, *, clock: Clock = system_clock) -> Checkpoint:
    """A checkpoint covering every committed entry: the latest one if it already does, else a new one.

    Runs in the caller's transaction; the caller commits.
    """
    log.lock_log(session, org.id)
    current = head(session, org.id)
    latest = latest_checkpoint(session, org.id)
    if latest is not None:
        if latest.size == current.size:
            if bytes(latest.root_hash) != current.root_hash:
                raise VerificationFailed(
                    f"the log's root at size {current.size} differs from the signed checkpoint: the stored tree changed"
                )
            return latest
        if latest.size > current.size:
            raise VerificationFailed(
                f"the log has {current.size} entries but a checkpoint of size {latest.size} was signed: "
                "entries vanished"
            )
        if latest.size > 0:
            nodes = log.fetch_nodes(session, org.id, consistency_nodes_needed(latest.size, current.size))
            proof = consistency_proof(latest.size, current.size, nodes)
            verify_consistency(latest.size, current.size, proof, bytes(latest.root_hash), current.root_hash)
    key = keyring.active_key(session, org.id)
    signer = keyring.load_signer(settings, key)
    body = CheckpointBody(origin=keyring.origin_of(settings, org), size=current.size, root_hash=current.root_hash)
    note = sign_checkpoint(body, [signer])
    row = Checkpoint(
        organization_id=org.id,
        size=current.size,
        root_hash=current.root_hash,
        note=note,
        key_id=key.key_id,
        signed_at=clock(),
    )
    session.add(row)
    session.flush()
    return row


def stale_organizations(session: Session) -> list[str]:
    """Organizations whose committed size is beyond their latest checkpoint (or that have none)."""
    # One statement, two index probes per organization (the ledger's primary key and the checkpoint index on
    # (organization_id, size)): the publisher runs this every few hundred milliseconds.
    rows = session.exec(_STALE)  # type: ignore[call-overload]
    return [str(org_id) for (org_id,) in rows]


_STALE = text(
    """
    SELECT o.id FROM organization o
    WHERE EXISTS (
        SELECT 1 FROM ledger_entry e
        WHERE e.organization_id = o.id
          AND e.idx >= COALESCE(
              (SELECT c.size FROM checkpoint c WHERE c.organization_id = o.id ORDER BY c.size DESC LIMIT 1), 0)
    )
    ORDER BY o.id
    """
)


def publish_all(read: Read, transact: Transact, settings: Settings, *, clock: Clock = system_clock) -> list[Checkpoint]:
    """Sign a checkpoint for every organization that has unsigned entries; one unit of work each.

    Which organizations are stale is read without the write lock (``read``, every few hundred
    milliseconds); the signing goes through the write path (``transact``).

    One organization's failure (an integrity refusal, an unusable key) is logged and does not hold up
    the others. Organizations without a signing key are skipped: they cannot have checkpoints yet.
    """
    stale = read(
        lambda session: [org_id for org_id in stale_organizations(session) if keyring.keys_of(session, org_id)]
    )
    signed = []
    for org_id in stale:

        def work(session: Unit, org_id: str = org_id) -> Checkpoint | None:
            org = session.get(Organization, org_id)
            return publish(session, settings, org, clock=clock) if org is not None else None

        try:
            checkpoint = transact(work)
        except OffboardError as exc:
            logger.error("checkpoint for organization %s refused: %s", org_id, exc.message)
            continue
        if checkpoint is not None:
            signed.append(checkpoint)
    return signed
