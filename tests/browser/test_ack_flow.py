"""The acknowledgment flow as a client lives it, in Chromium through Playwright, against a real HTTP
server (uvicorn on loopback) with a real SMTP server (aiosmtpd): the email arrives, the link opens, the
deliverables and their hashes are visible, the client acknowledges (or disputes), the confirmation is
shown and emailed. SQLite + local folder only: the backends are covered by the integration tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from tests.helpers import sha256
from tests.integration.receipts_support import Inbox, link_in, smtp_server
from tests.services import free_port

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)]

CONTACT = "client@acme.example"
OWNER = "owner@agency.example"
FILES = {"final-report.pdf": b"%PDF-1.4 the final report", "brand assets – v2.zip": b"PK\x03\x04 assets"}


@dataclass
class Deployment:
    base_url: str
    api: httpx.Client
    inbox: Inbox


@pytest.fixture
def deployment(settings: Any) -> Iterator[Deployment]:
    from api.app import create_app
    from vault.services import build_services
    from vault.setup import initialize

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with smtp_server() as (smtp_url, inbox):
        configured = settings.model_copy(update={"base_url": base_url, "smtp_url": smtp_url})
        services = build_services(configured)
        secret = initialize(services).admin_token
        assert secret is not None
        server = uvicorn.Server(
            uvicorn.Config(create_app(configured, services=services), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
            time.sleep(0.02)
        api = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {secret.secret}"}, timeout=60)
        try:
            yield Deployment(base_url, api, inbox)
        finally:
            api.close()
            server.should_exit = True
            thread.join(timeout=30)
            services.close()


def _send_receipt(d: Deployment) -> tuple[str, str]:
    """A case with deliverables and a receipt sent by email; returns (receipt id, the emailed link)."""
    assert d.api.post("/api/v1/staff", json={"email": OWNER, "role": "member"}).status_code == 201
    case = d.api.post("/api/v1/cases", json={"client_name": "Acme Ltd", "owner_email": OWNER, "contacts": [CONTACT]})
    assert case.status_code == 201, case.text
    case_id = case.json()["id"]
    for name, data in FILES.items():
        stored = d.api.post(
            f"/api/v1/cases/{case_id}/evidence", params={"filename": name, "kind": "deliverable"}, content=data
        )
        assert stored.status_code == 201, stored.text
    receipt = d.api.post(f"/api/v1/cases/{case_id}/receipts", json={})
    assert receipt.status_code == 201, receipt.text
    sent = d.api.post(f"/api/v1/receipts/{receipt.json()['id']}/send")
    assert sent.status_code == 200 and sent.json()["delivery"] == "smtp", sent.text
    [mail] = d.inbox.wait_for(1, to=CONTACT)
    assert mail["To"] == CONTACT
    link = link_in(mail)
    assert link.startswith(d.base_url + "/ack/")
    return receipt.json()["id"], link


def test_client_acknowledges_in_the_browser_and_gets_the_signed_receipt(deployment: Deployment, page: Any) -> None:
    d = deployment
    receipt_id, link = _send_receipt(d)
    page.goto(link)
    assert page.locator("h1").first.inner_text() == "Default organization"
    rows = page.locator("li.deliverable")
    assert rows.count() == 2
    text = page.locator("#deliverables").inner_text()
    for name, data in FILES.items():
        assert name in text and sha256(data) in text
    # The inline stylesheet is allowed by the CSP hash (a blocked style would leave the default white).
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(245, 247, 249)"
    page.fill("#name", "Zoë Ångström")
    page.check("#consent")
    page.click("#acknowledge")
    page.wait_for_selector("#confirmation")
    assert page.locator("#confirmation").inner_text() == "Thank you, Zoë Ångström"
    assert "recorded" in page.locator(".ok").inner_text()

    mails = d.inbox.wait_for(3)  # link, client confirmation, owner notice
    confirmation = [m for m in d.inbox.to(CONTACT) if "acknowledgment is recorded" in m["Subject"]]
    assert confirmation, [m["Subject"] for m in mails]
    names = {part.get_filename() for part in confirmation[0].iter_attachments()}
    assert f"receipt-{receipt_id}-acknowledged.json" in names and f"receipt-{receipt_id}.pdf" in names
    assert any("acknowledged" in m["Subject"] for m in d.inbox.to(OWNER))
    got = d.api.get(f"/api/v1/receipts/{receipt_id}").json()
    assert got["status"] == "acknowledged" and got["acknowledgment"]["name"] == "Zoë Ångström"
    assert got["acknowledgment"]["ip"] == "127.0.0.1" and "Chrome" in got["acknowledgment"]["user_agent"]

    # The link is spent: opening it again says so, in plain words.
    page.goto(link)
    assert page.locator("h1").inner_text() == "This link has already been used"
    assert "to acknowledge the handover receipt" in page.locator(".card").inner_text()


def test_client_disputes_in_the_browser(deployment: Deployment, page: Any) -> None:
    d = deployment
    receipt_id, link = _send_receipt(d)
    page.goto(link)
    page.click("summary")
    page.fill("#reason", "The brand assets archive is missing the fonts.")
    page.click("#dispute")
    page.wait_for_selector("#confirmation")
    assert page.locator("#confirmation").inner_text() == "Your dispute was recorded"
    got = d.api.get(f"/api/v1/receipts/{receipt_id}").json()
    assert got["status"] == "disputed"
    notice = [m for m in d.inbox.wait_for(2) if m["To"] == OWNER]
    assert notice and "disputed" in notice[0]["Subject"]
