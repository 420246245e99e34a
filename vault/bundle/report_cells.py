"""How the report shows a value, and the table it shows it in (``docs/bundle.md``, "The report"; values in
RFC 8785 JSON).

``templates/bundle/verify.html`` renders the same cells in JavaScript and must produce the same bytes, so
a value is only ever copied (a string), written in decimal (an integer inside a longer string) or
serialized as RFC 8785 JSON (ECMAScript's own ``JSON.stringify`` with keys sorted by UTF-16 code units);
nothing is formatted by locale or truncated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vault import canonical

ABSENT = "absent"

#: One entry as the report reads it: its ledger index and its decoded document.
Entry = tuple[int, Mapping[str, Any]]
#: A shown value; ``None`` is shown as "absent".
Cell = str | None


@dataclass(frozen=True, slots=True)
class Section:
    """One table of the report."""

    #: The HTML id of its heading.
    id: str
    title: str
    header: tuple[str, ...]
    #: One CSS class per column (``""`` for none): ``hash`` and ``code`` are set in monospace.
    classes: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def text(value: object) -> Cell:
    """A value as shown: a string as it is; ``None`` and ``""`` absent; anything else RFC 8785 JSON."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    try:
        return canonical.dumps(value).decode("utf-8")
    except canonical.CanonicalizationError:
        return None  # an integer beyond 2^53 or a lone surrogate: no verified entry holds one


def shown(value: object) -> str:
    """``text`` for use inside a longer string: absent reads "absent"."""
    return text(value) or ABSENT


def data_of(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """An entry's ``data`` object (anything else: empty)."""
    data = document.get("data")
    return data if isinstance(data, dict) else {}


def joined(values: object) -> Cell:
    """A list's items, shown, separated by ", "; absent when not a list or empty."""
    if not isinstance(values, list) or not values:
        return None
    return ", ".join(shown(value) for value in values)


def at(entry: Entry) -> str:
    """When an entry was written, and which it is: ``<time> (entry <index>)``."""
    return f"{shown(entry[1].get('time'))} (entry {entry[0]})"


def of_type(entries: Sequence[Entry], *types: str) -> list[Entry]:
    """The entries of these types, in the order given."""
    return [entry for entry in entries if entry[1].get("type") in types]
