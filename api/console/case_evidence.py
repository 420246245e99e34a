"""The evidence tab of a case: ``/cases/{id}/evidence`` lists its files and uploads new ones.

Two ways to upload, both streaming each file into the same ``EvidenceIngest`` as the API's upload route
(``api.upload_stream``), so files of several GiB keep the server's memory flat:

- without JavaScript, the form posts one ``multipart/form-data`` body with several files to
  ``POST /cases/{id}/evidence`` (``api/console/upload_parts.py``), and the page comes back with the result;
- with ``console-upload.js``, one ``XMLHttpRequest`` per file to the data route
  ``POST /cases/{id}/evidence/upload`` (raw body, name and kind in ``X-Offboard-*`` headers, the session's
  CSRF token in ``X-CSRF-Token``), so each file gets its own progress bar; the answer is JSON.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from sqlmodel import Session
from starlette.concurrency import iterate_in_threadpool

from api.console.auth import require_form_token
from api.console.case_header import case_header
from api.console.page import EXPIRED_FORM, DataDep, PageDep
from api.console.upload_parts import FileIngests, FileOutcome, FileParts
from api.headers import content_disposition
from api.upload_stream import begin_ingest, declared_type, pump
from vault.errors import Forbidden, InvalidInput, NotFound, PayloadTooLarge
from vault.evidence.ingest import EvidenceKind, stream_verified
from vault.evidence.inventory import evidence_with_uploaders
from vault.evidence.retrieval import Channel, record_retrieval
from vault.models import Evidence

router = APIRouter()
KINDS = tuple((k.value, k.value.capitalize()) for k in EvidenceKind)


def _context(page: PageDep, case_id: str) -> dict[str, Any]:
    def read(session: Session) -> dict[str, Any]:
        header = case_header(session, page.principal, case_id)
        rows = evidence_with_uploaders(session, page.principal.organization_id, case_id)
        return {"case": header, "rows": rows}

    return page.services.read(read)


def _page(page: PageDep, case_id: str, code: int = 200, **extra: Any) -> HTMLResponse:
    context: dict[str, Any] = {"outcomes": [], "errors": [], "field_errors": {}, "kind": "deliverable", **extra}
    return page.render("case_evidence", code, tab="evidence", kinds=KINDS, **_context(page, case_id), **context)


@router.get("/cases/{case_id}/evidence", response_class=HTMLResponse)
def evidence_tab(case_id: str, page: PageDep) -> HTMLResponse:
    return _page(page, case_id)


def _within_limit(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        message = f"upload of {declared} bytes exceeds the limit of {limit} bytes"
        raise PayloadTooLarge(message, details={"limit": limit})


@router.post("/cases/{case_id}/evidence", response_class=HTMLResponse)
async def upload_form(case_id: str, request: Request, page: PageDep) -> Response:
    """The no-JavaScript form: every file of one multipart body, each streamed into its own ingest."""
    page.principal.can_write()
    await run_in_threadpool(page.services.read, lambda s: case_header(s, page.principal, case_id))
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise Forbidden(EXPIRED_FORM)  # no token can be in it; what else it holds does not matter
    _within_limit(request, page.services.settings.max_upload_bytes * 16)

    def check_token(presented: str | None) -> None:
        require_form_token(request, page.st, page.live, presented)

    ingests = FileIngests(page.services, page.principal, case_id, check_token)
    parts = FileParts(request.headers["content-type"], ingests)
    try:
        await pump(request, parts.write)
        parts.close()
    finally:
        ingests.abort()
    return await run_in_threadpool(_answer, page, case_id, ingests.outcomes, parts.fields)


def _answer(page: PageDep, case_id: str, outcomes: list[FileOutcome], fields: dict[str, str]) -> Response:
    failed = [o for o in outcomes if o.error]
    kind = fields.get("kind", "deliverable")
    if outcomes and not failed:
        stored = [o for o in outcomes if not o.duplicate]
        notice = f"{len(stored)} of {len(outcomes)} files stored" + (
            "; the others were already in this case." if len(stored) < len(outcomes) else "."
        )
        return page.done(f"/cases/{case_id}/evidence", notice)
    errors = [{"field": "files", "message": f"{o.name}: {o.error}"} for o in failed]
    field_errors = {"files": "; ".join(e["message"] for e in errors)}
    if not outcomes:
        errors = [{"field": "files", "message": "Choose at least one file to upload"}]
        field_errors = {"files": errors[0]["message"]}
    if kind not in dict(KINDS):
        field_errors["kind"] = "Choose a kind from the list"
        errors.append({"field": "kind", "message": field_errors["kind"]})
    return _page(
        page,
        case_id,
        422,
        outcomes=outcomes,
        errors=errors,
        field_errors=field_errors,
        kind=kind,
        description=fields.get("description", ""),
    )


def _header(request: Request, name: str) -> str | None:
    value = request.headers.get(name)
    return unquote(value) if value is not None else None


@router.post("/cases/{case_id}/evidence/upload")
async def upload_one(case_id: str, request: Request, page: DataDep) -> JSONResponse:
    """One file per request for the upload script: the raw body, streamed like the API's raw upload."""
    require_form_token(request, page.st, page.live, request.headers.get("x-csrf-token"))
    page.principal.can_write()  # a viewer: 403, and another organization's case: 404, before the body is read
    await run_in_threadpool(page.services.read, lambda session: case_header(session, page.principal, case_id))
    _within_limit(request, page.services.settings.max_upload_bytes)
    name = _header(request, "x-offboard-filename")
    if not name:
        raise InvalidInput("name the file in the X-Offboard-Filename header")
    ingest = await run_in_threadpool(begin_ingest, page.services, page.principal, case_id)
    try:
        await pump(request, ingest.feed)
        description = (_header(request, "x-offboard-description") or "").strip() or None
        content_type = declared_type(request.headers.get("content-type"), name)
        result = await run_in_threadpool(
            lambda: ingest.finish(
                filename=name,
                kind=_header(request, "x-offboard-kind"),
                content_type=content_type,
                description=description,
            )
        )
    except BaseException:
        ingest.abort()
        raise
    row = result.evidence
    body = {
        "id": row.id,
        "name": row.original_filename,
        "kind": row.kind,
        "size": row.size,
        "sha256": row.sha256,
        "ledger_index": row.ledger_index,
        "duplicate": result.duplicate,
    }
    return JSONResponse(body, status_code=status.HTTP_200_OK if result.duplicate else status.HTTP_201_CREATED)


@router.get("/cases/{case_id}/evidence/{evidence_id}/content")
def download(case_id: str, evidence_id: str, page: PageDep) -> Response:
    """A stored file, re-hashed on the way out; the copy is an ``evidence.retrieved`` entry (channel
    ``console``) before the first byte. Any role may download (a viewer reads)."""
    svc = page.services

    def record(session: Session) -> Evidence:
        row = record_retrieval(session, page.principal, evidence_id, channel=Channel.CONSOLE, clock=svc.clock)
        if row.case_id != case_id:
            raise NotFound(f"no evidence {evidence_id!r} in case {case_id!r}")
        return row

    row = svc.transact(record)
    headers = {
        "Content-Disposition": content_disposition(row.original_filename),
        "Content-Length": str(row.size),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
        "Cache-Control": "no-store",
        "X-Offboard-SHA256": row.sha256,
    }
    body = iterate_in_threadpool(stream_verified(svc.store, row))
    return StreamingResponse(body, media_type=row.content_type, headers=headers)
