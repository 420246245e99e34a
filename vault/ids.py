"""Short ids, as git names commits: a record may be named by any unique prefix of its id of at least
``MIN_PREFIX`` characters, and tables show the shortest unique such prefix.

Ids are UUID strings (``vault.models.core.new_id``). A prefix is checked against the UUID's shape before
any lookup, so text that cannot be an id is refused as bad input, never looked up; it is unique within
the organization's rows of one table.
"""

from __future__ import annotations

from typing import Literal

from sqlmodel import Session, col, select

from vault.errors import InvalidInput, NotFound
from vault.id_prefixes import MIN_PREFIX as MIN_PREFIX
from vault.id_prefixes import shortest_prefixes as shortest_prefixes
from vault.models import AccessItem, Case, Evidence, Receipt

#: Where a UUID string has dashes; every other position is a lowercase hex digit.
_SHAPE = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
_HEX = frozenset("0123456789abcdef")

#: What an id names; each kind is one table, and a prefix is unique among the organization's rows of it.
IdKind = Literal["case", "evidence", "receipt", "access item"]
_TABLES: dict[IdKind, type[Case] | type[Evidence] | type[Receipt] | type[AccessItem]] = {
    "case": Case,
    "evidence": Evidence,
    "receipt": Receipt,
    "access item": AccessItem,
}
_PLURALS: dict[IdKind, str] = {
    "case": "cases",
    "evidence": "evidence items",
    "receipt": "receipts",
    "access item": "access items",
}


def parse_id_text(text: str) -> str:
    """``text`` as a full id or an id prefix (lowercased); ``InvalidInput`` when it cannot be either."""
    value = text.strip().lower()
    if len(value) < MIN_PREFIX:
        raise InvalidInput(
            f"{text!r} is too short for an id: give the full id or at least its first {MIN_PREFIX} characters"
        )
    fits = len(value) <= len(_SHAPE) and all(
        (c == "-") if s == "-" else (c in _HEX) for c, s in zip(value, _SHAPE, strict=False)
    )
    if not fits:
        raise InvalidInput(f"{text!r} is not an id: expected a UUID such as {_SHAPE} or its first 8+ characters")
    return value


def is_full_id(text: str) -> bool:
    """Whether ``text`` (already through ``parse_id_text``) is a whole id rather than a prefix."""
    return len(text) == len(_SHAPE)


def resolve_id(session: Session, *, organization_id: str, kind: IdKind, text: str) -> str:
    """The full id of the organization's ``kind`` that ``text`` names (a full id or a unique prefix).

    A full id is returned as is: the caller's lookup says whether it exists. A prefix that names no row
    is ``NotFound``; one that names several is ``InvalidInput`` naming how many.
    """
    value = parse_id_text(text)
    if is_full_id(value):
        return value
    table = _TABLES[kind]
    found = list(
        session.exec(
            select(table.id)
            .where(table.organization_id == organization_id, col(table.id).startswith(value, autoescape=True))
            .order_by(col(table.id))
        )
    )
    if not found:
        raise NotFound(f"no {kind} {text!r} in this organization")
    if len(found) > 1:
        raise InvalidInput(
            f"{kind} id prefix {text!r} is ambiguous: {len(found)} {_PLURALS[kind]} start with it; give more characters"
        )
    return str(found[0])


def short_ids(session: Session, *, organization_id: str, kind: IdKind) -> dict[str, str]:
    """Every id of the organization's ``kind``, mapped to its shortest unique prefix."""
    table = _TABLES[kind]
    ids = session.exec(select(table.id).where(table.organization_id == organization_id))
    return shortest_prefixes(str(value) for value in ids)
