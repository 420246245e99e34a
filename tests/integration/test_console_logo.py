"""The organization's logo and accent colour as clients see them, over HTTP on both backend pairs: the
settings form's upload (PNG and JPEG accepted, SVG, other files, empty and oversized uploads refused with the
form again and the reason at the field), 403 for members, viewers and a form without its CSRF token, the
hash-addressed route that serves the image (nosniff, sandbox CSP), and the acknowledgment page and request
email carrying the logo and the accent (its style block allowed by hash in the page's CSP)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import zlib
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from tests.integration.console_support import PASSWORD, add_signin_staff, console_client, form_token, sign_in
from tests.integration.receipts_support import (
    CONTACT,
    app_client,
    create_receipt,
    handover,
    link_in,
    path_of,
    send_manual,
    smtp_server,
)
from vault.db import session_scope
from vault.models import LedgerEntry, Organization
from vault.orgs.branding import set_branding
from vault.orgs.logo import LOGO_MAX_BYTES, set_logo
from vault.orgs.organizations import Principal, Role

ADMIN = "admin@agency.example"
MEMBER = "member@agency.example"
VIEWER = "viewer@agency.example"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def png(width: int = 2, height: int = 1) -> bytes:
    """A real PNG of ``width`` x ``height`` black pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture
def people(services: Any, initialized: Any) -> str:
    for email, role in [(ADMIN, "admin"), (MEMBER, "member"), (VIEWER, "viewer")]:
        add_signin_staff(services, initialized.organization_id, email=email, role=role)
    return str(initialized.organization_id)


def upload(client: TestClient, data: bytes | None, name: str = "logo.png", csrf: str | None = None) -> Any:
    token = csrf if csrf is not None else form_token(client.get("/settings").text)
    files = {"logo": (name, data, "image/png")} if data is not None else None
    return client.post("/settings/logo", data={"csrf": token} if token else {}, files=files)


def logo_entries(services: Any, organization_id: str) -> list[dict[str, Any]]:
    with Session(services.engine) as session:
        rows = session.exec(
            select(LedgerEntry).where(LedgerEntry.organization_id == organization_id).order_by(col(LedgerEntry.idx))
        ).all()
    bodies = [json.loads(r.body) for r in rows]
    return [b["data"] for b in bodies if b["type"] == "organization.logo_changed"]


def refused(response: Any, status: int, words: str) -> None:
    assert response.status_code == status, response.text[:400]
    assert 'class="error-summary"' in response.text and 'href="#logo"' in response.text
    assert re.search(rf'id="logo-error">.*?{re.escape(words)}', response.text, re.S), response.text[-3000:]
    assert 'aria-invalid="true"' in response.text


def test_upload_serve_replace_and_remove(services: Any, people: str) -> None:
    image = png()
    digest = hashlib.sha256(image).hexdigest()
    with console_client(services) as client:
        sign_in(client, ADMIN, PASSWORD)
        assert 'id="logo-none"' in client.get("/settings").text
        done = upload(client, image, name="anything.txt")
        assert done.status_code == 303 and done.headers["location"] == "/settings"
        page = client.get("/settings")
        assert "The logo is saved" in page.text and f'src="/brand/logo/{digest}"' in page.text
        assert 'class="org-logo"' in page.text, "the console header shows it"
        served = client.get(f"/brand/logo/{digest}")
        assert served.status_code == 200 and served.content == image
        assert served.headers["content-type"] == "image/png"
        assert served.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in served.headers["content-security-policy"]
        assert upload(client, image).status_code == 303, "the same image again changes nothing"
        assert upload(client, JPEG, name="logo.png").status_code == 303
        jpeg = client.get(f"/brand/logo/{hashlib.sha256(JPEG).hexdigest()}")
        assert jpeg.headers["content-type"] == "image/jpeg", "sniffed, not taken from the upload"
        assert client.get(f"/brand/logo/{digest}").status_code == 404, "the old image is gone"
        removed = client.post("/settings/logo/remove", data={"csrf": form_token(client.get("/settings").text)})
        assert removed.status_code == 303
        assert 'id="logo-none"' in client.get("/settings").text
        assert client.get("/brand/logo/" + "0" * 64).status_code == 404
        assert client.get("/brand/logo/short").status_code == 404
    entries = logo_entries(services, people)
    assert [e["sha256"] for e in entries] == [digest, hashlib.sha256(JPEG).hexdigest(), None]
    assert entries[0] == {"sha256": digest, "content_type": "image/png", "size": len(image)}


def test_refused_uploads_answer_the_form_with_the_reason(services: Any, people: str) -> None:
    with console_client(services) as client:
        sign_in(client, ADMIN, PASSWORD)
        refused(upload(client, SVG, name="logo.svg"), 422, "SVG logos are not accepted")
        refused(upload(client, b"GIF89a not accepted"), 422, "must be a PNG or JPEG image")
        refused(upload(client, b""), 422, "The logo file is empty")
        refused(upload(client, None), 422, "The logo file is empty")
        refused(upload(client, png(5000, 1)), 422, "at most 4096 pixels")
        big = png() + b"\x00" * LOGO_MAX_BYTES
        refused(upload(client, big), 413, "at most 512 KiB")
        refused(upload(client, b"\x89PNG\r\n\x1a\n" + b"junk" * 10), 422, "not a well-formed PNG")
    assert logo_entries(services, people) == []
    with Session(services.engine) as session:
        org = session.get(Organization, people)
        assert org is not None and org.logo_sha256 is None


def test_members_viewers_and_forms_without_csrf_are_refused(services: Any, people: str) -> None:
    for email in (MEMBER, VIEWER):
        with console_client(services) as client:
            sign_in(client, email, PASSWORD)
            csrf = form_token(client.get("/").text)
            assert upload(client, png(), csrf=csrf).status_code == 403, email
            assert client.post("/settings/logo/remove", data={"csrf": csrf}).status_code == 403, email
    with console_client(services) as client:
        sign_in(client, ADMIN, PASSWORD)
        answer = upload(client, png(), csrf="")
        assert answer.status_code == 403 and "security token is missing" in answer.text
        assert client.post("/settings/logo/remove").status_code == 403
    assert logo_entries(services, people) == []


def test_the_client_sees_the_logo_and_accent_on_the_page_and_in_the_email(services: Any, initialized: Any) -> None:
    image = png()
    digest = hashlib.sha256(image).hexdigest()
    admin = Principal(initialized.organization_id, Role.ADMIN, "test:setup")
    with session_scope(services.engine) as session:
        set_branding(session, admin, accent="#7a1f5c", reply_to="")
        set_logo(session, admin, data=image)
    secret = initialized.admin_token.secret
    with smtp_server() as (url, inbox), app_client(services, secret, smtp_url=url) as client:
        h = handover(client)
        sent = client.post(f"/api/v1/receipts/{create_receipt(client, h)['id']}/send")
        assert sent.status_code == 200, sent.text
        request = inbox.wait_for(1)[0]
        html = request.get_body(preferencelist=("html",))
        assert html is not None and f'src="http://testserver/brand/logo/{digest}"' in html.get_content()
        page = client.get(path_of(link_in(request)))
    assert page.status_code == 200
    assert f'<img src="/brand/logo/{digest}" alt="Default organization">' in page.text
    styles = re.findall(r"<style>(.*?)</style>", page.text, re.S)
    assert styles[1] == ":root { --accent: #7a1f5c; }"
    csp = page.headers["content-security-policy"]
    for style in styles:
        assert "'sha256-" + base64.b64encode(hashlib.sha256(style.encode()).digest()).decode() + "'" in csp
    assert "unsafe-inline" not in csp


def test_without_branding_the_page_has_one_style_and_no_logo(client: TestClient, initialized: Any) -> None:
    h = handover(client)
    link = send_manual(client, create_receipt(client, h)["id"])["links"][0]
    assert link["recipient"] == CONTACT
    page = client.get(path_of(link["url"]))
    assert page.status_code == 200 and page.text.count("<style>") == 1 and "/brand/logo/" not in page.text
