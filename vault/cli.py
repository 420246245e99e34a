"""The ``offboard`` command line. It calls the same domain services as the API, with no server needed.

Every command that prints data takes ``--json`` and then prints only JSON on stdout; progress bars and
messages go to stderr. Domain errors are caught in one place (``main``) and exit non-zero with the message.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table
from sqlmodel import Session

from vault import audit as audit_mod
from vault import cases, evidence
from vault.clock import rfc3339
from vault.config import get_settings
from vault.db import session_scope
from vault.errors import OffboardError
from vault.models import Case, Evidence
from vault.orgs import Principal, Role, create_token, organization_by_slug
from vault.services import Services, build_services
from vault.setup import initialize

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Offboard: provable client offboarding.")
case_app = typer.Typer(no_args_is_help=True, help="Offboarding cases.")
evidence_app = typer.Typer(no_args_is_help=True, help="Evidence: store and retrieve files.")
token_app = typer.Typer(no_args_is_help=True, help="API tokens.")
app.add_typer(case_app, name="case")
app.add_typer(evidence_app, name="evidence")
app.add_typer(token_app, name="token")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")]
CHUNK = 1024 * 1024


class State:
    org_slug: str | None = None


state = State()


@app.callback()
def _global(
    org: Annotated[str | None, typer.Option("--org", help="Organization slug (default: the default one).")] = None,
) -> None:
    state.org_slug = org


@contextmanager
def services() -> Iterator[Services]:
    svc = build_services(get_settings())
    try:
        yield svc
    finally:
        svc.close()


def operator(session: Session) -> Principal:
    """The local operator: full rights in the selected organization, recorded as ``cli:<user>``."""
    org = organization_by_slug(session, state.org_slug)
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return Principal(organization_id=org.id, role=Role.ADMIN, actor=f"cli:{user}")


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=True) + "\n")


def case_json(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "organization_id": case.organization_id,
        "client_name": case.client_name,
        "owner_email": case.owner_email,
        "status": case.status,
        "opened_at": rfc3339(case.opened_at),
    }


def evidence_json(row: Evidence, *, duplicate: bool = False) -> dict[str, Any]:
    return {
        "id": row.id,
        "case_id": row.case_id,
        "sha256": row.sha256,
        "size": row.size,
        "content_type": row.content_type,
        "original_filename": row.original_filename,
        "kind": row.kind,
        "description": row.description,
        "stored_at": rfc3339(row.stored_at),
        "ledger_index": row.ledger_index,
        "pdf": json.loads(row.pdf_info) if row.pdf_info else None,
        "duplicate": duplicate,
    }


def progress_bar(*, json_mode: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
        disable=json_mode or not err.is_terminal,
    )


@app.command()
def init(as_json: JsonOpt = False) -> None:
    """Create the data folder, database, default organization and the first admin token (shown once)."""
    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    with services() as svc:
        result = initialize(svc)
    token = result.admin_token
    if as_json:
        emit_json(
            {
                "organization": result.organization_slug,
                "created": result.created,
                "admin_token": token.secret if token else None,
                "home": str(settings.home.resolve()),
            }
        )
        return
    err.print(f"Offboard data: {settings.home.resolve()} (organization '{result.organization_slug}')")
    if token is not None:
        err.print("Admin API token (shown only this once; only its hash is stored):")
        out.print(token.secret)
    else:
        err.print("Already initialized; no new token issued (create one with `offboard token create`).")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default OFFBOARD_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default OFFBOARD_PORT).")] = None,
) -> None:
    """Serve the API and pages."""
    import uvicorn

    settings = get_settings()
    # By name: the domain package never imports the API package.
    uvicorn.run(
        "api.app:app_from_env",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        proxy_headers=False,
    )


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


@evidence_app.command("add")
def evidence_add(
    files: Annotated[list[Path], typer.Argument(help="Files to store.", exists=True, dir_okay=False, readable=True)],
    case_id: Annotated[str, typer.Option("--case", help="Case id.")],
    kind: Annotated[str, typer.Option(help="deliverable, confirmation, communication or other.")] = "deliverable",
    description: Annotated[str | None, typer.Option(help="Free text kept with each file.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Stream files into a case: hashed, stored, recorded in the ledger."""
    evidence.parse_kind(kind)
    results = []
    with services() as svc:
        with Session(svc.engine) as session:
            principal = operator(session)
        with progress_bar(json_mode=as_json) as progress:
            for path in files:
                task = progress.add_task(path.name, total=path.stat().st_size)
                ingest = evidence.EvidenceIngest(
                    svc.engine, svc.store, principal, case_id, svc.ingest_limits, clock=svc.clock
                )
                try:
                    with path.open("rb") as handle:
                        while chunk := handle.read(CHUNK):
                            ingest.feed(chunk)
                            progress.advance(task, len(chunk))
                    result = ingest.finish(
                        filename=path.name, kind=kind, content_type=_guess_type(path), description=description
                    )
                except BaseException:
                    ingest.abort()
                    raise
                results.append(evidence_json(result.evidence, duplicate=result.duplicate))
    if as_json:
        emit_json(results)
        return
    for item in results:
        note = " (duplicate: already stored)" if item["duplicate"] else ""
        out.print(f"{item['id']}  {item['sha256']}  {item['size']}  {item['original_filename']}{note}")


def _guess_type(path: Path) -> str:
    import mimetypes

    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


@evidence_app.command("get")
def evidence_get(
    evidence_id: str,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the file.")],
    as_json: JsonOpt = False,
) -> None:
    """Write a stored file, re-hashing it on the way out; a file that does not match is not left behind."""
    with services() as svc:
        with Session(svc.engine) as session:
            row = evidence.get_evidence(session, operator(session).organization_id, evidence_id)
        temp = output.with_name(f".{output.name}.offboard-partial")
        try:
            with progress_bar(json_mode=as_json) as progress, temp.open("wb") as handle:
                task = progress.add_task(row.original_filename, total=row.size)
                for chunk in evidence.stream_verified(svc.store, row):
                    handle.write(chunk)
                    progress.advance(task, len(chunk))
                handle.flush()
                os.fsync(handle.fileno())
            temp.replace(output)
        finally:
            temp.unlink(missing_ok=True)
    if as_json:
        emit_json(evidence_json(row) | {"output": str(output)})
    else:
        err.print(f"wrote {output} ({row.size} bytes, sha256 {row.sha256} verified)")


@evidence_app.command("list")
def evidence_list(case_id: Annotated[str, typer.Option("--case", help="Case id.")], as_json: JsonOpt = False) -> None:
    """List a case's evidence."""
    with services() as svc, Session(svc.engine) as session:
        rows = evidence.list_evidence(session, operator(session).organization_id, case_id)
    if as_json:
        emit_json([evidence_json(r) for r in rows])
        return
    for r in rows:
        out.print(f"{r.id}  {r.kind:<13} {r.sha256}  {r.size:>12}  {r.original_filename}")


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    role: Annotated[str, typer.Option("--role", help="admin, member or viewer.")] = "member",
    as_json: JsonOpt = False,
) -> None:
    """Issue an API token; the secret is printed once and only its hash is stored."""
    with services() as svc, session_scope(svc.engine) as session:
        issued = create_token(session, organization_id=operator(session).organization_id, name=name, role=role)
    if as_json:
        emit_json({"id": issued.id, "name": issued.name, "role": issued.role.value, "token": issued.secret})
    else:
        out.print(issued.secret)


@app.command()
def audit(as_json: JsonOpt = False) -> None:
    """Re-hash every stored object against the database; exit 1 if any is missing or altered."""
    with services() as svc:
        total = audit_mod.total_recorded_bytes(svc.engine)
        with progress_bar(json_mode=as_json) as progress:
            task = progress.add_task("audit", total=total)
            report = audit_mod.audit(svc.engine, svc.store, progress=lambda n: progress.advance(task, n))
    if as_json:
        emit_json(
            {
                "ok": report.ok,
                "objects_checked": report.objects_checked,
                "bytes_checked": report.bytes_checked,
                "problems": [
                    {
                        "kind": p.kind,
                        "storage_key": p.storage_key,
                        "evidence_ids": list(p.evidence_ids),
                        "detail": p.detail,
                    }
                    for p in report.problems
                ],
            }
        )
    else:
        for p in report.problems:
            ids = ", ".join(p.evidence_ids) or "-"
            (err if p.kind != "orphan" else out).print(
                f"{p.kind.upper()}: {p.storage_key} (evidence {ids}): {p.detail}"
            )
        verdict = "OK" if report.ok else "FAILED"
        out.print(f"audit {verdict}: {report.objects_checked} objects, {report.bytes_checked} bytes re-hashed")
    if not report.ok:
        raise typer.Exit(1)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: one place turns domain errors into a message and an exit code."""
    try:
        app(args=argv, standalone_mode=False)
    except OffboardError as exc:
        err.print(f"error: {exc.message}", markup=False)
        sys.exit(1)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(130)
