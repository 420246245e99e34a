"""``/api/v1/playbooks``: the organization's versioned playbooks. Reading is open to every role;
publishing a version and choosing the default are for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import PrincipalDep, ServicesDep
from api.errors import COMMON_RESPONSES, responses
from api.params import Positive
from api.schemas import PlaybookPublic, PlaybookUpload, PlaybookVersionPublic
from vault.cases import playbooks
from vault.db import Unit
from vault.errors import InvalidInput

router = APIRouter(prefix="/api/v1/playbooks", tags=["playbooks"], responses=COMMON_RESPONSES)


@router.get("")
def list_playbooks(principal: PrincipalDep, services: ServicesDep) -> list[PlaybookPublic]:
    def work(session: Unit) -> list[PlaybookPublic]:
        rows = playbooks.list_playbooks(session, principal.organization_id, clock=services.clock)
        return [PlaybookPublic.of(p) for p in rows]

    return services.transact(work)


@router.get("/{key}")
def get_playbook(
    key: str,
    principal: PrincipalDep,
    services: ServicesDep,
    version: Annotated[Positive | None, Query(description="Default: the latest version.")] = None,
) -> PlaybookVersionPublic:
    def work(session: Unit) -> PlaybookVersionPublic:
        row = playbooks.get_version(session, principal.organization_id, key, version, clock=services.clock)
        return PlaybookVersionPublic.of(row)

    return services.transact(work)


@router.get("/{key}/versions")
def list_versions(key: str, principal: PrincipalDep, services: ServicesDep) -> list[PlaybookVersionPublic]:
    def work(session: Unit) -> list[PlaybookVersionPublic]:
        rows = playbooks.list_versions(session, principal.organization_id, key, clock=services.clock)
        return [PlaybookVersionPublic.of(v) for v in rows]

    return services.transact(work)


@router.put(
    "/{key}",
    status_code=status.HTTP_201_CREATED,
    responses={
        **responses(403, 409),
        200: {"model": PlaybookVersionPublic, "description": "Version already exists"},
    },
)
def publish(
    key: str, body: PlaybookUpload, principal: PrincipalDep, services: ServicesDep, response: Response
) -> PlaybookVersionPublic:
    """Publish a new version from YAML text or a JSON document; its ``key`` must match the path."""
    if (body.yaml is None) == (body.document is None):
        raise InvalidInput("send exactly one of 'yaml' (text) or 'document' (object)")
    spec = playbooks.parse_yaml(body.yaml) if body.yaml is not None else playbooks.parse_playbook(body.document)
    if spec.key != key:
        raise InvalidInput(f"the document's key {spec.key!r} does not match the path's {key!r}")

    def work(session: Unit) -> PlaybookVersionPublic:
        row, created = playbooks.publish(session, principal, spec, clock=services.clock)
        if not created:
            response.status_code = status.HTTP_200_OK
        return PlaybookVersionPublic.of(row)

    return services.transact(work)


@router.post("/{key}/default", responses=responses(403))
def set_default(key: str, principal: PrincipalDep, services: ServicesDep) -> PlaybookPublic:
    def work(session: Unit) -> PlaybookPublic:
        return PlaybookPublic.of(playbooks.set_default(session, principal, key, clock=services.clock))

    return services.transact(work)
