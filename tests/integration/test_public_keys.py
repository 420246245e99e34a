"""Issue 14 item 11: ``/.well-known/offboard/keys`` is public (verifier keys are public by nature),
cacheable (``Cache-Control``, ``ETag``, ``304``) and rate-limited per client address (429 problem+json)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.integration.receipts_support import app_client
from vault.db import read_session, session_scope
from vault.ledger import keyring
from vault.orgs.organizations import create_organization, default_organization

KEYS = "/.well-known/offboard/keys"
ANONYMOUS = {"Authorization": ""}


def test_the_keys_need_no_token_and_are_cacheable(client: TestClient, services: Any) -> None:
    anonymous = client.get(KEYS, headers=ANONYMOUS)
    assert anonymous.status_code == 200, anonymous.text
    assert anonymous.json() == client.get(KEYS).json()
    body = anonymous.json()
    with read_session(services.engine) as session:
        org = default_organization(session)
        assert org is not None
        stored = [k.vkey for k in keyring.public_keys(session, org.id)]
    assert body["organization"] == org.slug
    assert [k["vkey"] for k in body["keys"]] == stored and stored
    assert anonymous.headers["cache-control"] == "public, max-age=300"
    etag = anonymous.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = client.get(KEYS, headers={**ANONYMOUS, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert client.get(KEYS, headers={**ANONYMOUS, "If-None-Match": '"other"'}).status_code == 200


def test_another_organization_is_chosen_by_its_slug(client: TestClient, services: Any) -> None:
    with session_scope(services.engine) as session:
        other = create_organization(session, name="Other Co")
        keyring.ensure_key(session, services.settings, other)
        slug = other.slug
    theirs = client.get(KEYS, params={"organization": slug}, headers=ANONYMOUS)
    assert theirs.status_code == 200 and theirs.json()["organization"] == slug
    mine = client.get(KEYS, headers=ANONYMOUS).json()
    assert {k["key_id"] for k in theirs.json()["keys"]}.isdisjoint({k["key_id"] for k in mine["keys"]})
    assert theirs.headers["etag"] != client.get(KEYS, headers=ANONYMOUS).headers["etag"]
    missing = client.get(KEYS, params={"organization": "nobody"}, headers=ANONYMOUS)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")


def test_the_keys_are_rate_limited_per_address(services: Any, initialized: Any) -> None:
    secret = initialized.admin_token.secret
    limits = {"keys_rate_limit_requests": 5, "keys_rate_limit_window_seconds": 600}
    with app_client(services, secret, peer=("203.0.113.7", 4000), **limits) as client:
        statuses = [client.get(KEYS, headers=ANONYMOUS).status_code for _ in range(8)]
        assert statuses == [200] * 5 + [429] * 3
        limited = client.get(KEYS, headers=ANONYMOUS)
        assert limited.status_code == 429
        assert limited.headers["content-type"].startswith("application/problem+json")
        problem = limited.json()
        assert problem["status"] == 429 and problem["type"].endswith("/rate-limited")
        assert "too many requests for the keys" in problem["detail"]
        assert limited.headers["retry-after"].isdigit() and int(limited.headers["retry-after"]) > 0
        # Another address keeps its own budget.
        other = TestClient(client.app, client=("198.51.100.20", 5000))
        assert other.get(KEYS).status_code == 200
