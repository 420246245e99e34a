"""``offboard org ...``, ``offboard staff ...`` and ``offboard playbook ...``: tenants, people, playbooks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from vault.cases import playbooks
from vault.cli.common import JsonOpt, app, emit_json, operator, out, services
from vault.clock import rfc3339
from vault.db import read_session
from vault.models import Playbook, PlaybookVersion, StaffMember
from vault.orgs import staff
from vault.orgs.organizations import rename_organization
from vault.setup import new_organization

org_app = typer.Typer(no_args_is_help=True, help="Organizations (tenants).")
staff_app = typer.Typer(no_args_is_help=True, help="Staff members of the organization (case owners).")
playbook_app = typer.Typer(no_args_is_help=True, help="Playbooks: standardized steps per service type.")
app.add_typer(org_app, name="org")
app.add_typer(staff_app, name="staff")
app.add_typer(playbook_app, name="playbook")


def staff_json(member: StaffMember) -> dict[str, Any]:
    return {
        "id": member.id,
        "email": member.email,
        "name": member.name,
        "role": member.role,
        "active": member.active,
        "created_at": rfc3339(member.created_at),
        "ledger_index": member.ledger_index,
    }


def playbook_json(row: Playbook) -> dict[str, Any]:
    return {
        "key": row.key,
        "title": row.title,
        "latest_version": row.latest_version,
        "is_default": row.is_default,
    }


def version_json(row: PlaybookVersion) -> dict[str, Any]:
    return {
        "key": row.key,
        "version": row.version,
        "title": row.title,
        "sha256": row.sha256,
        "document": json.loads(row.document),
        "created_at": rfc3339(row.created_at),
        "created_by": row.created_by,
        "ledger_index": row.ledger_index,
    }


@org_app.command("create")
def org_create(
    name: Annotated[str, typer.Argument(help="The organization's name.")],
    slug: Annotated[str | None, typer.Option(help="URL-safe id (default: from the name).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an organization; select it in later commands with ``--org SLUG``."""
    with services() as svc:
        org = new_organization(svc, name=name, slug=slug)
    if as_json:
        emit_json({"id": org.id, "slug": org.slug, "name": org.name})
    else:
        out.print(org.slug)


@org_app.command("rename")
def org_rename(
    name: Annotated[str, typer.Argument(help="The new name, as clients see it in emails, pages and PDFs.")],
    as_json: JsonOpt = False,
) -> None:
    """Rename the organization (recorded in the ledger); receipts already issued keep their name."""
    with services() as svc:
        org = svc.transact(lambda session: rename_organization(session, operator(session), name=name, clock=svc.clock))
    if as_json:
        emit_json({"id": org.id, "slug": org.slug, "name": org.name})
    else:
        out.print(org.name, markup=False)


@org_app.command("reminders")
def org_reminders(
    timezone: Annotated[str | None, typer.Option("--timezone", help="IANA time zone, e.g. Europe/Berlin.")] = None,
    digest_hour: Annotated[
        int | None, typer.Option("--digest-hour", min=0, max=23, help="Local hour of the owners' digest.")
    ] = None,
    escalate_after: Annotated[
        int | None, typer.Option("--escalate-after", min=1, max=365, help="Overdue days before admins hear.")
    ] = None,
    client_schedule: Annotated[
        str | None, typer.Option("--client-schedule", help="Days after sending to remind clients, e.g. 3,7.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show or change when reminders go out (recorded in the ledger); no option shows them."""
    from vault.reminders.policy import set_policy

    with services() as svc:
        policy = svc.transact(
            lambda session: set_policy(
                session,
                operator(session),
                timezone=timezone,
                hour=digest_hour,
                escalate_after=escalate_after,
                schedule=client_schedule,
                clock=svc.clock,
            )
        )
    if as_json:
        emit_json(policy.to_dict())
        return
    schedule = ",".join(str(d) for d in policy.client_schedule) or "none"
    out.print(
        f"time zone {policy.timezone}, digest at {policy.digest_hour}:00, escalation after "
        f"{policy.escalate_after_days} days, client reminders on days {schedule}",
        markup=False,
    )


@staff_app.command("add")
def staff_add(
    email: Annotated[str, typer.Argument(help="The staff member's email.")],
    name: Annotated[str, typer.Option("--name", help="Full name.")] = "",
    role: Annotated[str, typer.Option("--role", help="admin, member or viewer.")] = "member",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Also set a console password, read from standard input.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Add a staff member to the organization (with --password-stdin, one who can sign in)."""
    if password_stdin:
        from vault.cli.signin import add_with_password, read_password

        member = add_with_password(email, name, role, read_password())
    else:
        with services() as svc:
            member = svc.transact(
                lambda session: staff.add_staff(
                    session, operator(session), email=email, name=name, role=role, clock=svc.clock
                )
            )
    if as_json:
        emit_json(staff_json(member))
    else:
        out.print(member.id)


@staff_app.command("list")
def staff_list(as_json: JsonOpt = False) -> None:
    """List the organization's staff members."""
    with services() as svc, read_session(svc.engine) as session:
        rows = staff.list_staff(session, operator(session).organization_id)
    if as_json:
        emit_json([staff_json(m) for m in rows])
        return
    table = Table("email", "name", "role", "active")
    for m in rows:
        table.add_row(m.email, m.name, m.role, "yes" if m.active else "no")
    out.print(table)


@playbook_app.command("list")
def playbook_list(as_json: JsonOpt = False) -> None:
    """List the organization's playbooks (the shipped ones are installed on first use)."""
    with services() as svc:
        rows = svc.transact(
            lambda session: playbooks.list_playbooks(session, operator(session).organization_id, clock=svc.clock)
        )
    if as_json:
        emit_json([playbook_json(p) for p in rows])
        return
    table = Table("key", "title", "version", "default")
    for p in rows:
        table.add_row(p.key, p.title, str(p.latest_version), "yes" if p.is_default else "")
    out.print(table)


@playbook_app.command("show")
def playbook_show(
    key: str,
    version: Annotated[int | None, typer.Option(min=1, max=2**63 - 1, help="Default: the latest.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one playbook version with its steps and SHA-256."""
    with services() as svc:
        row = svc.transact(
            lambda session: playbooks.get_version(
                session, operator(session).organization_id, key, version, clock=svc.clock
            )
        )
    if as_json:
        emit_json(version_json(row))
        return
    out.print(f"{row.key} v{row.version}: {row.title} (sha256 {row.sha256})")
    for step in json.loads(row.document)["steps"]:
        flag = "" if step["required"] else " (optional)"
        criteria = ", ".join(step["criteria"])
        line = f"  - {step['key']}{flag}: {step['title']} [due +{step['due_days']}d; {criteria}]"
        out.print(line, markup=False)


@playbook_app.command("publish")
def playbook_publish(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Playbook YAML.")],
    as_json: JsonOpt = False,
) -> None:
    """Validate a playbook YAML file and publish it as a new version."""
    spec = playbooks.parse_yaml(file.read_bytes())
    with services() as svc:
        row, created = svc.transact(
            lambda session: playbooks.publish(session, operator(session), spec, clock=svc.clock)
        )
    if as_json:
        emit_json({**version_json(row), "created": created})
    else:
        out.print(f"{row.key} v{row.version} {'published' if created else 'already published'} ({row.sha256})")


@playbook_app.command("default")
def playbook_default(key: str) -> None:
    """Make KEY the organization's default playbook."""
    with services() as svc:
        svc.transact(lambda session: playbooks.set_default(session, operator(session), key, clock=svc.clock))
    out.print(f"default playbook: {key}")
