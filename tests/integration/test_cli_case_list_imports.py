"""``offboard case list`` on an initialized, up-to-date home loads what reading cases needs and not the
rest (issue 14, item 6): not alembic (the head revision is read from the migration files), not boto3 (a
local store), not the API, jinja2 or the PDF and signing libraries; and its table, read through the DB-API
(``vault/cases/direct_listing.py``), loads neither the ORM nor pydantic (which typer would load to coerce
the parameters) nor rich's table and console. Checked in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_FOR_THE_TABLE = (
    "pydantic",
    "pydantic_core",
    "pydantic_settings",
    "typer._adapters",
    "rich.console",
    "rich.table",
    "sqlalchemy",
    "sqlmodel",
    "vault.config",
    "vault.services",
)
NOT_FOR_A_LIST = ("alembic", "boto3", "fastapi", "starlette", "jinja2", "fpdf", "pyhanko", "pypdf", "uvicorn")

_PROBE = """
import json, sys
from vault.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
else:
    code = 0
sys.stderr.write("\\nMODULES " + json.dumps({"code": code, "modules": sorted(sys.modules)}) + "\\n")
"""


def _run(home: Path, *argv: str) -> tuple[int, set[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFFBOARD_")} | {"OFFBOARD_HOME": str(home)}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    line = next(x for x in result.stderr.splitlines() if x.startswith("MODULES "))
    found = json.loads(line.removeprefix("MODULES "))
    return found["code"], set(found["modules"]), result.stdout


def test_case_list_loads_neither_alembic_nor_boto3_nor_the_api(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code, _, _ = _run(home, "init", "--json")
    assert code == 0
    code, modules, stdout = _run(home, "case", "list", "--json")
    assert (code, json.loads(stdout)) == (0, [])
    assert {"sqlmodel", "vault.cases.lifecycle"} <= modules
    assert [name for name in NOT_FOR_A_LIST if name in modules] == []


def test_the_case_table_loads_neither_the_orm_nor_pydantic_nor_richs_table(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for argv in (
        ["init", "--json"],
        ["staff", "add", "pm@agency.example"],
        ["case", "open", "--client", "Initech", "--owner", "pm@agency.example"],
    ):
        assert _run(home, *argv)[0] == 0
    for argv in (["case", "list"], ["case", "list", "--overdue"], ["--org", "default", "case", "list"]):
        code, modules, stdout = _run(home, *argv)
        heading, *rows = stdout.splitlines()
        assert (code, heading.split()) == (0, ["id", "client", "owner", "status", "steps", "access", "overdue"])
        assert [row.split()[1:] for row in rows] == (
            [] if "--overdue" in argv else [["Initech", "pm@agency.example", "open", "0/8", "0/0", "0"]]
        )
        assert "vault.cases.direct_listing" in modules
        assert [name for name in NOT_FOR_THE_TABLE + NOT_FOR_A_LIST if name in modules] == []
