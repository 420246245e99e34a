"""Helpers for the console tests: staff who can sign in, a client of an app with its own settings and
clock, and reading the sign-in form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient

from vault.db import session_scope
from vault.orgs.organizations import Principal, Role

PASSWORD = "paper-lamp-orbit-71"
STAFF = "pm@agency.example"


@dataclass
class FakeClock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def add_signin_staff(
    services: Any, organization_id: str, email: str = STAFF, password: str = PASSWORD, role: str = "member"
) -> None:
    from vault.orgs import signin
    from vault.orgs.staff import add_staff

    admin = Principal(organization_id, Role.ADMIN, "test:setup")
    with session_scope(services.engine) as session:
        add_staff(session, admin, email=email, name="Pat Morgan", role=role)
        signin.set_password(session, admin, email=email, password=password)


@contextmanager
def console_client(
    services: Any,
    *,
    peer: tuple[str, int] = ("192.0.2.10", 50000),
    clock: Any = None,
    url: str = "http://testserver",
    **overrides: Any,
) -> Iterator[TestClient]:
    """A browser-like client (no bearer token, follows no redirects) of an app on the test's backends."""
    from api.app import create_app
    from vault.services import Services

    settings = services.settings.model_copy(update=overrides)
    svc = Services(settings=settings, engine=services.engine, store=services.store, clock=clock or services.clock)
    with TestClient(create_app(settings, services=svc), client=peer, base_url=url, follow_redirects=False) as client:
        client.headers["User-Agent"] = "console-test/1.0"
        yield client


def form_token(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def sign_in(client: TestClient, email: str = STAFF, password: str = PASSWORD) -> httpx.Response:
    token = form_token(client.get("/login").text)
    return client.post("/login", data={"email": email, "password": password, "csrf": token})


def set_cookie_headers(response: httpx.Response, name: str) -> list[str]:
    return [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
