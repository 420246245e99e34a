"""Request dependencies: the deployment's services, a database session, and the authenticated principal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from vault.db import read_session
from vault.errors import Unauthorized
from vault.orgs.organizations import Principal, authenticate
from vault.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    """The read session (no write lock on SQLite). Routes that write use ``services.transact``, so the
    commit happens before the response."""
    with read_session(services.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def bearer_secret(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def get_principal(request: Request, services: ServicesDep) -> Principal:
    secret = bearer_secret(request)
    if secret is None:
        raise Unauthorized("a bearer token is required (Authorization: Bearer <token>)")
    with read_session(services.engine) as session:
        return authenticate(session, secret)


PrincipalDep = Annotated[Principal, Depends(get_principal)]
