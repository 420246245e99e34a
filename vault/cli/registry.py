"""Which module defines each ``offboard`` command: the root group lists the commands from this table and
imports a command's module only when that command runs (issue 14, item 6).

Importing every command module, and through them the whole domain, made ``offboard --help`` take
seconds. A command module still registers its group or command on the root ``app`` when imported; a new
one is also named here (``tests/unit/test_cli_registry.py`` fails otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import typer
import typer.core
import typer.main
from typer import _click  # typer parses with its own copy of click; its classes are not re-exported
from typer._coercion import PassThroughRuntimeParam

import vault


@dataclass(frozen=True, slots=True)
class Entry:
    """One root command: its one-line help (shown by ``offboard --help``) and what imports its modules."""

    help: str
    load: Callable[[], None]


# Each loader imports the modules that register one command (explicit imports, which test_layers.py reads).
def _admin() -> None:
    from vault.cli import admin  # noqa: F401


def _orgs() -> None:
    from vault.cli import orgs  # noqa: F401


def _staff() -> None:
    from vault.cli import orgs, signin  # noqa: F401


def _cases() -> None:
    from vault.cli import access, case_records, cases, contacts  # noqa: F401


def _evidence() -> None:
    from vault.cli import evidence  # noqa: F401


def _receipts() -> None:
    from vault.cli import receipts  # noqa: F401


def _certificates() -> None:
    from vault.cli import certificates  # noqa: F401


def _bundle() -> None:
    from vault.cli import bundle  # noqa: F401


def _ledger() -> None:
    from vault.cli import ledger  # noqa: F401


def _audit() -> None:
    from vault.cli import audit  # noqa: F401


def _witness() -> None:
    from vault.cli import witness  # noqa: F401


def _config() -> None:
    from vault.cli import config  # noqa: F401


def _webhooks() -> None:
    from vault.cli import webhooks  # noqa: F401


def _worker() -> None:
    from vault.cli import worker  # noqa: F401


COMMANDS: dict[str, Entry] = {
    "init": Entry(
        "Create the home (its offboard.env, database, default organization) and the first admin token (shown once).",
        _admin,
    ),
    "serve": Entry("Serve the API and pages.", _admin),
    "token": Entry("API tokens.", _admin),
    "org": Entry("Organizations (tenants).", _orgs),
    "staff": Entry("Staff members of the organization (case owners).", _staff),
    "playbook": Entry("Playbooks: standardized steps per service type.", _orgs),
    "case": Entry("Offboarding cases.", _cases),
    "evidence": Entry("Evidence: store and retrieve files.", _evidence),
    "receipt": Entry("Handover receipts and acknowledgment links.", _receipts),
    "certificate": Entry("Certificates of completion: their long-term PDFs.", _certificates),
    "bundle": Entry("Evidence bundles: one file that proves a case.", _bundle),
    "verify": Entry(
        "Check an evidence bundle offline; exit 0 only if every check passes, else list every failure.", _bundle
    ),
    "ledger": Entry("The organization's Merkle ledger.", _ledger),
    "witness": Entry("A witness: cosigns checkpoints consistent with those before.", _witness),
    "config": Entry("The settings of this deployment (offboard.env).", _config),
    "worker": Entry("Run due jobs: emails, reminders, digests, webhook deliveries.", _worker),
    "webhook": Entry("Signed webhooks: endpoints that receive ledger events.", _webhooks),
    "audit": Entry("Re-hash every stored object against the database; exit 1 if any is missing or altered.", _audit),
}


def version_text() -> str:
    return f"offboard {vault.__version__}"


class LazyGroup(typer.core.TyperGroup):
    """The root group: lists ``COMMANDS`` without importing them and loads one when it is invoked."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._loaded: set[str] = set()

    def parse_args(self, ctx: _click.Context, args: list[str]) -> list[str]:
        coerce_plainly(self, ctx)  # the commands are not loaded yet: get_command covers each
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: _click.Context) -> list[str]:
        del ctx  # the same commands in every context
        return list(COMMANDS)

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        # Built from its modules even when typer already built it: an earlier call in this process may have
        # imported only some of them (``org`` brings ``staff`` without ``staff set-password``).
        if cmd_name not in self._loaded:
            command = load_command(cmd_name)
            coerce_plainly(
                command, command.context_class(command, info_name=cmd_name, parent=ctx, **command.context_settings)
            )
            self.commands[cmd_name] = command
            self._loaded.add(cmd_name)
        return self.commands[cmd_name]

    def format_commands(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name].help) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


#: Annotations whose values typer may take as given: from the command line they already have that type.
_PLAIN = (str, bool)


def coerce_plainly(command: _click.Command, context: _click.Context) -> None:
    """Let ``command``'s text and flag parameters, its ``--help`` and its subcommands' take values as given.

    typer 0.29 builds a pydantic ``TypeAdapter`` for every parameter it processes, even one left at its
    ``None`` default (``--org``, ``--json``, every ``--help``), and importing pydantic for that was a
    quarter of what ``offboard case list`` takes. A value the command line gives a ``str`` or flag parameter
    already has its type, so what typer does for annotations pydantic cannot describe
    (``PassThroughRuntimeParam``: accept an instance, else a usage error) is all it needs. Parameters with
    a parser or an environment variable (a string for a flag) keep typer's coercion. ``context`` is the one
    ``command`` parses in, or one like it: it names the help option, which click builds once per command.
    """
    help_option = command.get_help_option(context)
    for param in [*command.params, *([help_option] if help_option is not None else [])]:
        if not isinstance(param, typer.core._TyperParameter) or param._runtime_param is not None:
            continue
        descriptor = param.type_descriptor
        if descriptor.annotation in _PLAIN and descriptor.parameter_info.parser is None and not param.envvar:
            param._runtime_param = PassThroughRuntimeParam(
                parameter_info=descriptor.parameter_info, annotation=descriptor.annotation
            )
    if isinstance(command, typer.core.TyperGroup):
        for name, sub in command.commands.items():
            coerce_plainly(sub, sub.context_class(sub, info_name=name, parent=context, **sub.context_settings))


def load_command(name: str) -> _click.Command:
    """Import the modules of root command ``name`` and build its click command from the root app."""
    COMMANDS[name].load()
    from vault.cli.common import app

    # Built from the root app as it stands: only the command modules imported so far are in it.
    root = typer.main.get_command(app)
    assert isinstance(root, typer.core.TyperGroup)  # noqa: S101 - the root app has a callback, so it is a group
    command = root.commands.get(name)
    # A loader that registers nothing is a programming error, which test_cli_registry.py catches first.
    assert command is not None, f"the modules of {name!r} registered no such command"  # noqa: S101
    return command
