"""``vault/cli/registry.py`` names every root command, with the help its module gives it: the root lists
commands from the registry without importing them, so a command missing there could never be run."""

from __future__ import annotations

from importlib.metadata import version

import typer.main

import vault
from vault.cli.common import app
from vault.cli.registry import COMMANDS


def test_the_registry_matches_the_commands_the_modules_register() -> None:
    for entry in COMMANDS.values():
        entry.load()
    root = typer.main.get_command(app)
    assert isinstance(root, typer.core.TyperGroup)
    assert list(root.commands) and set(root.commands) == set(COMMANDS)
    for name, command in root.commands.items():
        assert COMMANDS[name].help == command.get_short_help_str(limit=1000), name


def test_the_version_is_the_installed_packages() -> None:
    assert vault.__version__ == version("offboard")
