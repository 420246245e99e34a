"""``offboard receipt ...``: create, send, show and print handover receipts without a running server.

``send`` emails the links when ``OFFBOARD_SMTP_URL`` is set; otherwise it prints each link this once
(only its hash is stored), for a person to deliver by hand.
"""

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
    resolve,
    resolve_all,
    resolve_in,
    services,
    short_id_map,
)
from vault.cli.retimestamping import BeforeOpt, EverythingOpt, run

if TYPE_CHECKING:
    from sqlmodel import Session

    from vault.db import Unit
    from vault.models import Acknowledgment, Receipt

receipt_app = typer.Typer(no_args_is_help=True, help="Handover receipts and acknowledgment links.")
app.add_typer(receipt_app, name="receipt")

ReceiptArg = Annotated[
    str, typer.Argument(help="Receipt id, or its first 8+ characters.", metavar="RECEIPT", parser=id_text)
]
CaseArg = Annotated[str, typer.Argument(help="Case id, or its first 8+ characters.", metavar="CASE", parser=id_text)]


def receipt_json(row: Receipt, ack: Acknowledgment | None) -> dict[str, Any]:
    from vault.clock import rfc3339
    from vault.handover import receipts

    signed = receipts.signed_of(row)
    value: dict[str, Any] = {
        "id": row.id,
        "case_id": row.case_id,
        "status": row.status,
        "created_at": rfc3339(row.created_at),
        "created_by": row.created_by,
        "sent_at": rfc3339(row.sent_at) if row.sent_at else None,
        "sha256": row.sha256,
        "ledger_index": row.ledger_index,
        "document": receipts.document_of(row),
        "signature": signed.detached.to_json(),
        "dispute_reason": row.dispute_reason,
        "acknowledgment": None,
    }
    if ack is not None:
        value["acknowledgment"] = {
            "id": ack.id,
            "recipient": ack.recipient,
            "name": ack.typed_name,
            "acknowledged_at": rfc3339(ack.acknowledged_at),
            "ip": ack.ip,
            "user_agent": ack.user_agent,
            "shown_sha256": ack.shown_sha256,
            "ledger_index": ack.ledger_index,
            "countersigned": json.loads(bytes(ack.document)),
            "signature": receipts.countersignature_of(ack).to_json(),
        }
    return value


def _ack(session: Session, receipt_id: str) -> Acknowledgment | None:
    from sqlmodel import select

    from vault.models import Acknowledgment

    return session.exec(select(Acknowledgment).where(Acknowledgment.receipt_id == receipt_id)).first()


@receipt_app.command("create")
def create(
    case_id: CaseArg,
    evidence: Annotated[
        list[str] | None,
        typer.Option("--evidence", help="Deliverable evidence id (repeatable; default: all).", parser=id_text),
    ] = None,
    terms: Annotated[str | None, typer.Option("--terms", help="Terms text (default: the organization's).")] = None,
    terms_file: Annotated[Path | None, typer.Option("--terms-file", help="Read the terms text from FILE.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Build and sign a receipt of what was handed over for CASE."""
    from vault.errors import InvalidInput
    from vault.handover import receipts

    if terms is not None and terms_file is not None:
        raise InvalidInput("give --terms or --terms-file, not both")
    if terms_file is not None:
        try:
            terms = terms_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"cannot read the terms file {terms_file}: {exc}") from exc
    with services() as svc:
        case_id = resolve(svc, "case", case_id)
        evidence = resolve_all(svc, "evidence", evidence) if evidence is not None else None

        def work(session: Unit) -> tuple[Receipt, dict[str, Any]]:
            row = receipts.create_receipt(
                session, svc.settings, operator(session), case_id, evidence_ids=evidence, terms=terms, clock=svc.clock
            )
            return row, receipt_json(row, None)

        row, value = svc.transact(work)
    if as_json:
        emit_json(value)
    else:
        out.print(row.id)
        err.print(
            f"receipt signed ({len(value['document']['deliverables'])} deliverables), ledger index {row.ledger_index}"
        )


@receipt_app.command("send")
def send(receipt_id: ReceiptArg, as_json: JsonOpt = False) -> None:
    """Email each client contact a fresh acknowledgment link (voiding earlier ones)."""
    from vault.clock import rfc3339
    from vault.db import read_session
    from vault.handover import links

    with services() as svc:
        with read_session(svc.engine) as session:
            principal = operator(session)
            receipt_id = resolve_in(session, "receipt", receipt_id)
        result = links.send_receipt(
            svc.transact,
            svc.settings,
            principal,
            receipt_id,
            mailer=svc.mailer,
            render=svc.templates.email,
            clock=svc.clock,
        )
    value = {
        "receipt_id": result.receipt.id,
        "status": result.receipt.status,
        "delivery": result.delivery,
        "recipients": list(result.recipients),
        "expires_at": rfc3339(result.expires_at),
        "voided_links": list(result.voided),
        "ledger_index": result.ledger_index,
        "links": [{"recipient": i.recipient, "url": i.url} for i in result.manual_links],
    }
    if as_json:
        emit_json(value)
        return
    if result.delivery == "smtp":
        out.print(f"sent to {', '.join(result.recipients)}; links expire {value['expires_at']}")
        return
    err.print("No SMTP server is configured (OFFBOARD_SMTP_URL). Deliver each link by hand; they are shown only now:")
    for link in result.manual_links:
        out.print(f"{link.recipient}\t{link.url}")


@receipt_app.command("show")
def show(receipt_id: ReceiptArg, as_json: JsonOpt = False) -> None:
    """Show a receipt and its status: draft, sent, acknowledged or disputed."""
    from vault.db import read_session
    from vault.handover import receipts

    with services() as svc, read_session(svc.engine) as session:
        receipt_id = resolve_in(session, "receipt", receipt_id)
        row = receipts.get_receipt(session, operator(session).organization_id, receipt_id)
        receipts.verify_receipt(session, row)
        value = receipt_json(row, _ack(session, row.id))
    if as_json:
        emit_json(value)
        return
    doc = value["document"]
    out.print(f"receipt {row.id}  case {row.case_id}  status {row.status}")
    out.print(f"issued {doc['issued_at']} by {doc['issued_by']}; ledger index {row.ledger_index}; sha256 {row.sha256}")
    for item in doc["deliverables"]:
        out.print(f"  {item['sha256']}  {item['size']:>12}  {item['filename']}", markup=False)
    if value["acknowledgment"]:
        ack = value["acknowledgment"]
        out.print(f"acknowledged by {ack['name']} <{ack['recipient']}> at {ack['acknowledged_at']}", markup=False)
    elif row.dispute_reason:
        out.print(f"disputed: {row.dispute_reason}", markup=False)


@receipt_app.command("list")
def list_(case_id: CaseArg, as_json: JsonOpt = False) -> None:
    """The receipts of a case."""
    from vault.db import read_session
    from vault.handover import receipts

    with services() as svc, read_session(svc.engine) as session:
        case_id = resolve_in(session, "case", case_id)
        rows = receipts.list_receipts(session, operator(session).organization_id, case_id)
        values = [receipt_json(r, _ack(session, r.id)) for r in rows]
        short = short_id_map(session, "receipt")
    if as_json:
        emit_json(values)
    else:
        for v in values:
            out.print(f"{short[v['id']]}  {v['status']:<12}  {v['created_at']}")


@receipt_app.command("pdf")
def pdf(
    receipt_id: ReceiptArg,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the signed PDF.")],
    ltv: Annotated[
        bool | None,
        typer.Option("--ltv/--no-ltv", help="Sign long-term (PAdES B-LTA); default OFFBOARD_PDF_LTV."),
    ] = None,
) -> None:
    """Write the PAdES-signed PDF of a receipt (with its JSON attached) to FILE (long-term ones from the store)."""
    from vault.db import read_session
    from vault.errors import InvalidInput
    from vault.handover import receipts
    from vault.handover.receipt_pdf import receipt_pdf_source
    from vault.handover.receipt_pdf_store import receipt_pdf

    with services() as svc:
        with read_session(svc.engine) as session:
            receipt_id = resolve_in(session, "receipt", receipt_id)
            row = receipts.get_receipt(session, operator(session).organization_id, receipt_id)
            source = receipt_pdf_source(session, row)
        data = receipt_pdf(svc, source, ltv=ltv)
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise InvalidInput(f"cannot write {output}: {exc.strerror}") from exc
    err.print(f"wrote {output} ({len(data)} bytes)")


@receipt_app.command("retimestamp")
def retimestamp(
    receipt_id: Annotated[
        str | None,
        typer.Argument(help="Only this receipt (id, or its first 8+ characters).", metavar="[RECEIPT]", parser=id_text),
    ] = None,
    everything: EverythingOpt = False,
    before: BeforeOpt = 90,
    as_json: JsonOpt = False,
) -> None:
    """Add a new document timestamp to stored long-term receipt PDFs before the last one's certificate expires."""
    from vault.states import PdfKind

    run(PdfKind.RECEIPT, "receipt", receipt_id, before=before, everything=everything, as_json=as_json)
