"""The case list, opening a case and the ledger page as a person uses them, in Chromium against a real
server: sign in, filter and search the list, open a case through the form (an inline error first), check a
hash found and not found on the ledger page; axe on each page state, no sideways scroll at 360 px, and the
screenshots console-cases, console-case-new and console-ledger. SQLite + local folder only: the backends
are covered by tests/integration/test_console_cases.py and test_console_ledger.py."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from tests.browser.console_support import assert_accessible, screenshots, serve, sign_in
from tests.integration.console_support import STAFF, add_signin_staff

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)]


def prepare(services: Any, organization_id: str) -> None:
    from vault.cases import lifecycle
    from vault.orgs.organizations import Principal, Role

    add_signin_staff(services, organization_id, role="admin")
    admin = Principal(organization_id, Role.ADMIN, "test:setup")
    for name in ("Acme Ltd", "Globex Corporation", "Initrode"):
        services.transact(
            lambda s, n=name: lifecycle.open_case(s, admin, client_name=n, owner_email=STAFF, clock=services.clock)
        )


def narrow_fits(page: Any) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')]"
        ".filter(e => !e.closest('.table-wrap') && e.getBoundingClientRect().right > 362)"
        ".slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, wide  # what sticks out, if anything
    page.set_viewport_size({"width": 1280, "height": 900})


def test_case_list_open_a_case_and_the_ledger_page(settings: Any, page: Any) -> None:
    with serve(settings, prepare) as (base_url, _services):
        sign_in(page, base_url)
        assert page.locator("h1").inner_text() == "Cases"
        assert page.locator("table.cases tbody tr").count() == 3
        assert_accessible(page)
        narrow_fits(page)
        screenshots(page, "console-cases")
        page.get_by_label("Client name").fill("globex")
        page.get_by_role("button", name="Show cases").click()
        assert page.locator("table.cases tbody tr").all_inner_texts()[0].startswith("Globex Corporation")
        assert page.locator("table.cases tbody tr").count() == 1
        page.get_by_label("Status").select_option("disputed")
        page.get_by_role("button", name="Show cases").click()
        assert "0 cases match these filters" in page.locator("#case-count").inner_text()

        page.goto(base_url + "/")
        page.get_by_role("link", name="Open a case").click()
        page.get_by_role("button", name="Open the case").click()  # nothing typed: the error summary
        assert page.locator(".error-summary").is_visible()
        assert_accessible(page)
        page.get_by_label("Client name").fill("Hooli")
        page.get_by_label("Client contacts").fill("gavin@hooli.example\nbighead@hooli.example")
        assert_accessible(page)
        narrow_fits(page)
        screenshots(page, "console-case-new")
        page.get_by_role("button", name="Open the case").click()
        page.wait_for_url(base_url + "/cases/*")
        page.goto(base_url + "/")
        assert "Hooli" in page.locator("table.cases").inner_text()

        page.get_by_role("link", name="Ledger").click()
        assert page.locator("h1").inner_text() == "Ledger"
        assert "signed note" in page.content() and page.locator("pre.note").is_visible()
        assert_accessible(page)
        page.get_by_label("SHA-256 (64 hexadecimal digits)").fill(hashlib.sha256(b"never stored").hexdigest())
        page.get_by_role("button", name="Check the SHA-256").click()
        assert page.locator("#answer-title").inner_text() == "Not found"
        assert_accessible(page)
        page.get_by_label("SHA-256 (64 hexadecimal digits)").fill("not a hash")
        page.get_by_role("button", name="Check the SHA-256").click()
        assert page.locator(".error-summary").is_visible()
        assert_accessible(page)
        narrow_fits(page)
        screenshots(page, "console-ledger")
