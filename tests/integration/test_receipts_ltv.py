"""Long-term receipt PDFs (issue 17, requirement 4): the organization's issuing CA certificate and CRL are
published, a receipt PDF made with ``ltv`` is PAdES B-LTA by a signer that CA issued and validates offline with
the published root, and LTV without a TSA is a clear configuration error (API and CLI), on both backends."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient
from pyhanko.pdf_utils.reader import PdfFileReader

from tests.integration.receipts_support import create_receipt, handover
from tests.tsa import LocalTSA
from tests.unit.test_signing_pades_ltv import _lta_passes
from vault.errors import ConfigurationError


def _source(services: Any, receipt_id: str) -> Any:
    from vault.db import read_session
    from vault.handover.receipt_pdf import receipt_pdf_source
    from vault.models import Receipt

    with read_session(services.engine) as session:
        row = session.get(Receipt, receipt_id)
        assert row is not None
        return receipt_pdf_source(session, row)


def test_the_ca_certificate_and_crl_are_published_without_a_credential(client: TestClient) -> None:
    anonymous = TestClient(client.app)
    cert_response = anonymous.get("/.well-known/offboard/pdf-ca.crt")
    assert cert_response.status_code == 200 and cert_response.headers["content-type"] == "application/x-pem-file"
    ca = x509.load_pem_x509_certificate(cert_response.content)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert b"PRIVATE" not in cert_response.content
    crl_response = anonymous.get("/.well-known/offboard/pdf-ca.crl")
    assert crl_response.status_code == 200 and crl_response.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(crl_response.content)
    assert crl.issuer == ca.subject and crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
    assert anonymous.get("/.well-known/offboard/pdf-ca.crl?organization=nobody").status_code == 404


def test_an_ltv_receipt_pdf_validates_offline_with_the_published_root(
    client: TestClient, settings: Any, services: Any
) -> None:
    from vault.handover.receipt_pdf import render_receipt_pdf

    receipt = create_receipt(client, handover(client))
    with LocalTSA(revocation=True) as tsa:
        roots_file = settings.home / "tsa-roots.pem"
        roots_file.write_bytes(tsa.root_certificate.public_bytes(serialization.Encoding.PEM))
        ltv_settings = settings.model_copy(update={"tsa_url": tsa.url, "tsa_roots_file": roots_file, "pdf_ltv": True})
        pdf = render_receipt_pdf(_source(services, receipt["id"]), ltv_settings)
    published = x509.load_pem_x509_certificate(TestClient(client.app).get("/.well-known/offboard/pdf-ca.crt").content)
    reader = PdfFileReader(io.BytesIO(pdf))
    assert len(reader.embedded_timestamp_signatures) == 1 and "/DSS" in reader.root
    assert _lta_passes(pdf, [published, tsa.root_certificate])
    key_file = Path(settings.resolved_keys_dir) / "default-pdf-ca.key"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_ltv_without_a_tsa_is_a_configuration_error(client: TestClient, settings: Any, services: Any) -> None:
    from vault.handover.receipt_pdf import render_receipt_pdf

    receipt = create_receipt(client, handover(client))
    with pytest.raises(ConfigurationError, match="need OFFBOARD_TSA_URL"):
        render_receipt_pdf(_source(services, receipt["id"]), settings, ltv=True)
