"""Which module defines each ``offboard`` command: the root group lists the commands from this table and
imports a command's module only when that command runs (issue 14, item 6).

Importing every command module, and through them the whole domain, made ``offboard --help`` take
seconds. A command module still registers its group or command on the root ``app`` when imported; a new
one is also named here (``tests/unit/test_cli_registry.py`` fails otherwise).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import typer
import typer.core
import typer.main
from typer import _click  # typer parses with its own copy of click; its classes are not re-exported


@dataclass(frozen=True, slots=True)
class Entry:
    """One root command: its one-line help (shown by ``offboard --help``) and the modules defining it."""

    help: str
    modules: tuple[str, ...]


COMMANDS: dict[str, Entry] = {
    "init": Entry(
        "Create the data folder, database, default organization and the first admin token (shown once).",
        ("vault.cli.admin",),
    ),
    "serve": Entry("Serve the API and pages.", ("vault.cli.admin",)),
    "token": Entry("API tokens.", ("vault.cli.admin",)),
    "org": Entry("Organizations (tenants).", ("vault.cli.orgs",)),
    "staff": Entry("Staff members of the organization (case owners).", ("vault.cli.orgs", "vault.cli.signin")),
    "playbook": Entry("Playbooks: standardized steps per service type.", ("vault.cli.orgs",)),
    "case": Entry("Offboarding cases.", ("vault.cli.cases", "vault.cli.access")),
    "evidence": Entry("Evidence: store and retrieve files.", ("vault.cli.evidence",)),
    "receipt": Entry("Handover receipts and acknowledgment links.", ("vault.cli.receipts",)),
    "bundle": Entry("Evidence bundles: one file that proves a case.", ("vault.cli.bundle",)),
    "verify": Entry(
        "Check an evidence bundle offline; exit 0 only if every check passes, else list every failure.",
        ("vault.cli.bundle",),
    ),
    "ledger": Entry("The organization's Merkle ledger.", ("vault.cli.ledger",)),
    "audit": Entry(
        "Re-hash every stored object against the database; exit 1 if any is missing or altered.",
        ("vault.cli.audit",),
    ),
}


def version_text() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"offboard {version('offboard')}"
    except PackageNotFoundError:
        return "offboard (not installed)"


class LazyGroup(typer.core.TyperGroup):
    """The root group: lists ``COMMANDS`` without importing them and loads one when it is invoked."""

    def list_commands(self, ctx: _click.Context) -> list[str]:
        del ctx  # the same commands in every context
        return list(COMMANDS)

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is not None or cmd_name not in COMMANDS:
            return found
        loaded = load_command(cmd_name)
        self.commands[cmd_name] = loaded
        return loaded

    def format_commands(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name].help) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def load_command(name: str) -> _click.Command:
    """Import the modules of root command ``name`` and build its click command from the root app."""
    for module in COMMANDS[name].modules:
        importlib.import_module(module)
    from vault.cli.common import app

    # Built from the root app as it stands: only the command modules imported so far are in it.
    root = typer.main.get_command(app)
    assert isinstance(root, typer.core.TyperGroup)  # noqa: S101 - the root app has a callback, so it is a group
    command = root.commands.get(name)
    if command is None:
        raise RuntimeError(f"{COMMANDS[name].modules} registered no command {name!r} on the root app")
    return command
