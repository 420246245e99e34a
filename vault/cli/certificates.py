"""``offboard certificate retimestamp``: extend the stored long-term PDFs of certificates of completion
(``docs/certificate.md``, "Long-term PDF"). Reading a case's certificate is ``offboard case certificate``."""

from __future__ import annotations

from typing import Annotated

import typer

from vault.cli.common import JsonOpt, app, id_text
from vault.cli.retimestamping import BeforeOpt, EverythingOpt, run

certificate_app = typer.Typer(no_args_is_help=True, help="Certificates of completion: their long-term PDFs.")
app.add_typer(certificate_app, name="certificate")


@certificate_app.command("retimestamp")
def retimestamp(
    case_id: Annotated[
        str | None,
        typer.Argument(
            help="Only this case's certificates (id, or its first 8+ characters).", metavar="[CASE]", parser=id_text
        ),
    ] = None,
    everything: EverythingOpt = False,
    before: BeforeOpt = 90,
    as_json: JsonOpt = False,
) -> None:
    """Add a new document timestamp to stored long-term certificate PDFs before the last one's certificate expires."""
    from vault.states import PdfKind

    run(PdfKind.CERTIFICATE, "case", case_id, before=before, everything=everything, as_json=as_json)
