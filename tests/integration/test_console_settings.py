"""The console's settings pages over HTTP on both backend pairs: every form's happy path, its inline errors
(422 with the error summary and the field's message), 403 for members and viewers and for a form without
its CSRF token, and 404 for another organization's ids; each change shows where the API and the ledger see it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from tests.integration.console_support import PASSWORD, add_signin_staff, console_client, form_token, sign_in
from vault.db import session_scope
from vault.ledger import keyring
from vault.models import LedgerEntry, Organization, StaffMember
from vault.orgs.organizations import Principal, Role, create_token
from vault.setup import new_organization

ADMIN = "admin@agency.example"
MEMBER = "member@agency.example"
VIEWER = "viewer@agency.example"
PAGES = ["/settings", "/settings/staff", "/settings/tokens", "/settings/playbooks", "/settings/keys"]
PLAYBOOK = """key: small-site
version: 1
title: Small website handover
steps:
  - key: export
    title: Export the site
    criteria: [evidence:deliverable]
    due_days: 3
"""


@pytest.fixture
def people(services: Any, initialized: Any) -> str:
    for email, role in [(ADMIN, "admin"), (MEMBER, "member"), (VIEWER, "viewer")]:
        add_signin_staff(services, initialized.organization_id, email=email, role=role)
    return str(initialized.organization_id)


def entry_types(services: Any, organization_id: str) -> list[str]:
    with Session(services.engine) as session:
        rows = session.exec(
            select(LedgerEntry).where(LedgerEntry.organization_id == organization_id).order_by(col(LedgerEntry.idx))
        ).all()
    return [json.loads(r.body)["type"] for r in rows]


def post(client: TestClient, url: str, page: str, **data: str) -> Any:
    """Post a form with the CSRF token of ``page`` (a settings page the client just opened)."""
    return client.post(url, data={"csrf": form_token(client.get(page).text), **data})


def inline_error(response: Any, field: str, words: str) -> None:
    assert response.status_code == 422, response.text[:400]
    assert 'class="error-summary"' in response.text and f'href="#{field}"' in response.text
    assert re.search(rf'id="{field}-error">.*?{re.escape(words)}', response.text, re.S), response.text[-3000:]


def test_members_and_viewers_get_403_and_no_settings_in_the_nav(services: Any, people: str) -> None:
    forms = [
        ("/settings/organization", {"name": "Mine now"}),
        ("/settings/branding", {"accent": "#000000"}),
        ("/settings/tokens", {"name": "x", "role": "admin"}),
        ("/settings/keys/rotate", {"confirm": "yes"}),
        ("/settings/staff", {"email": "new@agency.example", "role": "admin"}),
        ("/settings/playbooks", {"document": PLAYBOOK}),
    ]
    for email in (MEMBER, VIEWER):
        with console_client(services) as client:
            assert sign_in(client, email, PASSWORD).status_code == 303
            home = client.get("/")
            assert 'href="/settings"' not in home.text
            csrf = form_token(home.text)
            for url in PAGES:
                assert client.get(url).status_code == 403, (email, url)
            for url, data in forms:
                answer = client.post(url, data={"csrf": csrf, **data})
                assert answer.status_code == 403, (email, url)
    with console_client(services) as client:
        sign_in(client, ADMIN, PASSWORD)
        assert 'href="/settings"' in client.get("/").text
        for url in PAGES:
            page = client.get(url)
            assert page.status_code == 200 and 'aria-current="page"' in page.text, url
    assert "organization.renamed" not in entry_types(services, people)
    assert "key.rotated" not in entry_types(services, people)


def test_forms_without_csrf_are_refused(services: Any, people: str) -> None:
    with console_client(services) as client:
        sign_in(client, ADMIN, PASSWORD)
        for url in [
            "/settings/organization",
            "/settings/branding",
            "/settings/tokens",
            "/settings/keys/rotate",
            "/settings/staff",
            "/settings/playbooks",
        ]:
            answer = client.post(url, data={"name": "X", "confirm": "yes", "email": "a@b.example", "document": "x"})
            assert answer.status_code == 403 and "security token is missing" in answer.text, url
        assert client.get("/settings").text.count("Default organization") >= 1


def test_rename_form(services: Any, people: str) -> None:
    with console_client(services) as client:
        sign_in(client, ADMIN, PASSWORD)
        refused = post(client, "/settings/organization", "/settings", name="   ")
        inline_error(refused, "name", "Organization name must not be empty")
        assert 'aria-invalid="true"' in refused.text
        done = post(client, "/settings/organization", "/settings", name="Lima Studio")
        assert done.status_code == 303 and done.headers["location"] == "/settings"
        page = client.get("/settings")
        assert "The organization is now called Lima Studio." in page.text and 'value="Lima Studio"' in page.text
    assert entry_types(services, people)[-1] == "organization.renamed"


def test_branding_form(services: Any, people: str) -> None:
    with console_client(services) as client:
        sign_in(client, ADMIN, PASSWORD)
        refused = post(client, "/settings/branding", "/settings", accent="blue", reply_to="not an address")
        inline_error(refused, "accent", "Accent colour must be # and six hexadecimal digits")
        inline_error(refused, "reply-to", "Not a valid email address")
        assert 'value="blue"' in refused.text, "the typed values are kept"
        done = post(client, "/settings/branding", "/settings", accent="#1A2B3C", reply_to="desk@agency.example")
        assert done.status_code == 303
        page = client.get("/settings")
        assert 'value="#1a2b3c"' in page.text and 'value="desk@agency.example"' in page.text
        cleared = post(client, "/settings/branding", "/settings", accent="", reply_to="")
        assert cleared.status_code == 303
    assert entry_types(services, people)[-2:] == ["organization.branding_changed"] * 2
    with Session(services.engine) as session:
        org = session.get(Organization, people)
        assert org is not None and (org.accent_colour, org.reply_to) == (None, None)


def test_token_shown_once_then_revoked(services: Any, people: str, app: Any) -> None:
    with console_client(services) as client:
        sign_in(client, ADMIN, PASSWORD)
        inline_error(
            post(client, "/settings/tokens", "/settings/tokens", name=" ", role="member"), "token-name", "1 to 200"
        )
        inline_error(
            post(client, "/settings/tokens", "/settings/tokens", name="ci", role="owner"), "token-role", "role"
        )
        made = post(client, "/settings/tokens", "/settings/tokens", name="ci uploader", role="viewer")
        assert made.status_code == 201
        secret = re.search(r'id="issued-secret"[^>]*>(obt_[A-Za-z0-9_-]+)<', made.text)
        assert secret, made.text
        assert secret.group(1) not in client.get("/settings/tokens").text, "the secret is shown once"
        with TestClient(app) as api:
            bearer = {"Authorization": f"Bearer {secret.group(1)}"}
            assert api.get("/api/v1/organization", headers=bearer).status_code == 200
            token_id = re.search(r'ci uploader</td>.*?action="/settings/tokens/([^/]+)/revoke"', made.text, re.S)
            assert token_id
            revoked = post(client, f"/settings/tokens/{token_id.group(1)}/revoke", "/settings/tokens")
            assert revoked.status_code == 303
            assert "revoked" in client.get("/settings/tokens").text
            assert api.get("/api/v1/organization", headers=bearer).status_code == 401
        other = new_organization(services, name="Other Agency")
        with session_scope(services.engine) as session:
            foreign = create_token(session, organization_id=other.id, name="theirs", role="admin")
        assert post(client, f"/settings/tokens/{foreign.id}/revoke", "/settings/tokens").status_code == 404


def test_key_rotation_needs_confirmation(services: Any, people: str) -> None:
    with console_client(services) as client:
        sign_in(client, ADMIN, PASSWORD)
        inline_error(post(client, "/settings/keys/rotate", "/settings/keys"), "confirm", "Tick the box")
        with Session(services.engine) as session:
            assert len(keyring.keys_of(session, people)) == 1
        done = post(client, "/settings/keys/rotate", "/settings/keys", confirm="yes")
        assert done.status_code == 303
        page = client.get("/settings/keys")
        assert "A new signing key is in use" in page.text and page.text.count("<tr>") == 3
    with Session(services.engine) as session:
        assert len(keyring.keys_of(session, people)) == 2
    assert entry_types(services, people)[-1] == "key.rotated"


def _staff_id(services: Any, email: str) -> str:
    with Session(services.engine) as session:
        return session.exec(select(StaffMember).where(StaffMember.email == email)).one().id


def test_staff_add_change_role_deactivate_and_the_last_admin(services: Any, people: str) -> None:
    with console_client(services) as client:
        sign_in(client, ADMIN, PASSWORD)
        inline_error(
            post(client, "/settings/staff", "/settings/staff", email="not-an-email"), "staff-email", "valid email"
        )
        inline_error(post(client, "/settings/staff", "/settings/staff", email=MEMBER), "staff-email", "already")
        added = post(
            client, "/settings/staff", "/settings/staff", email="new@agency.example", name="Nia", role="viewer"
        )
        assert added.status_code == 303
        assert "new@agency.example is now a staff member (viewer)." in client.get("/settings/staff").text
        admin_id = _staff_id(services, ADMIN)
        refused = post(client, f"/settings/staff/{admin_id}/role", "/settings/staff", role="member")
        assert refused.status_code == 409 and "last active admin" in refused.text
        refused = post(client, f"/settings/staff/{admin_id}/active", "/settings/staff", active="no")
        assert refused.status_code == 409 and "last active admin" in refused.text
        member_id = _staff_id(services, MEMBER)
        assert post(client, f"/settings/staff/{member_id}/role", "/settings/staff", role="admin").status_code == 303
        assert post(client, f"/settings/staff/{admin_id}/role", "/settings/staff", role="member").status_code == 303
    types = entry_types(services, people)
    assert types.count("staff.role_changed") == 2 and types.count("staff.added") == 4
    with console_client(services) as client:
        sign_in(client, MEMBER, PASSWORD)  # now the admin
        assert post(client, f"/settings/staff/{admin_id}/active", "/settings/staff", active="no").status_code == 303
        assert "deactivated" in client.get("/settings/staff").text
        other = new_organization(services, name="Elsewhere")
        with session_scope(services.engine) as session:
            from vault.orgs.staff import add_staff

            theirs = add_staff(session, Principal(other.id, Role.ADMIN, "test"), email="x@else.example").id
        assert post(client, f"/settings/staff/{theirs}/role", "/settings/staff", role="viewer").status_code == 404
        assert post(client, f"/settings/staff/{theirs}/active", "/settings/staff", active="no").status_code == 404
    assert "staff.deactivated" in entry_types(services, people)


def test_playbook_publish_lists_every_problem_then_publishes(services: Any, people: str) -> None:
    with console_client(services) as client:
        sign_in(client, ADMIN, PASSWORD)
        page = client.get("/settings/playbooks")
        assert "Consulting engagement" in page.text
        broken = PLAYBOOK.replace("version: 1", "version: zero").replace("due_days: 3", "due_days: -1")
        refused = post(client, "/settings/playbooks", "/settings/playbooks", document=broken)
        assert refused.status_code == 422
        errors = re.search(r'<ul class="error-message" id="document-error">(.*?)</ul>', refused.text, re.S)
        assert errors and "Version: expected a whole number" in errors.group(1) and "due_days" in errors.group(1)
        assert "version: zero" in refused.text, "the pasted text is kept"
        yaml_error = post(client, "/settings/playbooks", "/settings/playbooks", document="key: [unclosed")
        assert yaml_error.status_code == 422 and "at line 1" in yaml_error.text
        done = post(client, "/settings/playbooks", "/settings/playbooks", document=PLAYBOOK)
        assert done.status_code == 303
        page = client.get("/settings/playbooks")
        assert "Playbook small-site version 1 published." in page.text and "Export the site" in page.text
    assert entry_types(services, people)[-1] == "playbook.published"
