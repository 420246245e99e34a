"""Database sessions are opened in one place: ``vault/db.py`` (the read session and the unit of work).

Every other module of the product receives the session it acts in. The scan reads the source (not the
running code), so a new ``Session(engine)`` in a route, a page, the CLI or the domain fails the build.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("vault", "api", "signing", "storage")
#: The one module allowed to open sessions.
HOME = Path("vault/db.py")
OPENERS = {"Session", "sessionmaker"}
#: Helpers of ``vault/db.py`` that open a session and commit: tests and tools only, never the product.
WRITERS = {"session_scope", "run_in_transaction"}


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _calls(path: Path, names: set[str]) -> list[int]:
    """Line numbers of calls to any of ``names`` (``Session(...)``, ``sqlmodel.Session(...)``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        # boto3's ``Session`` is an AWS client factory, not a database session.
        if name.rsplit(".", 1)[-1] in names and not name.startswith("boto3."):
            lines.append(node.lineno)
    return lines


def _sources() -> list[Path]:
    files = []
    for package in PACKAGES:
        files += [p for p in sorted((ROOT / package).rglob("*.py")) if "migrations" not in p.parts]
    return files


def _offenders(names: set[str]) -> dict[str, list[int]]:
    found = {}
    for path in _sources():
        relative = path.relative_to(ROOT)
        if relative == HOME:
            continue
        lines = _calls(path, names)
        if lines:
            found[relative.as_posix()] = lines
    return found


def test_sessions_are_opened_only_in_vault_db() -> None:
    found = _offenders(OPENERS)
    assert not found, (
        "open sessions only in vault/db.py (read_session, Services.transact); "
        f"found Session( or sessionmaker( at {found}"
    )


def test_the_product_writes_only_through_services() -> None:
    found = _offenders(WRITERS)
    assert not found, f"session_scope and run_in_transaction are for tests; write through Services.transact: {found}"


def test_the_scan_sees_a_session_opened_outside_vault_db(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from sqlmodel import Session\nimport sqlmodel\nimport boto3\n\n"
        "def f(engine):\n    with Session(engine) as s:\n        return sqlmodel.Session(engine), s\n\n"
        "def g():\n    return boto3.session.Session()\n",
        encoding="utf-8",
    )
    assert _calls(sample, OPENERS) == [6, 7]


def test_the_domain_never_opens_a_read_session_itself() -> None:
    """Domain code receives the session it reads in, or a ``Read`` (``Services.read``) when it reads in
    steps between slow I/O; only the adapters, ``Services`` and ``vault/db.py`` open the read session."""
    adapters = ("api/", "vault/cli/", "vault/services.py")
    found = {path: lines for path, lines in _offenders({"read_session"}).items() if not path.startswith(adapters)}
    assert not found, f"pass the session (or Services.read) down instead of opening a read session: {found}"
