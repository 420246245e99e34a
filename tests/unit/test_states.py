"""Every state machine's stored values are enum members, and the code writes and compares members only.

The columns stay plain strings (``vault/states.py``), so nothing in the database would refuse a stray
value: this reads the models and the source instead. A literal such as ``status="claimed"`` (once
written in the middle of an acknowledgment) or ``== "live"`` fails here with its file and line.
"""

from __future__ import annotations

import ast
import re
from enum import StrEnum
from pathlib import Path

import pytest
from sqlmodel import SQLModel

import vault.models  # noqa: F401  (registers every table on SQLModel.metadata)
from vault import states
from vault.cases.lifecycle import TRANSITIONS

ROOT = Path(__file__).resolve().parents[2]
ENUMS: dict[str, type[StrEnum]] = {
    name: value
    for name, value in vars(states).items()
    if isinstance(value, type) and issubclass(value, StrEnum) and value.__module__ == states.__name__
}
#: Every value some state column may hold.
WRITABLE = frozenset().union(*states.STORED.values())


@pytest.mark.parametrize(("table", "column"), sorted(states.STORED))
def test_each_state_column_defaults_to_a_member_and_fits_every_member(table: str, column: str) -> None:
    col = SQLModel.metadata.tables[table].columns[column]
    length = getattr(col.type, "length", None)  # sqlmodel's AutoString is a String with a length
    assert isinstance(length, int)
    allowed = states.STORED[(table, column)]
    assert col.default is not None and col.default.arg in allowed  # type: ignore[attr-defined]
    assert max(len(v) for v in allowed) <= length


def test_stored_values_are_exactly_the_enums_less_derived_link_states() -> None:
    assert states.STORED[("offboarding_case", "status")] == set(states.CaseStatus)
    assert states.STORED[("receipt", "status")] == {"draft", "sent", "acknowledged", "disputed"}
    assert states.STORED[("receipt_link", "status")] == {"live", "used", "voided"}
    assert set(TRANSITIONS) == set(states.CaseStatus)  # every case status has its row of moves


def _sources() -> list[Path]:
    paths = [*sorted((ROOT / "vault").rglob("*.py")), *sorted((ROOT / "api").rglob("*.py"))]
    return [p for p in paths if "migrations" not in p.parts]  # a migration may name historical values


def _is_status(node: ast.expr) -> bool:
    """``x.status``, ``col(x.status)`` or ``x["status"]`` (step and case JSON): where a state is read or written."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "col" and node.args:
        return _is_status(node.args[0])
    if isinstance(node, ast.Attribute):
        return node.attr == "status"
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and node.slice.value == "status"
    return False


def _literals(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [v for element in node.elts for v in _literals(element)]
    return []


def _member(node: ast.expr) -> tuple[str, str] | None:
    """``Enum.MEMBER`` or ``Enum.MEMBER.value`` of a ``vault.states`` enum, as (enum, member)."""
    if isinstance(node, ast.Attribute) and node.attr == "value":
        node = node.value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ENUMS:
        return node.value.id, node.attr
    return None


def _writes(tree: ast.AST) -> list[tuple[int, ast.expr]]:
    """(line, value) of every ``x.status = value`` (tuple assignments too) and ``status=value`` keyword."""
    found: list[tuple[int, ast.expr]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if _is_status(target):
                    found.append((node.lineno, node.value))
                elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    pairs = zip(target.elts, node.value.elts, strict=False)
                    found += [(node.lineno, v) for t, v in pairs if _is_status(t)]
        elif isinstance(node, ast.keyword) and node.arg == "status":
            found.append((node.value.lineno, node.value))
    return found


def test_no_state_is_compared_with_a_string_literal() -> None:
    bad = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare):
                operands = [node.left, *node.comparators]
                if any(_is_status(o) for o in operands) and any(_literals(o) for o in operands):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert bad == [], f"compare states with vault.states members: {bad}"


def test_every_state_the_code_writes_is_a_stored_member() -> None:
    """A literal is refused outright; a member must be one a column may hold (never ``EXPIRED``)."""
    bad = []
    for path in _sources():
        for line, value in _writes(ast.parse(path.read_text(encoding="utf-8"))):
            member = _member(value)
            where = f"{path.relative_to(ROOT)}:{line}"
            if _literals(value):
                bad.append(f"{where}: literal {_literals(value)}")
            elif member is not None and ENUMS[member[0]][member[1]].value not in WRITABLE:
                bad.append(f"{where}: {member[0]}.{member[1]} is never stored")
    assert bad == [], bad


def test_the_scan_sees_what_it_must_refuse() -> None:
    """The scanners themselves: each finds the mistake it exists for."""
    tree = ast.parse(
        "receipt.status = 'claimed'\n"
        "link.status, link.voided_at = LinkState.EXPIRED.value, now\n"
        "update(Receipt).values(status='claimed')\n"
    )
    writes = _writes(tree)
    assert [line for line, _ in writes] == [1, 2, 3]
    assert _literals(writes[0][1]) == ["claimed"] and _member(writes[1][1]) == ("LinkState", "EXPIRED")
    compare = ast.parse("ok = step.status != 'done' or s['status'] in ('live', 'used') or col(L.status) == 'x'")
    compares = [n for n in ast.walk(compare) if isinstance(n, ast.Compare)]
    assert len(compares) == 3 and all(_is_status(c.left) and _literals(c.comparators[0]) for c in compares)


def test_templates_compare_states_with_members() -> None:
    """The pages and emails get ``LinkState`` and ``ReceiptStatus`` as globals (``api/rendering.py``)."""
    literal = re.compile(r"\b(state|status|kind|answer)\s*(==|!=)\s*['\"]")
    bad = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "templates").rglob("*"))
        if path.suffix in {".html", ".txt"} and path.name != "verify.html"  # verify.html is offline JavaScript
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if literal.search(line)
    ]
    assert bad == [], bad
