"""The rooms of the house, read from the source (issue 12, requirement 8; STYLE.md habit 1). Which room
may import which is ``test_layers.py``.

- No two modules share a file name unless they are one concern's table module and adapters
  (``vault/models/``, ``vault/cli/``, ``api/routes/``, ``api/console/``): a newcomer finds a concern by its name.
- Files stay under about 400 lines and functions under about 60.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("vault", "signing", "storage", "api", "templates")
ADAPTER_HOMES = ("vault/models", "vault/cli", "api/routes", "api/console")
MAX_LINES = 420
MAX_FUNCTION_LINES = 64


def _modules() -> list[Path]:
    found = [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]
    return [p for p in found if "migrations" not in p.relative_to(ROOT).parts]


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_no_two_modules_share_a_name_unless_adapters_of_one_concern() -> None:
    holders: dict[str, list[str]] = defaultdict(list)
    for path in _modules():
        if path.name != "__init__.py":
            holders[path.name].append(_rel(path))
    shared = {}
    for name, paths in holders.items():
        # One error module per package root is the tree's branch for that package (STYLE.md, habit 7).
        root_errors = name == "errors.py"
        owners = [p for p in paths if not p.startswith(ADAPTER_HOMES) and not (root_errors and p.count("/") == 1)]
        if len(owners) > 1:
            shared[name] = paths
    assert not shared, f"modules sharing a file name: {shared}"


def test_files_and_functions_stay_small() -> None:
    too_long = []
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > MAX_LINES:
            too_long.append(f"{_rel(path)}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{_rel(path)}:{node.lineno} {node.name}: {length} lines")
    assert not too_long, "\n".join(too_long)
