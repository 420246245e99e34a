"""How the case page's forms answer a refusal: the overview again, with the domain's message as an error
summary and next to the field, and the status the API would answer (``docs/console.md``, "The case page").

Only refusals a person fixes in the form (``InvalidInput``, ``Conflict``) come back inline; anything else
(another organization's id, a viewer, a storage failure) is the console's error page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi.responses import HTMLResponse

from api.console.case_view import overview
from api.console.page import ConsolePage
from api.errors import status_for
from vault.errors import OffboardError


@dataclass(frozen=True, slots=True)
class FormError:
    """A refused form: which form, the field to point at, and every message (criteria come as several)."""

    form: str
    target: str
    messages: tuple[str, ...]
    values: dict[str, Any] = field(default_factory=dict)


def refusal(form: str, field_id: str, exc: OffboardError, **values: Any) -> FormError:
    unmet = exc.details.get("unmet")
    messages = tuple(str(m) for m in unmet) if isinstance(unmet, list) and unmet else (exc.message,)
    return FormError(form, field_id, messages, values)


def case_page(
    page: ConsolePage, case_id: str, status: int = 200, *, error: FormError | None = None, step: str = ""
) -> HTMLResponse:
    """The overview of a case, optionally with a refused form shown again."""
    today = page.services.clock().date()
    view = page.services.read(lambda session: overview(session, page.principal, case_id, today=today))
    errors = [{"field": error.target, "message": m} for m in error.messages] if error else []
    return page.render(
        "case",
        status,
        view=view,
        case=view.case,
        tab="overview",
        errors=errors,
        field_errors={error.target: " ".join(error.messages)} if error else {},
        failed=error.form if error else "",
        values=error.values if error else {},
        chosen_step=step,
    )


def refused(page: ConsolePage, case_id: str, error: FormError, exc: OffboardError) -> HTMLResponse:
    status, _ = status_for(exc)
    return case_page(page, case_id, status, error=error)
