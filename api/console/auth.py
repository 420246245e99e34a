"""Who is signed in to the console: the session a request's cookie names, checked on the server on every
request, and the CSRF check of every state-changing form.

Pages call ``signed_in`` and redirect to ``/login`` when it returns ``None``; data routes (later) will
answer 401 instead. ``require_form_token`` is the one CSRF check of signed-in forms.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse

from api.console.state import ConsoleState
from vault.errors import Unauthorized
from vault.orgs import signin


def session_secret(request: Request, st: ConsoleState) -> str | None:
    return request.cookies.get(st.cookies.session) or None


def signed_in(request: Request, st: ConsoleState) -> signin.LiveSession | None:
    """The live session of this request, or ``None``. Activity is recorded at most once a minute."""
    secret = session_secret(request, st)
    if secret is None:
        return None
    svc = st.services
    try:
        live = svc.read(lambda session: signin.resolve_session(session, secret, policy=st.policy, clock=svc.clock))
    except Unauthorized:
        return None
    if live.stale:
        svc.transact(lambda session: signin.touch_session(session, live.session_id, clock=svc.clock))
    return live


def to_login(st: ConsoleState, *, clear: bool = False) -> RedirectResponse:
    response = RedirectResponse("/login", status_code=303, headers=st.headers())
    if clear:
        forget_session(response, st)
    return response


def forget_session(response: RedirectResponse, st: ConsoleState) -> None:
    response.delete_cookie(st.cookies.session, path="/", secure=st.cookies.secure, httponly=True, samesite="lax")


def require_form_token(request: Request, st: ConsoleState, live: signin.LiveSession, presented: str | None) -> None:
    """``Forbidden`` unless the form came from this site and carries this session's CSRF token."""
    if not st.same_origin(request):
        signin.check_csrf(live.csrf_token, None)
    signin.check_csrf(live.csrf_token, presented)
