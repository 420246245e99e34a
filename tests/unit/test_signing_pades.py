"""signing.pades: self-signed credentials made once and kept private, PAdES signatures that pyHanko validates
against the certificate as trust root, and a changed byte that breaks them."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfWriter

from signing.errors import KeyFileError, SigningError, UnsafeKeyFile
from signing.pades import SignatureFields, configured, self_signed, sign_pdf

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
FIELDS = SignatureFields(field_name="Test", reason="testing", name="Acme")


def _blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _status(pdf: bytes, cert_file: Path) -> object:
    [signature] = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    root = load_cert_from_pemder(str(cert_file))
    return validate_pdf_signature(signature, ValidationContext(trust_roots=[root], allow_fetching=False))


def test_a_self_signed_pair_is_made_once_private_and_signs(tmp_path: Path) -> None:
    creds = self_signed(tmp_path / "keys", "acme-pdf", subject="Acme receipts", organization="Acme", now=NOW)
    assert creds.key_file.stat().st_mode & 0o777 == 0o600
    cert = creds.cert_file.read_bytes()
    again = self_signed(tmp_path / "keys", "acme-pdf", subject="Acme receipts", organization="Acme", now=NOW)
    assert again == creds and creds.cert_file.read_bytes() == cert
    signed = sign_pdf(_blank_pdf(), creds, FIELDS, tsa_url=None)
    status = _status(signed, creds.cert_file)
    assert status.bottom_line and status.intact  # type: ignore[attr-defined]
    tampered = bytearray(signed)
    at = signed.index(b"/MediaBox")
    tampered[at + 1] ^= 0x01
    assert not _status(bytes(tampered), creds.cert_file).intact  # type: ignore[attr-defined]


def test_an_exposed_key_and_half_a_pair_are_refused(tmp_path: Path) -> None:
    creds = self_signed(tmp_path, "acme-pdf", subject="Acme receipts", organization="Acme", now=NOW)
    creds.key_file.chmod(0o640)
    with pytest.raises(UnsafeKeyFile, match="expected 0600"):
        self_signed(tmp_path, "acme-pdf", subject="Acme receipts", organization="Acme", now=NOW)
    creds.key_file.chmod(0o600)
    creds.key_file.unlink()
    with pytest.raises(KeyFileError, match="restore the other"):
        self_signed(tmp_path, "acme-pdf", subject="Acme receipts", organization="Acme", now=NOW)
    assert not creds.key_file.exists()


def test_a_configured_pair_must_exist_and_be_private(tmp_path: Path) -> None:
    made = self_signed(tmp_path, "given", subject="Given", organization="Given", now=NOW)
    assert configured(made.key_file, made.cert_file) == made
    with pytest.raises(KeyFileError, match="does not exist"):
        configured(tmp_path / "missing.key", made.cert_file)
    made.key_file.chmod(0o644)
    with pytest.raises(SigningError, match="expected 0600"):
        configured(made.key_file, made.cert_file)
