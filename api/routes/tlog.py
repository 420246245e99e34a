"""``/tlog/<org slug>/``: the organization's log as C2SP tlog-tiles (``docs/ledger.md``, "Tiles").

``checkpoint`` is the latest signed checkpoint, cacheable for a few seconds; ``tile/<L>/<N>[.p/<W>]`` and
``tile/entries/<N>[.p/<W>]`` are immutable and cacheable for a year. What needs no token is the
organization's choice (``offboard ledger visibility``): nothing (``private``, the default), the checkpoint
and the tiles of hashes (``hashes``), or everything (``public``). Otherwise a token of that organization
is needed; another organization's token is refused like none (404 for an unknown slug either way).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from sqlmodel import Session

from api.deps import ServicesDep, bearer_secret
from api.errors import COMMON_RESPONSES, responses
from vault.db import read_session
from vault.errors import NotFound, Unauthorized
from vault.ledger import tiles
from vault.ledger.publish import latest_checkpoint
from vault.orgs.organizations import log_reader
from vault.states import LogVisibility

router = APIRouter(prefix="/tlog", tags=["tlog"], responses=COMMON_RESPONSES)
#: The checkpoint changes as the log grows; tiles never change once they exist.
CHECKPOINT_MAX_AGE = 5
IMMUTABLE = "max-age=31536000, immutable"


def _allowed(request: Request, session: Session, slug: str, *, entries: bool) -> tuple[str, str]:
    """The organization's id and ``public`` or ``private`` (the Cache-Control scope), or ``Unauthorized``."""
    secret = bearer_secret(request)
    reader = log_reader(session, slug, secret)
    visibility = reader.visibility
    if visibility is LogVisibility.PUBLIC or (visibility is LogVisibility.HASHES and not entries):
        return reader.organization_id, "public"
    if secret is None:
        raise Unauthorized("this organization's log needs a token of the organization (Authorization: Bearer)")
    if reader.token_organization_id is None:
        raise Unauthorized("the bearer token is not valid")
    if reader.token_organization_id != reader.organization_id:
        raise Unauthorized("the token is not one of this organization's")
    return reader.organization_id, "private"


@router.get(
    "/{slug}/checkpoint",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "C2SP signed checkpoint note"}, **responses(401)},
)
def checkpoint(slug: str, request: Request, services: ServicesDep) -> Response:
    with read_session(services.engine) as session:
        organization_id, scope = _allowed(request, session, slug, entries=False)
        row = latest_checkpoint(session, organization_id)
        if row is None:
            raise NotFound(f"the log of {slug!r} has no signed checkpoint yet")
        note = row.note
    headers = {"Cache-Control": f"{scope}, max-age={CHECKPOINT_MAX_AGE}", "Vary": "Authorization"}
    return Response(note.encode("utf-8"), media_type="text/plain; charset=utf-8", headers=headers)


@router.get(
    "/{slug}/tile/{path:path}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "A tile or entry bundle"}},
)
def tile(slug: str, path: str, request: Request, services: ServicesDep) -> Response:
    """A tile of hashes (``<L>/<N>[.p/<W>]``) or an entry bundle (``entries/<N>[.p/<W>]``)."""
    wanted = tiles.parse_tile_path(path)
    with read_session(services.engine) as session:
        organization_id, scope = _allowed(request, session, slug, entries=wanted.level is None)
        body = services.tiles.get(organization_id, wanted)  # asked for after the access check, never instead of it
        if body is None:
            row = latest_checkpoint(session, organization_id)
            size = row.size if row is not None else 0
            if wanted.level is None:
                body = tiles.entry_bundle(session, organization_id, wanted, size)
            else:
                body = tiles.tile_hashes(session, organization_id, wanted, size)
            services.tiles.keep(organization_id, wanted, body)
    headers = {"Cache-Control": f"{scope}, {IMMUTABLE}", "Vary": "Authorization"}
    return Response(body, media_type="application/octet-stream", headers=headers)
