"""Evidence upload (raw streamed body or multipart) and download.

Upload: ``POST /api/v1/cases/{case_id}/evidence``. A raw body names the file with the ``filename`` query
parameter (or an ``X-Offboard-Filename`` header, percent-encoded UTF-8); ``kind`` and ``description`` come
from the query or ``X-Offboard-Kind`` / ``X-Offboard-Description``. A ``multipart/form-data`` body carries a
``file`` part and optional ``kind``/``description`` fields.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Query, Request, status
from fastapi.concurrency import iterate_in_threadpool, run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse

from api.deps import PrincipalDep, ServicesDep, SessionDep
from api.errors import COMMON_RESPONSES, responses
from api.headers import content_disposition
from api.multipart import MultipartUpload
from api.schemas import EvidencePublic
from api.upload_stream import begin_ingest, declared_type, pump
from vault.errors import PayloadTooLarge
from vault.evidence import ingest as evidence
from vault.evidence.retrieval import Channel, record_retrieval

router = APIRouter(tags=["evidence"], responses=COMMON_RESPONSES)

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "kind": {"type": "string", "enum": [k.value for k in evidence.EvidenceKind]},
                        "description": {"type": "string"},
                    },
                }
            },
        },
    }
}


def _header(request: Request, name: str) -> str | None:
    value = request.headers.get(name)
    return unquote(value) if value is not None else None


@router.post(
    "/api/v1/cases/{case_id}/evidence",
    status_code=status.HTTP_201_CREATED,
    responses={
        **responses(403, 409, 413),
        200: {"model": EvidencePublic, "description": "Same bytes already stored in this case"},
    },
    openapi_extra=UPLOAD_BODY,
)
async def upload_evidence(
    case_id: str,
    request: Request,
    principal: PrincipalDep,
    services: ServicesDep,
    filename: Annotated[str | None, Query(max_length=4096)] = None,
    kind: Annotated[str | None, Query()] = None,
    description: Annotated[str | None, Query(max_length=4000)] = None,
) -> JSONResponse:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > services.settings.max_upload_bytes:
        raise PayloadTooLarge(
            f"upload of {declared} bytes exceeds the limit of {services.settings.max_upload_bytes} bytes",
            details={"limit": services.settings.max_upload_bytes},
        )
    ingest = await run_in_threadpool(begin_ingest, services, principal, case_id)
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.lower().startswith("multipart/form-data"):
            form = MultipartUpload(content_type, ingest.feed)
            await pump(request, form.write)
            form.close()
            name = form.filename or form.fields.get("filename")
            kind = form.fields.get("kind", kind)
            description = form.fields.get("description", description)
            content_type = declared_type(form.file_content_type, name)
        else:
            await pump(request, ingest.feed)
            name = filename or _header(request, "x-offboard-filename")
            kind = kind or _header(request, "x-offboard-kind")
            description = description or _header(request, "x-offboard-description")
            content_type = declared_type(content_type, name)
        result = await run_in_threadpool(
            lambda: ingest.finish(filename=name, kind=kind, content_type=content_type, description=description)
        )
    except BaseException:
        ingest.abort()
        raise
    code = status.HTTP_200_OK if result.duplicate else status.HTTP_201_CREATED
    body = EvidencePublic.of(result.evidence, duplicate=result.duplicate)
    return JSONResponse(body.model_dump(mode="json"), status_code=code)


@router.get("/api/v1/cases/{case_id}/evidence")
def list_case_evidence(case_id: str, principal: PrincipalDep, session: SessionDep) -> list[EvidencePublic]:
    return [EvidencePublic.of(r) for r in evidence.list_evidence(session, principal.organization_id, case_id)]


@router.get("/api/v1/evidence/{evidence_id}")
def get_evidence(evidence_id: str, principal: PrincipalDep, session: SessionDep) -> EvidencePublic:
    return EvidencePublic.of(evidence.get_evidence(session, principal.organization_id, evidence_id))


@router.get(
    "/api/v1/evidence/{evidence_id}/content",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The stored bytes"}},
)
def download_evidence(evidence_id: str, principal: PrincipalDep, services: ServicesDep) -> StreamingResponse:
    """The stored bytes, re-hashed on the way out; the retrieval is a ledger entry before the first byte."""
    row = services.transact(
        lambda session: record_retrieval(session, principal, evidence_id, channel=Channel.API, clock=services.clock)
    )

    # A mismatch found at the end aborts the connection, so the client never gets a complete, wrong file
    # with a success status.
    return StreamingResponse(
        iterate_in_threadpool(evidence.stream_verified(services.store, row)),
        media_type=row.content_type,
        headers={
            "Content-Disposition": content_disposition(row.original_filename),
            "Content-Length": str(row.size),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
            "X-Offboard-SHA256": row.sha256,
        },
    )
