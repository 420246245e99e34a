"""The ``offboard`` command line. It calls the same domain services as the API, with no server needed.

Every command that prints data takes ``--json`` and then prints only JSON on stdout; progress bars and
messages go to stderr. Domain errors are caught in one place (``main``) and exit non-zero with the message.
Each command group lives in its own module and registers itself on the root ``app``.
"""

from __future__ import annotations

import sys

import click
import typer

from vault.cli import access, admin, audit, bundle, cases, config, evidence, ledger, orgs, receipts, signin  # noqa: F401  (registers the command groups)
from vault.cli.common import app, err
from vault.errors import OffboardError

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: one place turns domain errors into a message and an exit code."""
    try:
        # Without standalone mode click returns the code of ``typer.Exit`` instead of exiting.
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int) and code != 0:
            sys.exit(code)
    except OffboardError as exc:
        # One line whatever the message holds (a wrapped library error may carry newlines).
        err.print("error: " + " ".join(exc.message.splitlines()), markup=False)
        sys.exit(1)
    except (typer.Exit, click.exceptions.Exit) as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (typer.Abort, click.exceptions.Abort):
        err.print("aborted")
        sys.exit(130)
    except typer.TyperException as exc:
        # Typer parses with its own copy of click, whose usage errors (a missing option, an unknown flag,
        # an extra argument) are not ``click.ClickException``s: they get the same usage text and exit 2.
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err.print("error: " + " ".join(str(exc).splitlines()), markup=False)
        sys.exit(getattr(exc, "exit_code", 2))
