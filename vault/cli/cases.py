"""``offboard case ...``: open, list and show offboarding cases."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from sqlmodel import Session

from vault import cases
from vault.cli.common import JsonOpt, app, emit_json, operator, out, services
from vault.clock import rfc3339
from vault.db import session_scope
from vault.models import Case

case_app = typer.Typer(no_args_is_help=True, help="Offboarding cases.")
app.add_typer(case_app, name="case")


def case_json(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "organization_id": case.organization_id,
        "client_name": case.client_name,
        "owner_email": case.owner_email,
        "status": case.status,
        "opened_at": rfc3339(case.opened_at),
    }


@case_app.command("open")
def case_open(
    client: Annotated[str, typer.Option("--client", help="Client name.")],
    owner: Annotated[str, typer.Option("--owner", help="Owner's email.")],
    as_json: JsonOpt = False,
) -> None:
    """Open an offboarding case."""
    with services() as svc, session_scope(svc.engine) as session:
        case = cases.open_case(session, operator(session), client_name=client, owner_email=owner, clock=svc.clock)
    if as_json:
        emit_json(case_json(case))
    else:
        out.print(case.id)


@case_app.command("list")
def case_list(as_json: JsonOpt = False) -> None:
    """List the organization's cases."""
    with services() as svc, Session(svc.engine) as session:
        rows = cases.list_cases(session, operator(session).organization_id)
    if as_json:
        emit_json([case_json(c) for c in rows])
        return
    table = Table("id", "client", "owner", "status", "opened")
    for c in rows:
        table.add_row(c.id, c.client_name, c.owner_email, c.status, rfc3339(c.opened_at))
    out.print(table)


@case_app.command("show")
def case_show(case_id: str, as_json: JsonOpt = False) -> None:
    """Show one case."""
    with services() as svc, Session(svc.engine) as session:
        case = cases.get_case(session, operator(session).organization_id, case_id)
    if as_json:
        emit_json(case_json(case))
    else:
        for key, value in case_json(case).items():
            out.print(f"{key}: {value}")
