"""What goes into a case's evidence bundle, read from the database in one transaction (``docs/bundle.md``).

``build_plan`` first records the export: it appends the case's ``bundle.exported`` entry, which names the
organization and every evidence item (id and SHA-256) the bundle will hold, and signs a checkpoint right
after it in the same transaction, so the checkpoint's size is that entry's index plus one and the entry is
the last of its case in the bundle (``docs/bundle.md``, "Completeness"). Then it takes the case's entries
below that checkpoint's size, computes each entry's RFC 9162 inclusion proof from stored nodes
(fetched in batches, not one query per entry), the consistency proof of every earlier checkpoint the
bundle carries, and renders the small generated files. Evidence bytes are not read here: the exporter
streams them from the object store afterwards, so the plan stays small whatever the evidence weighs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from signing.detached import DetachedSignature
from signing.errors import MalformedNote
from signing.note import parse_note
from vault import canonical as canonical_json
from vault.bundle import layout
from vault.bundle.certificate_files import certificate_files
from vault.bundle.export_entry import export_draft
from vault.bundle.tsa_tokens import certificates_pem
from vault.bundle.witnessed import WitnessedCheckpoint, latest_witnessed
from vault.cases.lifecycle import get_case
from vault.clock import Clock, rfc3339, system_clock
from vault.config import Settings
from vault.errors import IntegrityFailure, VerificationFailed
from vault.evidence.ingest import list_evidence
from vault.ledger import keyring, log, service
from vault.ledger.checkpoint import CheckpointBody, MalformedCheckpoint
from vault.ledger.entries import decode_entries
from vault.ledger.proofs import ConsistencyProof, TlogProof
from vault.ledger.publish import publish
from vault.ledger.tree import NodeId, inclusion_nodes_needed, inclusion_proof
from vault.models import Case, Checkpoint, Evidence, LedgerEntry, Organization, StoredPdf, TimestampToken
from vault.orgs.organizations import Principal

#: Node ids per ``fetch_nodes`` query: keeps the IN lists of one statement small on both databases.
NODE_BATCH = 400


@dataclass(frozen=True, slots=True)
class BundleReceipt:
    """A signed handover receipt as it goes into the bundle (issue 5 supplies these)."""

    receipt_id: str
    #: The exact signed bytes: RFC 8785 canonical JSON.
    document: bytes
    #: The organization key's detached Ed25519 signature over ``document``.
    signature: DetachedSignature
    #: ``draft``, ``sent``, ``acknowledged`` or ``disputed``.
    status: str
    #: The receipt's PDF, when one was made.
    pdf: bytes | None = None
    #: Makes the receipt's PDF from what was read in the export's unit of work. Called by ``prepare`` after
    #: that unit committed: signing may wait on a TSA, and no transaction stays open across it.
    make_pdf: Callable[[], bytes] | None = field(default=None, compare=False)
    #: The signed checkpoint note the receipt gave the client, when it carried one.
    checkpoint: str | None = None
    #: The checkpoint of the receipt's ``.tlog-proof`` (the first holding its entry), when one exists.
    tlog_proof_checkpoint: str | None = None


ReceiptSource = Callable[[Session, Case], list[BundleReceipt]]


def no_receipts(session: Session, case: Case) -> list[BundleReceipt]:  # noqa: ARG001
    """Until receipts are stored (issue 5), a case has none."""
    return []


@dataclass(frozen=True, slots=True)
class PlannedEntry:
    index: int
    body: bytes
    proof: tuple[bytes, ...]
    document: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PlannedEvidence:
    row: Evidence
    path: str


@dataclass(frozen=True, slots=True)
class EarlierCheckpoint:
    size: int
    note: str
    proof: tuple[bytes, ...]
    #: Why it is in the bundle: ``receipt:<id>`` and/or ``timestamp``.
    given_in: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StampedCheckpoint:
    size: int
    token: bytes
    gen_time: datetime
    tsa_url: str
    #: Bag-relative path of the exact note bytes the token is over.
    note_path: str


@dataclass(frozen=True, slots=True)
class BundlePlan:
    """Everything an export writes, except the evidence bytes themselves."""

    root: str
    case: Case
    organization: Organization
    origin: str
    exported_by: str
    exported_at: datetime
    checkpoint: Checkpoint
    #: Ledger index of this export's own ``bundle.exported`` entry (the checkpoint's size minus one).
    export_index: int
    entries: tuple[PlannedEntry, ...]
    evidence: tuple[PlannedEvidence, ...]
    earlier: tuple[EarlierCheckpoint, ...]
    timestamps: tuple[StampedCheckpoint, ...]
    receipts: tuple[BundleReceipt, ...]
    #: The latest cosigned checkpoint within the bundle (``witnessed.py``), when a witness cosigned one.
    witnessed: WitnessedCheckpoint | None = None
    #: The newest stored version of the certificate's long-term PDF, read from the store once the plan committed.
    certificate_pdf: StoredPdf | None = None
    #: Filled by ``export.prepare``: generated payload files by path; those still rendering (the PDF report, in
    #: ``files`` and ``payload_sizes`` once ``background.settle`` ran); the entries' ``evidence.md5`` MD5s by path.
    files: dict[str, bytes] = field(default_factory=dict)
    rendering: dict[str, Future[bytes]] = field(default_factory=dict)
    recorded_md5: dict[str, str] = field(default_factory=dict)

    @property
    def payload_sizes(self) -> list[int]:
        return [len(data) for data in self.files.values()] + [e.row.size for e in self.evidence]


def _proofs(session: Session, org_id: str, indexes: list[int], size: int) -> dict[int, tuple[bytes, ...]]:
    needed: dict[NodeId, None] = {}
    for index in indexes:
        needed.update(dict.fromkeys(inclusion_nodes_needed(index, size)))
    wanted = list(needed)
    nodes: dict[NodeId, bytes] = {}
    for start in range(0, len(wanted), NODE_BATCH):
        nodes.update(log.fetch_nodes(session, org_id, wanted[start : start + NODE_BATCH]))
    folded: dict[tuple[int, int], bytes] = {}
    return {index: tuple(inclusion_proof(index, size, nodes, folded=folded)) for index in indexes}


def _entries(session: Session, case: Case, size: int) -> list[PlannedEntry]:
    # The two columns, not the rows: a case may have tens of thousands of entries, and mapped rows cost memory.
    rows = session.exec(
        select(LedgerEntry.idx, LedgerEntry.body)
        .where(
            LedgerEntry.organization_id == case.organization_id,
            LedgerEntry.case_id == case.id,
            col(LedgerEntry.idx) < size,
        )
        .order_by(col(LedgerEntry.idx))
    ).all()
    proofs = _proofs(session, case.organization_id, [idx for idx, _ in rows], size)
    bodies = [bytes(body) for _, body in rows]
    documents = decode_entries(bodies)
    return [
        PlannedEntry(idx, body, proofs[idx], document)
        for (idx, _), body, document in zip(rows, bodies, documents, strict=True)
    ]


def _note_size(note: str) -> int:
    """The size a stored checkpoint note (a receipt's or a timestamped one) claims."""
    try:
        return CheckpointBody.from_text(parse_note(note).body).size
    except (MalformedNote, MalformedCheckpoint) as exc:
        # Offboard wrote this note itself, so one that does not parse is damage, not bad input.
        raise IntegrityFailure(f"a stored checkpoint note does not parse: {exc}") from exc


def _earlier(
    session: Session,
    org_id: str,
    bundle: Checkpoint,
    receipts: Iterable[BundleReceipt],
    stamped_notes: Iterable[str],
    witnessed: WitnessedCheckpoint | None,
) -> list[EarlierCheckpoint]:
    reasons: dict[str, list[str]] = {}
    if witnessed is not None and witnessed.note != bundle.note:
        reasons[witnessed.note] = ["witnessed"]
    for receipt in receipts:
        if receipt.checkpoint is not None:
            reasons.setdefault(receipt.checkpoint, []).append(f"receipt:{receipt.receipt_id}")
        if receipt.tlog_proof_checkpoint is not None:
            reasons.setdefault(receipt.tlog_proof_checkpoint, []).append(f"tlog-proof:{receipt.receipt_id}")
    for note in stamped_notes:
        if note != bundle.note:
            reasons.setdefault(note, []).append("timestamp")
    by_size: dict[int, EarlierCheckpoint] = {}
    for note, given_in in reasons.items():
        size = _note_size(note)
        if size < 1 or size > bundle.size or size in by_size:
            continue  # an empty tree proves nothing; one note per size keeps the file names unique
        proof = service.prove_consistency(session, org_id, size, bundle.size).hashes
        by_size[size] = EarlierCheckpoint(size, note, proof, tuple(given_in))
    return [by_size[size] for size in sorted(by_size)]


def _stamped(session: Session, org_id: str, first_index: int, size: int) -> list[tuple[Checkpoint, TimestampToken]]:
    """Timestamped checkpoints that cover at least one entry of the case and are within the bundle."""
    rows = session.exec(
        select(Checkpoint, TimestampToken)
        .where(
            TimestampToken.checkpoint_id == Checkpoint.id,
            Checkpoint.organization_id == org_id,
            col(Checkpoint.size) > first_index,
            col(Checkpoint.size) <= size,
        )
        .order_by(col(Checkpoint.size), col(TimestampToken.id))
    ).all()
    return [(cp, token) for cp, token in rows]


def canonical(value: Any) -> bytes:
    return canonical_json.dumps(value)


def build_plan(
    session: Session,
    settings: Settings,
    principal: Principal,
    case_id: str,
    *,
    clock: Clock = system_clock,
    receipts: ReceiptSource = no_receipts,
    recipient: str | None = None,
) -> BundlePlan:
    """Record the export (to ``recipient``, when stated), sign the checkpoint that ends with it, and collect
    the case's bundle.

    Runs in the caller's transaction; the caller commits (the entry and the checkpoint, or neither). Every
    role may export, viewers included (issue 13: "a viewer sees and exports but changes nothing"): the
    entries it writes record who took a copy (chain of custody); they change nothing about the case.
    """
    case = get_case(session, principal.organization_id, case_id)
    org = session.get(Organization, case.organization_id)
    assert org is not None  # noqa: S101 - a case always belongs to an existing organization
    evidence = [
        PlannedEvidence(row, layout.evidence_path(row.id, row.original_filename))
        for row in list_evidence(session, org.id, case.id)
        if row.ledger_index is not None
    ]
    exported_at = clock()
    export_index = log.append(
        session, export_draft(org, case, principal.actor, evidence, recipient), clock=lambda: exported_at
    ).index
    checkpoint = publish(session, settings, org, clock=clock)
    if checkpoint.size != export_index + 1:  # the log's lock is held since the append: nothing can come between
        raise VerificationFailed(f"checkpoint of size {checkpoint.size} signed after export entry {export_index}")
    entries = _entries(session, case, checkpoint.size)
    case_receipts = receipts(session, case)
    first_index = entries[0].index if entries else checkpoint.size
    stamped = _stamped(session, org.id, first_index, checkpoint.size)
    witnessed = latest_witnessed(session, org, size=checkpoint.size)
    earlier = _earlier(session, org.id, checkpoint, case_receipts, (cp.note for cp, _ in stamped), witnessed)
    certificate, stored_pdf = certificate_files(session, case.id, checkpoint.size)
    plan = BundlePlan(
        root=layout.bag_root(case.id),
        case=case,
        organization=org,
        origin=keyring.origin_of(settings, org),
        exported_by=principal.actor,
        exported_at=exported_at,
        checkpoint=checkpoint,
        export_index=export_index,
        entries=tuple(entries),
        evidence=tuple(evidence),
        earlier=tuple(earlier),
        timestamps=tuple(_timestamp_plan(checkpoint, earlier, stamped)),
        receipts=tuple(case_receipts),
        witnessed=witnessed,
        certificate_pdf=stored_pdf,
    )
    _add_ledger_files(plan)
    _add_keys(plan, session)
    _add_receipts_and_timestamps(plan, stamped)
    plan.files.update(certificate)
    plan.files[layout.INDEX] = canonical(index_document(plan))
    return plan


def _timestamp_plan(
    checkpoint: Checkpoint, earlier: list[EarlierCheckpoint], stamped: list[tuple[Checkpoint, TimestampToken]]
) -> list[StampedCheckpoint]:
    notes = {e.size: e.note for e in earlier}
    out: dict[int, StampedCheckpoint] = {}
    for cp, token in stamped:
        if cp.note == checkpoint.note:
            path = layout.CHECKPOINT
        elif notes.get(cp.size) == cp.note:
            path = layout.earlier_checkpoint_path(cp.size)
        else:
            continue  # another note of a size already carried; its token is over other bytes
        out.setdefault(cp.size, StampedCheckpoint(cp.size, bytes(token.token), token.gen_time, token.tsa_url, path))
    return [out[size] for size in sorted(out)]


def _add_ledger_files(plan: BundlePlan) -> None:
    plan.files[layout.CHECKPOINT] = plan.checkpoint.note.encode("utf-8")
    for entry in plan.entries:
        plan.files[layout.entry_path(entry.index)] = entry.body
        proof = TlogProof(index=entry.index, hashes=entry.proof, checkpoint=plan.checkpoint.note)
        plan.files[layout.proof_path(entry.index)] = proof.to_text().encode("utf-8")
    for earlier in plan.earlier:
        plan.files[layout.earlier_checkpoint_path(earlier.size)] = earlier.note.encode("utf-8")
        proof_json = ConsistencyProof(first=earlier.size, second=plan.checkpoint.size, hashes=earlier.proof).to_json()
        plan.files[layout.consistency_path(earlier.size)] = canonical(proof_json)
    if plan.witnessed is not None:
        plan.files[layout.WITNESSED] = plan.witnessed.cosigned_note.encode("utf-8")


def _add_keys(plan: BundlePlan, session: Session) -> None:
    keys = keyring.public_keys(session, plan.organization.id)
    listing = []
    for key in keys:
        plan.files[layout.key_path(key.key_id)] = (key.vkey + "\n").encode("utf-8")
        listing.append(
            {
                "key_id": key.key_id,
                "name": key.name,
                "path": layout.key_path(key.key_id),
                "valid_from": rfc3339(key.valid_from),
                "valid_until": rfc3339(key.valid_until) if key.valid_until else None,
            }
        )
    plan.files[layout.KEYS_INDEX] = canonical({"keys": listing})


def _add_receipts_and_timestamps(plan: BundlePlan, stamped: list[tuple[Checkpoint, TimestampToken]]) -> None:
    for receipt in plan.receipts:
        json_path, sig_path, pdf_path = layout.receipt_paths(receipt.receipt_id)
        plan.files[json_path] = receipt.document
        plan.files[sig_path] = canonical(receipt.signature.to_bundle_json())
        if receipt.pdf is not None:
            plan.files[pdf_path] = receipt.pdf
    del stamped  # the tokens were chosen in _timestamp_plan
    for stamp in plan.timestamps:
        plan.files[layout.timestamp_path(stamp.size)] = stamp.token
        chain = certificates_pem(stamp.token)
        if chain:
            plan.files[layout.timestamp_chain_path(stamp.size)] = chain


def index_document(plan: BundlePlan) -> dict[str, Any]:
    """``data/bundle.json``: what the bundle holds and where; every claim in it is checked by verifiers."""
    return {
        "format": layout.FORMAT,
        "case": plan.case.id,
        "client_name": plan.case.client_name,
        "organization": {"id": plan.organization.id, "name": plan.organization.name, "slug": plan.organization.slug},
        "origin": plan.origin,
        "exported_at": rfc3339(plan.exported_at),
        "exported_by": plan.exported_by,
        "checkpoint": {"path": layout.CHECKPOINT, "size": plan.checkpoint.size},
        "entries": [entry.index for entry in plan.entries],
        "evidence": [
            {
                "id": item.row.id,
                "path": item.path,
                "filename": item.row.original_filename,
                "sha256": item.row.sha256,
                "size": item.row.size,
                "ledger_index": item.row.ledger_index,
                "kind": item.row.kind,
                "content_type": item.row.content_type,
            }
            for item in plan.evidence
        ],
        "earlier_checkpoints": [
            {
                "size": e.size,
                "path": layout.earlier_checkpoint_path(e.size),
                "consistency": layout.consistency_path(e.size),
                "given_in": list(e.given_in),
            }
            for e in plan.earlier
        ],
        "receipts": [
            {
                "id": r.receipt_id,
                "status": r.status,
                "json": layout.receipt_paths(r.receipt_id)[0],
                "sig": layout.receipt_paths(r.receipt_id)[1],
                "pdf": layout.receipt_paths(r.receipt_id)[2] if r.pdf is not None or r.make_pdf is not None else None,
            }
            for r in plan.receipts
        ],
        "timestamps": [
            {
                "size": t.size,
                "token": layout.timestamp_path(t.size),
                "note": t.note_path,
                "gen_time": rfc3339(t.gen_time),
                "tsa_url": t.tsa_url,
            }
            for t in plan.timestamps
        ],
    }


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
