"""The webhooks settings page as an admin uses it, in Chromium against a real server: a refused URL, then an
endpoint added (its secret shown once and gone on the next visit), a test event sent to a receiver on loopback,
its deliveries with the attempt, a replay, and the endpoint removed; axe on every state, no sideways scrolling at
360 px, screenshots ``console-webhooks-*``. SQLite + local folder only: tests/integration/test_console_webhooks.py
covers both backends."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.console_support import assert_accessible, screenshots, serve, sign_in
from tests.integration.console_support import STAFF, add_signin_staff
from tests.integration.webhook_receiver import Answer, receiver

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)]


def check(page: Any, name: str) -> None:
    assert_accessible(page)
    screenshots(page, name)
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, name
    page.set_viewport_size({"width": 1280, "height": 900})


def test_webhooks_in_the_browser(settings: Any, page: Any) -> None:
    def prepare(services: Any, organization_id: str) -> None:
        add_signin_staff(services, organization_id, role="admin")

    with receiver(Answer(503, b"busy"), Answer(204, b"")) as rx, serve(settings, prepare) as (base_url, _services):
        sign_in(page, base_url, STAFF)
        page.get_by_role("link", name="Settings").click()
        page.get_by_role("link", name="Webhooks").click()
        page.wait_for_url(base_url + "/settings/webhooks")
        assert "No endpoints yet." in page.content()
        check(page, "console-webhooks-empty")

        url = rx.url + "/offboard"
        page.get_by_label("URL").fill(url)
        page.get_by_label("case.opened").check()
        page.get_by_label("receipt.acknowledged").check()
        page.get_by_role("button", name="Add the endpoint").click()
        assert "is plain http" in page.locator("#webhook-url-error").inner_text()
        assert page.get_by_label("case.opened").is_checked()
        check(page, "console-webhooks-error")

        page.get_by_label("Allow plain http://").check()
        page.get_by_role("button", name="Add the endpoint").click()
        secret = page.locator("#added-secret").inner_text()
        assert secret.startswith("whsec_")
        assert "case.opened" in page.locator("table").inner_text()
        check(page, "console-webhooks-added")
        page.get_by_role("link", name="Webhooks").click()
        assert secret not in page.content()

        page.get_by_role("button", name=f"Send test event to {url}").click()
        assert "The test event failed" in page.locator(".notice").inner_text()
        assert "busy" in page.locator("ol.deliveries").inner_text()
        page.get_by_role("button", name="Replay").click()
        assert "answered 204" in page.locator(".notice").inner_text()
        assert "delivered" in page.locator("ol.deliveries").inner_text()
        check(page, "console-webhooks-deliveries")
        assert len(rx.hits("/offboard")) == 2

        page.get_by_role("link", name="All endpoints").click()
        page.get_by_role("button", name=f"Remove the endpoint {url}").click()
        assert "The endpoint is removed" in page.locator(".notice").inner_text()
        assert "No endpoints yet." in page.content()
        check(page, "console-webhooks-removed")
