"""Single sign-on pages: ``GET /login/oidc`` sends the browser to the OpenID Connect provider and
``GET /login/oidc/callback`` signs the staff member in whose verified email the provider asserts
(``docs/console.md``, "Single sign-on"). Both answer 404 when single sign-on is not configured.

The flow's cookie is ``SameSite=Lax`` (not Strict): the provider's redirect back is a cross-site
top-level navigation, on which a Strict cookie would not be sent. It is scoped to ``/login/oidc``, lives
ten minutes, and is cleared by the callback whatever the outcome.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.console.oidc import Pending
from api.console.signin import login_page, login_token, start_session
from api.console.state import ConsoleState, console_state
from vault.errors import Forbidden, Unauthorized
from vault.orgs import signin

router = APIRouter(include_in_schema=False)
StateDep = Annotated[ConsoleState, Depends(console_state)]
FLOW_SECONDS = 600
CALLBACK = "/login/oidc/callback"


@router.get("/login/oidc", response_class=HTMLResponse)
def start(st: StateDep) -> Response:
    if st.oidc is None:
        return st.html("problem", 404, title="Page not found", message="Single sign-on is not set up.", back="/login")
    try:
        url, pending = st.oidc.start()
    except Unauthorized as exc:
        return st.html("problem", 502, title="Single sign-on is unavailable", message=exc.message, back="/login")
    response = RedirectResponse(url, status_code=303, headers=st.headers())
    response.set_cookie(
        st.cookies.oidc,
        pending.to_cookie(),
        max_age=FLOW_SECONDS,
        path="/login/oidc",
        httponly=True,
        samesite="lax",
        secure=st.cookies.secure,
    )
    return response


@router.get(CALLBACK, response_class=HTMLResponse)
def callback(
    request: Request,
    st: StateDep,
    code: Annotated[str, Query(max_length=2048)] = "",
    state: Annotated[str, Query(max_length=256)] = "",
    error: Annotated[str, Query(max_length=256)] = "",
) -> Response:
    if st.oidc is None:
        return st.html("problem", 404, title="Page not found", message="Single sign-on is not set up.", back="/login")
    pending = Pending.from_cookie(request.cookies.get(st.cookies.oidc))
    try:
        if pending is None:
            raise Forbidden("this single sign-on answer came without its sign-in in this browser; start again")
        pending.check_state(state)
    except Forbidden as exc:
        return _forget_flow(st.html("problem", 403, title="Sign-in expired", message=exc.message, back="/login"), st)
    try:
        if error or not code:
            raise Unauthorized(f"single sign-on: the provider did not sign you in ({error or 'no code'})")
        email = st.oidc.finish(code=code, pending=pending)
        identity = st.services.read(lambda session: signin.identity_for_verified_email(session, email))
        done = start_session(request, st, identity, method="oidc")
    except Unauthorized as exc:
        errors = [{"field": "", "message": exc.message[:1].upper() + exc.message[1:]}]
        return _forget_flow(login_page(st, login_token(request, st), 401, errors=errors), st)
    return _forget_flow(done, st)


def _forget_flow(response: Response, st: ConsoleState) -> Response:
    response.delete_cookie(st.cookies.oidc, path="/login/oidc", secure=st.cookies.secure, httponly=True)
    return response
