"""The certificate of completion is emailed with its files (issue 17, requirement 3), over real SMTP on loopback
and on both backend pairs: the owner and each client contact get one email attaching the PDF, the signed JSON
and its detached signature, byte for byte what the API serves, read when the email is sent (so after a
re-timestamp the newest PDF version goes out); above the size cap the email goes without them and says so;
each message is one ``email.sent`` entry."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from signing.detached import DetachedSignature
from signing.keys import parse_vkey
from templates.render import Renderer
from tests.helpers import record_md5s, run_cli
from tests.integration.cases_helpers import OWNER
from tests.integration.certificate_support import close_acknowledged_case, run_worker
from tests.integration.receipts_support import smtp_server, text_body
from tests.integration.test_certificate_retimestamp import Tsas, _issue_with, _use_tsa, _versions, tsas  # noqa: F401
from vault.db import read_session
from vault.errors import VerificationFailed
from vault.handover.receipts import verify_document
from vault.jobs import enqueue_mail, run_due
from vault.jobs.catalog import build_registry
from vault.models import Job, LedgerEntry
from vault.services import Services

CONTACTS = ["jane@acme.example", "ops@acme.example"]
SUFFIXES = (".pdf", ".json", ".sig.json")


@pytest.fixture
def settings(settings: Any) -> Any:
    """No worker inside the app: the test's own ticks run the jobs."""
    return settings.model_copy(update={"worker": False})


def _send(services: Any, url: str, *, at: datetime | None = None, **overrides: Any) -> Any:
    """One worker tick with SMTP at ``url`` (and these settings), at ``at``: by default two hours from now, when
    mail jobs that found no SMTP (they wait an hour) are due again."""
    record_md5s(services)  # due five minutes after each upload: done long before this tick, as in a deployment
    mailing = services.settings.model_copy(update={"smtp_url": url, **overrides})
    worker = Services(settings=mailing, engine=services.engine, store=services.store, renderer=Renderer())
    return run_due(
        worker,
        now=at or datetime.now(UTC) + timedelta(hours=2),
        worker_id="mail-worker",
        limit=50,
        registry=build_registry(),
    )


def _attachments(message: EmailMessage) -> dict[str, tuple[str, bytes]]:
    files = {}
    for part in message.iter_attachments():
        content = part.get_content()
        assert isinstance(content, bytes), part.get_content_type()
        files[str(part.get_filename())] = (part.get_content_type(), content)
    return files


def _served(client: TestClient, case_id: str) -> dict[str, tuple[str, bytes]]:
    """What the API serves for the case's certificate: file name -> (media type, bytes)."""
    files = {}
    for suffix in SUFFIXES:
        got = client.get(f"/api/v1/cases/{case_id}/certificate{suffix}")
        assert got.status_code == 200, got.text
        [name] = re.findall(r'filename="([^"]+)"', got.headers["content-disposition"])
        files[name] = (got.headers["content-type"].split(";")[0], got.content)
    return files


def _sent_entries(services: Any, case_id: str) -> list[dict[str, Any]]:
    with read_session(services.engine) as session:
        query = select(LedgerEntry).where(LedgerEntry.case_id == case_id, LedgerEntry.entry_type == "email.sent")
        rows = session.exec(query.order_by(col(LedgerEntry.idx))).all()
        return [json.loads(bytes(r.body))["data"] for r in rows]


def test_the_owner_and_each_contact_get_the_files_the_api_serves(client: TestClient, services: Any) -> None:
    case_id = close_acknowledged_case(client, contacts=CONTACTS)
    run_worker(services)  # issues the certificate; its emails find no SMTP and wait an hour
    served = _served(client, case_id)
    certificate_id = client.get(f"/api/v1/cases/{case_id}/certificate").json()["id"]
    pdf_name, json_name, sig_name = (f"certificate-{certificate_id}{suffix}" for suffix in SUFFIXES)
    assert sorted(served) == sorted([pdf_name, json_name, sig_name])
    with smtp_server() as (url, inbox):
        report = _send(services, url)
        messages = inbox.wait_for(3)
        assert (report.done, report.failed) == (3, 0)
        assert _send(services, url, at=datetime.now(UTC) + timedelta(days=1)).claimed == 0, "each job sent once"
    assert sorted(m["To"] for m in messages) == sorted([OWNER, *CONTACTS])
    for message in messages:
        assert _attachments(message) == served, message["To"]

    # The detached signature in the email verifies over the emailed JSON with the organization's published key.
    contact = next(m for m in messages if m["To"] == CONTACTS[0])
    text = text_body(contact)
    assert all(name in text for name in served) and "offboard verify" in text and "verify.html" in text
    assert "/cases/" not in text, "a client contact has no console account"
    [keys_url] = re.findall(r"https?://\S+/\.well-known/offboard/keys\?organization=\S+", text)
    published = TestClient(client.app).get("/" + keys_url.split("://", 1)[1].partition("/")[2])  # no credential
    assert published.status_code == 200, published.text
    body, signature = served[json_name][1], DetachedSignature.from_json(json.loads(served[sig_name][1]))
    [key] = [k for k in published.json()["keys"] if k["key_id"] == signature.key_id]
    assert verify_document(body, signature.signature, parse_vkey(key["vkey"]))["case"]["id"] == case_id
    assert signature.sha256 == hashlib.sha256(body).hexdigest() and signature.sha256 in text
    tampered = body.replace(b'"Acme Ltd"', b'"Acme Inc"')
    with pytest.raises(VerificationFailed, match="signature does not verify"):
        verify_document(tampered, signature.signature, parse_vkey(key["vkey"]))
    owner_text = text_body(next(m for m in messages if m["To"] == OWNER))
    assert f"/cases/{case_id}" in owner_text and pdf_name in owner_text

    entries = _sent_entries(services, case_id)
    assert sorted(e["to"] for e in entries if e["template"] == "certificate") == sorted([OWNER, *CONTACTS])
    for entry in (e for e in entries if e["template"] == "certificate"):
        assert entry["attachments"] == [
            {"name": name, "sha256": hashlib.sha256(served[name][1]).hexdigest()}
            for name in (pdf_name, json_name, sig_name)
        ]


def test_over_the_cap_the_email_goes_without_files_and_says_where_they_are(client: TestClient, services: Any) -> None:
    case_id = close_acknowledged_case(client, contacts=CONTACTS[:1])
    run_worker(services)
    with smtp_server() as (url, inbox):
        assert _send(services, url, mail_attachments_max_bytes=1000).done == 2
        messages = inbox.wait_for(2)
    total = sum(len(content) for _, content in _served(client, case_id).values())
    for message in messages:
        assert list(message.iter_attachments()) == []
        text = text_body(message)
        assert "not attached" in text and "may carry (1.0 kB)" in text, text
        assert (f"/cases/{case_id}" in text) == (message["To"] == OWNER)
    owner = next(m for m in messages if m["To"] == OWNER)
    assert "Download them from the case page" in text_body(owner)
    entries = [e for e in _sent_entries(services, case_id) if e["template"] == "certificate"]
    assert len(entries) == 2 and all(e["attachments_omitted"] == {"bytes": total, "limit": 1000} for e in entries)
    assert all("attachments" not in e for e in entries)


def test_an_email_sent_after_a_retimestamp_carries_the_newest_pdf(
    client: TestClient,
    services: Any,
    cli_env: Any,
    tsas: Tsas,  # noqa: F811 - the fixture imported above
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case_id = close_acknowledged_case(client)
    row = _issue_with(services, tsas.overrides(tsas.short), case_id)  # no SMTP: the emails wait an hour
    _use_tsa(monkeypatch, tsas, tsas.fresh)
    code, _, err = run_cli(capsys, "certificate", "retimestamp", case_id)
    assert code == 0, err
    v1, v2 = _versions(services, row.id)
    with smtp_server() as (url, inbox):
        report = _send(services, url)
        messages = inbox.wait_for(2)
    assert report.done >= 2 and report.failed == 0
    served = _served(client, case_id)
    pdf = served[f"certificate-{row.id}.pdf"][1]
    assert hashlib.sha256(pdf).hexdigest() == v2.sha256 != v1.sha256
    for message in messages:
        assert _attachments(message) == served and _attachments(message)[f"certificate-{row.id}.pdf"][1] != bytes(
            row.pdf
        )


@pytest.mark.parametrize(
    ("attach", "error"),
    [
        ({"source": "receipt", "id": "r1"}, "which no attachment source provides"),
        ({"source": "certificate", "id": "00000000-0000-4000-8000-000000000000"}, "does not have"),
    ],
)
def test_a_mail_job_whose_files_cannot_exist_fails_with_the_reason(
    services: Any, initialized: Any, attach: dict[str, str], error: str
) -> None:
    org = initialized.organization_id
    services.transact(
        lambda s: enqueue_mail(
            s,
            organization_id=org,
            case_id=None,
            key="bad-attach",
            template="owner_disputed",
            to="o@agency.example",
            context={},
            run_at=datetime.now(UTC),
            attach=attach,
        )
    )
    with smtp_server() as (url, inbox):
        assert _send(services, url).failed == 1
        assert inbox.messages == []
    with read_session(services.engine) as session:
        job = session.exec(select(Job).where(Job.key == "bad-attach")).one()
    assert job.failed_at is not None and error in (job.last_error or "")
