"""Drag and drop on the evidence tab, in Chromium against a real server: two files dropped on the drop zone
(a ``drop`` event carrying a ``DataTransfer`` built in the page, as a person's drag from the desktop
delivers) each get a progress bar that completes and a row in the evidence list, with the kind chosen in
the form. axe on the finished state, no sideways scrolling at 360 px, screenshots ``console-drop-upload``.
SQLite + local folder only."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.console_support import assert_accessible, screenshots, serve, sign_in
from tests.integration.console_support import STAFF, add_signin_staff
from vault.db import session_scope
from vault.orgs.organizations import Role, create_token

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)]

#: Two files of a few hundred KiB, so each request reports progress before it completes.
DROPPED = {"site-export.zip": 300_000, "handover notes.txt": 200_000}

DROP = """([names, sizes]) => {
  const data = new DataTransfer();
  names.forEach((name, i) => data.items.add(new File([new Uint8Array(sizes[i]).fill(65 + i)], name)));
  return data;
}"""


def test_two_files_dropped_on_the_zone_upload_with_progress(settings: Any, page: Any) -> None:
    tokens: list[str] = []

    def prepare(services: Any, organization_id: str) -> None:
        add_signin_staff(services, organization_id, email=STAFF, role="member")
        with session_scope(services.engine) as session:
            tokens.append(create_token(session, organization_id=organization_id, name="t", role=Role.ADMIN).secret)

    with serve(settings, prepare) as (base_url, _services):
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {tokens[0]}"}) as api:
            case = api.post("/api/v1/cases", json={"client_name": "Acme Ltd", "owner_email": STAFF})
            assert case.status_code == 201, case.text
        case_id = case.json()["id"]
        sign_in(page, base_url, STAFF)
        page.goto(f"{base_url}/cases/{case_id}/evidence")
        page.get_by_label("Kind").select_option("deliverable")
        transfer = page.evaluate_handle(DROP, [list(DROPPED), list(DROPPED.values())])
        zone = page.locator("#drop-zone")
        zone.dispatch_event("dragenter", {"dataTransfer": transfer})
        zone.dispatch_event("dragover", {"dataTransfer": transfer})
        assert "dragging" in (zone.get_attribute("class") or "")
        zone.dispatch_event("drop", {"dataTransfer": transfer})
        page.wait_for_selector("#upload-form[data-finished=true]")
        assert "dragging" not in (zone.get_attribute("class") or "")
        bars = page.locator("#upload-progress progress")
        assert bars.count() == 2
        for i in range(2):
            assert bars.nth(i).evaluate("bar => bar.value === bar.max && bar.max > 0")
        assert page.locator("#upload-progress li.upload-done").count() == 2
        assert "2 of 2 files stored." in page.locator("#upload-status").inner_text()
        page.wait_for_function("document.querySelectorAll('#evidence-table tbody tr').length === 2")
        rows = page.locator("#evidence-table tbody").inner_text()
        assert all(name in rows for name in DROPPED) and rows.count("deliverable") >= 2, rows
        assert_accessible(page)
        screenshots(page, "console-drop-upload")
        page.set_viewport_size({"width": 360, "height": 740})
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {tokens[0]}"}) as api:
            stored = api.get(f"/api/v1/cases/{case_id}/evidence").json()
    items = stored["items"] if isinstance(stored, dict) else stored
    assert sorted((e["original_filename"], e["size"]) for e in items) == sorted(DROPPED.items())
