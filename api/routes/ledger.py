"""``/api/v1/ledger``: the organization's log, its checkpoints and proofs; ``/.well-known/offboard/keys``; and,
for anyone, the offline verifier page and its SHA-256 (``/.well-known/offboard/verify.html[.sha256]``).

These interfaces are scripted against by third parties: their shapes are fixed (see docs/ledger.md and
docs/bundle.md).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel

from api.deps import PrincipalDep, ServicesDep, SessionDep
from api.errors import COMMON_RESPONSES
from api.params import Count
from api.schemas import ConsistencyProofOut, InclusionProofOut
from vault.bundle.verifier_page import verify_page, verify_page_sha256
from vault.clock import rfc3339
from vault.db import Unit
from vault.ledger import keyring, log, service
from vault.ledger.checkpoint import PublishedCheckpoint, b64encode
from vault.ledger.proofs import ConsistencyProofJSON, InclusionProofJSON
from vault.models import Organization

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"], responses=COMMON_RESPONSES)
well_known = APIRouter(tags=["ledger"])
#: The verifier page changes only with an upgrade of Offboard: an hour of caching is harmless.
PAGE_CACHE = "public, max-age=3600"


class PublicKeyOut(BaseModel):
    name: str
    key_id: str
    vkey: str
    valid_from: str
    valid_until: str | None


class KeysOut(BaseModel):
    organization: str
    origin: str
    keys: list[PublicKeyOut]


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "C2SP signed checkpoint note"}},
)
def checkpoint(principal: PrincipalDep, services: ServicesDep) -> PlainTextResponse:

    def work(session: Unit) -> str:
        org = session.get(Organization, principal.organization_id)
        assert org is not None  # noqa: S101 - a valid token always names an existing organization
        row = service.current_checkpoint(session, services.settings, org, clock=services.clock)
        return PublishedCheckpoint(row.note, row.key_id).to_text()

    return PlainTextResponse(services.transact(work), headers={"Cache-Control": "no-store"})


@router.get(
    "/entries/{index}",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}, "description": "The exact entry bytes"}},
)
def entry(index: Count, principal: PrincipalDep, session: SessionDep) -> Response:
    row = log.entry(session, principal.organization_id, index)
    return Response(
        bytes(row.body),
        media_type="application/json",
        headers={"X-Offboard-Leaf-Hash": b64encode(bytes(row.leaf_hash)), "X-Offboard-Index": str(row.idx)},
    )


@router.get("/proof/inclusion", response_model=InclusionProofOut)
def inclusion(
    principal: PrincipalDep,
    session: SessionDep,
    index: Annotated[Count, Query()],
    tree_size: Annotated[Count | None, Query()] = None,
) -> InclusionProofJSON:
    return service.prove_inclusion(session, principal.organization_id, index, tree_size).to_json()


@router.get("/proof/consistency", response_model=ConsistencyProofOut)
def consistency(
    principal: PrincipalDep, session: SessionDep, first: Annotated[Count, Query()], second: Annotated[Count, Query()]
) -> ConsistencyProofJSON:
    return service.prove_consistency(session, principal.organization_id, first, second).to_json()


@well_known.get("/.well-known/offboard/keys", responses=COMMON_RESPONSES)
def keys(principal: PrincipalDep, services: ServicesDep, session: SessionDep) -> KeysOut:
    """The organization's checkpoint keys with their validity windows (public halves only)."""
    org = session.get(Organization, principal.organization_id)
    assert org is not None  # noqa: S101 - a valid token always names an existing organization
    return KeysOut(
        organization=org.slug,
        origin=keyring.origin_of(services.settings, org),
        keys=[
            PublicKeyOut(
                name=k.name,
                key_id=k.key_id,
                vkey=k.vkey,
                valid_from=rfc3339(k.valid_from),
                valid_until=rfc3339(k.valid_until) if k.valid_until else None,
            )
            for k in keyring.public_keys(session, org.id)
        ],
    )


@well_known.get(
    "/.well-known/offboard/verify.html.sha256",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "`<hex>  verify.html`, as sha256sum prints it"}},
)
def verify_page_digest() -> PlainTextResponse:
    """SHA-256 of the offline verifier page this server puts in every bundle; no credential needed."""
    return PlainTextResponse(f"{verify_page_sha256()}  verify.html\n", headers={"Cache-Control": PAGE_CACHE})


@well_known.get(
    "/.well-known/offboard/verify.html",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}, "description": "The offline verifier page, as a download"}},
)
def verify_page_copy() -> Response:
    """The offline verifier page itself, so a verifier can get a copy that did not come in the bundle.

    Served as a download to be opened from disk, as it is meant to run: on this origin it would share
    storage with the console, so it is also sandboxed should a browser display it anyway.
    """
    return Response(
        verify_page(),
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="verify.html"',
            "Content-Security-Policy": "sandbox",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": PAGE_CACHE,
        },
    )
