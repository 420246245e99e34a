"""What every signed-in console page and form starts from: ``PageDep``, ``FormDep`` and ``DataDep``.

A route that takes one of these is only reached with a live session; the dependency checks it on the server
on every request, so no route can forget to. Without a session a page answers a redirect to ``/login`` and a
data route (JSON, for the upload script) 401 problem+json. ``FormDep`` also checks the form's CSRF token and
that the role may change things (a viewer gets 403); the organization is the session's own, so every domain
call made with ``page.principal`` stays inside it and another organization's ids are simply not found (404).

Domain errors raised by a console route are answered as an HTML page with the same status the API would
use (``api/errors.py`` asks ``request.state.render_problem``), never as JSON, never as a 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, unquote

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.console.auth import require_form_token, session_secret, signed_in, to_login
from api.console.state import ConsoleState, console_state
from vault.errors import Unauthorized
from vault.orgs import signin
from vault.orgs.organizations import Principal, Role
from vault.services import Services

NOTICE_COOKIE = "offboard_notice"
EXPIRED_FORM = "This form has expired or did not come from this site. Go back, reload the page and try again."
#: The console's sections, in the order the navigation shows them (the last one for admins only).
SECTIONS = (("cases", "Cases", "/"), ("ledger", "Ledger", "/ledger"), ("settings", "Settings", "/settings"))


@dataclass(slots=True)
class ConsolePage:
    """One request of a signed-in staff member: who they are, and how pages answer them."""

    request: Request
    st: ConsoleState
    live: signin.LiveSession

    @property
    def services(self) -> Services:
        return self.st.services

    @property
    def identity(self) -> signin.StaffIdentity:
        return self.live.identity

    @property
    def principal(self) -> Principal:
        return self.live.identity.principal

    @property
    def can_write(self) -> bool:
        return self.identity.role in (Role.ADMIN, Role.MEMBER)

    @property
    def is_admin(self) -> bool:
        return self.identity.role is Role.ADMIN

    def render(self, template: str, status: int = 200, /, *, section: str = "cases", **context: Any) -> HTMLResponse:
        """A console page with the navigation, the signed-in staff member and a notice left by a redirect."""
        notice = self.request.cookies.get(NOTICE_COOKIE)
        response = self.st.html(
            template,
            status,
            me=self.identity,
            csrf=self.live.csrf_token,
            can_write=self.can_write,
            is_admin=self.is_admin,
            sections=[s for s in SECTIONS if s[0] != "settings" or self.is_admin],
            section=section,
            flash=unquote(notice)[:300] if notice else None,
            **context,
        )
        if notice:
            response.delete_cookie(NOTICE_COOKIE, path="/")
        return response

    def done(self, url: str, notice: str | None = None) -> RedirectResponse:
        """After a form: see the result at ``url`` (post, redirect, get), with a one-time notice."""
        response = RedirectResponse(url, status_code=303, headers=self.st.headers())
        if notice:
            response.set_cookie(
                NOTICE_COOKIE,
                quote(notice),
                max_age=60,
                path="/",
                httponly=True,
                samesite="strict",
                secure=self.st.cookies.secure,
            )
        return response


def _problem_renderer(request: Request, st: ConsoleState, *, data: bool) -> None:
    """Register how the error handlers answer this request: an HTML page for pages, JSON for data."""

    def render(status: int, title: str, message: str) -> Response | None:
        if data:
            return None
        if status == 401:
            return to_login(st, clear=session_secret(request, st) is not None)
        live = getattr(request.state, "console_live", None)
        context: dict[str, Any] = {"me": live.identity, "csrf": live.csrf_token} if live else {}
        return st.html("problem", status, title=title, message=message, back=_back(request), **context)

    request.state.render_problem = render


def _back(request: Request) -> str:
    # Back to the page the form was on; only a path of this site (never an open redirect).
    path = request.url.path
    return path if request.method == "GET" else path.rsplit("/", 1)[0] or "/"


def _require(request: Request, st: ConsoleState, *, data: bool) -> ConsolePage:
    _problem_renderer(request, st, data=data)
    live = signed_in(request, st)
    if live is None:
        raise Unauthorized("sign in to use the console")
    request.state.console_live = live
    return ConsolePage(request=request, st=st, live=live)


def console_page(request: Request, st: Annotated[ConsoleState, Depends(console_state)]) -> ConsolePage:
    return _require(request, st, data=False)


def console_data(request: Request, st: Annotated[ConsoleState, Depends(console_state)]) -> ConsolePage:
    return _require(request, st, data=True)


def console_form(
    request: Request,
    st: Annotated[ConsoleState, Depends(console_state)],
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> ConsolePage:
    """A signed-in form post: CSRF token checked, and a role that may change things (viewers get 403)."""
    page = _require(request, st, data=False)
    require_form_token(request, st, page.live, csrf)
    page.principal.can_write()
    return page


PageDep = Annotated[ConsolePage, Depends(console_page)]
DataDep = Annotated[ConsolePage, Depends(console_data)]
FormDep = Annotated[ConsolePage, Depends(console_form)]

__all__ = ["EXPIRED_FORM", "ConsolePage", "DataDep", "FormDep", "PageDep"]
