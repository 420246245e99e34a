"""``offboard config show`` (the effective settings, where each came from, secrets masked) and the helpers
``offboard init`` and ``offboard serve`` use to keep the port and the base URL in step."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import typer

from vault.cli.common import JsonOpt, app, emit_json, err, out

if TYPE_CHECKING:
    from vault.config import Settings

config_app = typer.Typer(no_args_is_help=True, help="The settings of this deployment (offboard.env).")
app.add_typer(config_app, name="config")


@config_app.command("show")
def config_show(as_json: JsonOpt = False) -> None:
    """Print every setting with its source (environment, offboard.env, default); secrets are masked."""
    from vault.config import get_settings
    from vault.config_report import effective_settings

    # Works on a home that is not initialized yet: it reads and creates nothing but shows what would apply.
    settings = get_settings()
    shown = effective_settings(settings)
    initialized = settings.env_file.is_file()
    if as_json:
        emit_json(
            {
                "home": str(settings.home),
                "env_file": str(settings.env_file),
                "initialized": initialized,
                "settings": {
                    s.name: {"variable": s.variable, "value": s.value, "source": s.source.value} for s in shown
                },
            }
        )
        return
    state = "" if initialized else " (missing: run `offboard init`)"
    out.print(f"# settings file: {settings.env_file}{state}", markup=False)
    width = max(len(s.variable) for s in shown)
    for s in shown:
        value = "(unset)" if s.value is None else s.value
        out.print(f"{s.variable.ljust(width)}  {value}  [{s.source.value}]", markup=False)


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def _with_port(url: str, port: int) -> str | None:
    """``url`` on ``port`` when it is a loopback URL (whose port follows the server's), else ``None``."""
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return urlunsplit((parts.scheme, f"{host}:{port}", parts.path, parts.query, parts.fragment))


def init_choices(options: Mapping[str, object]) -> dict[str, str]:
    """The settings given to ``offboard init`` as offboard.env text; a new ``--port`` moves a loopback base URL.

    Links are built from the base URL, so a port changed alone would leave every emailed link pointing at
    the old one; a public base URL (behind a proxy) is left as it is.
    """
    from vault.config import get_settings

    chosen = {name: str(value) for name, value in options.items() if value is not None}
    if "port" in chosen and "base_url" not in chosen:
        moved = _with_port(get_settings().base_url, int(chosen["port"]))
        if moved is not None:
            chosen["base_url"] = moved
    return chosen


def warn_port_mismatch(settings: Settings, port: int) -> None:
    """One warning line when a loopback base URL names another port than the one served."""
    parts = urlsplit(settings.base_url)
    if parts.hostname in LOOPBACK and (parts.port or DEFAULT_PORTS.get(parts.scheme)) != port:
        err.print(
            f"warning: OFFBOARD_BASE_URL is {settings.base_url} but the server listens on port {port}: links "
            f"sent now will not reach it (set it with `offboard init --port {port}` or `--base-url`)",
            markup=False,
        )
