"""Setup for the case page's console tests: a case of the default organization with evidence, staff who
sign in (two members, a viewer, an admin), and a signed-in console client per person."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.integration.cases_helpers import open_case, upload
from tests.integration.console_support import STAFF, add_signin_staff, console_client, form_token, sign_in

SECOND = "second@agency.example"
VIEWER = "viewer@agency.example"
ADMIN = "boss@agency.example"


@dataclass
class CaseSetup:
    case_id: str
    communication: str
    other: str


def case_with_evidence(client: TestClient, services: Any, organization_id: str) -> CaseSetup:
    """A case (no contacts) with one communication and one other evidence item; the console's staff."""
    for email, role in ((STAFF, "member"), (SECOND, "member"), (VIEWER, "viewer"), (ADMIN, "admin")):
        add_signin_staff(services, organization_id, email=email, role=role)
    case_id = open_case(client)["id"]
    communication = upload(client, case_id, b"the client's notice and our reply", "communication", "reply.eml")
    other = upload(client, case_id, b"an admin console screenshot", "other", "screenshot.png")
    return CaseSetup(case_id, communication, other)


@contextmanager
def signed_in(services: Any, email: str = STAFF) -> Iterator[TestClient]:
    with console_client(services) as browser:
        assert sign_in(browser, email).status_code == 303
        yield browser


def post_form(browser: TestClient, page: str, action: str, data: dict[str, Any] | None = None) -> Any:
    """Post a form of ``page`` (its CSRF token read from the page) to ``action``."""
    token = form_token(browser.get(page).text)
    return browser.post(action, data={"csrf": token, **(data or {})})
