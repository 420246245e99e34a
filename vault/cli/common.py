"""What every ``offboard`` command shares: the root app, consoles, services, the local operator, JSON."""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from sqlmodel import Session

from vault.config import Settings, initialized_settings
from vault.orgs.organizations import Principal, Role, organization_by_slug
from vault.services import Services, build_services

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Offboard: provable client offboarding.")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")]
CHUNK = 1024 * 1024


class State:
    org_slug: str | None = None


state = State()


@app.callback()
def _global(
    org: Annotated[str | None, typer.Option("--org", help="Organization slug (default: the default one).")] = None,
) -> None:
    state.org_slug = org


@contextmanager
def services(settings: Settings | None = None) -> Iterator[Services]:
    """The deployment's services for one command, with the jinja2 renderer (imported only when used).

    Without ``settings``, those of the initialized home: a command run where ``offboard init`` never ran
    stops with one line naming it, before anything (a folder, a database) is created.
    """
    from templates.render import Renderer

    svc = build_services(settings or initialized_settings(), renderer=Renderer())
    try:
        yield svc
    finally:
        svc.close()


def operator(session: Session) -> Principal:
    """The local operator: full rights in the selected organization, recorded as ``cli:<user>``."""
    org = organization_by_slug(session, state.org_slug)
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return Principal(organization_id=org.id, role=Role.ADMIN, actor=f"cli:{user}")


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=True) + "\n")


def emit(as_json: bool, data: Any, text: str) -> None:
    """``data`` as JSON with ``--json``, else the one-line ``text``."""
    if as_json:
        emit_json(data)
    else:
        out.print(text, markup=False)


def progress_bar(*, json_mode: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
        disable=json_mode or not err.is_terminal,
    )
