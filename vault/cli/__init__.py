"""The ``offboard`` command line. It calls the same domain services as the API, with no server needed.

Every command that prints data takes ``--json`` and then prints only JSON on stdout; progress bars and
messages go to stderr. Errors end here, in ``main``, as one line on stderr: a usage mistake (a missing
option, an unknown flag, a malformed id) exits 2 with the right form of the command; a domain error exits
1 with its message; ``--debug`` or ``OFFBOARD_DEBUG=1`` adds the traceback. Each command group lives in
its own module, registers itself on the root ``app`` and is imported only when it runs
(``vault/cli/registry.py``).
"""

from __future__ import annotations

import os
import sys
import traceback

import typer
from typer import _click

from vault.cli.common import app, state
from vault.cli.usage import usage_error_line

__all__ = ["app", "main"]


def _debug() -> bool:
    return state.debug or os.environ.get("OFFBOARD_DEBUG", "").strip().lower() in {"1", "true", "yes"}


def _fail(line: str, code: int) -> None:
    if _debug():
        traceback.print_exc()
    sys.stderr.write(" ".join(line.splitlines()) + "\n")
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: one place turns every error into one line and an exit code."""
    from vault.errors import OffboardError, database_unavailable

    state.debug = False
    try:
        # Without standalone mode click returns the code of ``typer.Exit`` instead of exiting.
        code = app(args=argv, prog_name="offboard", standalone_mode=False)
        if isinstance(code, int) and code != 0:
            sys.exit(code)
    except OffboardError as exc:
        _fail("error: " + exc.message, 1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except _click.exceptions.NoArgsIsHelpError as exc:
        exc.show()  # ``offboard`` or ``offboard case`` alone: the help of that level
        sys.exit(exc.exit_code)
    except _click.exceptions.UsageError as exc:
        _fail(usage_error_line(exc), exc.exit_code)
    except _click.exceptions.ClickException as exc:
        _fail("error: " + exc.format_message(), exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _fail("aborted", 130)
    except Exception as exc:  # a bug: still one line, with the way to see more
        if _debug():
            raise
        unavailable = database_unavailable(exc)
        if unavailable is not None:
            _fail("error: " + unavailable.message, 1)
        _fail(f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)", 1)
