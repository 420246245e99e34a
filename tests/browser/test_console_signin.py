"""Signing in to the console as a person does, in Chromium against a real server (uvicorn on loopback):
``/`` sends them to the sign-in page, a wrong password shows the error summary linked to the field, the
right one shows who they are, and signing out ends the session. SQLite + local folder only: the backends
are covered by tests/integration/test_console_signin.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from tests.integration.console_support import PASSWORD, STAFF, add_signin_staff
from tests.services import free_port

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)]


@pytest.fixture
def base_url(settings: Any) -> Iterator[str]:
    from api.app import create_app
    from vault.services import build_services
    from vault.setup import initialize

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    configured = settings.model_copy(update={"base_url": url})
    services = build_services(configured)
    add_signin_staff(services, initialize(services).organization_id)
    server = uvicorn.Server(
        uvicorn.Config(create_app(configured, services=services), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        services.close()


def test_sign_in_and_out_in_the_browser(base_url: str, page: Any) -> None:
    page.goto(base_url + "/")
    assert page.url == base_url + "/login"
    assert page.locator("h1").inner_text() == "Sign in to Offboard"
    # The inline stylesheet is allowed by its CSP hash (a blocked one would leave the default white).
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(245, 247, 249)"
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling on a phone
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"

    page.get_by_label("Email address").fill(STAFF)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    summary = page.locator(".error-summary")
    assert summary.inner_text().splitlines()[0] == "There is a problem"
    assert "The email address or the password is not right" in summary.inner_text()
    assert page.get_by_label("Email address").input_value() == STAFF
    assert page.get_by_label("Password").input_value() == ""

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base_url + "/")
    assert page.locator("h1").inner_text() == "Cases"  # the start page is the case list
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    who = page.locator(".who").inner_text()
    assert "Pat Morgan" in who and "Default organization" in who and "member" in who
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "offboard_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]
    assert page.evaluate("document.cookie") == ""  # HttpOnly: no script sees the session

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(base_url + "/login?signed_out=1")
    assert page.locator(".notice").inner_text() == "You have signed out."
    assert not [c for c in page.context.cookies() if c["name"] == "offboard_session"]
    page.context.add_cookies([{**cookie}])  # the old cookie, put back, opens nothing
    page.goto(base_url + "/")
    assert page.url == base_url + "/login"
