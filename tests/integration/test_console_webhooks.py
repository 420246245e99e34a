"""The console's webhooks page (``/settings/webhooks``, issue 15 req. 4) over HTTP on both backend pairs: add an
endpoint (its secret shown once), list it, send a test event, see the deliveries with their attempts, replay one
and remove the endpoint, each through the same domain calls as the API (which sees the same endpoints) and
recorded in the ledger; a refused URL or no event is the form again with 422 and the message at the field;
members and viewers get 403, a form without its CSRF token 403, another organization's ids 404."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select
from standardwebhooks.webhooks import Webhook

from tests.integration.console_support import add_signin_staff, console_client, form_token, sign_in
from tests.integration.console_world import ADMIN, MEMBER, VIEWER, cheap_passwords
from tests.integration.webhook_receiver import Answer, receiver
from tests.services import free_port
from vault.db import session_scope
from vault.models import LedgerEntry
from vault.orgs.organizations import Principal, Role, create_organization
from vault.webhooks import delivery, endpoints

__all__ = ["cheap_passwords"]

PAGE = "/settings/webhooks"


@pytest.fixture
def people(services: Any, initialized: Any, cheap_passwords: None) -> str:
    for email, role in [(ADMIN, "admin"), (MEMBER, "member"), (VIEWER, "viewer")]:
        add_signin_staff(services, initialized.organization_id, email=email, role=role)
    return str(initialized.organization_id)


def entry_types(services: Any, organization_id: str) -> list[str]:
    with Session(services.engine) as session:
        rows = session.exec(
            select(LedgerEntry).where(LedgerEntry.organization_id == organization_id).order_by(col(LedgerEntry.idx))
        ).all()
    return [json.loads(r.body)["type"] for r in rows]


def post(client: TestClient, url: str, data: dict[str, Any] | None = None) -> Any:
    """Post a form with the CSRF token of the webhooks page."""
    return client.post(url, data={"csrf": form_token(client.get(PAGE).text), **(data or {})})


def follow(client: TestClient, answer: Any) -> Any:
    assert answer.status_code == 303, answer.text[:400]
    return client.get(answer.headers["location"])


def notice(html: str) -> str:
    found = re.search(r'class="notice"[^>]*>(.*?)<', html, re.S)
    assert found, "no notice on the page"
    return found.group(1).strip()


def inline_error(response: Any, field: str, words: str) -> None:
    assert response.status_code == 422, response.text[:400]
    assert 'class="error-summary"' in response.text and f'href="#{field}"' in response.text
    assert re.search(rf'id="{field}-error">.*?{re.escape(words)}', response.text, re.S), response.text[-3000:]


def test_add_list_test_replay_remove(services: Any, people: str, client: TestClient) -> None:
    with receiver(Answer(500, b"not now"), Answer(200, b"thanks")) as rx, console_client(services) as browser:
        assert sign_in(browser, ADMIN).status_code == 303
        empty = browser.get(PAGE)
        assert empty.status_code == 200 and "No endpoints yet." in empty.text
        assert 'href="/settings/webhooks" aria-current="page"' in empty.text
        fields = {"url": rx.url + "/hook", "events": ["case.opened", "receipt.sent"], "allow_loopback_http": "yes"}
        added = post(browser, PAGE, fields)
        assert added.status_code == 201, added.text[:400]
        secret = re.search(r'id="added-secret"[^>]*>(whsec_[A-Za-z0-9+/=]+)<', added.text)
        assert secret, added.text[:2000]
        [hook] = client.get("/api/v1/webhooks").json()
        assert hook["url"] == rx.url + "/hook" and hook["events"] == ["case.opened", "receipt.sent"]
        listed = browser.get(PAGE)
        assert secret.group(1) not in listed.text and rx.url + "/hook" in listed.text
        assert "receipt.sent" in listed.text and f'action="/settings/webhooks/{hook["id"]}/remove"' in listed.text

        tested = follow(browser, post(browser, f"{PAGE}/{hook['id']}/test"))
        assert tested.status_code == 200 and notice(tested.text).startswith("The test event failed after")
        assert "webhook.test" in tested.text and "not now" in tested.text
        [sent] = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()
        assert [a["status_code"] for a in sent["attempts"]] == [500] and sent["attempts"][0]["trigger"] == "test"

        replayed = follow(browser, post(browser, f"{PAGE}/deliveries/{sent['id']}/replay"))
        assert replayed.url.path == f"{PAGE}/{hook['id']}"
        assert re.match(rf"The replay of {sent['id']} answered 200 in \d+ ms\.", notice(replayed.text))
        assert "delivered" in replayed.text and "thanks" in replayed.text
        [after] = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()
        assert after["status"] == "delivered" and [a["trigger"] for a in after["attempts"]] == ["test", "replay"]
        for headers, body in rx.hits("/hook"):
            assert Webhook(secret.group(1)).verify(body, headers)["event"] == "webhook.test"

        removed = follow(browser, post(browser, f"{PAGE}/{hook['id']}/remove"))
        assert notice(removed.text).startswith("The endpoint is removed") and "No endpoints yet." in removed.text
        assert client.get("/api/v1/webhooks").json() == []
        history = browser.get(f"{PAGE}/{hook['id']}")
        assert history.status_code == 200 and "was removed" in history.text and "Replay" not in history.text
        assert post(browser, f"{PAGE}/deliveries/{sent['id']}/replay").status_code == 409
        assert post(browser, f"{PAGE}/{hook['id']}/remove").status_code == 404
        assert post(browser, f"{PAGE}/{hook['id']}/test").status_code == 404
    assert entry_types(services, people)[-2:] == ["webhook.added", "webhook.removed"]


def test_a_refused_url_or_no_event_is_the_form_again_with_the_reason(
    services: Any, people: str, client: TestClient
) -> None:
    with console_client(services) as browser:
        sign_in(browser, ADMIN)
        plain = post(browser, PAGE, {"url": "http://hooks.example/x", "events": ["case.opened"]})
        inline_error(plain, "webhook-url", "must use https")
        assert 'value="http://hooks.example/x"' in plain.text and 'value="case.opened" checked' in plain.text
        loopback = post(browser, PAGE, {"url": "http://127.0.0.1:9/x", "events": ["case.opened"]})
        inline_error(loopback, "webhook-url", "allow_loopback_http")
        none = post(browser, PAGE, {"url": "https://hooks.example/x"})
        inline_error(none, "webhook-events", "Events must be one or more of case.opened")
        unknown = post(browser, PAGE, {"url": "https://hooks.example/x", "events": ["case.nope"]})
        inline_error(unknown, "webhook-events", "got case.nope")
        assert 'id="webhook-events"' in unknown.text and "whsec_" not in unknown.text
    assert client.get("/api/v1/webhooks").json() == []
    assert "webhook.added" not in entry_types(services, people)


def test_members_and_viewers_get_403(services: Any, people: str, client: TestClient) -> None:
    hook = client.post("/api/v1/webhooks", json={"url": "https://hooks.example/x", "events": ["case.opened"]}).json()
    forms = [PAGE, f"{PAGE}/{hook['id']}/test", f"{PAGE}/{hook['id']}/remove", f"{PAGE}/deliveries/msg_x/replay"]
    for email in (MEMBER, VIEWER):
        with console_client(services) as browser:
            sign_in(browser, email)
            csrf = form_token(browser.get("/").text)
            assert 'href="/settings/webhooks"' not in browser.get("/").text
            for url in (PAGE, f"{PAGE}/{hook['id']}"):
                assert browser.get(url).status_code == 403, (email, url)
            for url in forms:
                data = {"csrf": csrf, "url": "https://mine.example/x", "events": ["case.opened"]}
                assert browser.post(url, data=data).status_code == 403, (email, url)
    assert [h["id"] for h in client.get("/api/v1/webhooks").json()] == [hook["id"]]


def test_forms_without_csrf_are_refused(services: Any, people: str, client: TestClient) -> None:
    hook = client.post("/api/v1/webhooks", json={"url": "https://hooks.example/x", "events": ["case.opened"]}).json()
    with console_client(services) as browser:
        sign_in(browser, ADMIN)
        fields = {"url": "https://mine.example/x", "events": ["case.opened"]}
        assert browser.post(PAGE, data=fields).status_code == 403
        assert browser.post(PAGE, data={"csrf": "0" * 64, **fields}).status_code == 403
        assert browser.post(f"{PAGE}/{hook['id']}/remove").status_code == 403
        assert browser.post(f"{PAGE}/{hook['id']}/test").status_code == 403
    assert [h["id"] for h in client.get("/api/v1/webhooks").json()] == [hook["id"]]


def test_another_organizations_endpoint_and_delivery_are_not_found(services: Any, people: str) -> None:
    with session_scope(services.engine) as session:
        other = create_organization(session, name="Other Agency")
        theirs = endpoints.add_endpoint(
            session,
            services.settings,
            Principal(other.id, Role.ADMIN, "test:other"),
            url=f"http://127.0.0.1:{free_port()}/theirs",
            events=["case.opened"],
            allow_loopback_http=True,
        )
    principal = Principal(other.id, Role.ADMIN, "test:other")
    their_delivery = delivery.send_test(services, principal, theirs.endpoint.id, now=services.clock())
    endpoint_id, delivery_id = theirs.endpoint.id, their_delivery.attempt.delivery_id
    with console_client(services) as browser:
        sign_in(browser, ADMIN)
        answers = [
            browser.get(f"{PAGE}/{endpoint_id}"),
            post(browser, f"{PAGE}/{endpoint_id}/test"),
            post(browser, f"{PAGE}/{endpoint_id}/remove"),
            post(browser, f"{PAGE}/deliveries/{delivery_id}/replay"),
        ]
        assert [a.status_code for a in answers] == [404] * 4
        assert all("theirs" not in a.text for a in answers)
    with session_scope(services.engine) as session:
        assert [e.id for e in endpoints.list_endpoints(session, principal)] == [endpoint_id]
