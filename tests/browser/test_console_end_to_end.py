"""The whole offboarding in Chromium, as the people who do it and their client do (issue 13's end-to-end
bar): sign in; open a case through the form; upload two files at once with a progress bar each; complete
the steps; record an access revocation; create, preview and send a receipt through a real SMTP server on
loopback; the client acknowledges in a second browser from the mailed link; close the case; export the
bundle; and ``offboard verify`` passes on the downloaded file. axe-core checks every page on the way and
each page is photographed at 1280 and 390 px (``test-output/screenshots/e2e-*``)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.console_support import assert_accessible, screenshots, serve, sign_in
from tests.integration.console_support import STAFF, add_signin_staff
from tests.integration.receipts_support import Inbox, link_in, smtp_server
from vault.db import session_scope
from vault.orgs.organizations import Role, create_token

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)]

CONTACT = "cfo@acme.example"
#: A short playbook with one step of each kind of proof: a file, the access register, the client.
PLAYBOOK = {
    "key": "e2e-exit",
    "version": 1,
    "title": "End-to-end exit",
    "steps": [
        {"key": "notice", "title": "File the client's notice", "criteria": ["evidence:communication"], "due_days": 1},
        {"key": "revoke", "title": "Revoke every access", "criteria": ["access:all_revoked"], "due_days": 2},
        {"key": "confirm", "title": "The client confirms the handover", "depends_on": ["notice"],
         "criteria": ["receipt:acknowledged"], "due_days": 5},
    ],
}  # fmt: skip


@dataclass
class Deployment:
    base_url: str
    api: httpx.Client
    inbox: Inbox


@pytest.fixture
def deployment(settings: Any) -> Iterator[Deployment]:
    secret: list[str] = []

    def prepare(services: Any, organization_id: str) -> None:
        add_signin_staff(services, organization_id, email=STAFF, role="member")
        with session_scope(services.engine) as session:
            secret.append(create_token(session, organization_id=organization_id, name="e2e", role=Role.ADMIN).secret)

    with smtp_server() as (smtp_url, inbox):
        configured = settings.model_copy(update={"smtp_url": smtp_url, "smtp_from": "offboard@agency.example"})
        with (
            serve(configured, prepare) as (url, _services),
            httpx.Client(base_url=url, headers={"Authorization": f"Bearer {secret[0]}"}, timeout=60) as api,
        ):
            assert api.put("/api/v1/playbooks/e2e-exit", json={"document": PLAYBOOK}).status_code == 201
            yield Deployment(url, api, inbox)


def _check(page: Any, name: str) -> None:
    assert_accessible(page)
    screenshots(page, f"e2e-{name}")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_offboard_a_client_end_to_end(deployment: Deployment, browser: Any, tmp_path: Path) -> None:
    d = deployment
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()

    # Sign in: the case list, empty.
    sign_in(page, d.base_url)
    assert "No cases yet" in page.locator("main").inner_text()
    _check(page, "case-list-empty")

    # Open a case through the form.
    page.get_by_role("link", name="Open a case").click()
    _check(page, "case-new")
    page.get_by_label("Client name").fill("Acme Ltd")
    page.get_by_label("Service type").select_option("e2e-exit")
    page.get_by_label("Client contacts").fill(CONTACT)
    page.get_by_role("button", name="Open the case").click()
    page.wait_for_url(f"{d.base_url}/cases/*")
    case_url = page.url.split("?")[0].split("#")[0]
    case_id = case_url.rsplit("/", 1)[1]
    assert page.locator("h1").inner_text() == "Acme Ltd"

    # Upload two deliverables at once: one progress bar each, both finished, both listed.
    page.get_by_role("link", name="Evidence", exact=True).click()
    page.get_by_label("Kind").select_option("deliverable")
    page.locator("#files").set_input_files(
        [
            {"name": "final-site-export.zip", "mimeType": "application/zip", "buffer": b"PK\x03\x04" + b"s" * 300_000},
            {"name": "brand guide.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 " + b"b" * 200_000},
        ]
    )
    page.get_by_role("button", name="Upload").click()
    page.wait_for_selector("#upload-form[data-finished=true]")
    bars = page.locator("#upload-progress progress")
    assert bars.count() == 2
    for i in range(2):
        assert bars.nth(i).evaluate("bar => bar.value === bar.max && bar.max > 0")
    assert page.locator("#upload-progress li.upload-done").count() == 2
    page.wait_for_function("document.querySelectorAll('#evidence-table tbody tr').length >= 2")
    # The client's notice, a communication, through the same form.
    page.get_by_label("Kind").select_option("communication")
    page.locator("#files").set_input_files(
        [{"name": "notice.eml", "mimeType": "message/rfc822", "buffer": b"Subject: we are leaving\n\nBye."}]
    )
    page.get_by_role("button", name="Upload").click()
    page.wait_for_selector("#upload-form[data-finished=true]")
    page.reload()
    listed = page.locator("#evidence-table").inner_text()
    assert "final-site-export.zip" in listed and "brand guide.pdf" in listed and "notice.eml" in listed
    _check(page, "case-evidence")

    # Complete the first step with the notice; add a system and record its revocation.
    page.get_by_role("link", name="Overview", exact=True).click()
    page.get_by_label("Step", exact=True).select_option("notice")
    page.locator("#step-evidence, fieldset").first.get_by_label("notice.eml").first.check()
    page.get_by_role("button", name="Complete step").click()
    assert "Step 'notice' completed." in page.locator(".notice").inner_text()
    page.get_by_label("System", exact=True).first.fill("Google Ads")
    page.get_by_role("button", name="Add system").click()
    page.get_by_label("How was the access removed?").fill("Removed the agency user in Google Ads admin")
    page.locator("#revoke-evidence").get_by_label("notice.eml").check()
    page.get_by_role("button", name="Record revocation").click()
    assert "revoked" in page.locator("table tr", has_text="Google Ads").inner_text()
    page.get_by_label("Step", exact=True).select_option("revoke")
    page.get_by_role("button", name="Complete step").click()
    assert "Step 'revoke' completed." in page.locator(".notice").inner_text()
    _check(page, "case-overview")

    # Create the receipt (the deliverables are chosen), preview what the client will see, send it.
    page.get_by_role("link", name="Receipts", exact=True).click()
    page.get_by_role("button", name="Create and preview").click()
    assert "final-site-export.zip" in page.locator("body").inner_text()
    _check(page, "receipt-preview")
    page.goto(f"{case_url}/receipts")
    page.get_by_role("button", name="Send", exact=False).first.click()
    (mail,) = d.inbox.wait_for(1, to=CONTACT)
    assert mail["To"] == CONTACT
    link = link_in(mail)
    _check(page, "case-receipts")

    # The client acknowledges in a browser of their own.
    client = browser.new_context()
    ack = client.new_page()
    ack.goto(link)
    assert "final-site-export.zip" in ack.locator("main").inner_text()
    assert_accessible(ack)
    screenshots(ack, "e2e-client-acknowledgment")
    ack.fill("#name", "Carla Fernández")
    ack.check("#consent")
    ack.click("#acknowledge")
    ack.wait_for_selector("#confirmation")
    assert_accessible(ack)
    client.close()

    # The receipt shows it, and the client's confirmation step completed itself.
    page.goto(f"{case_url}/receipts")
    assert "acknowledged" in page.locator("main").inner_text().lower()
    page.goto(case_url)
    assert "Done" in page.locator("#step-confirm").inner_text()

    # Close the case: nothing missing, a confirmation, the final state.
    page.get_by_role("link", name="Close case").click()
    assert page.locator("h2", has_text="Close this case?").count() == 1
    _check(page, "case-close")
    page.get_by_role("button", name="Yes, close the case").click()
    assert page.locator(".case-head .status").inner_text() == "Fully offboarded"

    # Export the bundle and verify it with the command line, offline, pinned to the published key.
    with page.expect_download() as info:
        page.get_by_role("button", name="Export evidence bundle").click()
    bundle = tmp_path / "acme.zip"
    info.value.save_as(bundle)
    vkey = d.api.get("/.well-known/offboard/keys").json()["keys"][0]["vkey"]
    offboard = Path(sys.executable).with_name("offboard")
    verified = subprocess.run(
        [str(offboard), "verify", str(bundle), "--key", vkey], capture_output=True, text=True, timeout=300, check=False
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "VERIFIED" in verified.stdout and case_id in verified.stdout

    page.get_by_role("link", name="Timeline", exact=True).click()
    assert page.locator("tbody tr", has_text="receipt.acknowledged").count() == 1
    _check(page, "case-timeline")
    page.get_by_role("link", name="Ledger", exact=True).click()
    # No witness is configured here: the page says so plainly, never that the checkpoint is witnessed.
    assert page.locator("#witness-verdict").inner_text().startswith("NOT witnessed: no witnesses are configured")
    _check(page, "ledger")
    page.goto(d.base_url + "/")
    assert "Fully offboarded" in page.locator("main").inner_text()
    _check(page, "case-list")
    context.close()
