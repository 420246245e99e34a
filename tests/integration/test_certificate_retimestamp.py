"""Certificate PDFs kept as stored long-term PDFs and re-timestamped (issue 17, requirement 4), on both backend
pairs: a certificate issued with LTV is recorded as stored version 1 (``certificate.pdf_stored``);
``offboard certificate retimestamp`` extends it through a second TSA before the first TSA's short-lived
certificate expires, and every download (API, console, CLI, bundle) then serves the new version, which
pyHanko validates offline after that expiry and pdfsig reads as valid. ``offboard worker --once --at``
re-timestamps the due receipt and certificate PDFs and leaves a PDF not due alone; a second run at the same
instant does nothing more; a TSA that fails leaves the job to retry, and the retry does the work."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient
from sqlmodel import col, select

from templates.render import Renderer
from tests.helpers import run_cli, sha256
from tests.integration.certificate_support import close_acknowledged_case, run_worker
from tests.integration.console_support import add_signin_staff, console_client, sign_in
from tests.integration.receipts_support import app_client, create_receipt, handover
from tests.integration.test_bundle_export import members
from tests.integration.test_receipts_retimestamp import _entries
from tests.tsa import LocalTSA, Mode
from tests.unit.test_signing_pades_ltv import _lta_passes, _pdfsig
from vault.bundle import layout
from vault.clock import rfc3339
from vault.db import read_session
from vault.models import Certificate, Job, StoredPdf
from vault.services import Services


@pytest.fixture
def settings(settings: Any) -> Any:
    """No worker inside the app: the test's own ticks run the jobs."""
    return settings.model_copy(update={"worker": False})


@dataclass(frozen=True, slots=True)
class Tsas:
    short: LocalTSA
    fresh: LocalTSA
    roots_file: Path

    def overrides(self, tsa: LocalTSA) -> dict[str, Any]:
        return {"tsa_url": tsa.url, "tsa_roots_file": self.roots_file, "pdf_ltv": True}


@pytest.fixture
def tsas(tmp_path: Path) -> Iterator[Tsas]:
    """A TSA whose certificate lasts two hours (every PDF it stamps is due) and one that lasts 200 days."""
    with (
        LocalTSA(revocation=True, valid_for=timedelta(hours=2), name="Short TSA") as short,
        LocalTSA(revocation=True, valid_for=timedelta(days=200), name="Fresh TSA") as fresh,
    ):
        roots_file = tmp_path / "tsa-roots.pem"
        roots_file.write_bytes(
            b"".join(t.root_certificate.public_bytes(serialization.Encoding.PEM) for t in (short, fresh))
        )
        yield Tsas(short, fresh, roots_file)


def _versions(services: Any, subject_id: str) -> list[StoredPdf]:
    with read_session(services.engine) as session:
        query = select(StoredPdf).where(StoredPdf.subject_id == subject_id).order_by(col(StoredPdf.version))
        return list(session.exec(query).all())


def _certificate(services: Any, case_id: str) -> Certificate:
    with read_session(services.engine) as session:
        return session.exec(select(Certificate).where(Certificate.case_id == case_id)).one()


def _issue_with(services: Any, overrides: dict[str, Any], case_id: str) -> Certificate:
    """Run the worker tick that issues ``case_id``'s certificate with these settings."""
    update = {**overrides, "pdf_retimestamp_days": 0}  # this tick only issues; the CLI worker sweeps
    ltv = services.settings.model_copy(update=update)
    run_worker(Services(settings=ltv, engine=services.engine, store=services.store, renderer=Renderer()))
    return _certificate(services, case_id)


def _use_tsa(monkeypatch: pytest.MonkeyPatch, tsas: Tsas, tsa: LocalTSA) -> None:
    monkeypatch.setenv("OFFBOARD_TSA_URL", tsa.url)
    monkeypatch.setenv("OFFBOARD_TSA_ROOTS_FILE", str(tsas.roots_file))


def test_a_certificate_issued_with_ltv_is_stored_retimestamped_and_served_everywhere(
    client: TestClient,
    services: Any,
    initialized: Any,
    cli_env: Any,
    tsas: Tsas,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    case_id = close_acknowledged_case(client)
    row = _issue_with(services, tsas.overrides(tsas.short), case_id)
    [v1] = _versions(services, row.id)
    assert (v1.kind, v1.edition, v1.version, v1.case_id) == ("certificate", "issued", 1, case_id)
    assert (
        v1.sha256 == sha256(bytes(row.pdf))
        and v1.timestamp_expires_at == tsas.short.tsa_certificate.not_valid_after_utc
    )
    [stored_entry] = _entries(services, "certificate.pdf_stored")
    assert stored_entry["data"]["certificate"] == row.id and stored_entry["data"]["sha256"] == v1.sha256
    assert stored_entry["case"] == case_id
    assert client.get(f"/api/v1/cases/{case_id}/certificate.pdf").content == bytes(row.pdf)

    _use_tsa(monkeypatch, tsas, tsas.fresh)
    code, out, err = run_cli(capsys, "certificate", "retimestamp", case_id[:8], "--json")
    assert code == 0, err
    [done] = json.loads(out)["retimestamped"]
    assert (done["kind"], done["subject"], done["version"], done["old_sha256"]) == ("certificate", row.id, 2, v1.sha256)
    code, out, err = run_cli(capsys, "certificate", "retimestamp", "--json")
    assert code == 0 and json.loads(out) == {"retimestamped": []}, "nothing due: the fresh TSA lasts 200 days"
    _, v2 = _versions(services, row.id)
    assert v2.sha256 == done["new_sha256"] and bytes(_certificate(services, case_id).pdf) == bytes(row.pdf)
    [entry] = _entries(services, "certificate.pdf_retimestamped")
    assert entry["actor"].startswith("cli:") and entry["data"]["new_sha256"] == v2.sha256

    served = client.get(f"/api/v1/cases/{case_id}/certificate.pdf").content
    assert sha256(served) == v2.sha256 and served.startswith(bytes(row.pdf)), "an incremental update of the first"
    written = tmp_path / "certificate.pdf"
    assert run_cli(capsys, "case", "certificate", case_id, "-o", str(written))[0] == 0
    assert written.read_bytes() == served
    add_signin_staff(services, initialized.organization_id, "viewer@agency.example", role="viewer")
    with console_client(services) as browser:
        assert sign_in(browser, "viewer@agency.example").status_code == 303
        assert browser.get(f"/cases/{case_id}/certificate.pdf").content == served
    bundle = tmp_path / "case.zip"
    assert run_cli(capsys, "bundle", "export", case_id, "-o", str(bundle))[0] == 0
    assert members(bundle.read_bytes())[layout.CERTIFICATE_PDF] == served
    vkey = json.loads(run_cli(capsys, "ledger", "verifier-key", "--json")[1])[0]["vkey"]
    code, out, _ = run_cli(capsys, "verify", str(bundle), "--key", vkey)
    assert code == 0 and "VERIFIED" in out

    published = x509.load_pem_x509_certificate(client.get("/.well-known/offboard/pdf-ca.crt").content)
    roots = [published, tsas.short.root_certificate, tsas.fresh.root_certificate]
    after_expiry = tsas.short.tsa_certificate.not_valid_after_utc + timedelta(hours=1)
    assert _lta_passes(served, roots, at=after_expiry)
    assert not _lta_passes(bytes(row.pdf), roots, at=after_expiry), "the PDF as issued alone no longer validates"
    assert "Signature is Valid." in _pdfsig(served, tmp_path), "poppler reads the re-timestamped certificate too"


def test_certificate_retimestamp_errors_are_one_line(
    client: TestClient, services: Any, cli_env: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = close_acknowledged_case(client)
    run_worker(services)  # issued without LTV: nothing stored
    monkeypatch.delenv("OFFBOARD_TSA_URL", raising=False)
    code, _, err = run_cli(capsys, "certificate", "retimestamp")
    assert code == 1 and "needs a timestamp authority: set OFFBOARD_TSA_URL" in err and "Traceback" not in err
    with LocalTSA() as tsa:
        monkeypatch.setenv("OFFBOARD_TSA_URL", tsa.url)
        code, _, err = run_cli(capsys, "certificate", "retimestamp", case_id)
        assert code == 1 and "has no certificate with a stored long-term PDF" in err and "Traceback" not in err
        code, _, err = run_cli(capsys, "certificate", "retimestamp", "00000000-0000-4000-8000-000000000000")
        assert code == 1 and "00000000" in err and "Traceback" not in err, err
        code, _, err = run_cli(capsys, "certificate", "retimestamp", "--all")
        assert code == 0 and "nothing to re-timestamp" in err
    assert _versions(services, _certificate(services, case_id).id) == []


def _ltv_receipt(services: Any, initialized: Any, client: TestClient, overrides: dict[str, Any]) -> str:
    """A receipt whose long-term PDF is stored (its first download) with these TSA settings."""
    receipt = create_receipt(client, handover(client))
    with app_client(services, initialized.admin_token.secret, **overrides) as ltv_client:
        assert ltv_client.get(f"/api/v1/receipts/{receipt['id']}/pdf").status_code == 200
    return str(receipt["id"])


def _worker_once(capsys: pytest.CaptureFixture[str], at: datetime) -> dict[str, Any]:
    code, out, err = run_cli(capsys, "worker", "--once", "--at", rfc3339(at), "--json")
    assert code == 0, err
    report: dict[str, Any] = json.loads(out)
    return report


def _sweep_jobs(services: Any) -> list[Job]:
    with read_session(services.engine) as session:
        return list(session.exec(select(Job).where(Job.kind == "pdf.retimestamp")).all())


def test_the_worker_retimestamps_due_receipt_and_certificate_pdfs_once_a_day(
    client: TestClient,
    services: Any,
    initialized: Any,
    cli_env: Any,
    tsas: Tsas,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    due_receipt = _ltv_receipt(services, initialized, client, tsas.overrides(tsas.short))
    fresh_receipt = _ltv_receipt(services, initialized, client, tsas.overrides(tsas.fresh))
    case_id = close_acknowledged_case(client)
    certificate = _issue_with(services, tsas.overrides(tsas.short), case_id)
    _use_tsa(monkeypatch, tsas, tsas.fresh)
    near_expiry = tsas.short.tsa_certificate.not_valid_after_utc - timedelta(minutes=30)

    monkeypatch.setenv("OFFBOARD_PDF_RETIMESTAMP_DAYS", "0")
    _worker_once(capsys, near_expiry)
    assert _sweep_jobs(services) == [] and len(_versions(services, due_receipt)) == 1, "0 turns the sweep off"
    monkeypatch.delenv("OFFBOARD_PDF_RETIMESTAMP_DAYS")  # the default: 90 days
    _worker_once(capsys, near_expiry)
    [job] = _sweep_jobs(services)
    assert job.key == f"{initialized.organization_id}:{near_expiry.date().isoformat()}" and job.last_error is None
    assert [v.version for v in _versions(services, due_receipt)] == [1, 2]
    assert [v.version for v in _versions(services, certificate.id)] == [1, 2]
    assert [v.version for v in _versions(services, fresh_receipt)] == [1], "expires in 200 days: not due"
    done = _entries(services, "receipt.pdf_retimestamped") + _entries(services, "certificate.pdf_retimestamped")
    assert sorted(e["data"].get("receipt") or e["data"]["certificate"] for e in done) == sorted(
        [due_receipt, certificate.id]
    )
    assert {e["actor"] for e in done} == {"system:offboard"}

    _worker_once(capsys, near_expiry)
    assert len(_sweep_jobs(services)) == 1, "one job per organization and day"
    assert [len(_versions(services, s)) for s in (due_receipt, certificate.id, fresh_receipt)] == [2, 2, 1]
    served = client.get(f"/api/v1/cases/{case_id}/certificate.pdf").content
    assert sha256(served) == _versions(services, certificate.id)[-1].sha256
    _worker_once(capsys, near_expiry + timedelta(days=1))
    assert len(_sweep_jobs(services)) == 1, "the next day: every newest version extended, so no job at all"


def test_a_failing_tsa_leaves_the_sweep_job_to_retry(
    client: TestClient,
    services: Any,
    initialized: Any,
    cli_env: Any,
    tsas: Tsas,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    due_receipt = _ltv_receipt(services, initialized, client, tsas.overrides(tsas.short))
    _use_tsa(monkeypatch, tsas, tsas.fresh)
    now = tsas.short.tsa_certificate.not_valid_after_utc - timedelta(hours=1)
    tsas.fresh.mode = Mode.HTTP_500
    report = _worker_once(capsys, now)
    [job] = _sweep_jobs(services)
    assert report["retried"] >= 1 and job.done_at is None and job.failed_at is None
    assert job.last_error and "timestamp" in job.last_error and job.run_at > now
    assert [v.version for v in _versions(services, due_receipt)] == [1], "nothing written"
    tsas.fresh.mode = Mode.GRANT
    _worker_once(capsys, job.run_at)
    [job] = _sweep_jobs(services)
    assert job.done_at is not None and [v.version for v in _versions(services, due_receipt)] == [1, 2]
