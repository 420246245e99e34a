"""The case list (``/``) and the form that opens a case (``/cases/new``), ``docs/console.md``.

The list is ``vault.cases.listing.case_page`` (one page of rows and a count, filtered, sorted and paged in
SQL); opening a case calls ``vault.cases.lifecycle.open_case``, the function behind ``POST /api/v1/cases``.
Filters are a GET form, so the list works without JavaScript and a filtered list is a link one can share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from api.console.case_header import STATUS_LABELS
from api.console.page import ConsolePage, FormDep, PageDep
from vault.cases import lifecycle, listing, playbooks
from vault.db import Unit
from vault.errors import InvalidInput, NotFound, OffboardError
from vault.orgs.staff import list_staff, normalize_email
from vault.states import CaseStatus

router = APIRouter(include_in_schema=False)
TRIGGER_LABELS = {
    lifecycle.Trigger.CANCELLATION: "Cancellation",
    lifecycle.Trigger.CONTRACT_END: "Contract ended",
    lifecycle.Trigger.EARLY_TERMINATION: "Early termination",
    lifecycle.Trigger.PROJECT_CONCLUDED: "Project concluded",
}
#: Which form field a domain refusal is about, by the words its message uses (first match wins).
_FIELD_OF_MESSAGE = (
    ("client name", "client_name"),
    ("staff member", "owner_email"),
    ("contact", "contacts"),
    ("target end date", "target_end_date"),
    ("intent date", "intent_date"),
    ("playbook", "service_type"),
    ("trigger", "trigger"),
)
_CONTACT_SPLIT = re.compile(r"[\s,;]+")


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str


def _staff_choices(session: Session, organization_id: str) -> list[Choice]:
    return [
        Choice(m.email, f"{m.name} ({m.email})" if m.name else m.email)
        for m in list_staff(session, organization_id)
        if m.active
    ]


#: Cases a page of the list shows: the overdue ones come first, so they are on the first page.
PAGE_SIZE = 100


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
def case_list(
    page: PageDep,
    status: Annotated[str, Query(max_length=40)] = "",
    owner: Annotated[str, Query(max_length=320)] = "",
    q: Annotated[str, Query(max_length=listing.MAX_SEARCH)] = "",
    number: Annotated[int, Query(alias="page", ge=1, lt=2**31)] = 1,
) -> Response:
    """Every case of the organization, overdue first, ``PAGE_SIZE`` to a page; ``PageDep`` sends anyone not
    signed in to ``/login``."""
    chosen = lifecycle.CaseStatus(status) if status in {s.value for s in CaseStatus} else None
    narrow = listing.CaseListFilter(status=chosen, owner_email=owner.strip().lower() or None, search=q)
    org, today = page.principal.organization_id, page.services.clock().date()

    def read(session: Session) -> tuple[listing.CasePage, list[Choice]]:
        shown = listing.case_page(session, org, today=today, narrow=narrow, number=number, size=PAGE_SIZE)
        return shown, _staff_choices(session, org)

    shown, owners = page.services.read(read)
    number, pages = shown.number, shown.pages
    query = {k: v for k, v in (("status", status), ("owner", owner), ("q", q)) if v}
    return page.render(
        "cases",
        section="cases",
        rows=shown.rows,
        total=shown.total,
        paging={
            "number": number,
            "pages": pages,
            "previous": "/?" + urlencode({**query, "page": number - 1}) if number > 1 else None,
            "next": "/?" + urlencode({**query, "page": number + 1}) if number < pages else None,
            "first": (number - 1) * PAGE_SIZE + 1,
        },
        owners=owners,
        statuses=[Choice(s.value, label) for s, label in STATUS_LABELS.items()],
        status_labels={s.value: label for s, label in STATUS_LABELS.items()},
        filters={"status": chosen.value if chosen else "", "owner": narrow.owner_email or "", "q": q},
        filtered=bool(chosen or narrow.owner_email or q.strip()),
    )


def _new_case_page(page: ConsolePage, status: int = 200, /, **context: Any) -> HTMLResponse:
    org = page.principal.organization_id
    clock = page.services.clock

    def read(session: Unit) -> tuple[list[Choice], list[Choice], str]:
        rows = playbooks.list_playbooks(session, org, clock=clock)
        default = next((p.key for p in rows if p.is_default), rows[0].key if rows else "")
        return _staff_choices(session, org), [Choice(p.key, p.title) for p in rows], default

    # ``list_playbooks`` installs the shipped playbooks on first use, so it runs on the write path.
    owners, services, default_service = page.services.transact(read)
    values = {
        "client_name": "",
        "owner_email": page.identity.email,
        "service_type": default_service,
        "trigger": lifecycle.Trigger.CANCELLATION.value,
        "contacts": "",
        "intent_date": page.services.clock().date().isoformat(),
        "target_end_date": "",
        **context.pop("values", {}),
    }
    errors: list[dict[str, str]] = context.pop("errors", [])
    return page.render(
        "case_new",
        status,
        section="cases",
        owners=owners,
        service_types=services,
        triggers=[Choice(t.value, label) for t, label in TRIGGER_LABELS.items()],
        values=values,
        errors=errors,
        field_errors={e["field"]: e["message"] for e in errors if e.get("field")},
    )


@router.get("/cases/new", response_class=HTMLResponse)
def new_case_form(page: PageDep) -> Response:
    page.principal.can_write()
    return _new_case_page(page)


def _date(errors: list[dict[str, str]], field: str, label: str, text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors.append({"field": field, "message": f"{label} must be a real date, like 2026-12-03"})
        return None


def _contacts(errors: list[dict[str, str]], text: str) -> list[str]:
    contacts = []
    for value in _CONTACT_SPLIT.split(text.strip()):
        if not value:
            continue
        try:
            contacts.append(normalize_email(value))
        except OffboardError:
            errors.append({"field": "contacts", "message": f"{value[:80]} is not an email address"})
            break
    return contacts


def _domain_error(exc: OffboardError) -> dict[str, str]:
    message = str(exc)
    field = next((name for words, name in _FIELD_OF_MESSAGE if words in message.lower()), "")
    return {"field": field, "message": message[:1].upper() + message[1:]}


@router.post("/cases/new", response_class=HTMLResponse)
def open_case(
    page: FormDep,
    client_name: Annotated[str, Form(max_length=1000)] = "",
    owner_email: Annotated[str, Form(max_length=320)] = "",
    service_type: Annotated[str, Form(max_length=64)] = "",
    trigger: Annotated[str, Form(max_length=40)] = "",
    contacts: Annotated[str, Form(max_length=20_000)] = "",
    intent_date: Annotated[str, Form(max_length=40)] = "",
    target_end_date: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Open a case with ``lifecycle.open_case`` (as ``POST /api/v1/cases``); refusals show the form again."""
    values = {
        "client_name": client_name, "owner_email": owner_email, "service_type": service_type, "trigger": trigger,
        "contacts": contacts, "intent_date": intent_date, "target_end_date": target_end_date,
    }  # fmt: skip
    errors: list[dict[str, str]] = []
    if not client_name.strip():
        errors.append({"field": "client_name", "message": "Enter the client's name"})
    if not owner_email.strip():
        errors.append({"field": "owner_email", "message": "Choose the case's owner"})
    intent = _date(errors, "intent_date", "The intent-to-leave date", intent_date)
    target = _date(errors, "target_end_date", "The end of service date", target_end_date)
    emails = _contacts(errors, contacts)
    if errors:
        return _new_case_page(page, 400, values=values, errors=errors)
    principal, clock = page.principal, page.services.clock

    def work(session: Unit) -> str:
        case = lifecycle.open_case(
            session,
            principal,
            client_name=client_name,
            owner_email=owner_email,
            contacts=emails,
            service_type=service_type or None,
            trigger=trigger or None,
            intent_date=intent,
            target_end_date=target,
            clock=clock,
        )
        return case.id

    try:
        case_id = page.services.transact(work)
    except (InvalidInput, NotFound) as exc:
        # A refusal about what was typed (an unknown playbook is one too): the form again, values kept.
        return _new_case_page(page, 400, values=values, errors=[_domain_error(exc)])
    return page.done(f"/cases/{case_id}", f"Case opened for {client_name.strip()}.")
