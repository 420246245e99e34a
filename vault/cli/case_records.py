"""``offboard case log``, ``offboard case timeline`` and ``offboard case certificate``: the case's records
(a logged communication, its ledger entries, its certificate of completion)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vault.cli.cases import CaseArg, case_app
from vault.cli.common import JsonOpt, emit, emit_json, err, operator, out, resolve, resolve_in, services


@case_app.command("log")
def case_log(
    case_id: CaseArg,
    channel: Annotated[str, typer.Option("--channel", help="email, call or meeting.")],
    text: Annotated[str | None, typer.Option("--text", help="What was said (or --file).")] = None,
    file: Annotated[Path | None, typer.Option("--file", exists=True, dir_okay=False, help="Text file.")] = None,
    subject: Annotated[str, typer.Option("--subject")] = "",
    participant: Annotated[list[str] | None, typer.Option("--participant", help="Repeatable.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Log an email, call or meeting as evidence of kind communication."""
    from vault.db import read_session
    from vault.handover.communications import log_communication

    body = file.read_text(encoding="utf-8") if file is not None else (text or "")
    with services() as svc:
        case_id = resolve(svc, "case", case_id)
        with read_session(svc.engine) as session:
            principal = operator(session)
            result = log_communication(
                session,
                svc.transact,
                svc.store,
                principal,
                case_id,
                svc.ingest_limits,
                channel=channel,
                text=body,
                subject=subject,
                participants=participant or [],
                clock=svc.clock,
            )
    row = result.evidence
    data = {"id": row.id, "sha256": row.sha256, "kind": row.kind, "ledger_index": row.ledger_index}
    emit(as_json, {**data, "duplicate": result.duplicate}, row.id)


@case_app.command("timeline")
def case_timeline(case_id: CaseArg, as_json: JsonOpt = False) -> None:
    """The case's ledger entries with their indexes."""
    from vault.cases import progress
    from vault.db import read_session

    with services() as svc, read_session(svc.engine) as session:
        case_id = resolve_in(session, "case", case_id)
        events = progress.timeline(session, operator(session).organization_id, case_id)
    if as_json:
        emit_json(
            [
                {
                    "index": e.index,
                    "type": e.type,
                    "time": e.time,
                    "actor": e.actor,
                    "data": e.data,
                    "leaf_hash": e.leaf_hash,
                }
                for e in events
            ]
        )
        return
    for e in events:
        out.print(f"{e.index:>6}  {e.time}  {e.type:22} {e.actor}", markup=False)


@case_app.command("certificate")
def case_certificate(
    case_id: CaseArg,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write the signed PDF to FILE.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The case's certificate of completion: a summary (or --json), and its PDF with -o FILE."""
    from vault.certificates.certificate_store import certificate_pdf
    from vault.certificates.lookup import certificate_document, latest_certificate, signed_certificate
    from vault.clock import rfc3339
    from vault.db import read_session
    from vault.errors import InvalidInput

    with services() as svc:
        with read_session(svc.engine) as session:
            case_id = resolve_in(session, "case", case_id)
            row = latest_certificate(session, operator(session).organization_id, case_id)
        # The newest stored version of a long-term PDF, else the PDF as issued.
        pdf = certificate_pdf(svc.read, svc.store, row) if output is not None else b""
    if output is not None:
        try:
            output.write_bytes(pdf)
        except OSError as exc:
            raise InvalidInput(f"cannot write {output}: {exc.strerror}") from exc
        err.print(f"wrote {output} ({len(pdf)} bytes)")
    document = certificate_document(row)
    data = {
        "id": row.id,
        "case_id": row.case_id,
        "final_index": row.final_index,
        "created_at": rfc3339(row.created_at),
        "sha256": row.sha256,
        "ledger_index": row.ledger_index,
        "document": document,
        "signature": signed_certificate(row).detached.to_json(),
    }
    checkpoint = document["ledger"]["checkpoint"]
    summary = (
        f"certificate {row.id}: case {row.case_id} fully offboarded at {document['dates']['closed']} "
        f"(ledger entry {row.final_index}, checkpoint {checkpoint['size']}), sha256 {row.sha256}"
    )
    emit(as_json, data, summary)
