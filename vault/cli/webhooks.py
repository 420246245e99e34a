"""``offboard webhook ...``: the organization's webhook endpoints (add, list, remove, test).

The domain is imported inside each command so that ``offboard --help`` does not load it (issue 14, item 6).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from vault.cli.common import JsonOpt, app, emit, operator, out, services

webhook_app = typer.Typer(no_args_is_help=True, help="Signed webhooks: endpoints that receive ledger events.")
app.add_typer(webhook_app, name="webhook")

EndpointArg = Annotated[str, typer.Argument(help="The endpoint's id.")]


def _endpoint_json(row: Any, secret: str | None = None) -> dict[str, Any]:
    from vault.clock import rfc3339
    from vault.webhooks.endpoints import endpoint_events

    data = {"id": row.id, "url": row.url, "events": endpoint_events(row), "created_by": row.created_by}
    data["created_at"] = rfc3339(row.created_at)
    if secret is not None:
        data["secret"] = secret
    return data


@webhook_app.command("add")
def webhook_add(
    url: Annotated[str, typer.Argument(help="https://... (http:// only on loopback, with --allow-loopback-http).")],
    events: Annotated[str, typer.Option("--events", help="Comma-separated events, e.g. case.opened,receipt.sent.")],
    secret: Annotated[str | None, typer.Option("--secret", help="whsec_...; generated when omitted.")] = None,
    allow_loopback_http: Annotated[
        bool, typer.Option("--allow-loopback-http", help="Allow http:// to a loopback address (local testing).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Add an endpoint; prints it and its secret (whsec_..., shown once)."""
    from vault.webhooks import endpoints

    with services() as svc:
        added = svc.transact(
            lambda unit: endpoints.add_endpoint(
                unit,
                svc.settings,
                operator(unit),
                url=url,
                events=events.split(","),
                secret=secret,
                allow_loopback_http=allow_loopback_http,
                clock=svc.clock,
            )
        )
        data = _endpoint_json(added.endpoint, added.secret)
    emit(as_json, data, f"added webhook {data['id']} -> {data['url']} ({', '.join(data['events'])})\n{added.secret}")


@webhook_app.command("list")
def webhook_list(as_json: JsonOpt = False) -> None:
    """List the organization's endpoints."""
    from vault.webhooks import endpoints

    with services() as svc:
        rows = svc.read(
            lambda session: [_endpoint_json(r) for r in endpoints.list_endpoints(session, operator(session))]
        )
    if as_json:
        emit(True, rows, "")
        return
    for row in rows:
        out.print(f"{row['id']}  {row['url']}  {','.join(row['events'])}", markup=False)


@webhook_app.command("remove")
def webhook_remove(endpoint_id: EndpointArg, as_json: JsonOpt = False) -> None:
    """Remove an endpoint; its deliveries stay readable."""
    from vault.webhooks import endpoints

    with services() as svc:
        svc.transact(lambda unit: endpoints.remove_endpoint(unit, operator(unit), endpoint_id, clock=svc.clock))
    emit(as_json, {"id": endpoint_id, "removed": True}, f"removed webhook {endpoint_id}")


@webhook_app.command("test")
def webhook_test(endpoint_id: EndpointArg, as_json: JsonOpt = False) -> None:
    """Send a signed webhook.test event now and print the result; exit 1 if it was not accepted."""
    from vault.webhooks import delivery

    with services() as svc:
        principal = svc.read(operator)
        result = delivery.send_test(svc, principal, endpoint_id, now=svc.clock())
    attempt = result.attempt
    data = {
        "delivery": attempt.delivery_id,
        "status": result.status.value,
        "status_code": attempt.status_code,
        "latency_ms": attempt.latency_ms,
        "error": attempt.error,
    }
    verdict = "delivered" if not attempt.error else f"failed: {attempt.error}"
    emit(as_json, data, f"webhook.test {attempt.delivery_id}: {verdict} ({attempt.latency_ms} ms)")
    if attempt.error:
        raise typer.Exit(1)
