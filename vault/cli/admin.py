"""``offboard init``, ``offboard serve`` and ``offboard token ...``: setting up and running a deployment."""

from __future__ import annotations

from typing import Annotated

import typer

from vault.cli.common import JsonOpt, app, emit_json, err, operator, out, services
from vault.config import get_settings
from vault.orgs.organizations import create_token
from vault.setup import initialize

token_app = typer.Typer(no_args_is_help=True, help="API tokens.")
app.add_typer(token_app, name="token")


@app.command()
def init(
    org_name: Annotated[
        str | None, typer.Option("--org-name", help="The organization name clients see (renames it if set up).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create the data folder, database, default organization and the first admin token (shown once)."""
    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    with services() as svc:
        result = initialize(svc, org_name=org_name)
    token = result.admin_token
    if as_json:
        emit_json(
            {
                "organization": result.organization_slug,
                "created": result.created,
                "admin_token": token.secret if token else None,
                "home": str(settings.home.resolve()),
            }
        )
        return
    err.print(f"Offboard data: {settings.home.resolve()} (organization '{result.organization_slug}')")
    if token is not None:
        err.print("Admin API token (shown only this once; only its hash is stored):")
        out.print(token.secret)
    else:
        err.print("Already initialized; no new token issued (create one with `offboard token create`).")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default OFFBOARD_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default OFFBOARD_PORT).")] = None,
) -> None:
    """Serve the API and pages."""
    import uvicorn

    settings = get_settings()
    # By name: the domain package never imports the API package.
    uvicorn.run(
        "api.app:app_from_env",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        proxy_headers=False,
    )


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    role: Annotated[str, typer.Option("--role", help="admin, member or viewer.")] = "member",
    as_json: JsonOpt = False,
) -> None:
    """Issue an API token; the secret is printed once and only its hash is stored."""
    with services() as svc:
        issued = svc.transact(
            lambda session: create_token(
                session, organization_id=operator(session).organization_id, name=name, role=role
            )
        )
    if as_json:
        emit_json({"id": issued.id, "name": issued.name, "role": issued.role.value, "token": issued.secret})
    else:
        out.print(issued.secret)
