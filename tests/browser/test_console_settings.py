"""The settings pages as an admin uses them, in Chromium against a real server: rename the organization,
set its branding, create a token (shown once) and revoke it, publish a playbook that is refused and then
fixed, replace the signing key after confirming; axe on every state, no sideways scrolling at 360 px, screenshots
``console-settings-*``. SQLite + local folder only: tests/integration/test_console_settings.py covers both
backends."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.console_support import assert_accessible, screenshots, serve, sign_in
from tests.integration.console_support import STAFF, add_signin_staff

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)]

PLAYBOOK = """key: small-site
version: 1
title: Small website handover
steps:
  - key: export
    title: Export the site
    criteria: [evidence:deliverable]
    due_days: {due}
"""


def check(page: Any, name: str) -> None:
    assert_accessible(page)
    screenshots(page, name)
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, name
    page.set_viewport_size({"width": 1280, "height": 900})


def test_settings_in_the_browser(settings: Any, page: Any) -> None:
    def prepare(services: Any, organization_id: str) -> None:
        add_signin_staff(services, organization_id, role="admin")

    with serve(settings, prepare) as (base_url, _services):
        sign_in(page, base_url, STAFF)
        page.get_by_role("link", name="Settings").click()
        page.wait_for_url(base_url + "/settings")
        check(page, "console-settings-organization")

        page.get_by_label("Name", exact=True).fill("")
        page.get_by_role("button", name="Save the name").click()
        assert "must not be empty" in page.locator(".error-summary").inner_text()
        check(page, "console-settings-organization-error")
        page.get_by_label("Name", exact=True).fill("Lima Studio")
        page.get_by_role("button", name="Save the name").click()
        assert page.locator(".notice").inner_text() == "The organization is now called Lima Studio."
        assert "Lima Studio" in page.locator(".who").inner_text()
        page.get_by_label("Accent colour").fill("teal")
        page.get_by_label("Reply-to address").fill("desk@lima.example")
        page.get_by_role("button", name="Save the branding").click()
        assert "six hexadecimal digits" in page.locator("#accent-error").inner_text()
        page.get_by_label("Accent colour").fill("#00695c")
        page.get_by_role("button", name="Save the branding").click()
        assert page.locator(".notice").inner_text() == "The branding clients see is saved."
        assert page.get_by_label("Reply-to address").input_value() == "desk@lima.example"

        page.get_by_role("link", name="API tokens").click()
        page.get_by_label("What it is for").fill("ci uploader")
        page.get_by_label("Role").select_option("viewer")
        page.get_by_role("button", name="Create the token").click()
        secret = page.locator("#issued-secret").inner_text()
        assert secret.startswith("obt_")
        check(page, "console-settings-tokens")
        page.get_by_role("link", name="API tokens").click()
        assert secret not in page.content()
        page.get_by_role("button", name="Revoke the token ci uploader").click()
        assert "is revoked" in page.locator(".notice").inner_text()

        page.get_by_role("link", name="Playbooks").click()
        page.get_by_label("Playbook YAML").fill(PLAYBOOK.format(due="-1"))
        page.get_by_role("button", name="Publish").click()
        assert "due_days" in page.locator("#document-error").inner_text()
        check(page, "console-settings-playbooks-error")
        page.get_by_label("Playbook YAML").fill(PLAYBOOK.format(due="3"))
        page.get_by_role("button", name="Publish").click()
        assert "small-site version 1 published" in page.locator(".notice").inner_text()
        check(page, "console-settings-playbooks")

        page.get_by_role("link", name="Signing keys").click()
        page.get_by_role("button", name="Replace the signing key").click()
        assert "Tick the box" in page.locator(".error-summary").inner_text()
        page.get_by_label("I understand: replace the signing key now").check()
        page.get_by_role("button", name="Replace the signing key").click()
        assert "A new signing key is in use" in page.locator(".notice").inner_text()
        check(page, "console-settings-keys")

        page.get_by_role("link", name="Staff").click()
        assert STAFF in page.locator("table").inner_text()
        check(page, "console-settings-staff")
