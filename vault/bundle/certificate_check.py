"""The certificate of completion in a bundle (``data/certificate/``), checked against the bundle's signed
entries (``docs/certificate.md``, "Verifying"; ``docs/bundle.md``, "Verifying", step 16).

A certificate passes only when: its Ed25519 signature (``certificate.sig``) verifies with a trusted key;
its bytes are RFC 8785 canonical JSON; the case's last verified ``certificate.issued`` entry records its id
and SHA-256; the inclusion proof it carries places the final-state entry (whose bytes the bundle holds) in
the checkpoint it carries, signed by a trusted key; and every statement in it equals what
``derive_statement`` reads from the bundle's entries, each difference reported on its own. A bundle whose
entries record a certificate must carry it (with its PDF); one whose entries record none carries none.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from signing.detached import DetachedSignature
from signing.errors import BadSignature, MalformedSignature
from signing.keys import Verifier
from vault.bundle import layout
from vault.canonical import parse_canonical
from vault.certificates.statement import compare_statement, derive_statement
from vault.errors import OffboardError
from vault.ledger.checkpoint import PublishedCheckpoint, open_checkpoint
from vault.ledger.hashing import leaf_hash
from vault.ledger.proofs import InclusionProof

CheckTuple = tuple[str, str, bool, str]
KIND = "certificate"


def _signature(document: bytes, sig_text: bytes | None, trusted: Sequence[Verifier]) -> tuple[bool, str]:
    if sig_text is None:
        return False, f"{layout.CERTIFICATE_SIG} is missing"
    try:
        sig = DetachedSignature.from_bundle_json(json.loads(sig_text))
    except (ValueError, MalformedSignature) as exc:
        return False, f"{layout.CERTIFICATE_SIG} is not a signature record: {exc}"
    key = next((v for v in trusted if bytes(v.key_id).hex() == sig.key_id), None)
    if key is None:
        return False, f"signed with key {sig.key_id}, which is not trusted"
    try:
        sig.verify(key, document)
    except BadSignature as exc:
        return False, f"signature does not verify: {exc}"
    return True, f"Ed25519 signature by {key.name} {sig.key_id} verifies"


def _issued(document: Mapping[str, Any], body: bytes, entries: Mapping[int, Mapping[str, Any]]) -> tuple[bool, str]:
    issued = [(i, e) for i, e in sorted(entries.items()) if e.get("type") == "certificate.issued"]
    if not issued:
        return False, "no certificate.issued entry of the case is in the bundle"
    index, entry = issued[-1]
    data = entry.get("data") or {}
    found = hashlib.sha256(body).hexdigest()
    if data.get("certificate") != document.get("id") or data.get("sha256") != found:
        recorded = f"certificate {data.get('certificate')} with SHA-256 {data.get('sha256')}"
        return False, f"SHA-256 {found} of certificate {document.get('id')}; ledger entry {index} records {recorded}"
    return True, f"SHA-256 {found} as recorded in ledger entry {index}"


def _inclusion(
    document: Mapping[str, Any], files: Mapping[str, bytes], trusted: Sequence[Verifier], origin: str | None
) -> tuple[bool, str]:
    ledger = document.get("ledger")
    final = document.get("final")
    if not isinstance(ledger, Mapping) or not isinstance(final, Mapping):
        return False, "the certificate has no 'ledger' or 'final' object"
    try:
        published = PublishedCheckpoint.from_json(ledger.get("checkpoint"))
        checkpoint = open_checkpoint(published.note, trusted, origin=origin)
        proof = InclusionProof.from_json(ledger.get("inclusion"))
    except OffboardError as exc:
        return False, f"the certificate's checkpoint or proof: {exc.message}"
    if proof.index != final.get("ledger_index") or proof.tree_size != checkpoint.body.size:
        return False, (
            f"the proof is of entry {proof.index} in a tree of {proof.tree_size}; the certificate's final entry is "
            f"{final.get('ledger_index')} and its checkpoint has size {checkpoint.body.size}"
        )
    body = files.get(layout.entry_path(proof.index))
    if body is None:
        return False, f"the final entry {proof.index} is not in the bundle"
    try:
        proof.verify(leaf_hash(body), checkpoint.body.root_hash)
    except OffboardError as exc:
        return False, f"the final entry's inclusion proof fails: {exc.message}"
    return True, f"entry {proof.index} is in the signed checkpoint of size {checkpoint.body.size}"


def _statements(document: Mapping[str, Any], entries: Mapping[int, Mapping[str, Any]]) -> list[CheckTuple]:
    final = document.get("final")
    index = final.get("ledger_index") if isinstance(final, Mapping) else None
    if not isinstance(index, int) or index not in entries:
        return [
            (KIND, layout.CERTIFICATE_JSON, False, f"its final entry {index} is not a verified entry of the bundle")
        ]
    try:
        derived = derive_statement(sorted(entries.items()), final_index=index)
    except OffboardError as exc:
        return [(KIND, layout.CERTIFICATE_JSON, False, exc.message)]
    problems = compare_statement(document, derived)
    if not problems:
        return [(KIND, layout.CERTIFICATE_JSON, True, f"every statement matches the case's entries up to {index}")]
    return [(KIND, layout.CERTIFICATE_JSON, False, f"contradicts the ledger: {p}") for p in problems]


def check_certificate(
    files: Mapping[str, bytes],
    names: set[str],
    entries: Mapping[int, Mapping[str, Any]],
    trusted: Sequence[Verifier],
    origin: str | None,
) -> list[CheckTuple]:
    """Every check of the bundle's certificate (none when neither the bundle nor its entries hold one)."""
    body = files.get(layout.CERTIFICATE_JSON)
    recorded = any(e.get("type") == "certificate.issued" for e in entries.values())
    if body is None:
        if recorded:
            return [(KIND, layout.CERTIFICATE_JSON, False, "the case's entries record a certificate; it is missing")]
        if any(n.startswith(layout.CERTIFICATE_DIR) for n in names):
            return [(KIND, layout.CERTIFICATE_JSON, False, "certificate files without certificate.json")]
        return []
    document, canonical = parse_canonical(body)
    if not isinstance(document, dict) or not canonical:
        return [(KIND, layout.CERTIFICATE_JSON, False, "not an RFC 8785 canonical JSON object")]
    out: list[CheckTuple] = [
        (KIND, layout.CERTIFICATE_SIG, *_signature(body, files.get(layout.CERTIFICATE_SIG), trusted))
    ]
    out.append((KIND, f"{layout.CERTIFICATE_JSON} (issued)", *_issued(document, body, entries)))
    out.append((KIND, f"{layout.CERTIFICATE_JSON} (inclusion)", *_inclusion(document, files, trusted, origin)))
    out.extend(_statements(document, entries))
    ok = layout.CERTIFICATE_PDF in names
    out.append(
        (
            KIND,
            layout.CERTIFICATE_PDF,
            ok,
            "present (its PAdES signature is checked by a PDF validator)" if ok else "missing",
        )
    )
    return out
