"""``offboard receipt pdf --ltv`` and ``offboard ledger pdf-ca [--crl]`` in-process on both backend pairs: the
exported CA certificate is the trust anchor the B-LTA PDF validates against, and LTV without a TSA is one line."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader

from tests.helpers import cli_json, run_cli
from tests.tsa import LocalTSA
from tests.unit.test_signing_pades_ltv import _lta_passes


@pytest.fixture
def cli(cli_env: Any, capsys: pytest.CaptureFixture[str]) -> pytest.CaptureFixture[str]:
    cli_json(capsys, "init")
    cli_json(capsys, "staff", "add", "pm@agency.example", "--role", "member")
    return capsys


def _receipt(cli: pytest.CaptureFixture[str], tmp_path: Path) -> str:
    case = cli_json(cli, "case", "open", "--client", "Globex", "--owner", "pm@agency.example")
    (tmp_path / "handover.pdf").write_bytes(b"%PDF-1.4 handover")
    cli_json(cli, "evidence", "add", str(tmp_path / "handover.pdf"), "--case", case["id"])
    receipt: str = cli_json(cli, "receipt", "create", case["id"])["id"]
    return receipt


def test_receipt_pdf_ltv_validates_against_the_exported_ca(
    cli: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt = _receipt(cli, tmp_path)
    code, _, err = run_cli(cli, "receipt", "pdf", receipt, "--ltv", "-o", str(tmp_path / "r.pdf"))
    assert code == 1 and "need OFFBOARD_TSA_URL" in err and "Traceback" not in err
    code, out, _ = run_cli(cli, "ledger", "pdf-ca")
    assert code == 0
    ca = x509.load_pem_x509_certificate(out.encode())
    code, _, err = run_cli(cli, "ledger", "pdf-ca", "--crl")
    assert code == 1 and "give -o FILE" in err
    code, _, _ = run_cli(cli, "ledger", "pdf-ca", "--crl", "-o", str(tmp_path / "ca.crl"))
    assert code == 0
    crl = x509.load_der_x509_crl((tmp_path / "ca.crl").read_bytes())
    assert crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
    with LocalTSA(revocation=True) as tsa:
        roots = tmp_path / "tsa-roots.pem"
        roots.write_bytes(tsa.root_certificate.public_bytes(serialization.Encoding.PEM))
        monkeypatch.setenv("OFFBOARD_TSA_URL", tsa.url)
        monkeypatch.setenv("OFFBOARD_TSA_ROOTS_FILE", str(roots))
        monkeypatch.setenv("OFFBOARD_PDF_LTV", "1")
        code, _, err = run_cli(cli, "receipt", "pdf", receipt, "-o", str(tmp_path / "lta.pdf"))
        assert code == 0, err
        code, _, err = run_cli(cli, "receipt", "pdf", receipt, "--no-ltv", "-o", str(tmp_path / "bt.pdf"))
        assert code == 0, err
    lta = (tmp_path / "lta.pdf").read_bytes()
    assert len(PdfFileReader(io.BytesIO(lta)).embedded_timestamp_signatures) == 1
    assert _lta_passes(lta, [ca, tsa.root_certificate])
    assert not PdfFileReader(io.BytesIO((tmp_path / "bt.pdf").read_bytes())).embedded_timestamp_signatures
