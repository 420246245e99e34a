"""Handover receipts: build, RFC 8785 canonical JSON, detached Ed25519 signature, verification.

A receipt is the organization's signed statement of what it handed over for a case: the deliverables
(evidence id, filename, SHA-256, size), the obligations completed (steps), the access revoked, the terms
text, and the latest signed checkpoint of the ledger. The signature is Ed25519 over exactly the canonical
bytes (``docs/receipts.md``), with the organization's active ledger key. Those bytes are stored as they
were signed and never re-serialized. The countersignature after the client's acknowledgment is in
``vault/handover/acknowledgments.py``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from signing.detached import DetachedSignature
from signing.errors import SigningError
from signing.keys import Signer, Verifier
from vault import canonical as canonical_json
from vault.cases.lifecycle import get_case, loads_list, writable_case
from vault.clock import Clock, rfc3339, system_clock
from vault.config import Settings
from vault.errors import InvalidInput, NotFound, VerificationFailed
from vault.ledger import keyring, log
from vault.ledger.checkpoint import PublishedCheckpoint
from vault.ledger.entries import EntryDraft
from vault.ledger.service import current_checkpoint
from vault.models import AccessItem, Acknowledgment, Case, CaseStep, Evidence, Organization, Receipt
from vault.orgs.organizations import Principal
from vault.states import AccessStatus, StepStatus
from vault.states import ReceiptStatus as ReceiptStatus  # re-exported beside the receipts it describes

RECEIPT_TYPE = "offboard.receipt/v1"
MAX_TERMS = 20_000
MAX_ITEMS = 1_000


def canonical(document: dict[str, Any]) -> bytes:
    """RFC 8785 bytes of ``document``; ``InvalidInput`` for values JSON canonicalization refuses."""
    try:
        return canonical_json.dumps(document)
    except canonical_json.CanonicalizationError as exc:
        raise InvalidInput(f"receipt data is not canonicalizable JSON: {exc}") from exc


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class SignedDocument:
    """Canonical JSON bytes and the detached Ed25519 signature over exactly them."""

    #: The RFC 8785 bytes that were signed.
    body: bytes
    #: The 64-byte Ed25519 signature of ``body``.
    signature: bytes
    #: The 8-hex C2SP key id of the signing key (the same key signs the ledger's checkpoints).
    key_id: str
    #: The key's name (the checkpoint origin).
    key_name: str

    @property
    def sha256(self) -> str:
        return sha256_hex(self.body)

    @property
    def detached(self) -> DetachedSignature:
        """The detached signature as published next to the document (``<name>.sig.json``, the API)."""
        return DetachedSignature(self.key_id, self.signature, key_name=self.key_name, sha256=self.sha256)


def sign_document(signer: Signer, document: dict[str, Any]) -> SignedDocument:
    body = canonical(document)
    return SignedDocument(body, signer.sign(body), signer.key_id.hex(), signer.name)


def verify_document(body: bytes, signature: bytes, verifier: Verifier) -> dict[str, Any]:
    """Check a detached signature and that ``body`` is canonical; return the parsed document.

    Raises ``VerificationFailed`` naming what failed: the signature, the canonical form, or the JSON.
    """
    try:
        verifier.verify(body, signature)
    except SigningError as exc:
        raise VerificationFailed(f"receipt signature does not verify: {exc}") from exc
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise VerificationFailed(f"signed receipt bytes are not JSON: {exc}") from exc
    if not isinstance(value, dict) or canonical(value) != body:
        raise VerificationFailed("signed receipt bytes are not an RFC 8785 canonical JSON object")
    return value


def verifier_for(session: Session, organization_id: str, key_id: str) -> Verifier:
    """The organization's key with ``key_id``, retired ones included (old receipts keep verifying)."""
    for row in keyring.keys_of(session, organization_id):
        if row.key_id == key_id:
            return keyring.verifier_of(row)
    raise VerificationFailed(f"no signing key {key_id!r} in this organization")


def verify_receipt(session: Session, receipt: Receipt) -> dict[str, Any]:
    """Re-verify a stored receipt's signature and hash; returns the document."""
    body = bytes(receipt.document)
    if sha256_hex(body) != receipt.sha256:
        raise VerificationFailed(f"receipt {receipt.id}: stored bytes do not match their recorded SHA-256")
    verifier = verifier_for(session, receipt.organization_id, receipt.key_id)
    return verify_document(body, bytes(receipt.signature), verifier)


def signed_of(receipt: Receipt) -> SignedDocument:
    return SignedDocument(bytes(receipt.document), bytes(receipt.signature), receipt.key_id, receipt.key_name)


def countersignature_of(ack: Acknowledgment) -> DetachedSignature:
    """The organization's detached signature over the client's acknowledgment, as stored."""
    return DetachedSignature(ack.key_id, bytes(ack.signature), key_name=ack.key_name, sha256=ack.sha256)


def document_of(receipt: Receipt) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(bytes(receipt.document))
    return value


def get_receipt(session: Session, organization_id: str, receipt_id: str) -> Receipt:
    receipt = session.get(Receipt, receipt_id)
    if receipt is None or receipt.organization_id != organization_id:
        raise NotFound(f"no receipt {receipt_id!r} in this organization")
    return receipt


def list_receipts(session: Session, organization_id: str, case_id: str) -> list[Receipt]:
    get_case(session, organization_id, case_id)
    query = select(Receipt).where(Receipt.case_id == case_id).order_by(col(Receipt.created_at))
    return list(session.exec(query).all())


def shown_items(document: dict[str, Any]) -> dict[str, Any]:
    """Exactly what the acknowledgment page shows the client: terms and every listed item."""
    return {
        "receipt": document["id"],
        "terms": document["terms"],
        "deliverables": document["deliverables"],
        "obligations": document["obligations"],
        "access_revoked": document["access_revoked"],
    }


def shown_digest(document: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of ``shown_items``: what the acknowledgment binds to."""
    return sha256_hex(canonical(shown_items(document)))


def _deliverables(session: Session, case: Case, evidence_ids: list[str] | None) -> list[Evidence]:
    if evidence_ids:
        rows = []
        for evidence_id in dict.fromkeys(evidence_ids):
            row = session.get(Evidence, evidence_id)
            if row is None or row.organization_id != case.organization_id or row.case_id != case.id:
                raise NotFound(f"no evidence {evidence_id!r} in case {case.id}")
            rows.append(row)
    else:
        query = select(Evidence).where(Evidence.case_id == case.id, Evidence.kind == "deliverable")
        rows = list(session.exec(query.order_by(col(Evidence.stored_at), col(Evidence.id))).all())
    if not rows:
        raise InvalidInput(
            f"a receipt lists at least one deliverable; case {case.id} has no evidence of kind deliverable "
            "(upload one, or name evidence ids explicitly)"
        )
    if len(rows) > MAX_ITEMS:
        raise InvalidInput(f"a receipt lists at most {MAX_ITEMS} deliverables, found {len(rows)}")
    return rows


def _obligations(session: Session, case: Case) -> list[dict[str, Any]]:
    query = select(CaseStep).where(CaseStep.case_id == case.id, CaseStep.status == StepStatus.DONE.value)
    return [
        {
            "step": step.key,
            "title": step.title,
            "completed_at": rfc3339(step.completed_at) if step.completed_at else None,
            "completed_by": step.completed_by,
            "ledger_index": step.ledger_index,
        }
        for step in session.exec(query.order_by(col(CaseStep.position))).all()
    ]


def _access_revoked(session: Session, case: Case) -> list[dict[str, Any]]:
    query = select(AccessItem).where(AccessItem.case_id == case.id, AccessItem.status == AccessStatus.REVOKED.value)
    return [
        {
            "item": item.id,
            "name": item.name,
            "kind": item.kind,
            "accounts": loads_list(item.accounts),
            "revoked_at": rfc3339(item.revoked_at) if item.revoked_at else None,
            "revoked_by": item.revoked_by,
            "method": item.revocation_method,
            "ledger_index": item.revoked_index,
        }
        for item in session.exec(query.order_by(col(AccessItem.added_at), col(AccessItem.id))).all()
    ]


def _terms(settings: Settings, terms: str | None) -> str:
    """The terms the receipt states: ``terms``, or the deployment's default, stripped and within bounds."""
    text = (settings.receipt_terms if terms is None else terms).strip()
    if not text or len(text) > MAX_TERMS:
        raise InvalidInput(f"receipt terms must be 1 to {MAX_TERMS} characters, found {len(text)}")
    return text


def _case_part(case: Case) -> dict[str, Any]:
    """The receipt's ``case``: which client relationship ended, and why."""
    return {
        "id": case.id,
        "client_name": case.client_name,
        "contacts": loads_list(case.client_contacts),
        "service_type": case.service_type,
        "trigger": case.trigger,
        "intent_date": case.intent_date.isoformat(),
    }


def _deliverable_part(row: Evidence) -> dict[str, Any]:
    """One of the receipt's ``deliverables``: the stored file, its hash and its ledger entry."""
    return {
        "evidence": row.id,
        "filename": row.original_filename,
        "sha256": row.sha256,
        "size": row.size,
        "content_type": row.content_type,
        "kind": row.kind,
        "ledger_index": row.ledger_index,
    }


def _issued_data(
    receipt: Receipt, signed: SignedDocument, deliverables: list[Evidence], checkpoint_size: int
) -> dict[str, Any]:
    """The data of ``receipt.issued``: the signature and what it covers, so the log alone proves the receipt."""
    return {
        "receipt": receipt.id,
        "sha256": signed.sha256,
        "key_id": signed.key_id,
        "signature": signed.detached.to_json()["signature"],
        "deliverables": [row.id for row in deliverables],
        "checkpoint_size": checkpoint_size,
    }


def create_receipt(
    session: Session,
    settings: Settings,
    principal: Principal,
    case_id: str,
    *,
    evidence_ids: list[str] | None = None,
    terms: str | None = None,
    clock: Clock = system_clock,
) -> Receipt:
    """Build and sign a receipt for ``case_id`` and record ``receipt.issued``, in the caller's transaction.

    Deliverables are the named evidence, or every evidence of kind ``deliverable`` of the case.
    """
    principal.can_write()
    case = writable_case(session, principal.organization_id, case_id)
    org = session.get(Organization, case.organization_id)
    if org is None:  # pragma: no cover - a case always has its organization (foreign key)
        raise NotFound("the case's organization is gone")
    text = _terms(settings, terms)
    deliverables = _deliverables(session, case, evidence_ids)
    # The checkpoint the client receives: every later state of the log must stay consistent with it.
    checkpoint = current_checkpoint(session, settings, org, clock=clock)
    key = keyring.active_key(session, org.id)
    signer = keyring.load_signer(settings, key)
    now = clock()
    receipt = Receipt(
        organization_id=org.id,
        case_id=case.id,
        document=b"",
        sha256="",
        signature=b"",
        key_id=key.key_id,
        key_name=signer.name,
        created_at=now,
        created_by=principal.actor,
    )
    document: dict[str, Any] = {
        "type": RECEIPT_TYPE,
        "id": receipt.id,
        "issued_at": rfc3339(now),
        "issued_by": principal.actor,
        "organization": {"id": org.id, "name": org.name, "slug": org.slug},
        "case": _case_part(case),
        "deliverables": [_deliverable_part(row) for row in deliverables],
        "obligations": _obligations(session, case),
        "access_revoked": _access_revoked(session, case),
        "terms": text,
        "checkpoint": PublishedCheckpoint(checkpoint.note, checkpoint.key_id).to_json(),
        "signer": {"key_name": signer.name, "key_id": key.key_id, "vkey": signer.verifier.vkey()},
    }
    signed = sign_document(signer, document)
    receipt.document, receipt.sha256, receipt.signature = signed.body, signed.sha256, signed.signature
    session.add(receipt)
    session.flush()
    data = _issued_data(receipt, signed, deliverables, checkpoint.size)
    draft = EntryDraft(type="receipt.issued", organization_id=org.id, case_id=case.id, actor=principal.actor, data=data)
    receipt.ledger_index = log.append(session, draft, clock=lambda: now).index
    session.add(receipt)
    session.flush()
    return receipt
