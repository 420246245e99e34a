"""The console's sign-in pages: ``GET/POST /login`` and ``POST /logout`` (``docs/console.md``); ``/`` is the
case list (``api/console/cases.py``).

The sign-in form has no session yet, so its CSRF token is a double-submit one: a random value in a
``SameSite=Strict``, ``HttpOnly`` cookie scoped to ``/login`` and in the form, which must be equal. That
stops another site from signing a browser in to an account of the attacker's choosing. Every form of a
signed-in page carries the session's own token instead (``api/console/auth.py``).

A refused sign-in answers the same page, status and message whether the email or the password was wrong.
"""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.console.auth import forget_session, require_form_token, session_secret, signed_in, to_login
from api.console.page import EXPIRED_FORM
from api.console.state import ConsoleState, console_state
from vault.errors import Forbidden, RateLimited, Unauthorized
from vault.orgs import signin

router = APIRouter(include_in_schema=False)
StateDep = Annotated[ConsoleState, Depends(console_state)]
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def login_token(request: Request, st: ConsoleState) -> str:
    value = request.cookies.get(st.cookies.login_csrf, "")
    # Reuse a well-formed cookie, so a second tab does not invalidate the first tab's form.
    return value if _TOKEN.match(value) else secrets.token_urlsafe(32)


def login_page(
    st: ConsoleState, token: str, status: int = 200, *, errors: list[dict[str, str]] | None = None, **context: Any
) -> HTMLResponse:
    fields = {e["field"]: e["message"] for e in errors or [] if e.get("field")}
    values: dict[str, Any] = {"email": "", "notice": None, **context}
    response = st.html(
        "login", status, csrf=token, errors=errors or [], field_errors=fields, sso=st.oidc is not None, **values
    )
    response.set_cookie(
        st.cookies.login_csrf, token, path="/login", httponly=True, samesite="strict", secure=st.cookies.secure
    )
    return response


@router.api_route("/login", methods=["GET", "HEAD"], response_class=HTMLResponse)
def login_form(request: Request, st: StateDep, signed_out: Annotated[str, Query(max_length=8)] = "") -> Response:
    if signed_in(request, st) is not None:
        return RedirectResponse("/", status_code=303, headers=st.headers())
    notice = "You have signed out." if signed_out == "1" else None
    return login_page(st, login_token(request, st), notice=notice)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    st: StateDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=4096)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    cookie = request.cookies.get(st.cookies.login_csrf, "")
    if not st.same_origin(request) or not cookie or not hmac.compare_digest(cookie.encode(), csrf.encode()):
        return st.html("problem", 403, title="Form expired", message=EXPIRED_FORM, back="/login")
    errors = []
    if not email.strip():
        errors.append({"field": "email", "message": "Enter your email address"})
    if not password:
        errors.append({"field": "password", "message": "Enter your password"})
    if errors:
        return login_page(st, cookie, 400, errors=errors, email=email)
    origin = st.origin(request)
    try:
        identity = st.services.read(
            lambda session: signin.check_credentials(
                session, email=email, password=password, origin=origin, limits=st.limits
            )
        )
        done = start_session(request, st, identity, method="password")
    except RateLimited as exc:
        wait = int(exc.details.get("retry_after", 60))
        minutes = max(1, (wait + 59) // 60)
        message = f"Too many failed sign-ins. Wait {minutes} minute{'s' if minutes > 1 else ''} and try again."
        response = login_page(st, cookie, 429, errors=[{"field": "", "message": message}], email=email)
        response.headers["Retry-After"] = str(wait)
        return response
    except Unauthorized:
        errors = [{"field": "email", "message": "The email address or the password is not right"}]
        return login_page(st, cookie, 401, errors=errors, email=email)
    return done


def start_session(request: Request, st: ConsoleState, identity: signin.StaffIdentity, *, method: str) -> Response:
    """Start a session for a checked ``identity`` (replacing the browser's previous one) and send the
    browser home with its cookie: the one ending of every way of signing in."""
    svc, origin = st.services, st.origin(request)
    issued = svc.transact(
        lambda session: signin.start_session(
            session,
            identity=identity,
            origin=origin,
            policy=st.policy,
            replacing=session_secret(request, st),
            method=method,
            clock=svc.clock,
        )
    )
    done = RedirectResponse("/", status_code=303, headers=st.headers())
    set_session_cookie(done, st, issued.secret)
    return done


def set_session_cookie(response: Response, st: ConsoleState, secret: str) -> None:
    response.set_cookie(
        st.cookies.session,
        secret,
        max_age=int(st.policy.absolute.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=st.cookies.secure,
    )


@router.post("/logout", response_class=HTMLResponse)
def logout(request: Request, st: StateDep, csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
    live = signed_in(request, st)
    secret = session_secret(request, st)
    if live is None or secret is None:
        return to_login(st, clear=secret is not None)
    try:
        require_form_token(request, st, live, csrf)
    except Forbidden:
        return st.html("problem", 403, title="Form expired", message=EXPIRED_FORM, back="/")
    svc, origin = st.services, st.origin(request)
    svc.transact(lambda session: signin.end_session(session, secret, origin=origin, clock=svc.clock))
    response = RedirectResponse("/login?signed_out=1", status_code=303, headers=st.headers())
    forget_session(response, st)
    return response
