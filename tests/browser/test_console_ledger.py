"""The ledger page's witnesses panel in Chromium: two witnesses configured, none has cosigned yet, so the page
says NOT witnessed and lists both; axe, no sideways scrolling at 360 px, screenshots ``console-ledger-*``.
SQLite + local folder only: tests/integration/test_console_ledger.py covers both backends."""

from __future__ import annotations

from typing import Any

import pytest

from signing.cosignature import cosigner_of
from signing.keys import generate_key
from tests.browser.console_support import assert_accessible, screenshots, serve, sign_in
from tests.integration.console_support import STAFF, add_signin_staff
from vault.ledger import service
from vault.models import Organization
from vault.orgs.organizations import Principal, Role
from vault.witnessing.roster import add_witness, set_witness_policy

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)]


def test_the_ledger_page_says_plainly_that_the_checkpoint_is_not_witnessed(settings: Any, page: Any) -> None:
    def prepare(services: Any, organization_id: str) -> None:
        add_signin_staff(services, organization_id, role="viewer")
        admin = Principal(organization_id, Role.ADMIN, "test:admin")

        def work(session: Any) -> None:
            for n in (1, 2):
                vkey = cosigner_of(generate_key(f"witness.example/a-long-witness-name-{n}")).vkey()
                add_witness(session, admin, url=f"https://witness-{n}.example/a/long/submission/prefix", vkey=vkey)
            set_witness_policy(session, admin, "2")
            org = session.get(Organization, organization_id)
            service.current_checkpoint(session, services.settings, org, clock=services.clock)

        services.transact(work)

    with serve(settings, prepare) as (base_url, _services):
        sign_in(page, base_url, STAFF)
        page.get_by_role("link", name="Ledger", exact=True).click()
        page.wait_for_url(base_url + "/ledger")
        verdict = page.locator("#witness-verdict").inner_text()
        assert verdict.startswith("NOT witnessed: 0 of 2 cosigned"), verdict
        assert page.locator("#witness-policy").inner_text() == "2 of 2 must cosign"
        rows = page.locator("#witnesses tbody tr")
        assert rows.count() == 2 and "Not cosigned" in rows.nth(1).inner_text()
        assert_accessible(page)
        screenshots(page, "console-ledger-witnesses")
        page.set_viewport_size({"width": 360, "height": 740})
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
