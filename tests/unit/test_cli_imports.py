"""``offboard --help`` and ``--version`` load neither the domain nor its heavy libraries, and a case
command's module loads no more than it needs at import (issue 14, item 6). Checked in a fresh interpreter:
``sys.modules`` after the call, not a timing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Libraries that cost tenths of a second each to import, none of which help or a version needs.
HEAVY = (
    "alembic",
    "boto3",
    "botocore",
    "cryptography",
    "fastapi",
    "fpdf",
    "jinja2",
    "nacl",
    "pydantic",
    "pydantic_settings",
    "pyhanko",
    "pypdf",
    "rich.console",
    "sqlalchemy",
    "sqlmodel",
    "starlette",
    "yaml",
    "vault.models",
    "vault.services",
)
#: What a command module may not load when merely imported (its commands import the domain they use).
NEVER_AT_IMPORT = ("boto3", "fastapi", "fpdf", "jinja2", "pyhanko", "sqlalchemy", "starlette")

_PROBE = """
import json, sys
from vault.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
"""


def _modules_after(*argv: str) -> tuple[set[str], str]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    line = next(x for x in result.stderr.splitlines() if x.startswith("MODULES "))
    return set(json.loads(line.removeprefix("MODULES "))), result.stdout


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return [name for name in names if name in modules]


@pytest.mark.parametrize("argv", [["--help"], ["--version"]])
def test_help_and_version_import_nothing_heavy(argv: list[str]) -> None:
    modules, stdout = _modules_after(*argv)
    assert _loaded(modules, HEAVY) == []
    cli_modules = sorted(m for m in modules if m.startswith("vault.cli."))
    assert cli_modules == ["vault.cli.common", "vault.cli.registry", "vault.cli.usage"]
    assert ("Commands:" in stdout) if argv == ["--help"] else stdout.startswith("offboard ")


def test_case_group_help_loads_its_modules_but_not_the_domain_libraries() -> None:
    modules, stdout = _modules_after("case", "--help")
    assert {"vault.cli.cases", "vault.cli.case_records", "vault.cli.access"} <= modules and "timeline" in stdout
    assert _loaded(modules, NEVER_AT_IMPORT) == []


def test_the_local_store_default_multipart_threshold_is_the_s3_one() -> None:
    from storage.factory import DEFAULT_MULTIPART_THRESHOLD
    from storage.s3 import DEFAULT_MULTIPART_THRESHOLD as S3_DEFAULT

    assert DEFAULT_MULTIPART_THRESHOLD == S3_DEFAULT


def test_the_head_revision_read_from_the_files_is_alembics() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from vault.db import MIGRATIONS, head_revision

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()


#: What checking a bundle must not load: the database, the settings, the web app (issue 17, requirement 2).
#: Not pydantic itself: typer 0.29 coerces a path parameter (the bundle) with pydantic's TypeAdapter (only
#: text and flag parameters skip it: ``coerce_plainly``), so it is typer's import; none of Offboard's pydantic
#: models (settings, API schemas) loads.
NOT_FOR_VERIFY = (
    "alembic",
    "boto3",
    "fastapi",
    "jinja2",
    "pydantic_settings",
    "sqlalchemy",
    "sqlmodel",
    "starlette",
    "vault.db",
    "vault.models",
    "vault.services",
)


def test_verify_loads_only_the_verifier(tmp_path: Path) -> None:
    bundle = tmp_path / "not-a-bundle.zip"
    bundle.write_bytes(b"not a zip")
    modules, _ = _modules_after("verify", str(bundle))
    assert {"vault.bundle.verify", "nacl.signing"} <= modules
    assert _loaded(modules, NOT_FOR_VERIFY) == []
