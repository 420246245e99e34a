"""``offboard case access ...``: the access-revocation register of a case (add, revoke, verify, list)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vault.cli.cases import CaseArg, case_app
from vault.cli.common import (
    JsonOpt,
    emit,
    emit_json,
    id_text,
    operator,
    out,
    resolve,
    resolve_all,
    resolve_in,
    services,
    short_id_map,
)

if TYPE_CHECKING:
    from vault.models import AccessItem

access_app = typer.Typer(no_args_is_help=True, help="The access-revocation register of a case.")
case_app.add_typer(access_app, name="access")

ItemArg = Annotated[
    str, typer.Argument(help="Access item id, or its first 8+ characters.", metavar="ITEM", parser=id_text)
]


def access_json(item: AccessItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": item.name,
        "kind": item.kind,
        "held_by": item.held_by,
        "accounts": json.loads(item.accounts),
        "status": item.status,
        "revoked_by": item.revoked_by,
        "revocation_method": item.revocation_method,
        "evidence_ids": json.loads(item.revocation_evidence_ids),
        "verified_by": item.verified_by,
        "ledger_indexes": {
            "added": item.added_index,
            "revoked": item.revoked_index,
            "verified": item.verified_index,
        },
    }


@access_app.command("add")
def access_add(
    case_id: CaseArg,
    name: Annotated[str, typer.Option("--name", help="The system, e.g. 'Google Workspace'.")],
    kind: Annotated[str, typer.Option("--kind", help="sso, app, code_repository, cloud_account, shared_drive, other.")],
    held_by: Annotated[str, typer.Option("--held-by", help="client or team.")] = "client",
    account: Annotated[list[str] | None, typer.Option("--account", help="Account identifier (repeatable).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a system in the access register."""
    from vault.cases import access

    with services() as svc:
        case_id = resolve(svc, "case", case_id)
        item = svc.transact(
            lambda session: access.add_item(
                session,
                operator(session),
                case_id,
                name=name,
                kind=kind,
                held_by=held_by,
                accounts=account or [],
                clock=svc.clock,
            )
        )
    emit(as_json, access_json(item), item.id)


@access_app.command("revoke")
def access_revoke(
    case_id: CaseArg,
    item_id: ItemArg,
    method: Annotated[str, typer.Option("--method", help="How the access was removed.")],
    evidence: Annotated[
        list[str], typer.Option("--evidence", help="Evidence id (repeatable, at least one).", parser=id_text)
    ],
    by: Annotated[str | None, typer.Option("--by", help="Staff email of who revoked it.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a revocation with its evidence."""
    from vault.cases import access

    with services() as svc:
        case_id = resolve(svc, "case", case_id)
        item_id = resolve(svc, "access item", item_id)
        evidence = resolve_all(svc, "evidence", evidence)
        item = svc.transact(
            lambda session: access.revoke_item(
                session,
                operator(session),
                case_id,
                item_id,
                method=method,
                evidence_ids=evidence,
                revoked_by=by,
                clock=svc.clock,
            )
        )
    emit(as_json, access_json(item), f"revoked {item.name}")


@access_app.command("verify")
def access_verify(
    case_id: CaseArg,
    item_id: ItemArg,
    by: Annotated[str | None, typer.Option("--by", help="Staff email of the second person.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """A second person confirms a revocation."""
    from vault.cases import access

    with services() as svc:
        case_id = resolve(svc, "case", case_id)
        item_id = resolve(svc, "access item", item_id)
        item = svc.transact(
            lambda session: access.verify_item(
                session, operator(session), case_id, item_id, verified_by=by, clock=svc.clock
            )
        )
    emit(as_json, access_json(item), f"verified {item.name}")


@access_app.command("list")
def access_list(case_id: CaseArg, as_json: JsonOpt = False) -> None:
    """List the access register of a case."""
    from vault.cases import access
    from vault.db import read_session

    with services() as svc, read_session(svc.engine) as session:
        case_id = resolve_in(session, "case", case_id)
        items = access.list_items(session, operator(session).organization_id, case_id)
        short = short_id_map(session, "access item")
    if as_json:
        emit_json([access_json(i) for i in items])
        return
    for i in items:
        out.print(f"{short[i.id]} {i.status:8} {i.kind:15} {i.name}", markup=False)
