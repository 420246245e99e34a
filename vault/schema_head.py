"""The newest migration, read from the migration files without importing alembic or SQLAlchemy.

Importing alembic costs about half a second, which every ``offboard`` command paid just to learn that
the database is up to date; ``vault.db.head_revision`` asks alembic only when the files do not name
exactly one head, and the CLI's fast read path (``vault/cases/direct_listing.py``) reads only databases
at this head.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

MIGRATIONS = Path(__file__).parent / "migrations"


@lru_cache(maxsize=1)
def file_head() -> str | None:
    """The one revision no migration file names as its ``down_revision``; ``None`` unless exactly one."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        for name, value in _revision_assignments(path):
            if name == "revision" and isinstance(value, str):
                revisions.add(value)
            elif name == "down_revision" and value is not None:
                parents.update([value] if isinstance(value, str) else value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _revision_assignments(path: Path) -> Iterator[tuple[str, Any]]:
    """The module-level ``revision`` and ``down_revision`` of one migration file, with their values."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        target: ast.expr | None = None
        if isinstance(node, ast.AnnAssign):
            target = node.target
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if isinstance(target, ast.Name) and target.id in {"revision", "down_revision"} and value is not None:
            yield target.id, ast.literal_eval(value)
