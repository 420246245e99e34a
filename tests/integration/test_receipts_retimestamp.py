"""Stored long-term receipt PDFs and ``offboard receipt retimestamp`` (issue 17, requirement 4), on both backend
pairs: a B-LTA PDF is stored on its first download and served from the store after; re-timestamped through a
second TSA before the first TSA's short-lived certificate expires, the stored version changes, every later
download serves it, and it still validates offline (pyHanko, published roots) after that expiry and in pdfsig;
a second run with nothing due does nothing; without a TSA, or with a failing one, the command fails in one
line. Stored PDFs are no orphans, two racing first downloads record one, and the PDF emailed after an
acknowledgment is the stored acknowledged edition (the bundle carries the stored one too)."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlmodel import col, select

from tests.helpers import run_cli, sha256
from tests.integration.receipts_support import (
    CONTACT,
    app_client,
    create_receipt,
    form_of,
    handover,
    link_in,
    path_of,
    smtp_server,
    timeline_types,
)
from tests.integration.test_bundle_export import members
from tests.tsa import LocalTSA, Mode
from tests.unit.test_signing_pades_ltv import _lta_passes, _pdfsig
from vault.bundle import layout


def _stored(services: Any, receipt_id: str) -> list[Any]:
    from vault.db import read_session
    from vault.models import StoredPdf

    with read_session(services.engine) as session:
        query = select(StoredPdf).where(StoredPdf.subject_id == receipt_id).order_by(col(StoredPdf.version))
        return list(session.exec(query).all())


def _entries(services: Any, kind: str) -> list[dict[str, Any]]:
    from vault.db import read_session
    from vault.models import LedgerEntry

    with read_session(services.engine) as session:
        rows = session.exec(select(LedgerEntry).order_by(col(LedgerEntry.idx))).all()
        documents = [json.loads(bytes(row.body)) for row in rows]
    return [doc for doc in documents if doc["type"] == kind]


def _retimestamp(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any, str]:
    code, out, err = run_cli(capsys, "receipt", "retimestamp", *args)
    return code, json.loads(out) if code == 0 and "--json" in args else out, err


def test_a_stored_pdf_is_retimestamped_served_and_validates_after_the_first_tsa_expired(
    client: TestClient,
    services: Any,
    initialized: Any,
    cli_env: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    h = handover(client)
    receipt = create_receipt(client, h)
    assert client.get(f"/api/v1/receipts/{receipt['id']}/pdf").status_code == 200
    assert _stored(services, receipt["id"]) == [], "a PDF that is not long-term is rendered on demand, not stored"
    with (
        LocalTSA(revocation=True, valid_for=timedelta(hours=2), name="Short TSA") as short,
        LocalTSA(revocation=True, valid_for=timedelta(days=200), name="Fresh TSA") as fresh,
    ):
        roots_file = tmp_path / "tsa-roots.pem"
        roots_file.write_bytes(
            b"".join(t.root_certificate.public_bytes(serialization.Encoding.PEM) for t in (short, fresh))
        )
        overrides = {"tsa_url": short.url, "tsa_roots_file": roots_file, "pdf_ltv": True}
        with app_client(services, initialized.admin_token.secret, **overrides) as ltv_client:
            first = ltv_client.get(f"/api/v1/receipts/{receipt['id']}/pdf")
            again = ltv_client.get(f"/api/v1/receipts/{receipt['id']}/pdf")
        assert first.status_code == 200 and again.content == first.content, "the second download is the stored PDF"
        [v1] = _stored(services, receipt["id"])
        assert (v1.version, v1.sha256, v1.edition) == (1, sha256(first.content), "draft")
        assert v1.timestamp_expires_at == short.tsa_certificate.not_valid_after_utc
        [stored_entry] = _entries(services, "receipt.pdf_stored")
        assert stored_entry["data"]["sha256"] == v1.sha256 and stored_entry["data"]["receipt"] == receipt["id"]

        monkeypatch.setenv("OFFBOARD_TSA_URL", fresh.url)
        monkeypatch.setenv("OFFBOARD_TSA_ROOTS_FILE", str(roots_file))
        code, result, err = _retimestamp(capsys, "--json")
        assert code == 0, err
        [done] = result["retimestamped"]
        assert (done["subject"], done["version"], done["old_sha256"]) == (receipt["id"], 2, v1.sha256)
        code, again_result, err = _retimestamp(capsys, "--json")
        assert code == 0 and again_result == {"retimestamped": []}, "nothing due: the fresh TSA lasts 200 days"
        # The new entries keep the case's bundle verifying.
        bundle = tmp_path / "case.zip"
        assert run_cli(capsys, "bundle", "export", h.case_id, "-o", str(bundle))[0] == 0
        vkey = json.loads(run_cli(capsys, "ledger", "verifier-key", "--json")[1])[0]["vkey"]
        code, out, _ = run_cli(capsys, "verify", str(bundle), "--key", vkey)
        assert code == 0 and "VERIFIED" in out
        bundled = members(bundle.read_bytes())[layout.receipt_paths(receipt["id"])[2]]
        # Served from the store, so the re-timestamped version even though the app's TSA is still the short one.
        with app_client(services, initialized.admin_token.secret, **overrides) as ltv_client:
            served = ltv_client.get(f"/api/v1/receipts/{receipt['id']}/pdf").content
    v1_again, v2 = _stored(services, receipt["id"])
    assert v1_again.sha256 == v1.sha256 and (v2.version, v2.sha256) == (2, done["new_sha256"])
    assert sha256(served) == v2.sha256 and bundled == served, "the bundle carries the stored PDF too"
    assert served.startswith(first.content), "an incremental update of version 1"
    assert len(PdfFileReader(io.BytesIO(served)).embedded_timestamp_signatures) == 2
    [entry] = _entries(services, "receipt.pdf_retimestamped")
    assert entry["data"]["old_sha256"] == v1.sha256 and entry["data"]["new_sha256"] == v2.sha256
    assert entry["actor"].startswith("cli:") and "receipt.pdf_retimestamped" in timeline_types(client, h.case_id)
    published = x509.load_pem_x509_certificate(TestClient(client.app).get("/.well-known/offboard/pdf-ca.crt").content)
    roots = [published, short.root_certificate, fresh.root_certificate]
    after_expiry = short.tsa_certificate.not_valid_after_utc + timedelta(hours=1)
    assert _lta_passes(served, roots, at=after_expiry)
    assert not _lta_passes(first.content, roots, at=after_expiry), "version 1 alone no longer validates then"
    assert "Signature is Valid." in _pdfsig(served, tmp_path)


def test_stored_pdfs_are_not_orphans(client: TestClient, services: Any, initialized: Any, tmp_path: Path) -> None:
    from vault.evidence.audit import audit

    receipt = create_receipt(client, handover(client))
    with LocalTSA(revocation=True) as tsa:
        roots_file = tmp_path / "tsa-roots.pem"
        roots_file.write_bytes(tsa.root_certificate.public_bytes(serialization.Encoding.PEM))
        overrides = {"tsa_url": tsa.url, "tsa_roots_file": roots_file, "pdf_ltv": True}
        with app_client(services, initialized.admin_token.secret, **overrides) as ltv_client:
            assert ltv_client.get(f"/api/v1/receipts/{receipt['id']}/pdf").status_code == 200
    assert len(_stored(services, receipt["id"])) == 1
    report = audit(services.read, services.store, clock=services.clock)
    assert report.ok and report.orphans == (), "orphan repair must never delete a stored PDF"


def test_retimestamp_errors_are_one_line(
    client: TestClient, services: Any, cli_env: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt = create_receipt(client, handover(client))
    monkeypatch.delenv("OFFBOARD_TSA_URL", raising=False)
    code, _, err = _retimestamp(capsys)
    assert code == 1 and "needs a timestamp authority: set OFFBOARD_TSA_URL" in err and "Traceback" not in err
    with LocalTSA() as tsa:
        monkeypatch.setenv("OFFBOARD_TSA_URL", tsa.url)
        code, out, err = _retimestamp(capsys)
        assert code == 0 and "nothing to re-timestamp" in err
        code, _, err = _retimestamp(capsys, receipt["id"])
        assert code == 1 and "has no stored long-term PDF" in err and "Traceback" not in err
        code, _, err = _retimestamp(capsys, "--before", "-1")
        assert code == 2 and "Traceback" not in err
    assert _stored(services, receipt["id"]) == []


def test_two_first_downloads_racing_store_one_pdf(
    client: TestClient, services: Any, initialized: Any, tmp_path: Path
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from vault.db import read_session
    from vault.handover.receipt_pdf import receipt_pdf_source
    from vault.handover.receipt_pdf_store import receipt_pdf
    from vault.models import Receipt
    from vault.services import Services

    receipt = create_receipt(client, handover(client))
    with read_session(services.engine) as session:
        row = session.get(Receipt, receipt["id"])
        assert row is not None
        source = receipt_pdf_source(session, row)
    with LocalTSA(revocation=True) as tsa:
        roots_file = tmp_path / "tsa-roots.pem"
        roots_file.write_bytes(tsa.root_certificate.public_bytes(serialization.Encoding.PEM))
        update = {"tsa_url": tsa.url, "tsa_roots_file": roots_file, "pdf_ltv": True}
        svc = Services(
            settings=services.settings.model_copy(update=update), engine=services.engine, store=services.store
        )
        with ThreadPoolExecutor(max_workers=2) as pool:
            pdfs = list(pool.map(lambda _: receipt_pdf(svc, source), range(2)))
    [stored] = _stored(services, receipt["id"])
    assert pdfs[0] == pdfs[1] and sha256(pdfs[0]) == stored.sha256, "both get the one PDF recorded"
    assert len(_entries(services, "receipt.pdf_stored")) == 1


def test_a_failing_tsa_is_one_line_and_stores_nothing(
    client: TestClient,
    services: Any,
    initialized: Any,
    cli_env: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    receipt = create_receipt(client, handover(client))
    with LocalTSA(revocation=True) as tsa:
        roots_file = tmp_path / "tsa-roots.pem"
        roots_file.write_bytes(tsa.root_certificate.public_bytes(serialization.Encoding.PEM))
        overrides = {"tsa_url": tsa.url, "tsa_roots_file": roots_file, "pdf_ltv": True}
        with app_client(services, initialized.admin_token.secret, **overrides) as ltv_client:
            assert ltv_client.get(f"/api/v1/receipts/{receipt['id']}/pdf").status_code == 200
        tsa.mode = Mode.HTTP_500
        monkeypatch.setenv("OFFBOARD_TSA_URL", tsa.url)
        monkeypatch.setenv("OFFBOARD_TSA_ROOTS_FILE", str(roots_file))
        code, _, err = _retimestamp(capsys, receipt["id"][:8], "--all")
    assert code == 1 and "timestamp authority" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert "did not answer with a timestamp" in err, err
    assert [row.version for row in _stored(services, receipt["id"])] == [1]
    assert _entries(services, "receipt.pdf_retimestamped") == []


def test_the_pdf_emailed_after_an_acknowledgment_is_the_stored_acknowledged_edition(
    services: Any, initialized: Any, tmp_path: Path
) -> None:
    with LocalTSA(revocation=True) as tsa, smtp_server() as (url, inbox):
        roots_file = tmp_path / "tsa-roots.pem"
        roots_file.write_bytes(tsa.root_certificate.public_bytes(serialization.Encoding.PEM))
        overrides = {"tsa_url": tsa.url, "tsa_roots_file": roots_file, "pdf_ltv": True, "smtp_url": url}
        with app_client(services, initialized.admin_token.secret, **overrides) as client:
            receipt = create_receipt(client, handover(client))
            assert client.post(f"/api/v1/receipts/{receipt['id']}/send").status_code == 200
            path = path_of(link_in(inbox.wait_for(1)[0]))
            form = {**form_of(client.get(path).text), "action": "acknowledge", "name": "Jane", "consent": "yes"}
            assert client.post(path, data=form).status_code == 200
            inbox.wait_for(3)
            confirmation = [m for m in inbox.to(CONTACT) if "acknowledgment is recorded" in m["Subject"]][0]
            files = {part.get_filename(): part.get_content() for part in confirmation.iter_attachments()}
            emailed = files[f"receipt-{receipt['id']}.pdf"]
            downloaded = client.get(f"/api/v1/receipts/{receipt['id']}/pdf").content
    [stored] = _stored(services, receipt["id"])
    assert stored.edition == "acknowledged" and sha256(emailed) == stored.sha256 and downloaded == emailed
