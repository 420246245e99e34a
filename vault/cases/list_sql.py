"""The case list's one query definition: one row per case with its progress, overdue count and next due date.

Two executors run exactly this text, so they cannot drift: ``vault/cases/listing.py`` through SQLAlchemy
(the console's list, and the CLI when the database must be migrated first) and
``vault/cases/direct_listing.py`` through the DB-API (``offboard case list``'s fast read: sqlite3 or
psycopg, without the ORM). Placeholders are ``:name``, which SQLAlchemy's ``text()`` and sqlite3 take
as they are; the direct path rewrites them for psycopg. Only date arithmetic differs between SQLite
(dates are ISO text) and PostgreSQL, in ``_DIALECTS``.

The rules are those of ``progress.progress`` and ``progress.overdue_items``: a required step not done is
due on ``intent_date + due_offset_days``, active access is due on the target end date, an item is overdue
from the day after it was due, and a fully offboarded case has nothing due. Filtering, sorting and paging
happen in the database, so a page of the console's list costs one page of rows whatever the case count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from vault.states import AccessStatus, CaseStatus, StepStatus

#: Longest client-name search the list accepts (longer text cannot match a 300-character name anyway).
MAX_SEARCH = 300


@dataclass(frozen=True, slots=True)
class CaseListFilter:
    """What the list is narrowed to; ``None`` or empty means no narrowing."""

    status: CaseStatus | None = None
    owner_email: str | None = None
    #: A case-insensitive substring of the client's name.
    search: str = ""


@dataclass(frozen=True, slots=True)
class CaseRow:
    """One case as the lists show it."""

    id: str
    client_name: str
    status: str
    owner_email: str
    service_type: str
    steps_done: int
    steps_required: int
    access_revoked: int
    access_total: int
    #: How many obligations are overdue (what ``progress.overdue_items`` lists).
    overdue_items: int
    #: The earliest due date of what is still to do (a required step, or active access); ``None`` if nothing.
    next_due: date | None
    overdue: bool


class Order(StrEnum):
    """``DUE``: overdue first, then by next due date (none last), then by name (the console).
    ``OPENED``: in the order the cases were opened (``offboard case list``)."""

    DUE = "due"
    OPENED = "opened"


@dataclass(frozen=True, slots=True)
class Query:
    """One statement with its parameters, for either executor."""

    sql: str
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Dialect:
    #: The due date of a step: ``{days}`` days after the case's intent date ``{start}``.
    due: str
    #: Today's date as the ``:today`` parameter, comparable with the date columns.
    today: str
    #: Sorting names by code point, as Python does, whatever the database's collation.
    collate: str


_DIALECTS = {
    "sqlite": _Dialect(due="date({start}, printf('%+d days', {days}))", today=":today", collate=""),
    "postgresql": _Dialect(due="({start} + {days})", today="CAST(:today AS DATE)", collate=' COLLATE "C"'),
}
#: The columns of every row, in ``CaseRow``'s order but for ``overdue`` (computed from ``next_due``).
_COLUMNS = (
    "id, client_name, status, owner_email, service_type, steps_done, steps_required, access_revoked, "
    "access_total, overdue_items, next_due"
)
_SUMMARY = """
SELECT c.id AS id, c.client_name AS client_name, c.status AS status, c.owner_email AS owner_email,
       c.service_type AS service_type, c.opened_at AS opened_at,
       COALESCE(s.done, 0) AS steps_done, COALESCE(s.required, 0) AS steps_required,
       COALESCE(a.revoked, 0) AS access_revoked, COALESCE(a.total, 0) AS access_total,
       CASE WHEN c.status = :final THEN 0
            ELSE COALESCE(s.late, 0)
                 + CASE WHEN c.target_end_date < {today} THEN COALESCE(a.active, 0) ELSE 0 END
       END AS overdue_items,
       CASE WHEN c.status = :final THEN NULL
            WHEN COALESCE(a.active, 0) = 0 OR c.target_end_date IS NULL THEN s.next_step
            WHEN s.next_step IS NULL OR c.target_end_date < s.next_step THEN c.target_end_date
            ELSE s.next_step
       END AS next_due
FROM offboarding_case c
LEFT JOIN (
    SELECT st.case_id AS case_id,
           SUM(CASE WHEN st.required THEN 1 ELSE 0 END) AS required,
           SUM(CASE WHEN st.required AND st.status = :done THEN 1 ELSE 0 END) AS done,
           MIN(CASE WHEN st.required AND st.status <> :done THEN {due} END) AS next_step,
           SUM(CASE WHEN st.required AND st.status <> :done AND {due} < {today} THEN 1 ELSE 0 END) AS late
    FROM case_step st JOIN offboarding_case sc ON sc.id = st.case_id
    WHERE st.organization_id = :org
    GROUP BY st.case_id
) s ON s.case_id = c.id
LEFT JOIN (
    SELECT case_id,
           COUNT(*) AS total,
           SUM(CASE WHEN status = :revoked THEN 1 ELSE 0 END) AS revoked,
           SUM(CASE WHEN status = :active THEN 1 ELSE 0 END) AS active
    FROM access_item
    WHERE organization_id = :org
    GROUP BY case_id
) a ON a.case_id = c.id
WHERE {where}
"""
#: The organization's cases' ids (the CLI shows the shortest unique prefix among all of them).
CASE_IDS = "SELECT id FROM offboarding_case WHERE organization_id = :org"
#: The default organization, or the one with a slug.
DEFAULT_ORGANIZATION = "SELECT id FROM organization WHERE is_default = :yes"
ORGANIZATION_BY_SLUG = "SELECT id FROM organization WHERE slug = :slug"


def _narrowed(narrow: CaseListFilter, params: dict[str, Any]) -> str:
    where = ["c.organization_id = :org"]
    if narrow.status is not None:
        where.append("c.status = :status")
        params["status"] = narrow.status.value
    if narrow.owner_email:
        where.append("c.owner_email = :owner")
        params["owner"] = narrow.owner_email
    search = narrow.search.strip()[:MAX_SEARCH]
    if search:
        # LIKE wildcards typed by a person are literal characters here.
        escaped = search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append("LOWER(c.client_name) LIKE :pattern ESCAPE '\\'")
        params["pattern"] = f"%{escaped}%"
    return " AND ".join(where)


def rows_query(
    dialect: str,
    organization_id: str,
    *,
    today: date,
    narrow: CaseListFilter = CaseListFilter(),  # noqa: B008 - frozen, so one shared default is safe
    order: Order,
    overdue_only: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> Query:
    """The cases as ``CaseRow`` columns (``row_from``), ordered and optionally paged.

    ``overdue_only``: only cases with an overdue obligation (what ``offboard case list --overdue`` shows).
    """
    words = _DIALECTS[dialect]
    params: dict[str, Any] = {
        "org": organization_id,
        "today": today.isoformat(),
        "final": CaseStatus.FULLY_OFFBOARDED.value,
        "done": StepStatus.DONE.value,
        "revoked": AccessStatus.REVOKED.value,
        "active": AccessStatus.ACTIVE.value,
    }
    where = _narrowed(narrow, params)
    due = words.due.format(start="sc.intent_date", days="st.due_offset_days")
    inner = _SUMMARY.format(today=words.today, due=due, where=where)
    if order is Order.DUE:
        sort = (
            f"CASE WHEN next_due < {words.today} THEN 0 ELSE 1 END, CASE WHEN next_due IS NULL THEN 1 ELSE 0 END, "
            f"next_due, LOWER(client_name){words.collate}, id"
        )
    else:
        sort = "opened_at, id"
    # Every piece is a constant of this module; values travel only as parameters.
    sql = f"SELECT {_COLUMNS} FROM ({inner}) listed"  # noqa: S608
    if overdue_only:
        sql += " WHERE overdue_items > 0"
    sql += f" ORDER BY {sort}"
    if limit is not None:
        sql += " LIMIT :limit OFFSET :offset"
        params.update(limit=limit, offset=offset)
    return Query(sql, params)


def count_query(organization_id: str, *, narrow: CaseListFilter = CaseListFilter()) -> Query:  # noqa: B008
    """How many cases ``rows_query`` would list with the same filter (for the number of pages)."""
    params: dict[str, Any] = {"org": organization_id}
    where = _narrowed(narrow, params)
    return Query(f"SELECT COUNT(*) FROM offboarding_case c WHERE {where}", params)  # noqa: S608 - constants only


def _as_date(value: object) -> date | None:
    # SQLite hands dates back as ISO text, PostgreSQL as dates.
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def row_from(values: Sequence[Any], *, today: date) -> CaseRow:
    """One result row of ``rows_query`` as a ``CaseRow``."""
    next_due = _as_date(values[10])
    return CaseRow(
        id=str(values[0]),
        client_name=str(values[1]),
        status=str(values[2]),
        owner_email=str(values[3]),
        service_type=str(values[4]),
        steps_done=int(values[5]),
        steps_required=int(values[6]),
        access_revoked=int(values[7]),
        access_total=int(values[8]),
        overdue_items=int(values[9]),
        next_due=next_due,
        overdue=next_due is not None and next_due < today,
    )
