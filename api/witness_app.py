"""The witness's HTTP interface: C2SP tlog-witness ``POST /add-checkpoint``, as a tiny Starlette app.

It is not Offboard's app (``api/app.py``) and needs none of Offboard's settings or database: the
witness's folder and the log keys come from ``OFFBOARD_WITNESS_DIR`` and ``OFFBOARD_WITNESS_LOGS`` (one
vkey a line), which ``offboard witness serve`` sets before starting uvicorn with ``app_from_env``.

Answers, as the spec gives them: 200 with the cosignature line(s) (``text/plain``); 400 for a malformed
body or an old size beyond the checkpoint's; 403 when no trusted key of the log signed the checkpoint
(or a trusted signature fails); 404 for an unknown origin; 409 with ``Content-Type: text/x.tlog.size``
and the cosigned size as the body; 422 for a bad proof or an inconsistent root. Other errors are a
one-line text with their status; the body of a refusal is one line of text saying why.

``GET /<hex SHA-256 of the origin>/checkpoint`` (the spec's optional monitoring read) serves the last
checkpoint cosigned for that log with the witness's cosignature, or 404.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from vault.errors import Conflict, Forbidden, InvalidInput, NotFound, OffboardError, VerificationFailed
from vault.witness.cosigner import Witness
from vault.witness.refusals import SizeConflict

DIR_VARIABLE = "OFFBOARD_WITNESS_DIR"
LOGS_VARIABLE = "OFFBOARD_WITNESS_LOGS"
#: 63 proof lines and a checkpoint with a hundred signatures fit in a fraction of this.
MAX_BODY = 64 * 1024
SIZE_TYPE = "text/x.tlog.size"
#: The first matching class gives the status.
STATUS: tuple[tuple[type[OffboardError], int], ...] = (
    (SizeConflict, 409),
    (InvalidInput, 400),
    (Forbidden, 403),
    (NotFound, 404),
    (VerificationFailed, 422),
    (Conflict, 409),
)


def _refusal(exc: OffboardError) -> Response:
    if isinstance(exc, SizeConflict):
        # Exactly this type: Starlette would append "; charset=utf-8" to a text/* media type.
        return Response(f"{exc.size}\n", status_code=409, headers={"Content-Type": SIZE_TYPE})
    status = next((code for cls, code in STATUS if isinstance(exc, cls)), 500)
    return PlainTextResponse(exc.message + "\n", status_code=status)


async def _body(request: Request) -> bytes | None:
    """The request body, or None once it passes ``MAX_BODY`` (read no further)."""
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def create_witness_app(witness: Witness) -> Starlette:
    """The ASGI app of one witness."""

    async def add_checkpoint(request: Request) -> Response:
        body = await _body(request)
        if body is None:
            return PlainTextResponse(f"the request body exceeds {MAX_BODY} bytes\n", status_code=413)
        try:
            # In a worker thread: the state file's fsync must not stall other requests.
            cosigned = await run_in_threadpool(witness.add_checkpoint, body)
        except OffboardError as exc:
            return _refusal(exc)
        return PlainTextResponse(cosigned.lines)

    origins = {hashlib.sha256(origin.encode("utf-8")).hexdigest(): origin for origin in witness.logs}

    async def checkpoint(request: Request) -> Response:
        origin = origins.get(request.path_params["origin_hash"])
        record = None if origin is None else await run_in_threadpool(witness.state.get, origin)
        if record is None:
            return PlainTextResponse("this witness has cosigned no checkpoint of that log\n", status_code=404)
        return PlainTextResponse(record.note, headers={"Cache-Control": "no-store"})

    return Starlette(
        routes=[
            Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
            Route("/{origin_hash:str}/checkpoint", checkpoint, methods=["GET"]),
        ]
    )


def app_from_env() -> Starlette:
    """Factory for ``uvicorn --factory`` (``offboard witness serve``): the folder and log keys from the environment."""
    from vault.witness.witness_home import open_witness

    directory = os.environ.get(DIR_VARIABLE, "")
    logs = [line for line in os.environ.get(LOGS_VARIABLE, "").splitlines() if line.strip()]
    return create_witness_app(open_witness(Path(directory), logs))
