"""The client's acknowledgment page ``/ack/<token>``: server-rendered, no JavaScript, no third-party assets.

GET and HEAD only show the receipt and record ``receipt.opened`` (mail scanners fetch links and run
scripts); a POST with the CSRF token acknowledges or disputes (``docs/receipts.md``, "Link security").

Two limits. Guesses: an unknown or malformed token gets one generic 404 page, byte for byte, and counts
against the client's address; past ``OFFBOARD_ACK_RATE_LIMIT_FAILURES`` in the window every ``/ack``
request from that address gets 429. A token that exists is never a guess: a used, voided or expired link
gets its own 410 page saying so, and costs no budget. Refused answers: a POST on a live link refused by
the CSRF check or with a form error, or a download of a file the receipt does not list, counts against
that link; past ``OFFBOARD_ACK_LINK_RATE_LIMIT_FAILURES`` every request for it gets 429 until the window
moves on. Losing a race to answer (a double click, a retry) is neither: its holder is told the link is used.

CSRF: a double-submit token. The page sets a random value in a ``SameSite=Strict``, ``HttpOnly`` cookie
scoped to ``/ack/`` and in the form; a POST must carry both, equal. A cross-site form cannot read or
send the cookie. An ``Origin`` header naming a site must also be the origin of ``OFFBOARD_BASE_URL``.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from api.headers import content_disposition
from vault.db import read_session
from vault.errors import InvalidInput, RateLimited
from vault.evidence.ingest import stream_verified
from vault.evidence.retrieval import Channel, record_retrieval
from vault.handover import acknowledgments as acks
from vault.handover import answer_mail
from vault.handover.countersigning import CONSENT_TEXT
from vault.handover.links import LinkState, LinkStatus
from vault.handover.receipt_pdf import receipt_pdf_source
from vault.handover.receipt_pdf_store import receipt_pdf
from vault.mail import Mailer
from vault.models import Receipt
from vault.orgs.branding import ClientBrand, client_brand
from vault.orgs.organizations import Principal, Role
from vault.ratelimit import Limiter, StoredFailureLimiter, client_ip
from vault.rendering import Renderer
from vault.services import Services

router = APIRouter(include_in_schema=False)
COOKIE = "offboard_ack_csrf"
_state_lock = threading.Lock()


@dataclass(slots=True)
class AckState:
    """Per-application state of the pages: the services (with the renderer and the mailer) and the two
    limiters."""

    services: Services
    #: Unknown tokens per client address.
    guesses: Limiter
    #: Refused answers per link id.
    refusals: Limiter

    @property
    def renderer(self) -> Renderer:
        return self.services.templates

    @property
    def mailer(self) -> Mailer | None:
        return self.services.mailer

    def headers(self, brand: ClientBrand | None = None, /, **extra: str) -> dict[str, str]:
        return {
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
            "Pragma": "no-cache",
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": self.renderer.csp_for(brand.accent if brand else None),
            **extra,
        }

    def html(
        self, template: str, status: int = 200, brand: ClientBrand | None = None, /, **context: Any
    ) -> HTMLResponse:
        """The page ``template``, in the colours and with the logo of ``brand`` (the organization's) if given."""
        body = self.renderer.page(template, brand=brand, **context)
        return HTMLResponse(body, status_code=status, headers=self.headers(brand))

    def brand(self, document: dict[str, Any]) -> ClientBrand | None:
        """The current branding of the organization that issued the receipt ``document``."""
        return self.services.read(lambda session: client_brand(session, document["organization"]["id"]))


def ack_state(request: Request) -> AckState:
    state = request.app.state
    found: AckState | None = getattr(state, "ack_pages", None)
    if found is None:
        with _state_lock:
            found = getattr(state, "ack_pages", None)
            if found is None:
                svc: Services = state.services
                settings = svc.settings
                # Counted in the database, so every process of the deployment spends the same budget.
                guesses = StoredFailureLimiter(
                    "ack-address",
                    settings.ack_rate_limit_failures,
                    settings.ack_rate_limit_window_seconds,
                    read=svc.read,
                    transact=svc.transact,
                    clock=svc.clock,
                    refusal="too many unknown links were tried from this address; try again later",
                )
                refusals = StoredFailureLimiter(
                    "ack-link",
                    settings.ack_link_rate_limit_failures,
                    settings.ack_link_rate_limit_window_seconds,
                    read=svc.read,
                    transact=svc.transact,
                    clock=svc.clock,
                    refusal="too many answers on this link were refused; try again later",
                )
                found = AckState(svc, guesses, refusals)
                state.ack_pages = found
    return found


def _ip(request: Request, st: AckState) -> str:
    peer = request.client.host if request.client else None
    return client_ip(peer, request.headers.get("x-forwarded-for"), st.services.settings.trusted_proxies)


def _meta(request: Request, st: AckState) -> acks.ClientMeta:
    return acks.ClientMeta(ip=_ip(request, st), user_agent=request.headers.get("user-agent", ""))


def _limited(st: AckState, limiter: Limiter, key: str, scope: str) -> HTMLResponse | None:
    """The 429 page when ``key`` (an address or a link id) is over ``limiter``'s budget, else None; ``scope``
    tells the page which ("address" or "link")."""
    try:
        limiter.check(key)
    except RateLimited as exc:
        response = st.html("limited", 429, scope=scope)
        response.headers["Retry-After"] = str(exc.details.get("retry_after", 60))
        return response
    return None


def _token_status(svc: Services, token: str) -> LinkStatus:
    with read_session(svc.engine) as session:
        return acks.token_status(session, token, clock=svc.clock)


def _view_link(svc: Services, token: str) -> acks.LinkView | LinkStatus:
    with read_session(svc.engine) as session:
        return acks.view_link(session, token, clock=svc.clock)


def _not_live(st: AckState, status: LinkStatus, ip: str) -> HTMLResponse:
    """A token that does not open a live link: a guess, or a link whose holder is told its state.

    Only a token no link has is a guess (one page for all, byte for byte, counted against the address).
    A token that exists is 256 random bits that reached its holder by email: saying it was used, voided
    or expired tells a guesser nothing, so it gets its own page and costs no budget.
    """
    if status.state is LinkState.UNKNOWN:
        st.guesses.fail(ip)
        return st.html("invalid", 404)
    return st.html(
        "gone",
        410,
        state=status.state.value,
        answer=status.answer,
        used_at=status.used_at,
        expires_at=status.expires_at,
    )


def _admit(st: AckState, token: str, ip: str) -> LinkStatus | Response:
    """The checks before a request touches a live link: the address's budget, then the token's state, then
    the link's budget; the status of the live link, or the page that refuses the request.

    The token is read before anything is written, so a link over its refusal budget is answered before
    opening it records anything; a POST with an unknown token is a guess whatever its form says, and a
    dead link's holder is told its state (a POST there can change nothing, so it is not counted either).
    """
    if limited := _limited(st, st.guesses, ip, "address"):
        return limited
    status = _token_status(st.services, token)
    if status.state is not LinkState.LIVE:
        return _not_live(st, status, ip)
    if limited := _limited(st, st.refusals, status.link_id, "link"):
        return limited
    return status


def _page(st: AckState, view: acks.LinkView, token: str, csrf: str, *, status: int = 200, **extra: Any) -> HTMLResponse:
    context: dict[str, Any] = {"error": None, "name": "", "dispute_open": False, **extra}
    response = st.html(
        "page",
        status,
        st.brand(view.document),
        organization=view.organization,
        recipient=view.recipient,
        doc=view.document,
        shown=view.shown_sha256,
        expires_at=view.expires_at,
        csrf=csrf,
        base_path=f"/ack/{token}",
        consent_text=CONSENT_TEXT,
        **context,
    )
    secure = st.services.settings.base_url.startswith("https://")
    response.set_cookie(COOKIE, csrf, path="/ack/", httponly=True, samesite="strict", secure=secure)
    return response


def _csrf_cookie(request: Request) -> str:
    value = request.cookies.get(COOKIE, "")
    # Reuse a well-formed cookie, so a second tab does not invalidate the first tab's form.
    return value if 40 <= len(value) <= 64 else secrets.token_urlsafe(32)


@router.api_route("/ack/{token}", methods=["GET", "HEAD"], response_class=HTMLResponse)
def show(token: str, request: Request) -> Response:
    st = ack_state(request)
    svc = st.services
    ip = _ip(request, st)
    admitted = _admit(st, token, ip)
    if isinstance(admitted, Response):
        return admitted
    meta = _meta(request, st)
    view = svc.transact(
        lambda session: acks.open_link(session, token, method=request.method, meta=meta, clock=svc.clock)
    )
    if isinstance(view, LinkStatus):  # answered, voided or expired in between
        return _not_live(st, view, ip)
    return _page(st, view, token, _csrf_cookie(request))


def _same_origin(request: Request, st: AckState) -> bool:
    origin = request.headers.get("origin")
    # Under Referrer-Policy no-referrer browsers send "Origin: null" with form posts; the SameSite=Strict
    # double-submit cookie is the real defence, the Origin check only refuses a named foreign site.
    if origin is None or origin == "null":
        return True
    base = urlsplit(st.services.settings.base_url)
    return origin == f"{base.scheme}://{base.netloc}"


def _form_accepted(request: Request, st: AckState, csrf: str) -> bool:
    """The CSRF check of a POST: no foreign ``Origin``, and the form's token equals the cookie's."""
    cookie = request.cookies.get(COOKIE, "")
    return _same_origin(request, st) and bool(cookie) and hmac.compare_digest(cookie, csrf)


@dataclass(frozen=True, slots=True)
class _Answer:
    """The answer form's fields, as posted."""

    action: str
    shown: str
    name: str
    consent: str
    reason: str


def _record(svc: Services, token: str, form: _Answer, meta: acks.ClientMeta) -> acks.Outcome | LinkStatus:
    """Acknowledge or dispute as the form asks; ``InvalidInput`` for any other action or a form error."""
    if form.action == "acknowledge":
        return acks.acknowledge(
            svc.transact,
            svc.settings,
            token,
            name=form.name,
            consent=form.consent == "yes",
            shown_sha256=form.shown,
            meta=meta,
            clock=svc.clock,
        )
    if form.action == "dispute":
        return acks.dispute(
            svc.transact, token, reason=form.reason, shown_sha256=form.shown, meta=meta, clock=svc.clock
        )
    raise InvalidInput("choose Acknowledge or Dispute")


def _refused(st: AckState, token: str, ip: str, cookie: str, form: _Answer, exc: InvalidInput) -> HTMLResponse:
    """The page again with the form's error (400), counted against the link; or the link's state if it died."""
    view = _view_link(st.services, token)
    if isinstance(view, LinkStatus):
        return _not_live(st, view, ip)
    st.refusals.fail(view.link_id)
    return _page(
        st, view, token, cookie, status=400, error=exc.message, name=form.name, dispute_open=form.action == "dispute"
    )


def _receipt_pdf(svc: Services, receipt_id: str) -> Callable[[], bytes]:
    """The signed PDF of a committed receipt, made when the background task asks for it."""

    def pdf() -> bytes:
        with read_session(svc.engine) as session:
            receipt = session.get(Receipt, receipt_id)
            assert receipt is not None  # noqa: S101 - just committed
            source = receipt_pdf_source(session, receipt)
        # Signed (and timestamped) after the session closed: no lock is held across the TSA round trip.
        return receipt_pdf(svc, source)

    return pdf


def _done(st: AckState, outcome: acks.Outcome, name: str) -> HTMLResponse:
    """The confirmation page of the answer that was recorded."""
    return st.html(
        "done",
        200,
        st.brand(outcome.document),
        kind=outcome.kind,
        name=" ".join(name.split()),
        organization=outcome.organization,
        recipient=outcome.recipient,
        at=outcome.at,
        ledger_index=outcome.ledger_index,
        sha256=outcome.countersignature.sha256 if outcome.countersignature is not None else "",
        reason=outcome.reason,
    )


@router.post("/ack/{token}", response_class=HTMLResponse)
def answer(
    token: str,
    request: Request,
    background: BackgroundTasks,
    csrf: Annotated[str, Form(max_length=100)] = "",
    shown: Annotated[str, Form(max_length=100)] = "",
    action: Annotated[str, Form(max_length=20)] = "",
    name: Annotated[str, Form(max_length=1000)] = "",
    consent: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    st = ack_state(request)
    svc = st.services
    ip = _ip(request, st)
    admitted = _admit(st, token, ip)
    if isinstance(admitted, Response):
        return admitted
    if not _form_accepted(request, st, csrf):
        st.refusals.fail(admitted.link_id)
        return st.html("rejected", 403, message="The form was not accepted: its security check failed.")
    form = _Answer(action=action, shown=shown, name=name, consent=consent, reason=reason)
    try:
        outcome = _record(svc, token, form, _meta(request, st))
    except InvalidInput as exc:
        return _refused(st, token, ip, request.cookies.get(COOKIE, ""), form, exc)
    if isinstance(outcome, LinkStatus):
        # The link was answered (or voided) after this request found it live: the losers of a race of
        # concurrent POSTs (a double click, a retry, two tabs) land here. They get the "already used" page,
        # not the confirmation page: a losing request may carry another name or even the other action, so
        # echoing it would confirm an answer that was not recorded; the used page states what was.
        return _not_live(st, outcome, ip)
    background.add_task(
        answer_mail.notify,
        outcome,
        mailer=st.mailer,
        render=st.renderer.email,
        settings=svc.settings,
        pdf=_receipt_pdf(svc, outcome.receipt_id),
    )
    return _done(st, outcome, name)


@router.get("/ack/{token}/files/{evidence_id}")
def download(token: str, evidence_id: str, request: Request) -> Response:
    """A deliverable listed on a live link's receipt; nothing else is reachable through a token."""
    st = ack_state(request)
    svc = st.services
    ip = _ip(request, st)
    if limited := _limited(st, st.guesses, ip, "address"):
        return limited
    view = _view_link(svc, token)
    if isinstance(view, LinkStatus):
        return _not_live(st, view, ip)
    if limited := _limited(st, st.refusals, view.link_id, "link"):
        return limited
    if evidence_id not in {item["evidence"] for item in view.document["deliverables"]}:
        st.refusals.fail(view.link_id)
        return st.html("invalid", 404)
    # The client's copy is part of the chain of custody too, recorded as the contact the link was sent to.
    client = Principal(view.document["organization"]["id"], Role.VIEWER, f"client:{view.recipient}")
    row = svc.transact(
        lambda session: record_retrieval(session, client, evidence_id, channel=Channel.CLIENT_LINK, clock=svc.clock)
    )

    def body() -> Iterator[bytes]:
        yield from stream_verified(svc.store, row)

    headers = st.headers(
        **{
            "Content-Disposition": content_disposition(row.original_filename),
            "Content-Length": str(row.size),
            "X-Offboard-SHA256": row.sha256,
        }
    )
    headers["Content-Security-Policy"] = "sandbox"
    return StreamingResponse(iterate_in_threadpool(body()), media_type=row.content_type, headers=headers)
