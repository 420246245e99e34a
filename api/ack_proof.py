"""The client's receipt as one C2SP tlog-proof file (``/ack/<token>/receipt.tlog-proof``), beside the
acknowledgment pages of ``api/pages.py`` and behind the same link checks and rate limit."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.headers import content_disposition
from api.pages import _ip, _limited, _not_live, _view_link, ack_state
from vault.handover.links import LinkStatus
from vault.handover.receipt_proof import receipt_tlog_proof
from vault.ledger.proofs import FILE_EXTENSION

router = APIRouter(include_in_schema=False)


@router.get("/ack/{token}/receipt.tlog-proof")
def tlog_proof(token: str, request: Request) -> Response:
    """The receipt's ledger entry as one C2SP tlog-proof file, for the client to keep (``verify --since``)."""
    st = ack_state(request)
    svc = st.services
    ip = _ip(request, st)
    if limited := _limited(st, st.guesses, ip, "address"):
        return limited
    view = _view_link(svc, token)
    if isinstance(view, LinkStatus):
        return _not_live(st, view, ip)
    org_id, receipt_id = view.document["organization"]["id"], view.document["id"]
    proof = svc.transact(
        lambda s: receipt_tlog_proof(s, svc.settings, organization_id=org_id, receipt_id=receipt_id, clock=svc.clock)
    )
    disposition = content_disposition(f"receipt-{receipt_id}{FILE_EXTENSION}")
    return Response(
        proof.to_text(), media_type="text/plain", headers=st.headers(**{"Content-Disposition": disposition})
    )
