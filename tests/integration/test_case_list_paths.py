"""The case list's two executors of one query (``vault/cases/list_sql.py``) give the same rows, and the
ORM's per-case progress agrees with them: the DB-API read of ``offboard case list`` and SQLAlchemy's
(the console, the CLI's fallback), on both backend pairs (issue 14, item 6; issue 13, speed)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.helpers import cli_json, run_cli
from vault.cases import listing
from vault.cases.direct_listing import read_case_list
from vault.cases.list_sql import Order
from vault.db import read_session
from vault.services import build_services


@pytest.fixture
def cli(cli_env: Any, capsys: pytest.CaptureFixture[str]) -> pytest.CaptureFixture[str]:
    cli_json(capsys, "init")
    cli_json(capsys, "staff", "add", "pm@agency.example", "--name", "PM", "--role", "member")
    return capsys


def test_direct_and_orm_rows_are_the_same(cli: pytest.CaptureFixture[str], cli_env: Any) -> None:
    old = (date.today() - timedelta(days=45)).isoformat()
    late = cli_json(cli, "case", "open", "--client", "Late", "--owner", "pm@agency.example", "--intent-date", old)
    cli_json(cli, "case", "open", "--client", "Fresh", "--owner", "pm@agency.example")
    today = date.today()
    for overdue_only in (False, True):
        direct = read_case_list(org_slug=None, today=today, overdue_only=overdue_only)
        assert direct is not None
        services = build_services(cli_env)
        try:
            with read_session(services.engine) as session:
                org = listing.case_rows(
                    session, _org(session), today=today, order=Order.OPENED, overdue_only=overdue_only
                )
        finally:
            services.close()
        assert direct.rows == org
    shown = cli_json(cli, "case", "list")
    rows = read_case_list(org_slug=None, today=today, overdue_only=False)
    assert rows is not None
    assert [r.id for r in rows.rows] == [c["id"] for c in shown]
    for row, case in zip(rows.rows, shown, strict=True):
        assert (row.steps_done, row.steps_required) == (
            case["progress"]["steps_done"],
            case["progress"]["steps_required"],
        )
        assert (row.access_revoked, row.access_total) == (
            case["progress"]["access_revoked"],
            case["progress"]["access_total"],
        )
        assert row.overdue_items == len(case["overdue"])
    assert [r.id for r in rows.rows if r.overdue_items] == [late["id"]]
    code, out, _ = run_cli(cli, "case", "list")
    assert code == 0 and rows.short_ids[late["id"]] in out


def _org(session: Any) -> str:
    from vault.orgs.organizations import organization_by_slug

    return organization_by_slug(session, None).id
