"""The case list through SQLAlchemy: the console's pages and the CLI's fallback run ``vault/cases/list_sql.py``.

The query (filters, the overdue-first order, paging) is defined once in ``list_sql``; here it runs in the
caller's session, so it sees what the rest of the request sees. A page is one indexed query of its rows
plus one count, whatever the number of cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from vault.cases.list_sql import MAX_SEARCH as MAX_SEARCH
from vault.cases.list_sql import CaseListFilter as CaseListFilter
from vault.cases.list_sql import CaseRow as CaseRow
from vault.cases.list_sql import Order, Query, count_query, row_from, rows_query


@dataclass(frozen=True, slots=True)
class CasePage:
    """One page of the list: its rows, the page's number (clamped to the last page) and the totals."""

    rows: list[CaseRow]
    number: int
    pages: int
    total: int


def _run(session: Session, query: Query) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in session.connection().execute(text(query.sql), query.params)]


def _dialect(session: Session) -> str:
    return session.connection().dialect.name


def case_page(
    session: Session, organization_id: str, *, today: date, narrow: CaseListFilter, number: int, size: int
) -> CasePage:
    """Page ``number`` (from 1; beyond the last, the last) of the cases, ``size`` to a page, overdue first."""
    total = int(_run(session, count_query(organization_id, narrow=narrow))[0][0])
    pages = max(1, -(-total // size))
    number = max(1, min(number, pages))
    query = rows_query(
        _dialect(session),
        organization_id,
        today=today,
        narrow=narrow,
        order=Order.DUE,
        limit=size,
        offset=(number - 1) * size,
    )
    rows = [row_from(values, today=today) for values in _run(session, query)]
    return CasePage(rows=rows, number=number, pages=pages, total=total)


def case_rows(
    session: Session,
    organization_id: str,
    *,
    today: date,
    narrow: CaseListFilter = CaseListFilter(),  # noqa: B008 - frozen, so one shared default is safe
    order: Order = Order.DUE,
    overdue_only: bool = False,
) -> list[CaseRow]:
    """Every case that ``narrow`` keeps, in ``order`` (``overdue_only``: those with an overdue obligation)."""
    query = rows_query(
        _dialect(session), organization_id, today=today, narrow=narrow, order=order, overdue_only=overdue_only
    )
    return [row_from(values, today=today) for values in _run(session, query)]
