"""OpenID Connect single sign-on against a small provider on loopback (tests/oidc_provider.py), on both
backend pairs: a staff member with a verified email signs in; a forged, replayed or foreign answer, an
unverified email and someone who is not staff are refused; no session is made for any of them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.integration.console_support import STAFF, add_signin_staff, console_client
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, oidc_provider
from vault.models import LedgerEntry

SESSION = "offboard_session"


@pytest.fixture
def provider() -> Iterator[Provider]:
    with oidc_provider() as running:
        yield running


@pytest.fixture
def sso(services: Any, initialized: Any, provider: Provider) -> Iterator[TestClient]:
    add_signin_staff(services, initialized.organization_id)
    with console_client(
        services, oidc_issuer=provider.issuer, oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET
    ) as client:
        yield client


def through_provider(client: TestClient) -> str:
    """Start single sign-on and return the callback path and query the provider sends the browser to."""
    start = client.get("/login/oidc")
    assert start.status_code == 303, start.text
    answer = httpx.get(start.headers["location"], follow_redirects=False)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["location"])
    assert f"{back.scheme}://{back.netloc}" == "http://testserver"
    return f"{back.path}?{back.query}"


def test_login_page_offers_sso_only_when_configured(services: Any, initialized: Any, sso: TestClient) -> None:
    assert 'href="/login/oidc"' in sso.get("/login").text
    with console_client(services) as plain:
        assert 'href="/login/oidc"' not in plain.get("/login").text
        assert plain.get("/login/oidc").status_code == 404
        assert plain.get("/login/oidc/callback?code=x&state=y").status_code == 404


def test_a_verified_staff_email_signs_in(services: Any, sso: TestClient, provider: Provider) -> None:
    start = sso.get("/login/oidc")
    (flow_cookie,) = [h for h in start.headers.get_list("set-cookie") if h.startswith("offboard_oidc=")]
    assert "HttpOnly" in flow_cookie and "SameSite=lax" in flow_cookie and "Path=/login/oidc" in flow_cookie
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["redirect_uri"] == ["http://testserver/login/oidc/callback"]
    assert query["scope"] == ["openid email"] and query["code_challenge_method"] == ["S256"]
    answer = httpx.get(start.headers["location"], follow_redirects=False)
    back = urlsplit(answer.headers["location"])
    done = sso.get(f"{back.path}?{back.query}")
    assert (done.status_code, done.headers["location"]) == (303, "/")
    assert sso.cookies.get(SESSION)
    home = sso.get("/")
    assert home.status_code == 200 and STAFF in home.text
    # The code is spent: replaying the same answer signs no one in.
    sso.cookies.delete(SESSION)
    replay = sso.get(f"{back.path}?{back.query}")
    assert replay.status_code in (401, 403) and not sso.cookies.get(SESSION)
    with Session(services.engine) as session:
        rows = session.exec(select(LedgerEntry).where(LedgerEntry.entry_type == "staff.signed_in")).all()
    (entry,) = [json.loads(r.body) for r in rows]
    assert entry["data"]["method"] == "oidc" and entry["actor"] == f"staff:{STAFF}"


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ("audience", "the ID token was refused"),
        ("nonce", "the ID token was refused"),
        ("issuer", "the ID token was refused"),
        ("expired", "the ID token was refused"),
        ("unknown-key", "signature does not verify"),
        ("no-id-token", "has no ID token"),
    ],
)
def test_a_bad_id_token_is_refused(sso: TestClient, provider: Provider, tamper: str, message: str) -> None:
    provider.behaviour.tamper = tamper
    answer = sso.get(through_provider(sso))
    assert answer.status_code == 401 and message in answer.text, answer.text
    assert not sso.cookies.get(SESSION) and sso.get("/").status_code == 303


@pytest.mark.parametrize(
    ("email", "verified", "message"),
    [
        (STAFF, False, "has not verified the email address"),
        (STAFF, "true", "has not verified the email address"),  # a string is not the boolean true
        ("stranger@agency.example", True, "No active staff member here has the email address stranger@agency.example"),
    ],
)
def test_unverified_or_unknown_emails_are_refused(
    sso: TestClient, provider: Provider, email: str, verified: Any, message: str
) -> None:
    provider.behaviour.email, provider.behaviour.email_verified = email, verified
    answer = sso.get(through_provider(sso))
    assert answer.status_code == 401 and message in answer.text
    assert not sso.cookies.get(SESSION)


def test_an_answer_without_this_browsers_state_is_403(sso: TestClient, provider: Provider) -> None:
    path = through_provider(sso)
    forged = path.replace("state=", "state=x")
    assert sso.get(forged).status_code == 403
    sso.cookies.clear()  # another browser: it never started this sign-in
    assert sso.get(path).status_code == 403
    assert not sso.cookies.get(SESSION)


def test_the_provider_refusing_is_shown_on_the_sign_in_page(sso: TestClient, provider: Provider) -> None:
    provider.behaviour.authorize_error = "access_denied"
    answer = sso.get(through_provider(sso))
    assert answer.status_code == 401 and "did not sign you in (access_denied)" in answer.text
    assert 'id="email"' in answer.text  # the password form is still there
