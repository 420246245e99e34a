"""The organization's name as clients see it (issue 14, items 5 and 18; issue 13, "Fix on the way"):
``offboard init --org-name``, ``offboard org rename`` and ``PATCH /api/v1/organization`` (an
``organization.renamed`` entry), the first signing key as a ``key.created`` entry, and the new name with
readable times in the link email, on the acknowledgment page and in the receipt PDF, whose last words say
how to verify it. Both backend pairs."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from pypdf import PdfReader
from sqlmodel import Session, col, select

from tests.helpers import cli_json, run_cli
from tests.integration.cases_helpers import problem
from tests.integration.receipts_support import (
    CONTACT,
    app_client,
    create_receipt,
    form_of,
    handover,
    link_in,
    path_of,
    smtp_server,
    text_body,
)
from vault.db import session_scope
from vault.ledger import keyring
from vault.models import LedgerEntry, Organization
from vault.orgs.branding import set_branding
from vault.orgs.organizations import Principal, Role

NEW_NAME = "Lima & Partners Studio"
#: "3 Dec 2026, 14:05 UTC", as templates/humanize.py says a time.
READABLE = re.compile(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC\b")


def entries(services: Any, organization_id: str) -> list[dict[str, Any]]:
    with Session(services.engine) as session:
        rows = session.exec(
            select(LedgerEntry).where(LedgerEntry.organization_id == organization_id).order_by(col(LedgerEntry.idx))
        ).all()
        return [json.loads(r.body) for r in rows]


def default_org(services: Any) -> Organization:
    with Session(services.engine) as session:
        org = session.exec(select(Organization).where(Organization.is_default == True)).one()  # noqa: E712
        session.expunge(org)
        return org


def test_init_org_name_records_the_first_key_and_a_later_name_is_a_rename(
    cli_env: Any, capsys: pytest.CaptureFixture[str], services: Any
) -> None:
    first = cli_json(capsys, "init", "--org-name", "Acme Studio")
    assert first["created"] is True
    org = default_org(services)
    assert org.name == "Acme Studio"
    [created] = entries(services, org.id)
    with Session(services.engine) as session:
        [key] = keyring.keys_of(session, org.id)
        vkey = keyring.verifier_of(key).vkey()
    assert (created["type"], created["actor"], created["data"]) == ("key.created", "system:init", {"new": vkey})

    assert cli_json(capsys, "init", "--org-name", "Acme Studio")["created"] is False
    assert cli_json(capsys, "init")["created"] is False
    assert len(entries(services, org.id)) == 1, "a second init with the same name records nothing"

    cli_json(capsys, "init", "--org-name", "Acme Studio Ltd")
    renamed = entries(services, org.id)[-1]
    assert (renamed["type"], renamed["data"]) == (
        "organization.renamed",
        {"old": "Acme Studio", "new": "Acme Studio Ltd"},
    )
    assert default_org(services).name == "Acme Studio Ltd"


def test_org_create_records_its_first_key(cli_env: Any, capsys: pytest.CaptureFixture[str], services: Any) -> None:
    cli_json(capsys, "init")
    made = cli_json(capsys, "org", "create", "Second Agency")
    assert entries(services, made["id"])[0]["type"] == "key.created"


def test_cli_rename_is_recorded_and_bad_names_are_one_line_errors(
    cli_env: Any, capsys: pytest.CaptureFixture[str], services: Any
) -> None:
    cli_json(capsys, "init")
    assert cli_json(capsys, "org", "rename", f"  {NEW_NAME}  ") == {
        "id": default_org(services).id,
        "slug": "default",
        "name": NEW_NAME,
    }
    last = entries(services, default_org(services).id)[-1]
    assert last["type"] == "organization.renamed" and last["actor"].startswith("cli:")
    assert last["data"] == {"old": "Default organization", "new": NEW_NAME}
    code, out, err = run_cli(capsys, "org", "rename", NEW_NAME)
    assert code == 0 and out.strip() == NEW_NAME
    assert entries(services, default_org(services).id)[-1] == last, "the same name again records nothing"
    for bad, words in [("   ", "must not be empty"), ("A\nB", "control characters"), ("x" * 201, "at most 200")]:
        code, out, err = run_cli(capsys, "org", "rename", bad)
        assert code == 1 and words in err and "Traceback" not in err + out, err
    assert default_org(services).name == NEW_NAME


def test_api_rename_is_admin_only_and_validated(client: Any) -> None:
    member = client.post("/api/v1/tokens", json={"name": "ci", "role": "member"}).json()["secret"]
    refused = client.patch(
        "/api/v1/organization", json={"name": NEW_NAME}, headers={"Authorization": f"Bearer {member}"}
    )
    problem(refused, 403, "admin")
    assert client.get("/api/v1/organization").json()["name"] == "Default organization"
    problem(client.patch("/api/v1/organization", json={"name": "Tab\there"}), 400, "control characters")
    assert client.patch("/api/v1/organization", json={"name": ""}).status_code == 422
    assert client.patch("/api/v1/organization", json={"name": "X", "slug": "other"}).status_code == 422
    renamed = client.patch("/api/v1/organization", json={"name": NEW_NAME})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == NEW_NAME == client.get("/api/v1/organization").json()["name"]


def test_renamed_organization_reaches_the_email_the_page_and_the_pdf(services: Any, initialized: Any) -> None:
    with smtp_server() as (url, inbox), app_client(services, initialized.admin_token.secret, smtp_url=url) as client:
        assert client.patch("/api/v1/organization", json={"name": NEW_NAME}).status_code == 200
        with session_scope(services.engine) as session:
            admin = Principal(initialized.organization_id, Role.ADMIN, "test:brand")
            set_branding(session, admin, accent="#AA3300", reply_to="Desk@Lima.example")
        receipt = create_receipt(client, handover(client))
        assert client.post(f"/api/v1/receipts/{receipt['id']}/send").status_code == 200
        [mail] = inbox.wait_for(1)
        body = text_body(mail)
        assert NEW_NAME in body and "Default organization" not in body
        assert mail["Reply-To"] == "Desk@lima.example"
        assert READABLE.search(body), body
        html_part = mail.get_body(preferencelist=("html",))
        assert html_part is not None and "Lima &amp; Partners Studio" in html_part.get_content()
        assert "background: #aa3300;" in html_part.get_content()

        path = path_of(link_in(mail))
        page = client.get(path)
        assert page.status_code == 200
        assert "<h1>Lima &amp; Partners Studio</h1>" in page.text and "Default organization" not in page.text
        assert re.search(r'issued <time datetime="[^"]+Z" title="[^"]+" data-local>' + READABLE.pattern, page.text)
        assert re.search(r"This link works until <time [^>]+>" + READABLE.pattern + "</time>", page.text)
        done = client.post(path, data={**form_of(page.text), "action": "acknowledge", "name": "Jo", "consent": "yes"})
        assert done.status_code == 200 and READABLE.search(done.text), done.text
        confirmation = [m for m in inbox.wait_for(3) if m["To"] == CONTACT and "recorded" in m["Subject"]][0]
        assert NEW_NAME in text_body(confirmation) and READABLE.search(text_body(confirmation))
        assert confirmation["Reply-To"] == "Desk@lima.example"

        pdf = client.get(f"/api/v1/receipts/{receipt['id']}/pdf")
        assert pdf.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    flat = " ".join(text.split())
    assert NEW_NAME in flat and "Default organization" not in flat
    assert "docs/receipts.md" not in flat
    closing = flat[flat.index("How to check this receipt") :]
    # pypdf may break a long URL or key id across lines; compare without spaces.
    packed = closing.replace(" ", "")
    assert "http://testserver/.well-known/offboard/keys" in packed
    assert "http://testserver/.well-known/offboard/verify.html" in packed
    assert receipt["document"]["signer"]["key_id"] in packed
    assert "attachments panel of your PDF reader" in closing and "evidence bundle of this case" in closing
