"""Staff sign-in through the app on both backend pairs: cookie flags, CSRF, one answer for a wrong email
or a wrong password, rate limits, sign-out killing the cookie, rotation, timeouts, and the ledger entries."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import Session, col, select

from tests.integration.console_support import (
    PASSWORD,
    STAFF,
    FakeClock,
    add_signin_staff,
    console_client,
    form_token,
    set_cookie_headers,
    sign_in,
)
from vault.models import LedgerEntry

SESSION = "offboard_session"


@pytest.fixture
def staff(services: Any, initialized: Any) -> str:
    add_signin_staff(services, initialized.organization_id)
    return STAFF


def entries(services: Any, entry_type: str) -> list[dict[str, Any]]:
    with Session(services.engine) as session:
        rows = session.exec(
            select(LedgerEntry).where(LedgerEntry.entry_type == entry_type).order_by(col(LedgerEntry.idx))
        ).all()
    return [json.loads(r.body) for r in rows]


def test_root_redirects_to_login_and_login_sets_a_strict_form_cookie(services: Any, staff: str) -> None:
    with console_client(services) as client:
        root = client.get("/")
        assert (root.status_code, root.headers["location"]) == (303, "/login")
        assert client.head("/").status_code == 303 and client.head("/login").status_code == 200
        assert "You have signed out" not in client.get("/login?signed_out=yes").text
        page = client.get("/login")
        assert page.status_code == 200 and 'for="email"' in page.text and 'for="password"' in page.text
        assert 'href="#main"' in page.text
        # Scripts only by hash: no inline script of anyone else's, no script from anywhere.
        (script_src,) = [d for d in page.headers["content-security-policy"].split("; ") if d.startswith("script-src")]
        assert all(source.startswith("'sha256-") for source in script_src.split()[1:]), script_src
        (cookie,) = set_cookie_headers(page, "offboard_login_csrf")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/login" in cookie
        assert "Secure" not in cookie


def test_sign_in_sets_a_lax_httponly_session_cookie_and_records_the_entry(services: Any, staff: str) -> None:
    with console_client(services) as client:
        response = sign_in(client)
        assert (response.status_code, response.headers["location"]) == (303, "/")
        (cookie,) = set_cookie_headers(response, SESSION)
        value = cookie.split(";", 1)[0].split("=", 1)[1]
        assert len(value) >= 43  # 256 random bits, base64url
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
        assert "Max-Age=604800" in cookie and "Secure" not in cookie
        home = client.get("/")
        assert home.status_code == 200
        assert "Pat Morgan" in home.text and STAFF in home.text and "member" in home.text
        assert "Sign out" in home.text and home.headers["cache-control"] == "no-store"
        assert client.get("/login").headers["location"] == "/"
    (entry,) = entries(services, "staff.signed_in")
    assert entry["actor"] == f"staff:{STAFF}"
    assert (entry["data"]["address"], entry["data"]["user_agent"]) == ("192.0.2.10", "console-test/1.0")


def test_https_base_url_makes_the_cookies_secure_and_host_prefixed(services: Any, staff: str) -> None:
    with console_client(services, url="https://vault.example", base_url="https://vault.example") as client:
        page = client.get("/login")
        (form_cookie,) = set_cookie_headers(page, "__Host-offboard_login_csrf")
        assert "Secure" in form_cookie
        response = client.post("/login", data={"email": STAFF, "password": PASSWORD, "csrf": form_token(page.text)})
        assert response.status_code == 303
        (cookie,) = set_cookie_headers(response, "__Host-offboard_session")
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
        assert client.get("/").status_code == 200


def test_sign_in_without_or_with_a_wrong_csrf_token_is_403(services: Any, staff: str) -> None:
    with console_client(services) as client:
        token = form_token(client.get("/login").text)
        for data in [{}, {"csrf": ""}, {"csrf": token[:-1] + ("A" if token[-1] != "A" else "B")}]:
            response = client.post("/login", data={"email": STAFF, "password": PASSWORD, **data})
            assert response.status_code == 403 and "This form has expired" in response.text
            assert SESSION not in response.headers.get("set-cookie", "")
        client.cookies.clear()
        response = client.post("/login", data={"email": STAFF, "password": PASSWORD, "csrf": token})
        assert response.status_code == 403  # the field without its cookie
        foreign = client.get("/login")
        response = client.post(
            "/login",
            data={"email": STAFF, "password": PASSWORD, "csrf": form_token(foreign.text)},
            headers={"Origin": "https://evil.example"},
        )
        assert response.status_code == 403


def test_sign_out_without_the_csrf_token_is_403_and_keeps_the_session(services: Any, staff: str) -> None:
    with console_client(services) as client:
        sign_in(client)
        for data in [{}, {"csrf": "0" * 64}]:
            response = client.post("/logout", data=data)
            assert response.status_code == 403 and "This form has expired" in response.text
        assert client.get("/").status_code == 200
    assert entries(services, "staff.signed_out") == []


def test_wrong_password_and_wrong_email_get_the_same_answer(services: Any, staff: str) -> None:
    with console_client(services) as client:
        token = form_token(client.get("/login").text)
        answers = []
        for email, password in [(STAFF, "not-the-password"), ("nobody@agency.example", PASSWORD)]:
            response = client.post("/login", data={"email": email, "password": password, "csrf": token})
            answers.append((response.status_code, response.text.replace(email, "EMAIL")))
            assert SESSION not in response.headers.get("set-cookie", "")
        assert answers[0] == answers[1]
        assert answers[0][0] == 401 and "The email address or the password is not right" in answers[0][1]
        empty = client.post("/login", data={"email": "", "password": "", "csrf": token})
        assert empty.status_code == 400
        assert '<a href="#email">Enter your email address</a>' in empty.text
        assert '<a href="#password">Enter your password</a>' in empty.text
        assert 'aria-describedby="email-error"' in empty.text


def test_failed_sign_ins_are_limited_per_account_and_per_address(services: Any, staff: str) -> None:
    limits = {"signin_rate_limit_account_failures": 3, "signin_rate_limit_address_failures": 5}
    # The peer is a trusted proxy, so X-Forwarded-For says which address a request came from.
    with console_client(services, trusted_proxies=["192.0.2.10/32"], **limits) as client:
        client.headers["X-Forwarded-For"] = "203.0.113.50"
        statuses = [sign_in(client, password="not-the-password").status_code for _ in range(3)]
        limited = sign_in(client)  # the right password, but the account has used its failures
        assert statuses == [401, 401, 401] and limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0 and "Too many failed sign-ins" in limited.text
        assert SESSION not in limited.headers.get("set-cookie", "")
        others = [sign_in(client, email=f"x{i}@agency.example").status_code for i in range(3)]
        assert others == [401, 401, 429]  # two more failures from this address reach its limit of 5
        client.headers["X-Forwarded-For"] = "198.51.100.4"
        assert sign_in(client, email="other@agency.example").status_code == 401
        assert sign_in(client).status_code == 429  # the account stays limited from every address
    assert entries(services, "staff.signed_in") == []


def test_after_sign_out_the_old_cookie_is_dead(services: Any, staff: str) -> None:
    with console_client(services) as client:
        sign_in(client)
        old = client.cookies.get(SESSION)
        home = client.get("/")
        response = client.post("/logout", data={"csrf": form_token(home.text)})
        assert (response.status_code, response.headers["location"]) == (303, "/login?signed_out=1")
        (cleared,) = set_cookie_headers(response, SESSION)
        assert "Max-Age=0" in cleared or "expires=" in cleared.lower()
        assert "You have signed out." in client.get("/login?signed_out=1").text
        client.cookies.set(SESSION, old)
        replay = client.get("/")
        assert (replay.status_code, replay.headers["location"]) == (303, "/login")
        assert client.post("/logout", data={"csrf": form_token(home.text)}).status_code == 303
    (signed_in,) = entries(services, "staff.signed_in")
    (signed_out,) = entries(services, "staff.signed_out")
    assert signed_out["data"]["session"] == signed_in["data"]["session"]
    assert signed_out["data"]["user_agent"] == "console-test/1.0"


def test_sign_in_rotates_the_session_id(services: Any, staff: str) -> None:
    with console_client(services) as client:
        token = form_token(client.get("/login").text)
        form = {"email": STAFF, "password": PASSWORD, "csrf": token}
        client.post("/login", data=form)
        first = client.cookies.get(SESSION)
        client.post("/login", data=form)  # a second tab's form, posted while signed in
        second = client.cookies.get(SESSION)
        assert first and second and first != second
        client.cookies.set(SESSION, first)
        assert client.get("/").status_code == 303
    first_entry, second_entry = entries(services, "staff.signed_in")
    assert second_entry["data"]["replaced"] == first_entry["data"]["session"]


def test_idle_and_absolute_timeouts(services: Any, staff: str) -> None:
    clock = FakeClock()
    with console_client(services, clock=clock, console_session_idle_hours=1, console_session_absolute_days=1) as client:
        sign_in(client)
        for _ in range(23):
            clock.advance(minutes=59)
            assert client.get("/").status_code == 200, clock.now
        clock.advance(minutes=60)
        assert client.get("/").status_code == 303  # idle for an hour
        sign_in(client)
        clock.advance(minutes=59)
        assert client.get("/").status_code == 200
        clock.advance(hours=2)
        assert client.get("/").headers["location"] == "/login"
        sign_in(client)
        for _ in range(24):
            clock.advance(minutes=59)
            client.get("/")
        clock.advance(minutes=24)
        assert client.get("/").status_code == 303  # 24 h after sign-in, however active
