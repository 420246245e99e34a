"""The receipt PDF: readable, with the canonical JSON attached before signing, and a PAdES signature by
the organization's P-256 certificate that both pyHanko (with an explicit trust root) and Poppler's pdfsig
accept; a changed byte breaks it. PDF output does not depend on the backend, so SQLite + local only."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from tests.integration.receipts_support import acknowledge, create_receipt, handover, path_of, send_manual
from tests.services import unavailable

pytestmark = pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)


def _validate(pdf: bytes, cert_file: Path) -> Any:
    root = load_cert_from_pemder(str(cert_file))
    reader = PdfFileReader(io.BytesIO(pdf))
    [signature] = reader.embedded_signatures
    return validate_pdf_signature(signature, ValidationContext(trust_roots=[root], allow_fetching=False))


def _pdfsig(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdfsig") is None:
        unavailable("pdfsig (poppler-utils) is not installed")
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    return result.stdout + result.stderr


def test_acknowledged_receipt_pdf_is_signed_attached_and_readable(
    client: TestClient, settings: Any, tmp_path: Path
) -> None:
    h = handover(client)
    receipt = create_receipt(client, h)
    assert (
        acknowledge(client, path_of(send_manual(client, receipt["id"])["links"][0]["url"]), name="Zoë Ł").status_code
        == 200
    )
    response = client.get(f"/api/v1/receipts/{receipt['id']}/pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    name = f"receipt-{receipt['id']}.pdf"  # RFC 6266, as every download (api/headers.py)
    assert response.headers["content-disposition"] == f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
    pdf = response.content
    got = client.get(f"/api/v1/receipts/{receipt['id']}").json()

    cert_file = settings.resolved_keys_dir / "default-pdf-p256.crt"
    key_file = settings.resolved_keys_dir / "default-pdf-p256.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    status = _validate(pdf, cert_file)
    assert status.bottom_line, status.pretty_print_details()
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"

    report = _pdfsig(pdf, tmp_path)
    assert "Signature is Valid." in report, report
    assert "ECDSA" in report or "ecdsa" in report.lower() or "SHA-256" in report, report

    reader = PdfReader(io.BytesIO(pdf))
    attachments = {name: data[0] for name, data in reader.attachments.items()}
    stem = f"receipt-{receipt['id']}"
    assert attachments[f"{stem}.json"] == receipt["canonical"].encode()
    assert f"{stem}.sig.json" in attachments
    assert attachments[f"{stem}-acknowledged.json"].startswith(b'{"acknowledgment":')
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Handover receipt" in text and "Zoë Ł" in text
    for item in receipt["document"]["deliverables"]:
        assert item["sha256"] in text.replace("\n", "")
    assert f"receipt issued at entry {receipt['ledger_index']}" in text
    assert f"tree size {receipt['document']['checkpoint']['size']}" in text
    assert str(got["acknowledgment"]["ledger_index"]) in text


def test_a_changed_byte_breaks_the_pdf_signature(client: TestClient, settings: Any, tmp_path: Path) -> None:
    receipt = create_receipt(client, handover(client))
    pdf = client.get(f"/api/v1/receipts/{receipt['id']}/pdf").content
    marker = pdf.index(b"Handover receipt")  # inside the signed byte range
    tampered = bytearray(pdf)
    tampered[marker] ^= 0x20
    status = _validate(bytes(tampered), settings.resolved_keys_dir / "default-pdf-p256.crt")
    assert not status.intact and not status.bottom_line
    assert "Signature is Valid." not in _pdfsig(bytes(tampered), tmp_path)


def test_the_self_signed_certificate_is_made_once_and_reused(client: TestClient, settings: Any) -> None:
    receipt = create_receipt(client, handover(client))
    client.get(f"/api/v1/receipts/{receipt['id']}/pdf")
    cert = (settings.resolved_keys_dir / "default-pdf-p256.crt").read_bytes()
    client.get(f"/api/v1/receipts/{receipt['id']}/pdf")
    assert (settings.resolved_keys_dir / "default-pdf-p256.crt").read_bytes() == cert
    # An exposed key is refused, never silently replaced.
    key_file = settings.resolved_keys_dir / "default-pdf-p256.key"
    key_file.chmod(0o644)
    response = client.get(f"/api/v1/receipts/{receipt['id']}/pdf")
    assert response.status_code == 500 and "expected 0600" in response.json()["detail"]
    key_file.chmod(0o600)
    # Half a pair is refused too.
    key_file.rename(key_file.with_suffix(".bak"))
    response = client.get(f"/api/v1/receipts/{receipt['id']}/pdf")
    assert response.status_code == 500 and "restore the other" in response.json()["detail"]


def test_pdf_signature_is_timestamped_when_a_tsa_is_configured(
    client: TestClient, settings: Any, services: Any
) -> None:
    from cryptography.hazmat.primitives import serialization
    from pyhanko.keys import load_cert_from_pemder

    from tests.tsa import LocalTSA
    from vault.db import read_session
    from vault.handover.receipt_pdf import receipt_pdf_source, render_receipt_pdf
    from vault.models import Receipt

    receipt = create_receipt(client, handover(client))
    with LocalTSA() as tsa:
        with read_session(services.engine) as session:
            row = session.get(Receipt, receipt["id"])
            assert row is not None
            source = receipt_pdf_source(session, row)
        pdf = render_receipt_pdf(source, settings.model_copy(update={"tsa_url": tsa.url}))
        assert tsa.requests  # pyHanko asks once to size the signature, then for the real token
        tsa_root = settings.home / "tsa-root.pem"
        tsa_root.write_bytes(tsa.root_certificate.public_bytes(serialization.Encoding.PEM))
    root = load_cert_from_pemder(str(settings.resolved_keys_dir / "default-pdf-p256.crt"))
    [signature] = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    status = validate_pdf_signature(
        signature,
        ValidationContext(trust_roots=[root], allow_fetching=False),
        ts_validation_context=ValidationContext(
            trust_roots=[load_cert_from_pemder(str(tsa_root))], allow_fetching=False
        ),
    )
    assert status.bottom_line, status.pretty_print_details()
    assert status.timestamp_validity is not None and status.timestamp_validity.valid
    assert status.timestamp_validity.trusted
