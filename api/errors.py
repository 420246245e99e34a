"""The one mapping from domain errors to HTTP: RFC 9457 problem details (``application/problem+json``).

Routes raise ``OffboardError`` subclasses; this module decides the status. Unexpected exceptions become a
generic 500 problem without internals (the traceback goes to the server log only).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from vault import errors

log = logging.getLogger("offboard.api")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://offboard.invalid/problems/"

#: Each domain error class's status, most specific first; a title only where the status's own would mislead.
STATUS: list[tuple[type[errors.OffboardError], int, str | None]] = [
    (errors.PayloadTooLarge, 413, None),
    (errors.UnacceptableUpload, 422, None),
    (errors.UnacceptableWebhookUrl, 422, None),
    (errors.UnacceptableWitness, 422, None),
    (errors.InvalidInput, 400, None),
    (errors.NotFound, 404, None),
    (errors.Conflict, 409, None),
    (errors.Unauthorized, 401, None),
    (errors.Forbidden, 403, None),
    (errors.RateLimited, 429, None),
    (errors.VerificationFailed, 422, None),
    (errors.IntegrityFailure, 500, "Stored records failed an integrity check"),
    (errors.StorageError, 503, None),
    (errors.DatabaseUnavailable, 503, None),
    (errors.MailError, 503, None),
    (errors.ConfigurationError, 500, None),
    (errors.WritePathMisuse, 500, "Internal error"),
    # A job's handler outcome never reaches a route; mapped so that one leaking by mistake is a plain 500.
    (errors.JobOutcome, 500, "Internal error"),
]


class Problem(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` declaring that the route may answer problem details with these statuses."""
    return {
        code: {"model": Problem, "content": {PROBLEM_MEDIA_TYPE: {}}, "description": "Problem details (RFC 9457)"}
        for code in codes
    }


#: Every route may answer these; declared so the OpenAPI document says so.
COMMON_RESPONSES = responses(400, 401, 404, 422, 500)


def problem(status: int, code: str, title: str, detail: str | None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_BASE + code, "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def status_for(exc: errors.OffboardError) -> tuple[int, str | None]:
    """The HTTP status of a domain error and its own title (``None``: the status's title)."""
    for cls, status, title in STATUS:
        if isinstance(exc, cls):
            return status, title
    return 500, None


_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def _page_problem(request: Request, status: int, title: str, message: str) -> Response | None:
    """The HTML answer of a console page, when the route registered one (``api/console/page.py``)."""
    render = getattr(request.state, "render_problem", None)
    return render(status, title, message) if render is not None else None


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.OffboardError)
    async def _domain(request: Request, exc: errors.OffboardError) -> Response:
        status, title = status_for(exc)
        page = _page_problem(request, status, title or _TITLES.get(status, "Error"), exc.message)
        response = page or problem(status, exc.code, title or _TITLES.get(status, "Error"), exc.message, **exc.details)
        if isinstance(exc, errors.RateLimited) and "retry_after" in exc.details:
            response.headers["Retry-After"] = str(exc.details["retry_after"])
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        issues = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        first = issues[0] if issues else {"loc": [], "msg": "invalid request"}
        detail = f"{'.'.join(first['loc'])}: {first['msg']}" if first["loc"] else str(first["msg"])
        page = _page_problem(request, 422, "The form could not be read", detail)
        if page is not None:
            return page
        return problem(422, "validation", "Request validation failed", detail, errors=issues)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        return problem(status, f"http-{status}", _TITLES.get(status, "Error"), str(exc.detail))

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _database(request: Request, exc: Exception) -> Response:
        unavailable = errors.database_unavailable(exc)
        if unavailable is None:  # cannot happen for these two classes; kept total
            return await _unexpected(request, exc)
        log.warning("database unavailable: %s", unavailable.message)
        response = await _domain(request, unavailable)
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem(500, "internal", "Internal server error", "an unexpected error occurred; it was logged")
