"""``offboard evidence ...``: store and retrieve evidence (``offboard audit`` is in ``vault/cli/audit.py``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vault.cli.common import (
    JsonOpt,
    app,
    emit_json,
    err,
    id_text,
    operator,
    out,
    progress_bar,
    resolve,
    resolve_in,
    services,
    short_id_map,
    write_atomically,
)

if TYPE_CHECKING:
    from vault.models import Evidence

CHUNK = 1024 * 1024
evidence_app = typer.Typer(no_args_is_help=True, help="Evidence: store and retrieve files.")
app.add_typer(evidence_app, name="evidence")

CaseOpt = Annotated[
    str, typer.Option("--case", help="Case id, or its first 8+ characters.", metavar="CASE", parser=id_text)
]


def evidence_json(row: Evidence, *, duplicate: bool = False) -> dict[str, Any]:
    from vault.clock import rfc3339

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


@evidence_app.command("add")
def evidence_add(
    files: Annotated[list[Path], typer.Argument(help="Files to store.", exists=True, dir_okay=False, readable=True)],
    case_id: CaseOpt,
    kind: Annotated[str, typer.Option(help="deliverable, confirmation, communication or other.")] = "deliverable",
    description: Annotated[str | None, typer.Option(help="Free text kept with each file.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Stream files into a case: hashed, stored, recorded in the ledger."""
    from vault.db import read_session
    from vault.evidence import ingest as evidence

    evidence.parse_kind(kind)
    results = []
    with services() as svc:
        case_id = resolve(svc, "case", case_id)
        with read_session(svc.engine) as session:
            principal = operator(session)
        with progress_bar(json_mode=as_json) as progress:
            for path in files:
                task = progress.add_task(path.name, total=path.stat().st_size)
                with read_session(svc.engine) as session:
                    ingest = evidence.EvidenceIngest.begin(
                        session,
                        svc.store,
                        principal,
                        case_id,
                        svc.ingest_limits,
                        transact=svc.transact,
                        clock=svc.clock,
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
    evidence_id: Annotated[
        str, typer.Argument(help="Evidence id, or its first 8+ characters.", metavar="EVIDENCE", parser=id_text)
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the file.")],
    as_json: JsonOpt = False,
) -> None:
    """Write a stored file, re-hashing it on the way out; a file that does not match is not left behind."""
    from vault.db import read_session
    from vault.evidence import ingest as evidence
    from vault.evidence.retrieval import Channel, record_retrieval

    with services() as svc:
        with read_session(svc.engine) as session:
            evidence_id = resolve_in(session, "evidence", evidence_id)
            principal = operator(session)
        row = svc.transact(
            lambda session: record_retrieval(session, principal, evidence_id, channel=Channel.CLI, clock=svc.clock)
        )
        chunks = evidence.stream_verified(svc.store, row)
        write_atomically(chunks, output, total=row.size, label=row.original_filename, as_json=as_json)
    if as_json:
        emit_json(evidence_json(row) | {"output": str(output)})
    else:
        err.print(f"wrote {output} ({row.size} bytes, sha256 {row.sha256} verified)")


@evidence_app.command("list")
def evidence_list(case_id: CaseOpt, as_json: JsonOpt = False) -> None:
    """List a case's evidence."""
    from vault.db import read_session
    from vault.evidence import ingest as evidence

    with services() as svc, read_session(svc.engine) as session:
        case_id = resolve_in(session, "case", case_id)
        rows = evidence.list_evidence(session, operator(session).organization_id, case_id)
        short = short_id_map(session, "evidence")
    if as_json:
        emit_json([evidence_json(r) for r in rows])
        return
    for r in rows:
        out.print(f"{short[r.id]}  {r.kind:<13} {r.sha256}  {r.size:>12}  {r.original_filename}")
