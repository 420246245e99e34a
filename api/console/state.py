"""What the console pages share per application: templates with their CSP, sign-in limits, the session
policy, cookie names, security headers, and who sent a request.

Templates are the shared jinja2 environment (``templates/render.py``) over ``templates/console/``; like the
acknowledgment pages, the stylesheet is inlined and allowed by its SHA-256 in the Content-Security-Policy,
and no script runs at all (``script-src`` is not granted), so every page works, and only works, without
JavaScript.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from api.console.oidc import OidcClient
from templates.render import TEMPLATES, Renderer
from vault.orgs.signin import RequestOrigin, SessionPolicy, SignInLimits
from vault.ratelimit import client_ip
from vault.services import Services

_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class Cookies:
    """Cookie names. Under https the session cookie takes the ``__Host-`` prefix, which browsers accept
    only with ``Secure``, ``Path=/`` and no ``Domain``: no subdomain can plant or overwrite it."""

    session: str
    login_csrf: str
    #: The single sign-on flow under way (``api/console/oidc.py``).
    oidc: str
    secure: bool

    @classmethod
    def for_base_url(cls, secure: bool) -> Cookies:
        prefix = "__Host-" if secure else ""
        return cls(
            session=f"{prefix}offboard_session",
            login_csrf=f"{prefix}offboard_login_csrf",
            oidc=f"{prefix}offboard_oidc",
            secure=secure,
        )


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


class ConsoleRenderer:
    """Console pages from ``templates/console/``, with their stylesheet and small scripts inlined and each
    allowed by its SHA-256 in the Content-Security-Policy (no ``unsafe-inline``, no other request).

    The scripts (``templates/static/console*.js``) only enhance: every page works without them.
    """

    def __init__(self, base: Renderer) -> None:
        self.env = base.env
        static = TEMPLATES / "static"
        self.css = (static / "console.css").read_text(encoding="utf-8")
        self.scripts = tuple(p.read_text(encoding="utf-8") for p in sorted(static.glob("console*.js")))
        script_src = " ".join(_sha256(js) for js in self.scripts) or "'none'"
        self.csp = (
            f"default-src 'none'; style-src {_sha256(self.css)}; script-src {script_src}; img-src 'self' data:; "
            "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        )

    def page(self, template: str, /, **context: Any) -> str:
        # Markup: our own stylesheet and scripts in raw-text elements must not be escaped (they would no
        # longer match their CSP hashes).
        return self.env.get_template(f"console/{template}.html").render(
            css=Markup(self.css),  # noqa: S704
            scripts=[Markup(js) for js in self.scripts],  # noqa: S704
            **context,
        )


@dataclass(slots=True)
class ConsoleState:
    services: Services
    renderer: ConsoleRenderer
    limits: SignInLimits
    policy: SessionPolicy
    cookies: Cookies
    #: Single sign-on, when ``OFFBOARD_OIDC_ISSUER`` and the client credentials are set.
    oidc: OidcClient | None = None

    def headers(self) -> dict[str, str]:
        return {
            "Cache-Control": "no-store",
            "Pragma": "no-cache",
            "Referrer-Policy": "same-origin",
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": self.renderer.csp,
        }

    def html(self, template: str, status: int = 200, /, **context: Any) -> HTMLResponse:
        return HTMLResponse(self.renderer.page(template, **context), status_code=status, headers=self.headers())

    def origin(self, request: Request) -> RequestOrigin:
        peer = request.client.host if request.client else None
        address = client_ip(peer, request.headers.get("x-forwarded-for"), self.services.settings.trusted_proxies)
        return RequestOrigin(address=address, user_agent=request.headers.get("user-agent", ""))

    def same_origin(self, request: Request) -> bool:
        """False only for a form posted from a named other site (``Origin`` is advisory: browsers send
        ``null`` or nothing in some cases; the CSRF token is the real defence)."""
        origin = request.headers.get("origin")
        if origin is None or origin == "null":
            return True
        base = urlsplit(self.services.settings.base_url)
        return origin == f"{base.scheme}://{base.netloc}"


def _oidc_client(svc: Services) -> OidcClient | None:
    settings = svc.settings
    if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret):
        return None
    return OidcClient(
        issuer=settings.oidc_issuer,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        redirect_uri=settings.base_url.rstrip("/") + "/login/oidc/callback",
        clock=svc.clock,
    )


def console_state(request: Request) -> ConsoleState:
    """The application's console state, built on first use (the app is built before its services run)."""
    state = request.app.state
    found: ConsoleState | None = getattr(state, "console", None)
    if found is None:
        with _lock:
            found = getattr(state, "console", None)
            if found is None:
                svc: Services = state.services
                settings = svc.settings
                # The deployment's one jinja2 environment (built by create_app), shared with the emails.
                base = svc.renderer if isinstance(svc.renderer, Renderer) else Renderer()
                found = ConsoleState(
                    services=svc,
                    renderer=ConsoleRenderer(base),
                    limits=SignInLimits.from_settings(settings, clock=svc.clock),
                    policy=SessionPolicy.from_settings(settings),
                    cookies=Cookies.for_base_url(settings.secure_cookies),
                    oidc=_oidc_client(svc),
                )
                state.console = found
    return found
