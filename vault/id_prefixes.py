"""The shortest unique prefix of each id, as git shows commits (``vault/ids.py`` has the rules).

Kept apart from ``vault/ids.py``, which looks ids up through the ORM, so the CLI's fast read path
(``vault/cases/direct_listing.py``) shows the same prefixes without importing sqlmodel.
"""

from __future__ import annotations

from collections.abc import Iterable

#: The fewest characters of an id that name a record.
MIN_PREFIX = 8


def shortest_prefixes(ids: Iterable[str]) -> dict[str, str]:
    """Each id's shortest prefix of at least ``MIN_PREFIX`` characters that no other of ``ids`` starts with."""
    ordered = sorted(set(ids))
    shortest: dict[str, str] = {}
    for position, value in enumerate(ordered):
        neighbours = ordered[max(0, position - 1) : position] + ordered[position + 1 : position + 2]
        shared = max((_common_length(value, other) for other in neighbours), default=0)
        shortest[value] = value[: max(MIN_PREFIX, shared + 1)]
    return shortest


def _common_length(a: str, b: str) -> int:
    length = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        length += 1
    return length
