"""``offboard case list``'s fast read: ``vault/cases/list_sql.py`` run through the DB-API, without the ORM.

Loading sqlmodel, pydantic's settings and SQLAlchemy costs a CLI process about a second, ten times what
printing a table of cases needs (issue 14, item 6). Here the home and its database URL come from
``vault/home.py`` (as ``Settings`` reads them), the connection from sqlite3 or psycopg, and the rows from the
query text the console's list runs too, so both show the same cases with the same numbers.

``read_case_list`` answers ``None``, having changed nothing, whenever the ordinary path must decide: no
initialized home, a database URL other than a SQLite file or ``postgresql+psycopg``, a database not at the
migrations' head (the ordinary path migrates it), an organization that is not found (it says so), or a
driver error. The caller then runs the ordinary path, which gives the same rows or the one-line error.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from vault.cases.list_sql import (
    CASE_IDS,
    DEFAULT_ORGANIZATION,
    ORGANIZATION_BY_SLUG,
    CaseRow,
    Order,
    Query,
    row_from,
    rows_query,
)
from vault.home import ENV_FILE_NAME, configured_database_url, home_from_env
from vault.id_prefixes import shortest_prefixes
from vault.schema_head import file_head

_PLACEHOLDER = re.compile(r"(?<![:\w]):(\w+)")


@dataclass(frozen=True, slots=True)
class CaseList:
    """The rows, and every case id of the organization mapped to the prefix a table shows."""

    rows: list[CaseRow]
    short_ids: dict[str, str]


class _Cursor(Protocol):
    def execute(self, sql: str, params: dict[str, Any], /) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class _Reader:
    """One read-only transaction on a DB-API connection, in the placeholder style its driver takes."""

    def __init__(self, cursor: _Cursor, *, dialect: str) -> None:
        self._cursor = cursor
        self.dialect = dialect

    def rows(self, query: Query) -> list[tuple[Any, ...]]:
        sql = query.sql if self.dialect == "sqlite" else _PLACEHOLDER.sub(r"%(\1)s", query.sql)
        self._cursor.execute(sql, query.params)
        return [tuple(row) for row in self._cursor.fetchall()]


@contextmanager
def _sqlite(path: Path) -> Iterator[_Reader | None]:
    if not path.is_file():  # the ordinary path creates it; this one never does
        yield None
        return
    connection = sqlite3.connect(path, timeout=60, isolation_level=None)
    try:
        connection.execute("PRAGMA busy_timeout=60000")
        # One read transaction for every query, so the rows and the ids are of one moment.
        connection.execute("BEGIN DEFERRED")
        yield _Reader(connection.cursor(), dialect="sqlite")
        connection.execute("COMMIT")
    finally:
        connection.close()


@contextmanager
def _postgresql(url: str) -> Iterator[_Reader | None]:
    import psycopg

    with psycopg.connect(url, autocommit=False) as connection:
        connection.read_only = True
        with connection.cursor() as cursor:
            yield _Reader(cursor, dialect="postgresql")
        connection.rollback()


@contextmanager
def _reader(url: str) -> Iterator[_Reader | None]:
    if url.startswith("sqlite:///") and "?" not in url and url != "sqlite:///:memory:":
        with _sqlite(Path(url.removeprefix("sqlite:///"))) as reader:
            yield reader
    elif url.startswith("postgresql+psycopg://"):
        with _postgresql("postgresql://" + url.removeprefix("postgresql+psycopg://")) as reader:
            yield reader
    else:
        yield None


def _organization(reader: _Reader, slug: str | None) -> str | None:
    if slug is None:
        found = reader.rows(Query(DEFAULT_ORGANIZATION, {"yes": True}))
    else:
        found = reader.rows(Query(ORGANIZATION_BY_SLUG, {"slug": slug}))
    # More than one default is for the ordinary path to pick, as it always has.
    return str(found[0][0]) if len(found) == 1 else None


def _at_head(reader: _Reader) -> bool:
    head = file_head()
    try:
        found = reader.rows(Query("SELECT version_num FROM alembic_version", {}))
    except (sqlite3.Error, _psycopg_error()):
        return False
    return head is not None and found == [(head,)]


def _psycopg_error() -> type[Exception]:
    import sys

    # Only a PostgreSQL reader has imported psycopg; SQLite never pays for it.
    module = sys.modules.get("psycopg")
    return module.Error if module is not None else sqlite3.Error


def read_case_list(*, org_slug: str | None, today: date, overdue_only: bool) -> CaseList | None:
    """The organization's cases in the order they were opened, or ``None`` for the ordinary path to decide."""
    home = home_from_env()
    if not (home / ENV_FILE_NAME).is_file():
        return None
    try:
        with _reader(configured_database_url(home)) as reader:
            if reader is None or not _at_head(reader):
                return None
            organization_id = _organization(reader, org_slug)
            if organization_id is None:
                return None
            query = rows_query(
                reader.dialect, organization_id, today=today, order=Order.OPENED, overdue_only=overdue_only
            )
            rows = [row_from(values, today=today) for values in reader.rows(query)]
            ids = [str(values[0]) for values in reader.rows(Query(CASE_IDS, {"org": organization_id}))]
    except (sqlite3.Error, _psycopg_error()):
        return None
    return CaseList(rows=rows, short_ids=shortest_prefixes(ids))
