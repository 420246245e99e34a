"""The certificate of completion (issue 17, requirement 3), on both backends: closing a case enqueues it,
the worker issues it from the case's ledger entries with the final entry's inclusion proof, its Ed25519
signature verifies, its PDF is PAdES-signed, and a certificate.issued entry records its hash."""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader
from sqlmodel import col, select

from signing.keys import parse_vkey
from templates.render import Renderer
from tests.integration.certificate_support import close_acknowledged_case, run_worker
from tests.tsa import LocalTSA
from tests.unit.test_signing_pades_ltv import _lta_passes
from vault.certificates.statement import compare_statement, derive_statement
from vault.db import read_session
from vault.handover.receipts import verify_document
from vault.ledger.checkpoint import PublishedCheckpoint
from vault.ledger.hashing import leaf_hash
from vault.ledger.proofs import InclusionProof
from vault.models import Certificate, Job, LedgerEntry
from vault.services import Services


@pytest.fixture
def settings(settings: Any) -> Any:
    """No worker inside the app: the test's own tick runs the certificate job."""
    return settings.model_copy(update={"worker": False})


def _certificate(services: Any, case_id: str) -> Certificate:
    with read_session(services.engine) as session:
        return session.exec(select(Certificate).where(Certificate.case_id == case_id)).one()


def test_closing_issues_a_signed_certificate_from_the_ledger(client: TestClient, services: Any) -> None:
    case_id = close_acknowledged_case(client)
    with read_session(services.engine) as session:
        jobs = session.exec(select(Job).where(Job.kind == "certificate.issue")).all()
        assert [j.payload["case_id"] for j in jobs] == [case_id]
        assert session.exec(select(Certificate)).first() is None
    run_worker(services)
    row = _certificate(services, case_id)
    body = bytes(row.document)
    assert hashlib.sha256(body).hexdigest() == row.sha256
    document = verify_document(body, bytes(row.signature), parse_vkey(json.loads(body)["signer"]["vkey"]))
    assert document["type"] == "offboard.certificate/v1" and document["case"]["id"] == case_id
    assert {"final-report.pdf", "Übergabe – source.zip"} <= {d["filename"] for d in document["deliverables"]}
    assert [a["name"] for a in document["access_revoked"]] == ["GitHub org"]
    assert document["access_revoked"][0]["evidence"][0]["sha256"]
    assert [a["name"] for a in document["acknowledgments"]] == ["Jane Client"]
    assert document["waivers"] == [] and document["obligations"]
    assert document["dates"]["closed"] == document["final"]["time"]
    with read_session(services.engine) as session:
        entries = session.exec(
            select(LedgerEntry).where(LedgerEntry.case_id == case_id).order_by(col(LedgerEntry.idx))
        ).all()
        decoded = [(e.idx, json.loads(bytes(e.body))) for e in entries]
        final = next(e for e in entries if e.idx == row.final_index)
        issued = [d for _, d in decoded if d["type"] == "certificate.issued"]
    assert compare_statement(document, derive_statement(decoded, final_index=row.final_index)) == []
    assert issued[0]["data"]["sha256"] == row.sha256 and issued[0]["data"]["final_index"] == row.final_index
    # The final entry's inclusion proof holds against the signed checkpoint the certificate carries.
    checkpoint = PublishedCheckpoint.from_json(document["ledger"]["checkpoint"])
    proof = InclusionProof.from_json(document["ledger"]["inclusion"])
    assert proof.index == row.final_index and proof.tree_size == checkpoint.size
    proof.verify(leaf_hash(bytes(final.body)), checkpoint.root_hash)
    # Issued once per closing: another tick changes nothing.
    run_worker(services)
    with read_session(services.engine) as session:
        assert len(session.exec(select(Certificate)).all()) == 1


def test_the_certificate_pdf_is_pades_signed_and_carries_the_json(client: TestClient, services: Any) -> None:
    case_id = close_acknowledged_case(client)
    run_worker(services)
    row = _certificate(services, case_id)
    reader = PdfFileReader(io.BytesIO(bytes(row.pdf)))
    (signature,) = reader.embedded_signatures
    cert = signature.signer_cert
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=[cert], allow_fetching=False))
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert len(reader.root["/Pages"]["/Kids"]) <= 2
    names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    assert f"certificate-{row.id}.json" in [str(names[i]) for i in range(0, len(names), 2)]
    # The embedded files are the very bytes the API serves under the same names.
    embedded = PdfReader(io.BytesIO(bytes(row.pdf))).attachments
    for suffix in (".json", ".sig.json"):
        assert embedded[f"certificate-{row.id}{suffix}"] == [
            client.get(f"/api/v1/cases/{case_id}/certificate{suffix}").content
        ]


def test_with_ltv_the_certificate_pdf_is_b_lta_and_validates_offline(
    client: TestClient, settings: Any, services: Any
) -> None:
    case_id = close_acknowledged_case(client)
    with LocalTSA(revocation=True) as tsa:
        roots_file = settings.home / "tsa-roots.pem"
        roots_file.write_bytes(tsa.root_certificate.public_bytes(serialization.Encoding.PEM))
        update = {"tsa_url": tsa.url, "tsa_roots_file": roots_file, "pdf_ltv": True}
        ltv = services.settings.model_copy(update=update)
        worker = Services(settings=ltv, engine=services.engine, store=services.store, renderer=Renderer())
        run_worker(worker)
    pdf = bytes(_certificate(services, case_id).pdf)
    reader = PdfFileReader(io.BytesIO(pdf))
    assert len(reader.embedded_timestamp_signatures) == 1 and "/DSS" in reader.root
    published = x509.load_pem_x509_certificate(TestClient(client.app).get("/.well-known/offboard/pdf-ca.crt").content)
    assert _lta_passes(pdf, [published, tsa.root_certificate])
