"""``POST /api/v1/cases/{id}/bundle``: the case's evidence bundle, streamed as a ZIP (``docs/bundle.md``).

Everything that can fail before the first byte (unknown case, role, signing a covering checkpoint,
rendering the report) fails as a problem response. The ``bundle.exported`` entry and the checkpoint
ending with it are committed before the first byte. Evidence is then streamed from the object store; if
a stored object turns out corrupt mid-stream the response is cut off (the ZIP is left without its
central directory, so no reader accepts it) and no ``bundle.completed`` entry is recorded.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from api.deps import PrincipalDep, ServicesDep
from api.errors import COMMON_RESPONSES, responses
from api.headers import content_disposition
from vault.bundle.export import BundleStream, prepare
from vault.bundle.export_entry import RECIPIENT_MAX
from vault.handover.receipt_pdf_store import receipt_pdf

router = APIRouter(prefix="/api/v1/cases", tags=["bundles"], responses=COMMON_RESPONSES)


@router.post(
    "/{case_id}/bundle",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/zip": {}}, "description": "The bundle ZIP (a BagIt 1.0 bag)"},
        **responses(403, 503),
    },
)
def export_bundle(
    case_id: str,
    principal: PrincipalDep,
    services: ServicesDep,
    sha512: Annotated[bool, Query(description="Also write the SHA-512 manifests (archives that demand them).")] = False,
    recipient: Annotated[
        str | None,
        Query(min_length=1, max_length=RECIPIENT_MAX, description="To whom the bundle goes (the chain of custody)."),
    ] = None,
) -> StreamingResponse:
    """Export the case's bundle: recorded before the first byte, and completed once the last byte is sent."""
    pdf = partial(receipt_pdf, services)
    plan = prepare(
        services.transact,
        services.settings,
        principal,
        case_id,
        clock=services.clock,
        receipt_pdf=pdf,
        recipient=recipient,
        store=services.store,
    )
    stream = BundleStream(services.transact, services.store, plan, clock=services.clock, sha512=sha512)
    return StreamingResponse(
        iter(stream),
        media_type="application/zip",
        headers={
            "Content-Disposition": content_disposition(f"{plan.root}.zip"),
            "Cache-Control": "no-store",
            "X-Offboard-Checkpoint-Size": str(plan.checkpoint.size),
        },
    )
