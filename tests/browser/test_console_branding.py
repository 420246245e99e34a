"""Branding as an admin sets it and a client sees it, in Chromium against a real server: a refused SVG logo
(the reason at the field), a PNG logo and an accent colour saved, the logo in the console header; then the
client's acknowledgment page with the logo and its button in the accent colour, under a CSP that allows no
inline style but the hashed ones. axe on every state, no sideways scrolling at 360 px, screenshots
``console-branding-*``. SQLite + local folder only: tests/integration/test_console_logo.py covers both backends."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.console_support import assert_accessible, screenshots, serve, sign_in
from tests.integration.console_support import STAFF, add_signin_staff
from vault.db import session_scope
from vault.orgs.organizations import create_token

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)]

ACCENT = "#7a1f5c"


def banner_png(width: int = 120, height: int = 40) -> bytes:
    """A PNG of ``width`` x ``height`` pixels in the accent colour, with a white stripe."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    colour, white = bytes.fromhex(ACCENT[1:]), b"\xff\xff\xff"
    rows = b"".join(b"\x00" + (white if 15 <= y < 25 else colour) * width for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def check(page: Any, name: str) -> None:
    assert_accessible(page)
    screenshots(page, name)
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, name
    page.set_viewport_size({"width": 1280, "height": 900})


def _ack_link(base_url: str, secret: str) -> str:
    """A case with a deliverable and a receipt sent by hand; its client's link."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {secret}"}, timeout=60) as api:
        case = api.post(
            "/api/v1/cases",
            json={"client_name": "Acme Ltd", "owner_email": STAFF, "contacts": ["client@acme.example"]},
        )
        assert case.status_code == 201, case.text
        case_id = case.json()["id"]
        stored = api.post(
            f"/api/v1/cases/{case_id}/evidence",
            params={"filename": "final-report.pdf", "kind": "deliverable"},
            content=b"%PDF-1.4 report",
        )
        assert stored.status_code == 201, stored.text
        receipt = api.post(f"/api/v1/cases/{case_id}/receipts", json={})
        assert receipt.status_code == 201, receipt.text
        sent = api.post(f"/api/v1/receipts/{receipt.json()['id']}/send")
        assert sent.status_code == 200, sent.text
        return str(sent.json()["links"][0]["url"])


def test_branding_in_the_browser(settings: Any, page: Any, tmp_path: Path) -> None:
    tokens: list[str] = []

    def prepare(services: Any, organization_id: str) -> None:
        add_signin_staff(services, organization_id, role="admin")
        with session_scope(services.engine) as session:
            tokens.append(create_token(session, organization_id=organization_id, name="t", role="admin").secret)

    svg, logo = tmp_path / "logo.svg", tmp_path / "logo.png"
    svg.write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    logo.write_bytes(banner_png())
    with serve(settings, prepare) as (base_url, _services):
        sign_in(page, base_url, STAFF)
        page.goto(base_url + "/settings")
        page.get_by_label("Logo image").set_input_files(str(svg))
        page.get_by_role("button", name="Upload the logo").click()
        assert "SVG logos are not accepted" in page.locator("#logo-error").inner_text()
        check(page, "console-branding-error")
        page.get_by_label("Logo image").set_input_files(str(logo))
        page.get_by_role("button", name="Upload the logo").click()
        assert "The logo is saved" in page.locator(".notice").inner_text()
        page.get_by_label("Accent colour").fill(ACCENT)
        page.get_by_role("button", name="Save the branding").click()
        assert page.locator(".notice").inner_text() == "The branding clients see is saved."
        header_logo = page.locator(".topbar img.org-logo")
        assert header_logo.evaluate("img => img.complete && img.naturalWidth") == 120
        check(page, "console-branding")

        page.goto(_ack_link(base_url, tokens[0]))
        logo_img = page.get_by_role("img", name="Default organization")
        assert logo_img.evaluate("img => img.complete && img.naturalWidth") == 120
        button = page.get_by_role("button", name="Acknowledge", exact=True)
        assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(122, 31, 92)"
        check(page, "console-branding-ack")
