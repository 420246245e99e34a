"""The console's case page on both backend pairs: every form's happy path, its inline errors, a viewer's
403, a form without its CSRF token 403, and another organization's case 404 (issue 13, the case page)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.integration.cases_helpers import complete_all_steps, upload, waive_uncovered_deliverables
from tests.integration.console_case_support import (
    ADMIN,
    SECOND,
    VIEWER,
    CaseSetup,
    case_with_evidence,
    post_form,
    signed_in,
)
from tests.integration.console_support import STAFF, add_signin_staff
from tests.integration.receipts_support import create_receipt, handover
from vault.orgs.organizations import create_organization

RIVAL = "rival@other.example"


@pytest.fixture
def setup(client: TestClient, services: Any, initialized: Any) -> CaseSetup:
    return case_with_evidence(client, services, initialized.organization_id)


def _steps(client: TestClient, case_id: str) -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in client.get(f"/api/v1/cases/{case_id}/steps").json()}


def _inline_error(response: Any, status: int, field: str, needle: str) -> None:
    assert response.status_code == status, response.text[:400]
    text = response.text
    assert 'class="error-summary"' in text and f'href="#{field}"' in text, "the summary links to the field"
    assert f'id="{field}-error"' in text, "the message is shown next to the field"
    assert needle in text


def test_the_overview_shows_steps_criteria_access_and_contacts(setup: CaseSetup, services: Any) -> None:
    with signed_in(services) as browser:
        page = browser.get(f"/cases/{setup.case_id}")
        assert page.status_code == 200
        text = page.text
        assert 'id="step-confirm-intent"' in text and "evidence of kind communication" in text
        assert "Waiting for confirm-intent" in text and 'aria-current="page">Overview' in text
        assert "No contacts yet" in text and "No system registered yet" in text
        assert f'action="/cases/{setup.case_id}/steps/complete"' in text
        assert "reply.eml" in text and f'href="/cases/{setup.case_id}/close"' in text
        assert browser.get(f"/cases/{setup.case_id}?step=confirm-intent").text.count("selected") >= 1
    with signed_in(services, VIEWER) as viewer:
        text = viewer.get(f"/cases/{setup.case_id}").text
        assert "Complete a step" not in text and "Add a system" not in text and "Add contact" not in text
        assert "Export evidence bundle" in text


def test_complete_a_step_and_its_inline_errors(setup: CaseSetup, client: TestClient, services: Any) -> None:
    url, action = f"/cases/{setup.case_id}", f"/cases/{setup.case_id}/steps/complete"
    with signed_in(services) as browser:
        wrong = post_form(browser, url, action, {"step": "confirm-intent", "evidence": [setup.other], "note": "kept"})
        _inline_error(wrong, 409, "step-evidence", "attach evidence of kind communication")
        assert ">kept</textarea>" in wrong.text and "checked" in wrong.text, "the form keeps what was entered"
        _inline_error(post_form(browser, url, action, {}), 400, "step-key", "Choose the step you completed")
        waiting = post_form(browser, url, action, {"step": "review-contract", "note": "read"})
        _inline_error(waiting, 409, "step-evidence", "depends on steps not completed yet")
        done = post_form(browser, url, action, {"step": "confirm-intent", "evidence": [setup.communication]})
        assert (done.status_code, done.headers["location"]) == (303, f"{url}#step-confirm-intent")
        page = browser.get(url).text
        assert "Step &#39;confirm-intent&#39; completed." in page, "the notice is shown once"
        step = _steps(client, setup.case_id)["confirm-intent"]
        assert step["status"] == "done" and step["evidence_ids"] == [setup.communication]
        assert f"by</dt><dd>staff:{STAFF}" in page.replace("Completed by", "by")
        assert f'href="/cases/{setup.case_id}/evidence#evidence-{setup.communication}"' in page
        assert f'href="/ledger/entries/{step["ledger_index"]}/proof"' in page
        assert browser.post(action, data={"step": "review-contract", "note": "x"}).status_code == 403
    with signed_in(services, VIEWER) as viewer:
        assert post_form(viewer, url, action, {"step": "review-contract", "note": "x"}).status_code == 403
    assert _steps(client, setup.case_id)["review-contract"]["status"] != "done"


def test_the_access_register_add_revoke_and_second_person_verify(
    setup: CaseSetup, client: TestClient, services: Any
) -> None:
    url = f"/cases/{setup.case_id}"
    with signed_in(services) as browser:
        empty = post_form(browser, url, f"{url}/access", {"name": " ", "kind": "app"})
        _inline_error(empty, 400, "access-name", "must be 1 to 200 characters")
        added = post_form(
            browser, url, f"{url}/access", {"name": "Google Ads", "kind": "cloud_account", "accounts": "a@x\nb@x"}
        )
        assert added.status_code == 303
        (item,) = client.get(f"/api/v1/cases/{setup.case_id}/access").json()
        assert item["accounts"] == ["a@x", "b@x"]
        bare = {"item": item["id"], "method": "removed the user", "revoked_by": STAFF}
        _inline_error(post_form(browser, url, f"{url}/access/revoke", bare), 400, "revoke-evidence", "needs evidence")
        no_method = {**bare, "method": "", "evidence": [setup.other]}
        _inline_error(post_form(browser, url, f"{url}/access/revoke", no_method), 400, "revoke-method", "say how")
        revoked = post_form(browser, url, f"{url}/access/revoke", {**bare, "evidence": [setup.other]})
        assert (revoked.status_code, revoked.headers["location"]) == (303, f"{url}#access-{item['id']}")
        same = post_form(browser, url, f"{url}/access/{item['id']}/verify")
        _inline_error(same, 409, f"verify-{item['id']}", "verification must come from a second person")
    with signed_in(services, VIEWER) as viewer:
        assert post_form(viewer, url, f"{url}/access/{item['id']}/verify").status_code == 403
        assert post_form(viewer, url, f"{url}/access", {"name": "X"}).status_code == 403
    with signed_in(services, SECOND) as second:
        assert second.post(f"{url}/access/{item['id']}/verify").status_code == 403, "no CSRF token"
        assert post_form(second, url, f"{url}/access/{item['id']}/verify").status_code == 303
        page = second.get(url).text
    (item,) = client.get(f"/api/v1/cases/{setup.case_id}/access").json()
    assert (item["status"], item["revoked_by"], item["verified_by"]) == ("revoked", STAFF, SECOND)
    assert SECOND in page and "screenshot.png" in page


def test_contacts_are_added_and_removed_from_the_page(setup: CaseSetup, client: TestClient, services: Any) -> None:
    url = f"/cases/{setup.case_id}"
    with signed_in(services) as browser:
        assert post_form(browser, url, f"{url}/contacts", {"email": "CFO@Client.example"}).status_code == 303
        assert "CFO@client.example" in browser.get(url).text
        duplicate = post_form(browser, url, f"{url}/contacts", {"email": "cfo@client.example"})
        _inline_error(duplicate, 409, "contact-email", "already a contact")
        invalid = post_form(browser, url, f"{url}/contacts", {"email": "nope"})
        _inline_error(invalid, 400, "contact-email", "not a valid")
        gone = post_form(browser, url, f"{url}/contacts/remove", {"email": "nobody@client.example"})
        _inline_error(gone, 404, "contact-email", "is not a contact")
        assert browser.post(f"{url}/contacts", data={"email": "x@client.example"}).status_code == 403
        removed = post_form(browser, url, f"{url}/contacts/remove", {"email": "CFO@client.example"})
        assert removed.status_code == 303
    with signed_in(services, VIEWER) as viewer:
        assert post_form(viewer, url, f"{url}/contacts", {"email": "v@client.example"}).status_code == 403
    assert client.get(f"/api/v1/cases/{setup.case_id}").json()["contacts"] == []


def test_close_shows_the_gate_list_then_closes_after_confirmation(
    setup: CaseSetup, client: TestClient, services: Any
) -> None:
    url = f"/cases/{setup.case_id}"
    with signed_in(services) as browser:
        gate = browser.get(f"{url}/close")
        assert gate.status_code == 200 and "The gate finds 8 things missing" in gate.text
        assert f'href="{url}?step=confirm-intent#step-confirm-intent"' in gate.text
        assert "Yes, close the case" not in gate.text
        refused = post_form(browser, url, f"{url}/close")
        assert refused.status_code == 409 and "8 things missing" in refused.text
        complete_all_steps(client, setup.case_id)
        waive_uncovered_deliverables(client, setup.case_id)
        ready = browser.get(f"{url}/close")
        assert "Close this case?" in ready.text and "Yes, close the case" in ready.text
        with signed_in(services, VIEWER) as viewer:
            assert "Yes, close the case" not in viewer.get(f"{url}/close").text
            assert post_form(viewer, f"{url}/close", f"{url}/close").status_code == 403
        assert browser.post(f"{url}/close").status_code == 403, "no CSRF token"
        closed = post_form(browser, f"{url}/close", f"{url}/close")
        assert (closed.status_code, closed.headers["location"]) == (303, url)
        page = browser.get(url).text
        assert "Fully offboarded" in page and "Close case</a>" not in page and "Complete a step" not in page
    assert client.get(f"/api/v1/cases/{setup.case_id}").json()["status"] == "fully_offboarded"


def test_admins_see_and_record_the_waivers_the_gate_offers(client: TestClient, services: Any, initialized: Any) -> None:
    for email, role in ((STAFF, "member"), (ADMIN, "admin")):
        add_signin_staff(services, initialized.organization_id, email=email, role=role)
    h = handover(client)
    receipt = create_receipt(client, h)
    url = f"/cases/{h.case_id}"
    with signed_in(services) as member:
        page = member.get(f"{url}/close").text
        assert "was never sent to the client" in page and "Waive this" not in page
        form = {"kind": "acknowledgment", "ref": receipt["id"], "reason": "the client refused to respond"}
        assert post_form(member, f"{url}/close", f"{url}/waivers", form).status_code == 403
    with signed_in(services, ADMIN) as admin:
        page = admin.get(f"{url}/close").text
        assert "Waive this" in page and f'value="{receipt["id"]}"' in page
        short = post_form(admin, f"{url}/close", f"{url}/waivers", {**form, "reason": "no"})
        _inline_error(short, 400, f"waiver-{receipt['id']}", "needs a written reason")
        assert post_form(admin, f"{url}/close", f"{url}/waivers", form).status_code == 303
        assert "was never sent to the client" not in admin.get(f"{url}/close").text
    waivers = client.get(f"/api/v1/cases/{h.case_id}/waivers").json()
    assert [(w["receipt_id"], w["reason"]) for w in waivers] == [(receipt["id"], form["reason"])]


def test_a_viewer_exports_the_bundle_streamed_and_recorded(setup: CaseSetup, client: TestClient, services: Any) -> None:
    url = f"/cases/{setup.case_id}"
    with signed_in(services, VIEWER) as viewer:
        assert viewer.post(f"{url}/bundle").status_code == 403, "no CSRF token"
        download = post_form(viewer, url, f"{url}/bundle")
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    assert download.content[:4] == b"PK\x03\x04" and "attachment" in download.headers["content-disposition"]
    types = [e["type"] for e in client.get(f"/api/v1/cases/{setup.case_id}/timeline").json()]
    assert "bundle.exported" in types


def test_the_timeline_pages_newest_first_with_proof_links(setup: CaseSetup, client: TestClient, services: Any) -> None:
    for n in range(200):
        assert client.post(f"/api/v1/cases/{setup.case_id}/notes", json={"text": f"note {n}"}).status_code == 201
    entries = client.get(f"/api/v1/cases/{setup.case_id}/timeline").json()
    newest, oldest = entries[-1]["index"], entries[0]["index"]
    with signed_in(services) as browser:
        first = browser.get(f"/cases/{setup.case_id}/timeline")
        assert first.status_code == 200
        shown = [int(i) for i in re.findall(r'href="/ledger/entries/(\d+)/proof"', first.text)]
        assert len(shown) == 200 and shown[0] == newest and shown == sorted(shown, reverse=True)
        assert "text: note 199" in first.text and "case.note" in first.text
        older = re.search(r'href="(/cases/[^"]+/timeline\?before=\d+)">Older entries', first.text)
        assert older, "an older-entries link"
        second = browser.get(older.group(1)).text
        rest = [int(i) for i in re.findall(r'href="/ledger/entries/(\d+)/proof"', second)]
        assert rest[-1] == oldest and len(shown) + len(rest) == len(entries) and "Older entries" not in second
        assert "client_name: Acme Ltd" in second
        assert browser.get(f"/cases/{setup.case_id}/timeline?before=-1").status_code == 422


def test_another_organization_s_case_is_not_found_on_every_route(setup: CaseSetup, services: Any) -> None:
    with Session(services.engine) as session:
        rival = create_organization(session, name="Rival Agency")
        session.commit()
        rival_id = rival.id
    add_signin_staff(services, rival_id, email=RIVAL, role="admin")
    url = f"/cases/{setup.case_id}"
    with signed_in(services, RIVAL) as browser:
        for path in (url, f"{url}/timeline", f"{url}/close"):
            page = browser.get(path)
            assert page.status_code == 404 and "in this organization" in page.text, path
            assert page.headers["content-type"].startswith("text/html")
        home = "/"
        posts: list[tuple[str, dict[str, Any]]] = [
            (f"{url}/steps/complete", {"step": "confirm-intent", "evidence": [setup.communication]}),
            (f"{url}/contacts", {"email": "a@client.example"}),
            (f"{url}/contacts/remove", {"email": "a@client.example"}),
            (f"{url}/access", {"name": "X", "kind": "app"}),
            (f"{url}/access/revoke", {"item": "x", "method": "m", "evidence": [setup.other]}),
            (f"{url}/access/x/verify", {}),
            (f"{url}/close", {}),
            (f"{url}/waivers", {"kind": "acknowledgment", "reason": "client refused to respond"}),
            (f"{url}/bundle", {}),
        ]
        for action, data in posts:
            assert post_form(browser, home, action, data).status_code == 404, action
    with signed_in(services) as browser:
        assert "evidence.stored" in browser.get(f"{url}/timeline").text


def test_pages_need_a_session(setup: CaseSetup, services: Any) -> None:
    from tests.integration.console_support import console_client

    with console_client(services) as anonymous:
        for path in (f"/cases/{setup.case_id}", f"/cases/{setup.case_id}/timeline", f"/cases/{setup.case_id}/close"):
            response = anonymous.get(path)
            assert (response.status_code, response.headers["location"]) == (303, "/login"), path
        assert anonymous.post(f"/cases/{setup.case_id}/bundle", data={"csrf": "x"}).status_code == 303


def test_evidence_uploaded_later_is_offered_to_the_forms(setup: CaseSetup, client: TestClient, services: Any) -> None:
    later = upload(client, setup.case_id, b"a later confirmation", "confirmation", "signed-off.pdf")
    with signed_in(services) as browser:
        text = browser.get(f"/cases/{setup.case_id}").text
    assert f'value="{later}"' in text and "signed-off.pdf" in text


def test_every_form_refuses_a_missing_token_and_a_viewer(setup: CaseSetup, client: TestClient, services: Any) -> None:
    url = f"/cases/{setup.case_id}"
    item = client.post(f"/api/v1/cases/{setup.case_id}/access", json={"name": "Jira", "kind": "app"}).json()["id"]
    assert client.post(f"/api/v1/cases/{setup.case_id}/contacts", json={"email": "a@client.example"}).status_code == 201
    forms: list[tuple[str, dict[str, Any]]] = [
        (f"{url}/steps/complete", {"step": "confirm-intent", "evidence": [setup.communication]}),
        (f"{url}/access", {"name": "X", "kind": "app"}),
        (f"{url}/access/revoke", {"item": item, "method": "m", "evidence": [setup.other]}),
        (f"{url}/access/{item}/verify", {}),
        (f"{url}/contacts", {"email": "b@client.example"}),
        (f"{url}/contacts/remove", {"email": "a@client.example"}),
        (f"{url}/close", {}),
        (f"{url}/waivers", {"kind": "acknowledgment", "reason": "client refused to respond"}),
    ]
    before = client.get(f"/api/v1/cases/{setup.case_id}/timeline").json()
    with signed_in(services, ADMIN) as admin:
        for action, data in [*forms, (f"{url}/bundle", {})]:
            response = admin.post(action, data=data)
            assert response.status_code == 403 and "security token is missing" in response.text, action
    with signed_in(services, VIEWER) as viewer:
        for action, data in forms:
            assert post_form(viewer, url, action, data).status_code == 403, action
    assert client.get(f"/api/v1/cases/{setup.case_id}/timeline").json() == before, "nothing was recorded"


def test_overdue_steps_are_marked(client: TestClient, services: Any, initialized: Any) -> None:
    from datetime import date, timedelta

    from tests.integration.cases_helpers import open_case

    add_signin_staff(services, initialized.organization_id)
    case_id = open_case(client, intent_date=(date.today() - timedelta(days=10)).isoformat())["id"]
    with signed_in(services) as browser:
        text = browser.get(f"/cases/{case_id}").text
    step = text[text.index('id="step-confirm-intent"') : text.index('id="step-review-contract"')]
    assert "Overdue by 8 days" in step


def test_admins_waive_a_deliverable_no_acknowledged_receipt_covers(
    client: TestClient, services: Any, initialized: Any
) -> None:
    add_signin_staff(services, initialized.organization_id, email=ADMIN, role="admin")
    h = handover(client)
    url, evidence_id = f"/cases/{h.case_id}", h.evidence["final-report.pdf"]
    with signed_in(services, ADMIN) as admin:
        page = admin.get(f"{url}/close").text
        assert "final-report.pdf" in page and "is not in an acknowledged receipt" in page
        assert f'value="{evidence_id}"' in page and "Send a receipt that lists it" in page
        form = {"kind": "deliverable", "ref": evidence_id, "reason": "handed over on a drive, signed for"}
        assert post_form(admin, f"{url}/close", f"{url}/waivers", form).status_code == 303
        after = admin.get(f"{url}/close").text
        assert "final-report.pdf" not in after and "is not in an acknowledged receipt" in after  # the other one
    waivers = client.get(f"/api/v1/cases/{h.case_id}/waivers").json()
    assert [(w.get("evidence_id"), w["reason"]) for w in waivers] == [(evidence_id, form["reason"])]
