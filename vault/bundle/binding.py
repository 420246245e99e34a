"""Receipts and acknowledgments bound to the bundle's case by its signed entries (``docs/bundle.md``,
"Verifying", step 14).

A receipt is the case's only if a verified ``receipt.issued`` entry of the case records its SHA-256 and
signature; an acknowledgment only if a verified ``receipt.countersigned`` entry records its SHA-256. Every
receipt and countersignature the entries record must be in the bundle, and every deliverable a receipt
lists must be in it with the same SHA-256.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from signing.detached import DetachedSignature
from signing.errors import MalformedSignature
from vault.bundle import layout
from vault.bundle.records import ACK_SUFFIX, ack_status
from vault.bundle.records import data_of as _data
from vault.bundle.records import dicts as _list
from vault.states import ReceiptStatus

if TYPE_CHECKING:
    from vault.bundle.claims import ClaimChecks


def check_receipts(c: ClaimChecks) -> None:
    issued = {str(_data(e).get("receipt")): (i, _data(e)) for i, e in c.of_type("receipt.issued")}
    countersigned = {str(_data(e).get("receipt")): (i, _data(e)) for i, e in c.of_type("receipt.countersigned")}
    listed = {str(item.get("id")): item for item in _list(c.index.get("receipts"))}
    for receipt_id, item in listed.items():
        if receipt_id.endswith(ACK_SUFFIX):
            ok, detail = _acknowledgment(c, receipt_id.removesuffix(ACK_SUFFIX), item, countersigned)
        else:
            ok, detail = _receipt(c, receipt_id, item, issued)
        c.add("binding", str(item.get("json")), ok, detail)
    for receipt_id, (index, _) in sorted(issued.items()):
        if receipt_id not in listed:
            c.add(
                "binding",
                f"receipt {receipt_id}",
                False,
                f"entry {index} issued receipt {receipt_id}; the bundle lacks it",
            )
    for receipt_id, (index, _) in sorted(countersigned.items()):
        if receipt_id + ACK_SUFFIX not in listed:
            c.add(
                "binding",
                f"receipt {receipt_id}",
                False,
                f"entry {index} countersigned the client's acknowledgment of receipt {receipt_id}; the bundle lacks it",
            )


def _document(
    c: ClaimChecks, item: Mapping[str, Any], receipt_id: str
) -> tuple[bytes, dict[str, Any], dict[str, Any]] | str:
    json_path, sig_path = layout.receipt_paths(receipt_id)[:2]
    if item.get("json") != json_path or item.get("sig") != sig_path:
        return (
            f"bundle.json places it at {item.get('json')!r} and {item.get('sig')!r}, not {json_path!r} and {sig_path!r}"
        )
    body, sig_bytes = c.files.get(json_path), c.files.get(sig_path)
    if body is None or sig_bytes is None:
        return "its signed document or signature is missing"
    try:
        document, sig = json.loads(body), json.loads(sig_bytes)
    except ValueError as exc:
        return f"not JSON: {exc}"
    if not isinstance(document, dict) or not isinstance(sig, dict):
        return "not a JSON object"
    return body, document, sig


def _receipt(
    c: ClaimChecks, receipt_id: str, item: Mapping[str, Any], issued: Mapping[str, tuple[int, dict[str, Any]]]
) -> tuple[bool, str]:
    parsed = _document(c, item, receipt_id)
    if isinstance(parsed, str):
        return False, parsed
    body, document, sig = parsed
    case = document.get("case")
    case_of = case.get("id") if isinstance(case, dict) else None
    if case_of != c.case_id or document.get("id") != receipt_id:
        return False, f"receipt {document.get('id')} is of case {case_of}, not this bundle's case {c.case_id}"
    record = issued.get(receipt_id)
    if record is None:
        return False, f"no verified receipt.issued entry of this case records receipt {receipt_id}"
    index, data = record
    digest = hashlib.sha256(body).hexdigest()
    if not _recorded(data, digest, sig):
        return False, f"entry {index} records another document or signature for receipt {receipt_id}"
    status = _receipt_status(c, receipt_id)
    if item.get("status") != status:
        return False, f"bundle.json says status {item.get('status')!r}; the entries say {status.value!r}"
    problem = _deliverables(c, document)
    if problem is not None:
        return False, problem
    return True, f"receipt of this case, SHA-256 {digest} as issued in entry {index}; every deliverable present"


def _recorded(data: Mapping[str, Any], digest: str, sig: Mapping[str, Any]) -> bool:
    """Whether a signed entry's data records exactly this document (SHA-256) and detached signature.

    A ``.sig`` that is no signature record records nothing (``checks.py`` reports why); the entry's
    ``signature`` and ``key_id`` are those of the record's bundle rendering, so compared as such.
    """
    try:
        record = DetachedSignature.from_bundle_json(sig).to_bundle_json()
    except MalformedSignature:
        return False
    return (data.get("sha256"), data.get("signature"), data.get("key_id")) == (
        digest,
        record["signature"],
        record["key_id"],
    )


def _receipt_status(c: ClaimChecks, receipt_id: str) -> ReceiptStatus:
    types = {e.get("type") for e in c.entries.values() if _data(e).get("receipt") == receipt_id}
    for entry_type, status in (
        ("receipt.countersigned", ReceiptStatus.ACKNOWLEDGED),
        ("receipt.disputed", ReceiptStatus.DISPUTED),
        ("receipt.sent", ReceiptStatus.SENT),
    ):
        if entry_type in types:
            return status
    return ReceiptStatus.DRAFT


def _deliverables(c: ClaimChecks, document: Mapping[str, Any]) -> str | None:
    held = {str(e.get("id")): e.get("path") for e in _list(c.index.get("evidence"))}
    for item in _list(document.get("deliverables")):
        evidence_id, want = str(item.get("evidence")), item.get("sha256")
        path = held.get(evidence_id)
        found = c.sha256.get(str(path)) if path is not None else None
        if found is None:
            return f"deliverable {evidence_id} ({item.get('filename')}) is listed by the receipt but not in the bundle"
        if found != want:
            return f"deliverable {evidence_id}: the receipt lists SHA-256 {want}, the bundle's file is {found}"
    return None


def _acknowledgment(
    c: ClaimChecks, receipt_id: str, item: Mapping[str, Any], countersigned: Mapping[str, tuple[int, dict[str, Any]]]
) -> tuple[bool, str]:
    parsed = _document(c, item, receipt_id + ACK_SUFFIX)
    if isinstance(parsed, str):
        return False, parsed
    body, document, sig = parsed
    receipt = document.get("receipt")
    receipt = receipt if isinstance(receipt, dict) else {}
    case = receipt.get("case")
    case_of = case.get("id") if isinstance(case, dict) else None
    block = document.get("acknowledgment")
    block = block if isinstance(block, dict) else {}
    if case_of != c.case_id or receipt.get("id") != receipt_id or block.get("receipt") != receipt_id:
        return False, (
            f"acknowledgment of receipt {block.get('receipt')} of case {case_of}, not of receipt {receipt_id} "
            f"of this bundle's case {c.case_id}"
        )
    record = countersigned.get(receipt_id)
    if record is None:
        return (
            False,
            f"no verified receipt.countersigned entry of this case records an acknowledgment of {receipt_id}",
        )
    index, data = record
    digest = hashlib.sha256(body).hexdigest()
    if not _recorded(data, digest, sig):
        return False, f"entry {index} countersigned another document for receipt {receipt_id}"
    receipt_path = layout.receipt_paths(receipt_id)[0]
    try:
        own = json.loads(c.files.get(receipt_path) or b"null")
    except ValueError:
        own = None
    if own != receipt:
        return False, f"it acknowledges another document than {receipt_path}"
    if item.get("status") != ack_status(block):
        return (
            False,
            f"bundle.json says status {item.get('status')!r}; the signed acknowledgment says {ack_status(block)!r}",
        )
    return True, f"the client's acknowledgment of receipt {receipt_id}, countersigned in entry {index}"
