"""The console's receipts tab: create from chosen evidence, the preview of the client's page, send by email
(SMTP sink on loopback) or by hand, send again, void, and the status per contact, on both backends."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.integration.console_handover_support import VIEWER, other_org_case, signed_in
from tests.integration.console_support import STAFF, console_client, form_token
from tests.integration.receipts_support import (
    CONTACT,
    acknowledge,
    form_of,
    handover,
    link_in,
    path_of,
    smtp_server,
)


def _main(html: str) -> str:
    return html[html.index("<main") : html.index("</main>")]


def _receipt_id(location: str) -> str:
    found = re.search(r"/receipts/([0-9a-f-]{36})/preview$", location)
    assert found, location
    return found.group(1)


def _create(browser: TestClient, case_id: str, evidence: list[str]) -> str:
    token = form_token(browser.get(f"/cases/{case_id}/receipts").text)
    answer = browser.post(f"/cases/{case_id}/receipts", data={"csrf": token, "evidence": evidence, "terms": ""})
    assert answer.status_code == 303, answer.text
    return _receipt_id(answer.headers["location"])


def test_create_preview_email_and_the_client_acknowledges(
    services: Any, initialized: Any, client: TestClient, owner: str
) -> None:
    h = handover(client)
    with smtp_server() as (url, inbox), console_client(services, smtp_url=url) as browser:
        signed_in(browser, services, initialized.organization_id, STAFF, "member")
        tab = browser.get(f"/cases/{h.case_id}/receipts")
        assert tab.status_code == 200 and "No receipts yet." in tab.text
        assert tab.text.count('name="evidence"') == 3 and tab.text.count(" checked>") == 2  # deliverables chosen
        receipt_id = _create(browser, h.case_id, list(h.evidence.values()))
        preview = browser.get(f"/cases/{h.case_id}/receipts/{receipt_id}/preview")
        assert preview.status_code == 200
        assert "Preview – this is not the client's page." in preview.text and "final-report.pdf" in preview.text
        assert "Übergabe – source.zip" in preview.text and "note.txt" not in preview.text
        assert preview.headers["content-security-policy"] == services.templates.csp
        assert 'action="#preview"' in preview.text and 'href="#preview/files/' in preview.text
        refused = browser.post(f"/cases/{h.case_id}/receipts/{receipt_id}/preview", data=form_of(preview.text))
        assert refused.status_code == 409 and "nothing was sent" in refused.text
        token = form_token(browser.get(f"/cases/{h.case_id}/receipts").text)
        sent = browser.post(f"/cases/{h.case_id}/receipts/{receipt_id}/send", data={"csrf": token})
        assert sent.status_code == 303, sent.text
        assert f"Receipt emailed to {CONTACT}." in _main(browser.get(sent.headers["location"]).text)
        message = inbox.wait_for(1)[0]
        assert message["To"] == CONTACT
        assert '<strong class="contact-status">sent</strong>' in browser.get(f"/cases/{h.case_id}/receipts").text
        with TestClient(browser.app, base_url="http://testserver") as other:
            path = path_of(link_in(message))
            assert other.get(path).status_code == 200
            assert "opened</strong>" in browser.get(f"/cases/{h.case_id}/receipts").text
            assert acknowledge(other, path).status_code == 200
        tab = _main(browser.get(f"/cases/{h.case_id}/receipts").text)
        assert f'{CONTACT}: <strong class="contact-status">acknowledged</strong>' in tab
        assert "Send again" not in tab and "Void links" not in tab


def test_without_smtp_links_are_shown_once_then_send_again_and_void(
    services: Any, initialized: Any, client: TestClient, owner: str
) -> None:
    h = handover(client)
    with console_client(services) as browser:
        signed_in(browser, services, initialized.organization_id, STAFF, "member")
        receipt_id = _create(browser, h.case_id, [next(iter(h.evidence.values()))])
        token = form_token(browser.get(f"/cases/{h.case_id}/receipts").text)
        first = browser.post(f"/cases/{h.case_id}/receipts/{receipt_id}/send", data={"csrf": token})
        assert first.status_code == 200 and "shown only this once" in first.text
        old = re.findall(r"http://testserver/ack/[A-Za-z0-9_-]{43}", first.text)
        assert len(old) == 1
        tab = browser.get(f"/cases/{h.case_id}/receipts").text
        assert old[0] not in tab and "Send again" in tab
        again = browser.post(f"/cases/{h.case_id}/receipts/{receipt_id}/send", data={"csrf": token})
        new = re.findall(r"http://testserver/ack/[A-Za-z0-9_-]{43}", again.text)
        assert len(new) == 1 and new != old
        with TestClient(browser.app, base_url="http://testserver") as other:
            assert other.get(path_of(old[0])).status_code == 410
            void = browser.post(f"/cases/{h.case_id}/receipts/{receipt_id}/void", data={"csrf": token})
            assert void.status_code == 303
            assert "links no longer work" in browser.get(void.headers["location"]).text
            assert other.get(path_of(new[0])).status_code == 410
        tab = _main(browser.get(f"/cases/{h.case_id}/receipts").text)
        assert '<strong class="contact-status">voided</strong>' in tab and "Void links" not in tab
        twice = browser.post(f"/cases/{h.case_id}/receipts/{receipt_id}/void", data={"csrf": token})
        assert twice.status_code == 409 and "no live link" in twice.text


def test_a_dispute_shows_with_its_reason(services: Any, initialized: Any, client: TestClient, owner: str) -> None:
    h = handover(client)
    with console_client(services) as browser:
        signed_in(browser, services, initialized.organization_id, STAFF, "member")
        receipt_id = _create(browser, h.case_id, list(h.evidence.values()))
        token = form_token(browser.get(f"/cases/{h.case_id}/receipts").text)
        sent = browser.post(f"/cases/{h.case_id}/receipts/{receipt_id}/send", data={"csrf": token})
        path = path_of(re.findall(r"http://testserver/ack/[A-Za-z0-9_-]{43}", sent.text)[0])
        with TestClient(browser.app, base_url="http://testserver") as other:
            page = other.get(path)
            data = {**form_of(page.text), "action": "dispute", "reason": "The database export is missing"}
            assert other.post(path, data=data).status_code == 200
        tab = _main(browser.get(f"/cases/{h.case_id}/receipts").text)
        assert "disputed</strong>" in tab and "The database export is missing" in tab


def test_form_errors_viewer_csrf_and_other_organization(
    services: Any, initialized: Any, client: TestClient, owner: str
) -> None:
    h = handover(client)
    foreign = other_org_case(services)
    with console_client(services) as browser:
        signed_in(browser, services, initialized.organization_id, STAFF, "member")
        token = form_token(browser.get(f"/cases/{h.case_id}/receipts").text)
        empty = browser.post(f"/cases/{h.case_id}/receipts", data={"csrf": token})
        assert empty.status_code == 422
        assert "There is a problem" in empty.text and "Choose at least one file for the receipt" in empty.text
        ids = list(h.evidence.values())
        assert browser.post(f"/cases/{h.case_id}/receipts", data={"evidence": ids}).status_code == 403
        receipt_id = _create(browser, h.case_id, ids)
        assert browser.post(f"/cases/{h.case_id}/receipts/{receipt_id}/send", data={}).status_code == 403
        assert browser.post(f"/cases/{h.case_id}/receipts/{receipt_id}/void", data={}).status_code == 403
        assert "Not sent yet" in browser.get(f"/cases/{h.case_id}/receipts").text
        assert browser.get(f"/cases/{foreign}/receipts").status_code == 404
        assert browser.get(f"/cases/{foreign}/receipts/{receipt_id}/preview").status_code == 404
        data = {"csrf": token, "evidence": ids}
        assert browser.post(f"/cases/{foreign}/receipts", data=data).status_code == 404
        assert browser.post(f"/cases/{foreign}/receipts/{receipt_id}/send", data={"csrf": token}).status_code == 404
    with console_client(services) as viewer:
        signed_in(viewer, services, initialized.organization_id, VIEWER, "viewer")
        tab = viewer.get(f"/cases/{h.case_id}/receipts")
        assert tab.status_code == 200 and "Create a receipt" not in tab.text and ">Send<" not in tab.text
        assert viewer.get(f"/cases/{h.case_id}/receipts/{receipt_id}/preview").status_code == 200
        token = form_token(tab.text)
        assert viewer.post(f"/cases/{h.case_id}/receipts", data={"csrf": token, "evidence": ids}).status_code == 403
        for action in ("send", "void"):
            url = f"/cases/{h.case_id}/receipts/{receipt_id}/{action}"
            assert viewer.post(url, data={"csrf": token}).status_code == 403
