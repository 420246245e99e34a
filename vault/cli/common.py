"""What every ``offboard`` command shares: the root app, consoles, services, the local operator, JSON, ids.

Importing this module must stay cheap (``offboard --help`` imports nothing else; issue 14, item 6): rich,
the settings and the domain are imported where a command first needs them.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vault.cli.registry import LazyGroup, version_text

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress
    from sqlmodel import Session

    from templates.render import Renderer
    from vault.config import Settings
    from vault.ids import IdKind
    from vault.mail import RenderedEmail
    from vault.orgs.organizations import Principal
    from vault.services import Services

app = typer.Typer(
    cls=LazyGroup,
    no_args_is_help=True,
    add_completion=False,
    # Plain help and tracebacks: typer's rich help alone costs more than the whole budget of ``--help``.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="Offboard: provable client offboarding.",
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")]
CHUNK = 1024 * 1024


class LazyConsole:
    """A rich ``Console`` built on first use, so commands that print nothing never import rich's."""

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr, highlight=False, soft_wrap=True)
        return self._console

    @property
    def is_terminal(self) -> bool:
        return self.console.is_terminal

    def print(self, *objects: Any, **options: Any) -> None:
        self.console.print(*objects, **options)


out = LazyConsole(stderr=False)
err = LazyConsole(stderr=True)


class State:
    org_slug: str | None = None
    debug: bool = False


state = State()


def _show_version(value: bool) -> None:
    if value:
        sys.stdout.write(version_text() + "\n")
        raise typer.Exit()


@app.callback()
def _global(
    org: Annotated[str | None, typer.Option("--org", help="Organization slug (default: the default one).")] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an error (or set OFFBOARD_DEBUG=1).")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_show_version, help="Print the version and exit."),
    ] = False,
) -> None:
    del version  # handled by its eager callback
    state.org_slug = org
    state.debug = debug


class LazyRenderer:
    """The jinja2 renderer (``vault.rendering.Renderer``), built on first use: most commands render nothing."""

    def __init__(self) -> None:
        self._renderer: Renderer | None = None

    @property
    def _built(self) -> Renderer:
        if self._renderer is None:
            from templates.render import Renderer

            self._renderer = Renderer()
        return self._renderer

    @property
    def csp(self) -> str:
        return self._built.csp

    def csp_for(self, accent: str | None) -> str:
        return self._built.csp_for(accent)

    def page(self, template: str, /, **context: Any) -> str:
        return self._built.page(template, **context)

    def email(self, name: str, context: Mapping[str, Any]) -> RenderedEmail:
        return self._built.email(name, context)


@contextmanager
def services(settings: Settings | None = None) -> Iterator[Services]:
    """The deployment's services for one command, with the jinja2 renderer (built only when used).

    Without ``settings``, those of the initialized home: a command run where ``offboard init`` never ran
    stops with one line naming it, before anything (a folder, a database) is created.
    """
    from vault.config import initialized_settings
    from vault.services import build_services

    svc = build_services(settings or initialized_settings(), renderer=LazyRenderer())
    try:
        yield svc
    finally:
        svc.close()


def operator(session: Session) -> Principal:
    """The local operator: full rights in the selected organization, recorded as ``cli:<user>``."""
    from vault.orgs.organizations import Principal, Role, organization_by_slug

    org = organization_by_slug(session, state.org_slug)
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return Principal(organization_id=org.id, role=Role.ADMIN, actor=f"cli:{user}")


def id_text(value: str) -> str:
    """Parser of every id argument and option: a full id or a prefix of 8+ characters, else a usage error."""
    from vault.errors import InvalidInput
    from vault.ids import parse_id_text

    try:
        return parse_id_text(value)
    except InvalidInput as exc:
        raise typer.BadParameter(exc.message) from None


def resolve_in(session: Session, kind: IdKind, text: str) -> str:
    """The full id that ``text`` (a full id or a unique prefix) names in the selected organization."""
    from vault.ids import resolve_id

    return resolve_id(session, organization_id=operator(session).organization_id, kind=kind, text=text)


def resolve(svc: Services, kind: IdKind, text: str) -> str:
    """``resolve_in`` in a read session of its own, before a command's unit of work."""
    return resolve_all(svc, kind, [text])[0]


def resolve_all(svc: Services, kind: IdKind, texts: Sequence[str]) -> list[str]:
    """``resolve`` for several ids, in one read session (none when every id is given in full)."""
    from vault.db import read_session
    from vault.ids import is_full_id

    if all(is_full_id(text) for text in texts):
        return list(texts)
    with read_session(svc.engine) as session:
        return [resolve_in(session, kind, text) for text in texts]


def short_id_map(session: Session, kind: IdKind) -> dict[str, str]:
    """Every id of that kind in the selected organization, mapped to the prefix a table shows."""
    from vault.ids import short_ids

    return short_ids(session, organization_id=operator(session).organization_id, kind=kind)


def _cell(value: str) -> str:
    """``value`` on one line: a control character (a newline, a tab, an escape) shown as its escape."""
    return "".join(repr(c)[1:-1] if unicodedata.category(c) == "Cc" else c for c in value)


def _columns(text: str) -> int:
    """The terminal columns ``text`` takes: two for a wide (East Asian) character, none for a combining mark."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text
    )


def print_table(headings: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """``rows`` under ``headings`` on stdout in aligned columns two spaces apart, every cell whole.

    Plain text rather than rich's ``Table``: importing and laying that out was a third of what ``offboard
    case list`` takes (issue 14, item 6), and it cut cells to fit 80 columns. A table here is read by a
    person, ``grep`` and ``awk`` alike, so nothing is cut, boxed or styled.
    """
    lines = [[_cell(value) for value in row] for row in [headings, *rows]]
    widths = [max(_columns(line[n]) for line in lines) for n in range(len(headings))]
    text = "".join(
        "  ".join(value + " " * (width - _columns(value)) for value, width in zip(line, widths, strict=True)).rstrip()
        + "\n"
        for line in lines
    )
    sys.stdout.write(text)


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=True) + "\n")


def emit(as_json: bool, data: Any, text: str) -> None:
    """``data`` as JSON with ``--json``, else the one-line ``text``."""
    if as_json:
        emit_json(data)
    else:
        out.print(text, markup=False)


def progress_bar(*, json_mode: bool) -> Progress:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err.console,
        disable=json_mode or not err.is_terminal,
    )


def write_atomically(chunks: Iterable[bytes], target: Path, *, total: int, label: str, as_json: bool) -> None:
    """Write ``chunks`` to a temporary file beside ``target`` with a progress bar, fsync it and rename it to
    ``target``: a failure part way (a hash that does not match, a full disk) leaves nothing behind. The writes
    run on a thread of their own, so the producer's copy and hashes go on while the kernel takes a chunk."""
    from storage.offload import Offload

    temporary = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        with temporary.open("xb") as handle, progress_bar(json_mode=as_json) as bar:
            task = bar.add_task(label, total=total)
            with Offload(handle.write, name="cli-write") as writer:
                for chunk in chunks:
                    writer.put(chunk)
                    bar.advance(task, len(chunk))
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(target)
    finally:
        temporary.unlink(missing_ok=True)
