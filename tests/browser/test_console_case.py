"""The case page as a person uses it, in Chromium against a real server: complete a step with its
evidence, add a system to the access register, record its revocation and have a second staff member
verify it, add and remove a client contact, see the gate's list, close the case after confirming, export
the evidence bundle and check the download with ``vault``'s own verifier; axe on each state; screenshots
``console-case`` and ``console-case-timeline``. SQLite + local folder only: the backends are covered by
tests/integration/test_console_case_page.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from signing.keys import parse_vkey
from tests.browser.console_support import assert_accessible, screenshots, serve, sign_in
from tests.integration.console_support import STAFF, add_signin_staff
from vault.bundle.verify import verify_bundle
from vault.db import session_scope
from vault.orgs.organizations import Role, create_token

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)]

SECOND = "second@agency.example"
#: A short playbook, so the test closes a case after doing every kind of work the page offers.
PLAYBOOK = {
    "key": "short-exit",
    "version": 1,
    "title": "Short exit",
    "steps": [
        {"key": "confirm", "title": "Confirm the exit", "criteria": ["evidence:communication"], "due_days": 1},
        {
            "key": "revoke",
            "title": "Revoke every access",
            "depends_on": ["confirm"],
            "criteria": ["access:all_revoked"],
            "due_days": 2,
        },
    ],
}


@dataclass
class Deployment:
    base_url: str
    api: httpx.Client
    case_id: str


@pytest.fixture
def deployment(settings: Any) -> Iterator[Deployment]:
    secret: list[str] = []

    def prepare(services: Any, organization_id: str) -> None:
        add_signin_staff(services, organization_id, email=STAFF, role="member")
        add_signin_staff(services, organization_id, email=SECOND, role="member")
        with session_scope(services.engine) as session:
            secret.append(create_token(session, organization_id=organization_id, name="setup", role=Role.ADMIN).secret)

    with (
        serve(settings, prepare) as (url, _services),
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {secret[0]}"}) as api,
    ):
        published = api.put("/api/v1/playbooks/short-exit", json={"document": PLAYBOOK})
        assert published.status_code == 201, published.text
        body = {"client_name": "Acme Ltd", "owner_email": STAFF, "service_type": "short-exit"}
        case = api.post("/api/v1/cases", json=body)
        assert case.status_code == 201, case.text
        case_id = case.json()["id"]
        for name, kind, data in (("reply.eml", "communication", b"our reply"), ("removed.png", "other", b"png")):
            params = {"filename": name, "kind": kind}
            stored = api.post(f"/api/v1/cases/{case_id}/evidence", params=params, content=data)
            assert stored.status_code == 201, stored.text
        yield Deployment(url, api, case_id)


def _no_sideways_scroll(page: Any) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.set_viewport_size({"width": 1280, "height": 900})


def test_work_a_case_to_its_final_state_and_export_it(deployment: Deployment, browser: Any, tmp_path: Path) -> None:
    d, case_url = deployment, f"{deployment.base_url}/cases/{deployment.case_id}"
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    sign_in(page, d.base_url)
    page.goto(case_url)
    assert page.locator("h1").inner_text() == "Acme Ltd"
    assert_accessible(page)
    _no_sideways_scroll(page)

    # A step refused by its criteria shows the reason inline; with the right evidence it completes.
    page.get_by_label("Step", exact=True).select_option("confirm")
    page.get_by_label("removed.png").first.check()
    page.get_by_role("button", name="Complete step").click()
    assert "attach evidence of kind communication" in page.locator(".error-summary").inner_text()
    assert_accessible(page)
    page.get_by_label("removed.png").first.uncheck()
    page.get_by_label("reply.eml").first.check()
    page.get_by_role("button", name="Complete step").click()
    assert "Step 'confirm' completed." in page.locator(".notice").inner_text()
    assert "Done" in page.locator("#step-confirm").inner_text()
    assert page.locator("#step-confirm a", has_text="reply.eml").count() == 1

    # The access register: add a system, record its revocation with evidence.
    page.get_by_label("System", exact=True).first.fill("Google Ads")
    page.get_by_role("button", name="Add system").click()
    page.get_by_label("How was the access removed?").fill("Removed the agency user in Google Ads admin")
    page.locator("#revoke-evidence").get_by_label("removed.png").check()
    page.get_by_role("button", name="Record revocation").click()
    row = page.locator("table tr", has_text="Google Ads")
    assert "revoked" in row.inner_text() and STAFF in row.inner_text()
    # The same person cannot verify their own revocation.
    row.get_by_role("button", name="Verify").click()
    assert "verification must come from a second person" in page.locator(".error-summary").inner_text()
    assert_accessible(page)

    # A second staff member verifies it, in their own browser.
    other = browser.new_context()
    second = other.new_page()
    sign_in(second, d.base_url, SECOND)
    second.goto(case_url)
    second.locator("table tr", has_text="Google Ads").get_by_role("button", name="Verify").click()
    assert SECOND in second.locator("table tr", has_text="Google Ads").inner_text()
    other.close()

    # Contacts: add one, refuse a duplicate, remove one.
    page.goto(case_url)
    page.get_by_label("Contact's email address").fill("cfo@acme.example")
    page.get_by_role("button", name="Add contact").click()
    page.get_by_label("Contact's email address").fill("it@acme.example")
    page.get_by_role("button", name="Add contact").click()
    page.get_by_label("Contact's email address").fill("CFO@acme.example")
    page.get_by_role("button", name="Add contact").click()
    assert "already a contact" in page.locator(".error-summary").inner_text()
    page.get_by_role("button", name="Remove it@acme.example").click()
    assert page.locator("ul.contacts li").count() == 1
    assert "cfo@acme.example" in page.locator("ul.contacts").inner_text()

    # The gate lists what is missing, with a link to where to fix it.
    page.get_by_role("link", name="Close case").click()
    missing = page.locator("ul.missing").inner_text()
    assert "Required step 'Revoke every access' is not completed." in missing
    assert_accessible(page)
    page.get_by_role("link", name="Complete the step").click()
    page.get_by_role("button", name="Complete step").click()
    assert "Step 'revoke' completed." in page.locator(".notice").inner_text()
    screenshots(page, "console-case")

    # Nothing missing: a confirmation, then the final state.
    page.get_by_role("link", name="Close case").click()
    assert page.locator("h2", has_text="Close this case?").count() == 1
    assert_accessible(page)
    page.get_by_role("button", name="Yes, close the case").click()
    assert page.locator(".case-head .status").inner_text() == "Fully offboarded"
    assert_accessible(page)

    # Export: a streamed ZIP that vault's verifier accepts.
    with page.expect_download() as info:
        page.get_by_role("button", name="Export evidence bundle").click()
    path = tmp_path / "bundle.zip"
    info.value.save_as(path)
    keys = d.api.get("/.well-known/offboard/keys").json()
    report = verify_bundle(path, pinned=[parse_vkey(k["vkey"]) for k in keys["keys"]])
    assert report.ok, report.failures
    assert report.case_id == d.case_id

    page.get_by_role("link", name="Timeline").click()
    # The export is on the timeline (not necessarily its newest row: the worker issues the certificate of
    # completion meanwhile, whenever it gets to it).
    assert page.locator("tbody tr", has_text="bundle.exported").count() == 1
    assert page.locator("tbody tr", has_text="case.contact_removed").count() == 1
    assert_accessible(page)
    _no_sideways_scroll(page)
    screenshots(page, "console-case-timeline")
    context.close()
