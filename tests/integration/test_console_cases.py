"""The case list (``/``) and opening a case (``/cases/new``) through the console, on both backend pairs:
columns, overdue first, filters and search, the form's happy path, inline errors with the values kept,
viewers, CSRF, and that the list stays a few queries however many cases there are."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session

from tests.integration.console_support import console_client, form_token, sign_in
from tests.integration.console_world import ADMIN, MEMBER, VIEWER, World, build_world, cheap_passwords
from vault.cases import lifecycle
from vault.models import Case

__all__ = ["cheap_passwords"]


@pytest.fixture
def world(app: Any, services: Any, initialized: Any, cheap_passwords: None) -> World:
    return build_world(app, services, initialized)


def rows(html: str) -> list[str]:
    """The client names of the list's rows, in order."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return re.findall(r'<a href="/cases/[^"]+">([^<]+)</a>', body)


def open_through_api(services: Any, organization_id: str, name: str, **fields: Any) -> str:
    from vault.orgs.organizations import Principal, Role

    principal = Principal(organization_id, Role.ADMIN, "test:setup")
    case = services.transact(
        lambda s: lifecycle.open_case(
            s, principal, client_name=name, owner_email=MEMBER, clock=services.clock, **fields
        )
    )
    return str(case.id)


def test_the_list_shows_each_case_with_progress_and_puts_overdue_first(services: Any, world: World) -> None:
    today = services.clock().date()
    open_through_api(services, world.a.organization_id, "Zeta Fresh")
    open_through_api(services, world.a.organization_id, "Old Overdue", intent_date=today - timedelta(days=90))
    with console_client(services) as client:
        sign_in(client, MEMBER)
        page = client.get("/")
        assert page.status_code == 200, page.text
        names = rows(page.text)
        assert names[0] == "Old Overdue" and set(names) == {"Old Overdue", "Zeta Fresh", "Acme Ltd"}
        assert "Rival Client GmbH" not in page.text  # another organization's case, never
        assert "Overdue" in page.text and re.search(r"0 / \d+<span", page.text)
        assert f'href="/cases/{world.a.ids["case_id"]}"' in page.text
        assert 'href="/cases/new"' in page.text and "3 cases." in page.text
        for header in ("Client", "Status", "Owner", "Service type", "Progress", "Next due"):
            assert '<th scope="col"' in page.text and f">{header}</th>" in page.text


def test_filters_by_status_and_owner_and_searches_the_client_name(services: Any, world: World) -> None:
    open_through_api(services, world.a.organization_id, "Globex Corporation")
    with console_client(services) as client:
        sign_in(client, ADMIN)
        assert rows(client.get("/", params={"q": "GLOBEX"}).text) == ["Globex Corporation"]
        assert rows(client.get("/", params={"q": "obex c"}).text) == ["Globex Corporation"]
        assert rows(client.get("/", params={"q": "%"}).text) == []  # a LIKE wildcard is a literal character
        assert rows(client.get("/", params={"owner": MEMBER}).text) == ["Globex Corporation"]
        assert rows(client.get("/", params={"status": "open"}).text) != []
        empty = client.get("/", params={"status": "disputed"})
        assert rows(empty.text) == [] and "0 cases match these filters" in empty.text
        assert 'value="disputed" selected' in empty.text and 'href="/">Clear filters' in empty.text
        # An unknown status is no filter at all, not an error.
        assert client.get("/", params={"status": "nonsense"}).status_code == 200


def test_a_viewer_sees_the_list_without_the_open_button_and_cannot_open(services: Any, world: World) -> None:
    with console_client(services) as client:
        sign_in(client, VIEWER)
        page = client.get("/")
        assert page.status_code == 200 and 'href="/cases/new"' not in page.text
        assert client.get("/cases/new").status_code == 403
        data = {"csrf": form_token(page.text), "client_name": "Nope", "owner_email": MEMBER}
        assert client.post("/cases/new", data=data).status_code == 403


def test_opening_a_case_through_the_form(services: Any, world: World) -> None:
    with console_client(services) as client:
        sign_in(client, MEMBER)
        form = client.get("/cases/new")
        assert form.status_code == 200
        assert f'<option value="{MEMBER}" selected' in form.text  # the owner defaults to me
        for name in ("client_name", "owner_email", "service_type", "contacts", "intent_date", "target_end_date"):
            assert f'for="{name}"' in form.text
        today = services.clock().date()
        data = {
            "csrf": form_token(form.text),
            "client_name": "Initech",
            "owner_email": ADMIN,
            "service_type": re.search(r'<option value="([^"]+)" selected', form.text.split('id="service_type"')[1])[1],  # type: ignore[index]
            "contacts": "Peter@Initech.example\nbill@initech.example, milton@initech.example",
            "intent_date": (today - timedelta(days=2)).isoformat(),
            "target_end_date": (today + timedelta(days=30)).isoformat(),
        }
        done = client.post("/cases/new", data=data)
        assert done.status_code == 303, done.text
        case_id = done.headers["location"].removeprefix("/cases/")
        assert "Case opened for Initech" in client.get("/").text
    with Session(services.engine) as session:
        case = session.get(Case, case_id)
        assert case is not None and case.organization_id == world.a.organization_id
        assert case.owner_email == ADMIN and case.intent_date == today - timedelta(days=2)
        assert lifecycle.loads_list(case.client_contacts) == [
            "Peter@initech.example",
            "bill@initech.example",
            "milton@initech.example",
        ]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"client_name": "  "}, "client_name", "Enter the client&#39;s name"),
        ({"intent_date": "2026-02-30"}, "intent_date", "must be a real date"),
        ({"contacts": "not-an-email"}, "contacts", "not-an-email is not an email address"),
        ({"intent_date": "2999-01-01"}, "intent_date", "is in the future"),
        ({"target_end_date": "2000-01-01", "intent_date": "2001-01-01"}, "target_end_date", "before the intent date"),
        ({"owner_email": "nobody@elsewhere.example"}, "owner_email", "not a staff member"),
        ({"service_type": "no-such-playbook"}, "service_type", "No playbook"),
    ],
)
def test_a_refused_form_comes_back_with_the_error_inline_and_the_values_kept(
    services: Any, world: World, change: dict[str, str], field: str, message: str
) -> None:
    with console_client(services) as client:
        sign_in(client, MEMBER)
        data = {"csrf": form_token(client.get("/cases/new").text), "client_name": "Umbrella", "owner_email": MEMBER,
                "contacts": "a@umbrella.example", **change}  # fmt: skip
        page = client.post("/cases/new", data=data)
        assert page.status_code == 400, page.text
        assert 'class="error-summary"' in page.text and f'href="#{field}"' in page.text
        assert f'id="{field}-error"' in page.text and message in page.text
        kept = data.get("client_name", "").strip()
        if kept:
            assert f'value="{kept}"' in page.text
        assert "a@umbrella.example" in page.text or "contacts" in change
    with Session(services.engine) as session:
        assert lifecycle.list_cases(session, world.a.organization_id) and all(
            c.client_name != "Umbrella" for c in lifecycle.list_cases(session, world.a.organization_id)
        )


def test_the_form_without_its_csrf_token_changes_nothing(services: Any, world: World) -> None:
    with console_client(services) as client:
        sign_in(client, MEMBER)
        answer = client.post("/cases/new", data={"client_name": "Hooli", "owner_email": MEMBER})
        assert answer.status_code == 403
    with Session(services.engine) as session:
        assert all(c.client_name != "Hooli" for c in lifecycle.list_cases(session, world.a.organization_id))


def test_the_list_is_a_few_queries_whatever_the_number_of_cases(services: Any, world: World) -> None:
    for n in range(12):
        open_through_api(services, world.a.organization_id, f"Client {n:02d}")
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    with console_client(services) as client:
        sign_in(client, MEMBER)
        event.listen(services.engine, "before_cursor_execute", count)
        try:
            page = client.get("/")
        finally:
            event.remove(services.engine, "before_cursor_execute", count)
    assert len(rows(page.text)) == 13
    listing = [s for s in statements if "case_step" in s or "access_item" in s or "offboarding_case" in s]
    assert len(listing) <= 4, listing


def test_the_list_pages_keeping_overdue_first_and_the_filters(
    services: Any, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.console import cases as console_cases

    monkeypatch.setattr(console_cases, "PAGE_SIZE", 2)
    today = services.clock().date()
    open_through_api(services, world.a.organization_id, "Old Overdue", intent_date=today - timedelta(days=90))
    for name in ("Beta", "Gamma", "Delta"):
        open_through_api(services, world.a.organization_id, name)
    with console_client(services) as client:
        sign_in(client, MEMBER)
        first = client.get("/")
        assert rows(first.text)[0] == "Old Overdue" and len(rows(first.text)) == 2
        assert "5 cases; showing 1 to 2." in first.text and "Page 1 of 3" in first.text
        assert 'href="/?page=2" rel="next"' in first.text and 'rel="prev"' not in first.text
        last = client.get("/?page=3")
        assert len(rows(last.text)) == 1 and 'href="/?page=2" rel="prev"' in last.text and 'rel="next"' not in last.text
        seen = rows(first.text) + rows(client.get("/?page=2").text) + rows(last.text)
        assert sorted(seen) == sorted(["Old Overdue", "Beta", "Gamma", "Delta", "Acme Ltd"])
        assert rows(client.get("/?page=99").text) == rows(last.text)  # past the end: the last page
        filtered = client.get("/?q=a&page=1")
        assert "q=a&amp;page=2" in filtered.text or "Page" not in filtered.text
        assert client.get("/?page=0").status_code == 422
