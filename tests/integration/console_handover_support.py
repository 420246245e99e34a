"""Shared steps for the console's evidence and receipts tests: a signed-in staff member of a role, a case of
the default organization and one of another organization, and the multipart body the no-JS form sends."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.integration.cases_helpers import open_case
from tests.integration.console_support import add_signin_staff, sign_in
from vault.setup import new_organization

VIEWER = "viewer@agency.example"


def signed_in(client: TestClient, services: Any, organization_id: str, email: str, role: str) -> None:
    add_signin_staff(services, organization_id, email=email, role=role)
    assert sign_in(client, email=email).status_code == 303


def other_org_case(services: Any) -> str:
    """A case of a second organization, opened through the API with that organization's admin token."""
    from api.app import create_app
    from vault.db import session_scope
    from vault.orgs.organizations import Role, create_token

    org = new_organization(services, name="Other Agency")
    with session_scope(services.engine) as session:
        token = create_token(session, organization_id=org.id, name="other admin", role=Role.ADMIN)
    with TestClient(create_app(services.settings, services=services)) as api:
        api.headers["Authorization"] = f"Bearer {token.secret}"
        return str(open_case(api, client_name="Other Client")["id"])
