"""``offboard case contact ...``: a case's client contacts, who receive acknowledgment links (add, remove, list).

The domain is imported inside each command so that ``offboard --help`` does not load it (issue 14, item 6).
"""

from __future__ import annotations

from typing import Annotated

import typer

from vault.cli.cases import CaseArg, case_app
from vault.cli.common import JsonOpt, emit, operator, out, resolve, resolve_in, services

contact_app = typer.Typer(no_args_is_help=True, help="The client contacts of a case (who receive links).")
case_app.add_typer(contact_app, name="contact")

EmailArg = Annotated[str, typer.Argument(help="The contact's email address.")]


@contact_app.command("add")
def contact_add(case_id: CaseArg, email: EmailArg, as_json: JsonOpt = False) -> None:
    """Add a client contact (records case.contact_added)."""
    from vault.cases import contacts

    with services() as svc:
        case_id = resolve(svc, "case", case_id)
        listed = svc.transact(
            lambda session: contacts.add_contact(session, operator(session), case_id, email=email, clock=svc.clock)
        )
    emit(as_json, {"case": case_id, "contacts": listed}, f"added {listed[-1]}; contacts: {', '.join(listed)}")


@contact_app.command("remove")
def contact_remove(case_id: CaseArg, email: EmailArg, as_json: JsonOpt = False) -> None:
    """Remove a client contact and void their live links (records case.contact_removed)."""
    from vault.cases import contacts

    with services() as svc:
        case_id = resolve(svc, "case", case_id)
        listed = svc.transact(
            lambda session: contacts.remove_contact(session, operator(session), case_id, email=email, clock=svc.clock)
        )
    left = ", ".join(listed) or "none"
    emit(as_json, {"case": case_id, "contacts": listed}, f"removed {email.strip()}; contacts: {left}")


@contact_app.command("list")
def contact_list(case_id: CaseArg, as_json: JsonOpt = False) -> None:
    """List the client contacts of a case."""
    from vault.cases import contacts
    from vault.db import read_session

    with services() as svc, read_session(svc.engine) as session:
        case_id = resolve_in(session, "case", case_id)
        listed = contacts.list_contacts(session, operator(session).organization_id, case_id)
    if as_json:
        emit(True, {"case": case_id, "contacts": listed}, "")
        return
    for contact in listed:
        out.print(contact, markup=False)
