"""Adapters on top, domain below: which package may import which, read from the source.

The CLI (``vault/cli``), the JSON routes (``api/routes``), the client pages (``api/pages.py``) and the staff
console (``api/console``) are adapters
and never import one another; the domain (the rest of ``vault/``) imports no adapter, no jinja2 and no
FastAPI; ``signing/`` and ``storage/`` import nothing of ``vault/``; nobody loads modules by name.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _files(folder: str) -> list[Path]:
    return [p for p in sorted((ROOT / folder).rglob("*.py")) if "migrations" not in p.parts]


def _violations(files: list[Path], forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    out = {}
    for path in files:
        bad = sorted(m for m in _imports(path) if any(m == f or m.startswith(f + ".") for f in forbidden))
        if bad:
            out[path.relative_to(ROOT).as_posix()] = bad
    return out


def test_the_domain_imports_no_adapter_and_no_web_or_template_library() -> None:
    domain = [p for p in _files("vault") if "cli" not in p.relative_to(ROOT / "vault").parts]
    assert not _violations(domain, ("api", "vault.cli", "templates", "jinja2", "fastapi", "starlette", "typer"))


def test_adapters_do_not_import_one_another() -> None:
    assert not _violations(_files("vault/cli"), ("api",))
    assert not _violations(_files("api/routes"), ("api.pages", "api.app"))
    assert not _violations([ROOT / "api" / "pages.py"], ("api.routes", "api.app", "api.console", "vault.cli"))
    assert not _violations(_files("api/routes"), ("api.console",))
    assert not _violations(_files("api/console"), ("api.routes", "api.pages", "api.app", "vault.cli"))


def test_signing_and_storage_stand_alone() -> None:
    assert not _violations(_files("signing") + _files("storage"), ("vault", "api"))


def test_nothing_loads_modules_by_name() -> None:
    files = _files("vault") + _files("api") + _files("signing") + _files("storage") + _files("templates")
    assert not _violations(files, ("importlib",))
