"""``/api/v1/ledger``: the organization's log, its checkpoints and proofs; ``/.well-known/offboard/keys``; and,
for anyone, the PDF issuing CA certificate and its CRL (``/.well-known/offboard/pdf-ca.crt``, ``.crl``), and
the offline verifier page and its SHA-256 (``/.well-known/offboard/verify.html[.sha256]``).

These interfaces are scripted against by third parties: their shapes are fixed (see docs/ledger.md and
docs/bundle.md).
"""

from __future__ import annotations

import hashlib
import threading
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel
from sqlmodel import Session

from api.deps import PrincipalDep, ServicesDep, SessionDep, bearer_secret
from api.errors import COMMON_RESPONSES, responses
from api.headers import content_disposition
from api.params import Count
from api.schemas import ConsistencyProofOut, InclusionProofOut
from vault.bundle.verifier_page import verify_page, verify_page_sha256
from vault.clock import rfc3339
from vault.db import Unit
from vault.handover.receipt_pdf import ca_crl, issuing_ca
from vault.ledger import keyring, log, service
from vault.ledger.checkpoint import PublishedCheckpoint, b64encode
from vault.ledger.proofs import ConsistencyProofJSON, InclusionProofJSON
from vault.models import Organization
from vault.orgs.organizations import authenticate, organization_by_slug
from vault.ratelimit import FailureLimiter, client_ip
from vault.services import Services
from vault.witnessing.cosigned import cosigned_checkpoint

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


class CosignerOut(BaseModel):
    name: str
    key_id: str
    timestamp: int


class CheckpointOut(BaseModel):
    """``PublishedCheckpoint``'s keys, then the witnesses' view of the same checkpoint."""

    size: int
    root_hash: str
    key_id: str
    note: str
    cosigned_note: str
    witnessed: bool
    witnesses_required: int
    witnesses_configured: int
    cosigned_by: list[CosignerOut]
    witness_summary: str


@router.get(
    "/checkpoint",
    response_class=Response,
    responses={
        200: {
            "content": {"text/plain": {}, "application/json": {"schema": CheckpointOut.model_json_schema()}},
            "description": "The cosigned checkpoint note (text), or with `Accept: application/json` the checkpoint "
            "and its witnesses; header `X-Offboard-Witnessed: true|false`",
        }
    },
)
def checkpoint(request: Request, principal: PrincipalDep, services: ServicesDep) -> Response:

    def work(session: Unit) -> CheckpointOut:
        org = session.get(Organization, principal.organization_id)
        assert org is not None  # noqa: S101 - a valid token always names an existing organization
        row = service.current_checkpoint(session, services.settings, org, clock=services.clock)
        published = PublishedCheckpoint(row.note, row.key_id).to_json()
        view = cosigned_checkpoint(session, org, row)
        return CheckpointOut(
            **published,
            cosigned_note=view.cosigned_note,
            witnessed=view.witnessed,
            witnesses_required=view.required,
            witnesses_configured=view.configured,
            cosigned_by=[CosignerOut(name=s.name, key_id=s.key_id, timestamp=s.timestamp) for s in view.signed_by],
            witness_summary=view.summary,
        )

    body = services.transact(work)
    headers = {"Cache-Control": "no-store", "X-Offboard-Witnessed": "true" if body.witnessed else "false"}
    if "application/json" in request.headers.get("accept", ""):
        return Response(body.model_dump_json(), media_type="application/json", headers=headers)
    return PlainTextResponse(body.cosigned_note, headers=headers)


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


#: Keys change only with a rotation; five minutes of caching delays a verifier that little.
KEYS_CACHE = "public, max-age=300"
_keys_lock = threading.Lock()


def keys_limiter(request: Request) -> FailureLimiter:
    """The app's per-address budget for the public keys (made on first use from the settings)."""
    state = request.app.state
    found: FailureLimiter | None = getattr(state, "keys_limiter", None)
    if found is None:
        with _keys_lock:
            found = getattr(state, "keys_limiter", None)
            if found is None:
                svc: Services = state.services
                found = FailureLimiter(
                    svc.settings.keys_rate_limit_requests,
                    svc.settings.keys_rate_limit_window_seconds,
                    clock=svc.clock,
                    refusal="too many requests for the keys from this address; try again later",
                )
                state.keys_limiter = found
    return found


def spend_keys_budget(request: Request, services: ServicesDep) -> None:
    """One request of the client address's budget; a dependency so it runs before the session opens."""
    peer = request.client.host if request.client else None
    address = client_ip(peer, request.headers.get("x-forwarded-for"), services.settings.trusted_proxies)
    keys_limiter(request).take(address)


def _keys_organization(request: Request, session: Session, slug: str | None) -> Organization:
    # The slug chooses; else a token's organization (clients that always sent one keep their answer); else
    # the default organization.
    if slug is None and (secret := bearer_secret(request)) is not None:
        org = session.get(Organization, authenticate(session, secret).organization_id)
        assert org is not None  # noqa: S101 - a valid token always names an existing organization
        return org
    return organization_by_slug(session, slug)


@well_known.get(
    "/.well-known/offboard/keys",
    response_model=KeysOut,
    responses={
        **responses(401, 404, 422, 429),
        304: {"description": "Not modified (the ETag in If-None-Match is current)"},
    },
)
def keys(
    _budget: Annotated[None, Depends(spend_keys_budget)],
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    organization: Annotated[
        str | None, Query(max_length=200, description="Organization slug. Default: the token's, else the default.")
    ] = None,
) -> Response:
    """The organization's checkpoint keys with their validity windows (public halves only); no credential
    needed, rate-limited per client address, cacheable for five minutes."""
    org = _keys_organization(request, session, organization)
    body = (
        KeysOut(
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
        .model_dump_json()
        .encode()
    )
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {"Cache-Control": KEYS_CACHE, "ETag": etag, "Vary": "Authorization"}
    if etag in {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@well_known.get(
    "/.well-known/offboard/pdf-ca.crt",
    response_class=Response,
    responses={**responses(401, 404, 422, 429), 200: {"content": {"application/x-pem-file": {}}}},
)
def pdf_ca_certificate(
    _budget: Annotated[None, Depends(spend_keys_budget)],
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    organization: Annotated[str | None, Query(max_length=200, description="Organization slug.")] = None,
) -> Response:
    """The organization's PDF issuing CA certificate (PEM): the trust anchor of its long-term PDF signatures."""
    org = _keys_organization(request, session, organization)
    pem = issuing_ca(services.settings, org, clock=services.clock).cert_file.read_bytes()
    return Response(pem, media_type="application/x-pem-file", headers={"Cache-Control": KEYS_CACHE})


@well_known.get(
    "/.well-known/offboard/pdf-ca.crl",
    response_class=Response,
    responses={**responses(401, 404, 422, 429), 200: {"content": {"application/pkix-crl": {}}}},
)
def pdf_ca_crl(
    _budget: Annotated[None, Depends(spend_keys_budget)],
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    organization: Annotated[str | None, Query(max_length=200, description="Organization slug.")] = None,
) -> Response:
    """The current CRL (DER) of the organization's PDF issuing CA (RFC 5280 section 5)."""
    org = _keys_organization(request, session, organization)
    crl = ca_crl(services.settings, org, clock=services.clock)
    return Response(crl, media_type="application/pkix-crl", headers={"Cache-Control": KEYS_CACHE})


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
            "Content-Disposition": content_disposition("verify.html"),
            "Content-Security-Policy": "sandbox",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": PAGE_CACHE,
        },
    )
