"""signing.pades long-term signatures: B-T and B-LTA by the organization's issuing CA validate offline in pyHanko
(revocation data required) and in pdfsig; a re-timestamp is an incremental update that keeps the PDF valid
after the first TSA's certificate expired; LTV without a TSA is refused."""

from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager
from pypdf import PdfWriter

from signing.errors import LongTermError
from signing.pades import LongTerm, PdfCredentials, SignatureFields, retimestamp, sign_pdf
from signing.pdf_ca import IssuingCA, current_crl, issued_signer, issuing_ca
from tests.services import unavailable
from tests.tsa import LocalTSA

FIELDS = SignatureFields(field_name="Test", reason="testing", name="Acme")


def _blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _org(tmp_path: Path) -> tuple[IssuingCA, PdfCredentials]:
    now = datetime.now(UTC)
    ca = issuing_ca(tmp_path, "acme-pdf-ca", organization="Acme", now=now)
    signer = issued_signer(
        ca, tmp_path, "acme-pdf-issued", subject="Acme receipts", organization="Acme", crl_url="http://x/crl", now=now
    )
    return ca, signer


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _lta_passes(pdf: bytes, roots: list[x509.Certificate], *, at: datetime | None = None) -> bool:
    """pyHanko's AdES LTA validation (ETSI EN 319 102-1 section 5.6.3), offline, revocation data required."""
    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=[_asn1(c) for c in roots]),
        revinfo_policy=CertRevTrustPolicy(revocation_checking_policy=REQUIRE_REVINFO),
    )
    spec = PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=policy,
            revinfo_gathering_policy=RevocationInfoGatheringSpec(RevinfoOnlineFetchingRule.LOCAL_ONLY),
        )
    )
    timing = ValidationTimingInfo(at, at, True) if at is not None else None
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    result = asyncio.run(ades_lta_validation(signature, spec, timing_info=timing))
    # The AdES subindication is the standard's verdict; pyHanko's own status adds that the bytes are intact.
    status = result.api_status
    return result.ades_subindic is AdESPassed.OK and status is not None and status.intact and status.valid


def _pdfsig(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdfsig") is None:
        unavailable("pdfsig (poppler-utils) is not installed")
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout  # noqa: S603,S607


def test_b_t_by_the_issuing_ca_validates_against_the_published_root(tmp_path: Path) -> None:
    ca, signer = _org(tmp_path)
    with LocalTSA() as tsa:
        signed = sign_pdf(_blank_pdf(), signer, FIELDS, tsa_url=tsa.url)
    [signature] = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    context = ValidationContext(trust_roots=[_asn1(ca.certificate())], allow_fetching=False)
    status = validate_pdf_signature(
        signature, context, ts_validation_context=ValidationContext(trust_roots=[_asn1(tsa.root_certificate)])
    )
    assert status.bottom_line and status.timestamp_validity is not None
    assert "Signature is Valid." in _pdfsig(signed, tmp_path)


def test_b_lta_validates_offline_with_revocation_data_required_and_in_pdfsig(tmp_path: Path) -> None:
    ca, signer = _org(tmp_path)
    with LocalTSA(revocation=True) as tsa:
        roots = [ca.certificate(), tsa.root_certificate]
        ltv = LongTerm(tuple(roots), (current_crl(ca, now=datetime.now(UTC)),))
        signed = sign_pdf(_blank_pdf(), signer, FIELDS, tsa_url=tsa.url, ltv=ltv)
    reader = PdfFileReader(io.BytesIO(signed))
    assert len(reader.embedded_timestamp_signatures) == 1 and "/DSS" in reader.root
    assert _lta_passes(signed, roots)
    assert not _lta_passes(signed, [tsa.root_certificate]), "the organization's CA is the trust anchor"
    assert "Signature is Valid." in _pdfsig(signed, tmp_path)


def test_a_retimestamp_keeps_the_pdf_valid_after_the_first_tsa_certificate_expired(tmp_path: Path) -> None:
    ca, signer = _org(tmp_path)
    crl = current_crl(ca, now=datetime.now(UTC))
    with (
        LocalTSA(revocation=True, valid_for=timedelta(hours=2), name="Short TSA") as short,
        LocalTSA(revocation=True, name="Fresh TSA") as fresh,
    ):
        roots = [ca.certificate(), short.root_certificate, fresh.root_certificate]
        ltv = LongTerm(tuple(roots), (crl,))
        signed = sign_pdf(_blank_pdf(), signer, FIELDS, tsa_url=short.url, ltv=ltv)
        extended = retimestamp(signed, tsa_url=fresh.url, ltv=ltv)
    assert extended.startswith(signed), "an incremental update keeps the original revision byte for byte"
    assert len(PdfFileReader(io.BytesIO(extended)).embedded_timestamp_signatures) == 2
    after_expiry = short.tsa_certificate.not_valid_after_utc + timedelta(hours=1)
    assert _lta_passes(extended, roots) and _lta_passes(extended, roots, at=after_expiry)
    assert not _lta_passes(signed, roots, at=after_expiry), "without the newer timestamp it no longer validates"


def test_long_term_needs_a_tsa_and_a_timestamp_to_extend(tmp_path: Path) -> None:
    ca, signer = _org(tmp_path)
    ltv = LongTerm((ca.certificate(),), (current_crl(ca, now=datetime.now(UTC)),))
    with pytest.raises(LongTermError, match="needs a timestamp authority"):
        sign_pdf(_blank_pdf(), signer, FIELDS, tsa_url=None, ltv=ltv)
    plain = sign_pdf(_blank_pdf(), signer, FIELDS, tsa_url=None)
    with LocalTSA() as tsa, pytest.raises(LongTermError, match="no document timestamp"):
        retimestamp(plain, tsa_url=tsa.url, ltv=ltv)


def test_the_crl_is_reused_until_half_spent_then_renewed(tmp_path: Path) -> None:
    ca, _ = _org(tmp_path)
    now = datetime.now(UTC)
    first = current_crl(ca, now=now)
    assert current_crl(ca, now=now + timedelta(days=1)) == first
    renewed = x509.load_der_x509_crl(current_crl(ca, now=now + timedelta(days=8)))
    assert renewed.last_update_utc > now + timedelta(days=7)
    assert renewed.is_signature_valid(ca.certificate().public_key())  # type: ignore[arg-type]
