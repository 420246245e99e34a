"""The ledger page (``/ledger``): the latest checkpoint with its cosignatures, the witnesses and whether the
policy counts the checkpoint witnessed, the verifier keys, the timestamp status, and a check of a SHA-256 or
a file against the log; and ``/ledger/entries/{index}/proof``, an inclusion proof as JSON.

The proof is ``vault.ledger.service.prove_inclusion``, the function behind ``GET
/api/v1/ledger/proof/inclusion``. A checked file is hashed as it streams in (through the multipart parser of
evidence uploads, never ``request.form()``, which spools files to disk) and nothing of it is kept.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlmodel import Session

from api.console.auth import require_form_token
from api.console.page import ConsolePage, DataDep, PageDep
from api.multipart import FILE_FIELD, MultipartUpload
from vault.errors import InvalidInput, PayloadTooLarge
from vault.ledger import service, standing
from vault.models import Organization
from vault.witnessing.cosigned import WitnessStanding, witness_standing

router = APIRouter(include_in_schema=False)


def _ledger_page(page: ConsolePage, status: int = 200, /, **context: Any) -> HTMLResponse:
    org, anchoring = page.principal.organization_id, bool(page.services.settings.tsa_url)
    sha256: str | None = context.get("sha256")

    def read(session: Session) -> tuple[standing.LedgerStanding, WitnessStanding, list[standing.StoredCopy] | None]:
        found = standing.stored_copies(session, org, sha256) if sha256 else None
        organization = session.get(Organization, org)
        assert organization is not None  # noqa: S101 - a signed-in principal names an existing organization
        log = standing.ledger_standing(session, org, anchoring=anchoring)
        return log, witness_standing(session, organization), found

    log, witnesses, copies = page.services.read(read)
    checkpoint = log.checkpoint
    return page.render(
        "ledger",
        status,
        section="ledger",
        log=log,
        witnesses=witnesses,
        root_hex=bytes(checkpoint.root_hash).hex() if checkpoint else None,
        copies=copies,
        **{"error": None, "sha256": None, "filename": None, "typed": "", **context},
    )


@router.get("/ledger", response_class=HTMLResponse)
def ledger(page: PageDep, sha256: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    """The page; with ``?sha256=`` also the evidence stored with that digest (a GET form: nothing changes)."""
    if sha256 is None:
        return _ledger_page(page)
    try:
        digest = standing.parse_sha256(sha256)
    except InvalidInput as exc:
        return _ledger_page(page, 400, error={"field": "sha256", "message": _sentence(str(exc))}, typed=sha256)
    return _ledger_page(page, sha256=digest, typed=sha256)


@router.post("/ledger/check-file", response_class=HTMLResponse)
async def check_file(request: Request, page: PageDep) -> Response:
    """Hash an uploaded file as it streams in and say where the log proves it; the file is not kept.

    Checking changes nothing, so a viewer may do it too; the form still carries the session's CSRF token
    (it is read from the parsed body, which is why this route does not use ``FormDep``).
    """
    limit = page.services.settings.max_upload_bytes
    hasher, received = hashlib.sha256(), 0

    def sink(chunk: bytes) -> None:
        nonlocal received
        received += len(chunk)
        if received > limit:
            raise PayloadTooLarge(f"a file to check may be at most {limit} bytes", details={"limit": limit})
        hasher.update(chunk)

    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        # Not the page's form, so no token can be read from it: refused like any form without one.
        require_form_token(request, page.st, page.live, None)
    form = MultipartUpload(content_type, sink)
    async for chunk in request.stream():
        form.write(chunk)
    form.close()
    require_form_token(request, page.st, page.live, form.fields.get("csrf"))
    if not form.filename and received == 0:
        error = {"field": FILE_FIELD, "message": "Choose a file to check"}
        return await run_in_threadpool(lambda: _ledger_page(page, 400, error=error))
    digest, name = hasher.hexdigest(), form.filename or "the file"
    return await run_in_threadpool(lambda: _ledger_page(page, sha256=digest, filename=name))


@router.get("/ledger/entries/{index}/proof")
def inclusion_proof(index: int, page: DataDep) -> JSONResponse:
    """The inclusion proof of entry ``index`` in the organization's log at its current size."""
    org = page.principal.organization_id
    proof = page.services.read(lambda session: service.prove_inclusion(session, org, index).to_json())
    return JSONResponse(dict(proof), headers=page.st.headers())


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]
