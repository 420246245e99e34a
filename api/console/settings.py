"""The console's settings pages, for admins only (``docs/console.md``, "Settings"): the organization's
name, branding (accent colour, Reply-To of client emails, logo) and reminder settings, its API tokens and
its checkpoint signing keys. Staff and playbooks are in ``settings_people.py``, webhooks in
``settings_webhooks.py``.

Each form is an adapter over the domain functions the API and the CLI use (``rename_organization``,
``set_branding``, ``set_logo``/``remove_logo``, ``create_token``/``revoke_token``, ``rotate_key``).
Everyone but an admin gets 403 on every page and form. A refused value answers the same page again with
status 422 (413 for a logo too large), an error summary and the message at the field; a new token's
secret is shown in the answer to the form itself (never in a redirect, a cookie or a later page), once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from api.console.page import ConsolePage, FormDep, PageDep
from vault.db import Unit
from vault.errors import InvalidInput, NotFound, PayloadTooLarge
from vault.ledger import keyring
from vault.ledger import service as ledger_service
from vault.models import Organization
from vault.orgs import staff
from vault.orgs.branding import DEFAULT_ACCENT, accent_colour, reply_address, set_branding
from vault.orgs.logo import LOGO_MAX_BYTES, remove_logo, set_logo
from vault.orgs.organizations import IssuedToken, Role, create_token, rename_organization
from vault.reminders import policy
from vault.reminders.policy import policy_of, time_zone

router = APIRouter(prefix="/settings")
#: The settings pages, in the order their tabs show them.
TABS = (
    ("organization", "Organization", "/settings"),
    ("staff", "Staff", "/settings/staff"),
    ("tokens", "API tokens", "/settings/tokens"),
    ("playbooks", "Playbooks", "/settings/playbooks"),
    ("keys", "Signing keys", "/settings/keys"),
    ("webhooks", "Webhooks", "/settings/webhooks"),
)


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem to show in the error summary and, when ``field`` names a control, next to it."""

    field: str
    message: str


def admin(page: ConsolePage) -> ConsolePage:
    """Settings are for admins: ``Forbidden`` (a 403 page) for anyone else."""
    page.principal.require(Role.ADMIN)
    return page


def render(
    page: ConsolePage, tab: str, status: int = 200, /, *, errors: list[FieldError] | None = None, **context: Any
) -> HTMLResponse:
    """A settings page: its tab, and the error summary and field messages of a refused form."""
    found = errors or []
    return page.render(
        f"settings_{tab}",
        status,
        section="settings",
        tab=tab,
        tabs=TABS,
        errors=found,
        field_errors={e.field: e.message for e in found},
        **context,
    )


def _organization(session: Session, page: ConsolePage) -> Organization:
    org = session.get(Organization, page.principal.organization_id)
    if org is None:
        raise NotFound("the organization no longer exists")
    return org


def _org_page(
    page: ConsolePage, status: int = 200, *, errors: list[FieldError] | None = None, **values: Any
) -> HTMLResponse:
    org, policy = page.services.read(lambda session: (_organization(session, page), policy_of(session, org_id(page))))
    context = {
        "name": org.name,
        "accent": org.accent_colour or "",
        "reply_to": org.reply_to or "",
        "timezone": policy.timezone,
        "digest_hour": str(policy.digest_hour),
        "escalate_after": str(policy.escalate_after_days),
        "client_schedule": ",".join(str(d) for d in policy.client_schedule),
        **values,
    }
    limits = {"default_accent": DEFAULT_ACCENT, "logo_max_kib": LOGO_MAX_BYTES // 1024}
    return render(page, "organization", status, errors=errors, org=org, **limits, **context)


@router.get("", response_class=HTMLResponse)
def organization_page(page: PageDep) -> Response:
    return _org_page(admin(page))


@router.post("/organization", response_class=HTMLResponse)
def rename(page: FormDep, name: Annotated[str, Form(max_length=1000)] = "") -> Response:
    admin(page)
    try:
        org = page.services.transact(
            lambda session: rename_organization(session, page.principal, name=name, clock=page.services.clock)
        )
    except InvalidInput as exc:
        return _org_page(page, 422, errors=[FieldError("name", sentence(str(exc)))], name=name)
    return page.done("/settings", f"The organization is now called {org.name}.")


@router.post("/branding", response_class=HTMLResponse)
def branding(
    page: FormDep,
    accent: Annotated[str, Form(max_length=100)] = "",
    reply_to: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    admin(page)
    errors = []
    for field, check, value in (("accent", accent_colour, accent), ("reply-to", reply_address, reply_to)):
        try:
            check(value)
        except InvalidInput as exc:
            errors.append(FieldError(field, sentence(str(exc))))
    if errors:
        return _org_page(page, 422, errors=errors, accent=accent, reply_to=reply_to)
    page.services.transact(
        lambda session: set_branding(
            session, page.principal, accent=accent, reply_to=reply_to, clock=page.services.clock
        )
    )
    return page.done("/settings", "The branding clients see is saved.")


def org_id(page: ConsolePage) -> str:
    return page.principal.organization_id


def _whole(value: str, check: Callable[[int], int], what: str) -> int:
    text = value.strip()
    if not text.isdigit():
        raise InvalidInput(f"{what} must be a whole number; got {value!r}")
    return check(int(text))


@router.post("/reminders", response_class=HTMLResponse)
def reminders(
    page: FormDep,
    timezone: Annotated[str, Form(max_length=100)] = "",
    digest_hour: Annotated[str, Form(max_length=10)] = "",
    escalate_after: Annotated[str, Form(max_length=10)] = "",
    client_schedule: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """When reminders go out (``set_policy``, as ``offboard org reminders`` and the API)."""
    admin(page)
    errors, parsed = [], {}
    checks: list[tuple[str, Callable[[], object]]] = [
        ("timezone", lambda: time_zone(timezone)),
        ("digest-hour", lambda: _whole(digest_hour, policy.digest_hour, "digest hour")),
        ("escalate-after", lambda: _whole(escalate_after, policy.escalation_days, "escalation days")),
        ("client-schedule", lambda: policy.client_schedule(client_schedule)),
    ]
    for field, check in checks:
        try:
            parsed[field] = check()
        except InvalidInput as exc:
            errors.append(FieldError(field, sentence(str(exc))))
    if errors:
        values = {"timezone": timezone, "digest_hour": digest_hour, "escalate_after": escalate_after}
        return _org_page(page, 422, errors=errors, client_schedule=client_schedule, **values)
    page.services.transact(
        lambda session: policy.set_policy(
            session,
            page.principal,
            timezone=timezone,
            hour=int(digest_hour),
            escalate_after=int(escalate_after),
            schedule=client_schedule,
            clock=page.services.clock,
        )
    )
    return page.done("/settings", "The reminder settings are saved.")


@router.post("/logo", response_class=HTMLResponse)
def logo_upload(page: FormDep, logo: Annotated[UploadFile | None, File()] = None) -> Response:
    """A new logo (multipart); a refused file answers the page again with the reason at the field."""
    admin(page)
    # One byte past the cap is enough to refuse it, whatever the upload's real size.
    data = logo.file.read(LOGO_MAX_BYTES + 1) if logo is not None else b""
    try:
        page.services.transact(lambda session: set_logo(session, page.principal, data=data, clock=page.services.clock))
    except InvalidInput as exc:
        status = 413 if isinstance(exc, PayloadTooLarge) else 422
        return _org_page(page, status, errors=[FieldError("logo", sentence(str(exc)))])
    return page.done("/settings", "The logo is saved; clients see it on their pages and emails from now on.")


@router.post("/logo/remove", response_class=HTMLResponse)
def logo_remove(page: FormDep) -> Response:
    admin(page)
    page.services.transact(lambda session: remove_logo(session, page.principal, clock=page.services.clock))
    return page.done("/settings", "The logo is removed.")


def _tokens_page(
    page: ConsolePage,
    status: int = 200,
    *,
    errors: list[FieldError] | None = None,
    issued: IssuedToken | None = None,
    **values: Any,
) -> HTMLResponse:
    tokens = page.services.read(lambda session: staff.list_tokens(session, page.principal))
    context = {"token_name": "", "token_role": Role.MEMBER.value, **values}
    return render(page, "tokens", status, errors=errors, tokens=tokens, issued=issued, roles=list(Role), **context)


@router.get("/tokens", response_class=HTMLResponse)
def tokens_page(page: PageDep) -> Response:
    return _tokens_page(admin(page))


@router.post("/tokens", response_class=HTMLResponse)
def token_create(
    page: FormDep,
    name: Annotated[str, Form(max_length=1000)] = "",
    role: Annotated[str, Form(max_length=32)] = Role.MEMBER.value,
) -> Response:
    admin(page)
    try:
        issued = page.services.transact(
            lambda session: create_token(
                session,
                organization_id=page.principal.organization_id,
                name=name,
                role=role,
                clock=page.services.clock,
            )
        )
    except InvalidInput as exc:
        field = "token-role" if "role" in str(exc) else "token-name"
        return _tokens_page(page, 422, errors=[FieldError(field, sentence(str(exc)))], token_name=name, token_role=role)
    return _tokens_page(page, 201, issued=issued)


@router.post("/tokens/{token_id}/revoke", response_class=HTMLResponse)
def token_revoke(token_id: str, page: FormDep) -> Response:
    admin(page)
    row = page.services.transact(
        lambda session: staff.revoke_token(session, page.principal, token_id, clock=page.services.clock)
    )
    return page.done("/settings/tokens", f"The token {row.name} is revoked; it no longer works.")


def _keys_page(page: ConsolePage, status: int = 200, *, errors: list[FieldError] | None = None) -> HTMLResponse:
    keys = page.services.read(lambda session: keyring.public_keys(session, page.principal.organization_id))
    return render(page, "keys", status, errors=errors, keys=list(reversed(keys)))


@router.get("/keys", response_class=HTMLResponse)
def keys_page(page: PageDep) -> Response:
    return _keys_page(admin(page))


@router.post("/keys/rotate", response_class=HTMLResponse)
def key_rotate(page: FormDep, confirm: Annotated[str, Form(max_length=8)] = "") -> Response:
    admin(page)
    if confirm != "yes":
        problem = FieldError("confirm", "Tick the box to confirm that you want to replace the signing key")
        return _keys_page(page, 422, errors=[problem])

    def work(session: Unit) -> int:
        org = _organization(session, page)
        return ledger_service.rotate_key(
            session, page.services.settings, org, page.principal.actor, clock=page.services.clock
        )

    index = page.services.transact(work)
    return page.done(
        "/settings/keys", f"A new signing key is in use (ledger entry {index}); old checkpoints still verify."
    )


def sentence(text: str) -> str:
    """A domain message as a form shows it: the CLI's one lower-case line, starting with a capital."""
    return text[:1].upper() + text[1:]


__all__ = ["TABS", "FieldError", "admin", "render", "router", "sentence"]
