"""``offboard case ...``: open, list, show and work offboarding cases, and close them through the gate."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vault.cli.common import (
    JsonOpt,
    app,
    emit,
    emit_json,
    err,
    id_text,
    operator,
    out,
    print_table,
    resolve,
    resolve_all,
    resolve_in,
    services,
    short_id_map,
    state,
)

if TYPE_CHECKING:
    from sqlmodel import Session

    from vault.cases.list_sql import CaseRow
    from vault.db import Unit
    from vault.models import Case, CaseStep, CaseWaiver
    from vault.services import Services

case_app = typer.Typer(no_args_is_help=True, help="Offboarding cases.")
app.add_typer(case_app, name="case")

CaseArg = Annotated[str, typer.Argument(help="Case id, or its first 8+ characters.", metavar="CASE", parser=id_text)]


def case_json(case: Case, session: Session | None = None, svc: Services | None = None) -> dict[str, Any]:
    """The case as JSON; with a session it also carries playbook, progress and overdue items."""
    from vault.cases import progress
    from vault.clock import rfc3339
    from vault.models import PlaybookVersion

    out_: dict[str, Any] = {
        "id": case.id,
        "organization_id": case.organization_id,
        "client_name": case.client_name,
        "contacts": json.loads(case.client_contacts),
        "owner_email": case.owner_email,
        "owner_id": case.owner_id,
        "status": case.status,
        "trigger": case.trigger,
        "service_type": case.service_type,
        "intent_date": case.intent_date.isoformat(),
        "target_end_date": case.target_end_date.isoformat() if case.target_end_date else None,
        "opened_at": rfc3339(case.opened_at),
        "closed_at": rfc3339(case.closed_at) if case.closed_at else None,
    }
    if session is not None and svc is not None:
        version = session.get(PlaybookVersion, case.playbook_version_id) if case.playbook_version_id else None
        if version is not None:
            out_["playbook"] = {"key": version.key, "version": version.version, "sha256": version.sha256}
        p = progress.progress(session, case)
        out_["progress"] = {
            "steps_done": p.steps_done,
            "steps_required": p.steps_required,
            "access_revoked": p.access_revoked,
            "access_total": p.access_total,
        }
        out_["overdue"] = [o.to_dict() for o in progress.overdue_items(session, case, svc.clock().date())]
    return out_


def step_json(case: Case, step: CaseStep) -> dict[str, Any]:
    from vault.cases import progress
    from vault.clock import rfc3339

    return {
        "key": step.key,
        "title": step.title,
        "required": step.required,
        "depends_on": json.loads(step.depends_on),
        "criteria": json.loads(step.criteria),
        "due": progress.step_due(case, step).isoformat(),
        "status": step.status,
        "completed_at": rfc3339(step.completed_at) if step.completed_at else None,
        "evidence_ids": json.loads(step.evidence_ids),
        "note": step.note,
        "ledger_index": step.ledger_index,
    }


def _show(case_id: str, as_json: bool) -> None:
    from vault.cases import lifecycle as cases
    from vault.db import read_session

    with services() as svc, read_session(svc.engine) as session:
        full_id = resolve_in(session, "case", case_id)
        case = cases.get_case(session, operator(session).organization_id, full_id)
        data = case_json(case, session, svc)
    if as_json:
        emit_json(data)
    else:
        for key, value in data.items():
            out.print(f"{key}: {value}", markup=False)


@case_app.command("open")
def case_open(
    client: Annotated[str, typer.Option("--client", help="Client name.")],
    owner: Annotated[str, typer.Option("--owner", help="Owner's email (a staff member).")],
    contact: Annotated[list[str] | None, typer.Option("--contact", help="Client contact email (repeatable).")] = None,
    service_type: Annotated[str | None, typer.Option("--service-type", help="Playbook key.")] = None,
    trigger: Annotated[str | None, typer.Option(help="cancellation, contract_end, early_termination...")] = None,
    intent_date: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Default: today.")] = None,
    target_end_date: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
    as_json: JsonOpt = False,
) -> None:
    """Open an offboarding case (the playbook version is snapshotted)."""
    from vault.cases import lifecycle as cases

    with services() as svc:

        def work(session: Unit) -> tuple[Case, dict[str, Any]]:
            case = cases.open_case(
                session,
                operator(session),
                client_name=client,
                owner_email=owner,
                contacts=contact or [],
                service_type=service_type,
                trigger=trigger,
                intent_date=intent_date.date() if intent_date else None,
                target_end_date=target_end_date.date() if target_end_date else None,
                clock=svc.clock,
            )
            return case, case_json(case, session, svc)

        case, data = svc.transact(work)
    if as_json:
        emit_json(data)
    else:
        out.print(case.id)


@case_app.command("list")
def case_list(
    overdue: Annotated[bool, typer.Option("--overdue", help="Only cases with overdue obligations.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List the organization's cases."""
    if as_json:
        _list_json(overdue)
        return
    from vault.cases.direct_listing import read_case_list
    from vault.clock import system_clock

    # The table reads through the DB-API, without the ORM (issue 14, item 6); when that path cannot answer
    # (a database to migrate, an unknown organization) the ordinary one runs the same query.
    listed = read_case_list(org_slug=state.org_slug, today=system_clock().date(), overdue_only=overdue)
    if listed is not None:
        _print_cases(listed.rows, listed.short_ids)
        return
    from vault.cases import listing
    from vault.cases.list_sql import Order
    from vault.db import read_session

    with services() as svc, read_session(svc.engine) as session:
        org = operator(session).organization_id
        today = svc.clock().date()
        rows = listing.case_rows(session, org, today=today, order=Order.OPENED, overdue_only=overdue)
        short = short_id_map(session, "case")
    _print_cases(rows, short)


def _list_json(overdue: bool) -> None:
    from vault.cases import lifecycle as cases
    from vault.cases import progress
    from vault.db import read_session

    with services() as svc, read_session(svc.engine) as session:
        org = operator(session).organization_id
        rows = progress.overdue_cases(session, org, svc.clock().date()) if overdue else cases.list_cases(session, org)
        data = [case_json(c, session, svc) for c in rows]
    emit_json(data)


def _print_cases(rows: list[CaseRow], short: dict[str, str]) -> None:
    # Each id as its shortest unique prefix, whole (issue 14, item 8).
    print_table(
        ("id", "client", "owner", "status", "steps", "access", "overdue"),
        [
            (
                short[r.id],
                r.client_name,
                r.owner_email,
                r.status,
                f"{r.steps_done}/{r.steps_required}",
                f"{r.access_revoked}/{r.access_total}",
                str(r.overdue_items),
            )
            for r in rows
        ],
    )


@case_app.command("show")
def case_show(case_id: CaseArg, as_json: JsonOpt = False) -> None:
    """Show one case with its progress and overdue items."""
    _show(case_id, as_json)


@case_app.command("steps")
def case_steps(case_id: CaseArg, as_json: JsonOpt = False) -> None:
    """List the case's steps with due dates."""
    from vault.cases import lifecycle as cases
    from vault.db import read_session
    from vault.states import StepStatus

    with services() as svc, read_session(svc.engine) as session:
        org = operator(session).organization_id
        case_id = resolve_in(session, "case", case_id)
        case = cases.get_case(session, org, case_id)
        data = [step_json(case, s) for s in cases.list_steps(session, org, case_id)]
    if as_json:
        emit_json(data)
        return
    for s in data:
        mark = "x" if s["status"] == StepStatus.DONE else " "
        out.print(f"[{mark}] {s['key']} (due {s['due']}): {s['title']}", markup=False)


@case_app.command("complete")
def case_complete(
    case_id: CaseArg,
    step: Annotated[str, typer.Argument(help="Step key.")],
    evidence: Annotated[
        list[str] | None, typer.Option("--evidence", help="Evidence id (repeatable).", parser=id_text)
    ] = None,
    note: Annotated[str | None, typer.Option(help="What was done.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Complete a step (its dependencies must be done and its criteria met)."""
    from vault.cases import lifecycle as cases

    with services() as svc:
        case_id = resolve(svc, "case", case_id)
        evidence = resolve_all(svc, "evidence", evidence or [])

        def work(session: Unit) -> tuple[CaseStep, dict[str, Any]]:
            principal = operator(session)
            row = cases.complete_step(
                session, principal, case_id, step, evidence_ids=evidence, note=note, clock=svc.clock
            )
            return row, step_json(cases.get_case(session, principal.organization_id, case_id), row)

        row, data = svc.transact(work)
    emit(as_json, data, f"completed {step} (ledger index {row.ledger_index})")


@case_app.command("owner")
def case_owner(
    case_id: CaseArg,
    email: Annotated[str, typer.Argument(help="The new owner's email (a staff member).")],
    reason: Annotated[str, typer.Option("--reason", help="Why the owner changes.")],
    as_json: JsonOpt = False,
) -> None:
    """Reassign the case owner."""
    from vault.cases import lifecycle as cases

    with services() as svc:
        case_id = resolve(svc, "case", case_id)

        def work(session: Unit) -> tuple[Case, dict[str, Any]]:
            case = cases.change_owner(
                session, operator(session), case_id, owner_email=email, reason=reason, clock=svc.clock
            )
            return case, case_json(case)

        case, data = svc.transact(work)
    emit(as_json, data, f"owner: {case.owner_email}")


@case_app.command("note")
def case_note(case_id: CaseArg, text: str, as_json: JsonOpt = False) -> None:
    """Add a note (allowed even after the case is fully offboarded)."""
    from vault.cases import lifecycle as cases

    with services() as svc:
        case_id = resolve(svc, "case", case_id)
        note = svc.transact(lambda session: cases.add_note(session, operator(session), case_id, text, clock=svc.clock))
    if as_json:
        emit_json({"id": note.id, "text": note.text, "ledger_index": note.ledger_index})
    else:
        out.print(note.id)


def _transition(case_id: str, as_json: bool, action: str, reason: str | None = None) -> None:
    from vault.cases import gate

    with services() as svc:
        case_id = resolve(svc, "case", case_id)

        def work(session: Unit) -> tuple[Case, dict[str, Any]]:
            principal = operator(session)
            if action == "start":
                case = gate.start_work(session, principal, case_id, clock=svc.clock)
            elif action == "await":
                case = gate.request_acknowledgment(session, principal, case_id, clock=svc.clock)
            elif action == "dispute":
                case = gate.dispute(session, principal, case_id, reason=reason or "", clock=svc.clock)
            elif action == "resolve":
                case = gate.resolve_dispute(session, principal, case_id, reason=reason or "", clock=svc.clock)
            else:
                case = gate.close_case(session, principal, case_id, clock=svc.clock)
            return case, case_json(case)

        case, data = svc.transact(work)
    emit(as_json, data, f"{case.id}: {case.status}")


@case_app.command("start")
def case_start(case_id: CaseArg, as_json: JsonOpt = False) -> None:
    """open -> in_progress."""
    _transition(case_id, as_json, "start")


@case_app.command("await-ack")
def case_await(case_id: CaseArg, as_json: JsonOpt = False) -> None:
    """in_progress -> awaiting_acknowledgment, once only the client's acknowledgment is left."""
    _transition(case_id, as_json, "await")


@case_app.command("dispute")
def case_dispute(case_id: CaseArg, reason: Annotated[str, typer.Option("--reason")], as_json: JsonOpt = False) -> None:
    """Record a dispute (allowed even after the case is fully offboarded)."""
    _transition(case_id, as_json, "dispute", reason)


@case_app.command("resolve")
def case_resolve(case_id: CaseArg, reason: Annotated[str, typer.Option("--reason")], as_json: JsonOpt = False) -> None:
    """End a dispute; the case returns to in_progress and must pass the gate again."""
    _transition(case_id, as_json, "resolve", reason)


@case_app.command("waive")
def case_waive(
    case_id: CaseArg,
    reason: Annotated[str, typer.Option("--reason", help="Written reason, e.g. the client refused to respond.")],
    receipt: Annotated[
        str | None, typer.Option("--receipt", help="One receipt id; default all.", parser=id_text)
    ] = None,
    deliverable: Annotated[
        str | None,
        typer.Option("--deliverable", help="One deliverable (evidence id) in no acknowledged receipt.", parser=id_text),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Waive the client's acknowledgment of receipts, or of one deliverable (admins only)."""
    from vault.cases import gate
    from vault.errors import InvalidInput

    if receipt is not None and deliverable is not None:
        raise InvalidInput("name --receipt or --deliverable, not both")
    with services() as svc:
        case_id = resolve(svc, "case", case_id)
        receipt = resolve(svc, "receipt", receipt) if receipt is not None else None
        evidence_id = resolve(svc, "evidence", deliverable) if deliverable is not None else None

        def work(session: Unit) -> CaseWaiver:
            principal = operator(session)
            if evidence_id is not None:
                return gate.waive_deliverable(
                    session, principal, case_id, evidence_id=evidence_id, reason=reason, clock=svc.clock
                )
            return gate.waive_acknowledgment(
                session, principal, case_id, reason=reason, receipt_id=receipt, clock=svc.clock
            )

        waiver = svc.transact(work)
    if as_json:
        emit_json(
            {
                "id": waiver.id,
                "scope": waiver.scope,
                "evidence_id": waiver.evidence_id,
                "reason": waiver.reason,
                "ledger_index": waiver.ledger_index,
            }
        )
    else:
        out.print(waiver.id)


@case_app.command("close")
def case_close(case_id: CaseArg, as_json: JsonOpt = False) -> None:
    """Move the case to fully_offboarded through the gate; lists what is missing otherwise."""
    from vault.errors import Conflict

    try:
        _transition(case_id, as_json, "close")
    except Conflict as exc:
        missing = exc.details.get("missing", [])
        if as_json:
            emit_json({"error": exc.message, "missing": missing})
        else:
            err.print(f"error: {exc.message}", markup=False)
            for m in missing:
                err.print(f"  - [{m['kind']}] {m['reason']}", markup=False)
        raise typer.Exit(1) from None
