"""``offboard init``, ``offboard serve`` and ``offboard token ...``: setting up and running a deployment."""

from __future__ import annotations

from typing import Annotated

import typer

from vault.cli.common import JsonOpt, app, emit_json, err, operator, out, services
from vault.config import get_settings, initialized_settings
from vault.orgs.organizations import create_token
from vault.setup import initialize

token_app = typer.Typer(no_args_is_help=True, help="API tokens.")
app.add_typer(token_app, name="token")


@app.command()
def init(
    base_url: Annotated[str | None, typer.Option(help="Public URL links are built from (match --port).")] = None,
    host: Annotated[str | None, typer.Option(help="Bind address of `offboard serve`.")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port of `offboard serve`.")] = None,
    smtp_url: Annotated[str | None, typer.Option(help="smtp://user:pass@host:port for the emails.")] = None,
    smtp_from: Annotated[str | None, typer.Option(help="Sender address of the emails.")] = None,
    database_url: Annotated[str | None, typer.Option(help="SQLAlchemy URL (default: SQLite in the home).")] = None,
    storage_url: Annotated[str | None, typer.Option(help="file:///path or s3://bucket/prefix.")] = None,
    s3_endpoint_url: Annotated[str | None, typer.Option(help="S3-compatible endpoint (MinIO).")] = None,
    s3_object_lock_days: Annotated[int | None, typer.Option(min=1, help="COMPLIANCE retention in days.")] = None,
    tsa_url: Annotated[str | None, typer.Option(help="RFC 3161 timestamp authority for checkpoints.")] = None,
    org_name: Annotated[
        str | None, typer.Option("--org-name", help="The organization name clients see (renames it if set up).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create the home (its offboard.env, database, default organization) and the first admin token (shown once).

    The options given are saved in <home>/offboard.env, which every later command and `offboard serve` read
    (environment variables still win). Running init again keeps what is there and updates what is given.
    """
    from vault.cli.config import init_choices
    from vault.config_file import write_env_file

    options = {"base_url": base_url, "host": host, "port": port, "smtp_url": smtp_url, "smtp_from": smtp_from}
    options |= {"database_url": database_url, "storage_url": storage_url, "s3_endpoint_url": s3_endpoint_url}
    options |= {"s3_object_lock_days": s3_object_lock_days, "tsa_url": tsa_url}
    chosen = init_choices(options)
    settings = get_settings(**chosen)
    settings.home.mkdir(parents=True, exist_ok=True)
    with services(settings) as svc:
        result = initialize(svc, org_name=org_name)
    # Written last: a home whose initialization failed is not marked as initialized.
    write_env_file(settings.env_file, chosen)
    token = result.admin_token
    if as_json:
        emit_json(
            {
                "organization": result.organization_slug,
                "created": result.created,
                "admin_token": token.secret if token else None,
                "home": str(settings.home),
                "env_file": str(settings.env_file),
            }
        )
        return
    err.print(f"Offboard data: {settings.home} (organization '{result.organization_slug}')")
    err.print(f"Settings: {settings.env_file} (`offboard config show` prints them)")
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

    from vault.cli.config import warn_port_mismatch

    settings = initialized_settings()
    warn_port_mismatch(settings, port or settings.port)
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
