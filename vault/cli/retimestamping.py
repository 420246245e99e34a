"""What ``offboard receipt retimestamp`` and ``offboard certificate retimestamp`` share: their flags and their
output (``docs/cli.md``); both call ``vault/pdfs/retimestamps.py``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from vault.cli.common import emit_json, err, operator, out, resolve_in, services

if TYPE_CHECKING:
    from vault.ids import IdKind
    from vault.pdfs.stored import Retimestamped
    from vault.states import PdfKind

EverythingOpt = Annotated[bool, typer.Option("--all", help="Every stored long-term PDF, however far its expiry is.")]
BeforeOpt = Annotated[
    int,
    typer.Option(
        "--before", min=0, metavar="DAYS", help="Those whose last timestamp's TSA certificate expires within DAYS."
    ),
]


def run(kind: PdfKind, noun: IdKind, named: str | None, *, before: int, everything: bool, as_json: bool) -> None:
    """Re-timestamp the due stored PDFs of ``kind`` (of the ``noun`` given as ``named``) and report them."""
    from vault.db import read_session
    from vault.pdfs.retimestamps import retimestamp_named

    with services() as svc:
        with read_session(svc.engine) as session:
            principal = operator(session)
            if named is not None:
                named = resolve_in(session, noun, named)
        done = retimestamp_named(
            svc,
            kind,
            organization_id=principal.organization_id,
            actor=principal.actor,
            named=named,
            before_days=before,
            everything=everything,
        )
    report(done, as_json=as_json, everything=everything, before=before)


def report(done: Sequence[Retimestamped], *, as_json: bool, everything: bool, before: int) -> None:
    """One line per PDF extended (``--json``: one object), or why nothing was."""
    if as_json:
        emit_json({"retimestamped": [item.to_json() for item in done]})
        return
    if not done:
        err.print("nothing to re-timestamp" + ("" if everything else f": no stored PDF expires within {before} days"))
    for item in done:
        out.print(
            f"{item.subject_id} ({item.edition}) v{item.version}  {item.old_sha256[:12]} -> {item.new_sha256}  "
            f"timestamp valid until {item.timestamp_expires_at.date().isoformat()}, ledger index {item.ledger_index}"
        )
