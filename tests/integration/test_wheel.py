"""The wheel is the product (issue 14, item 16): built from the sources, installed into a fresh virtual
environment (not editable, no access to this checkout), it initializes a home, serves, and renders its pages
from the templates it carries. Dependencies come from requirements.lock through uv's cache (``--offline``).

Slow-ish (a build, an install and a server start, about half a minute), and part of ``make test``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.receipts_support import create_receipt, handover, path_of, send_manual
from tests.services import free_port, unavailable
from tests.serving import offboard_serve, user_environment

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).parent / "uv"
SOURCES = ("pyproject.toml", "README.md", "vault", "signing", "storage", "api", "templates")


def _run(*argv: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{argv} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel ``uv build`` makes of a copy of the sources."""
    if not UV.exists():
        unavailable(f"uv is not installed in the test environment ({UV}); `make install-dev` installs it")
    folder = tmp_path_factory.mktemp("wheel")
    # Built from a copy: setuptools writes build/ and *.egg-info beside the sources it builds.
    source = folder / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    _run(UV, "build", "--wheel", "--offline", "--out-dir", folder / "dist", source, cwd=folder)
    (built,) = (folder / "dist").glob("offboard-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the lock file's packages and the wheel (not editable); returns its ``bin`` folder."""
    folder = tmp_path_factory.mktemp("venv")
    venv = folder / "venv"
    _run(UV, "venv", "--offline", "--quiet", "--python", sys.executable, venv, cwd=folder)
    python = venv / "bin" / "python"
    _run(UV, "pip", "install", "--offline", "--quiet", "--python", python, "-r", ROOT / "requirements.lock", cwd=folder)
    _run(UV, "pip", "install", "--offline", "--quiet", "--python", python, "--no-deps", wheel, cwd=folder)
    return venv / "bin"


@pytest.fixture(scope="module")
def served(installed: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``offboard init --port P`` then ``offboard serve`` from the installed wheel; (base URL, admin token)."""
    work = tmp_path_factory.mktemp("served")
    env = user_environment(OFFBOARD_HOME=str(work / "home"))
    port = free_port()
    init = _run(installed / "offboard", "init", "--port", str(port), "--json", cwd=work, env=env)
    # The port comes from offboard.env, which init wrote: the server reads the same configuration.
    with offboard_serve(installed / "offboard", cwd=work, env=env, port=port) as base:
        yield base, json.loads(init)["admin_token"]


def test_the_wheel_carries_every_template_static_file_and_data_file(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    data = [
        path.relative_to(ROOT).as_posix()
        for package in ("templates", "vault", "api", "signing", "storage")
        for path in (ROOT / package).rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts
    ]
    assert any(name.startswith("templates/static/") for name in data)
    assert sorted(set(data) - names) == []
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]


def test_the_installed_package_is_not_this_checkout(installed: Path, tmp_path: Path) -> None:
    where = _run(installed / "python", "-c", "import templates, vault; print(templates.__file__)", cwd=tmp_path)
    assert "site-packages" in where and str(ROOT) not in where


def test_the_wheel_serves_acknowledgment_pages_from_its_templates(served: tuple[str, str]) -> None:
    base, token = served
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        h = handover(client)  # the helpers take any httpx client
        receipt = create_receipt(client, h)
        (link,) = send_manual(client, receipt["id"])["links"]
        assert link["url"].startswith(f"{base}/ack/")  # init --port moved the loopback base URL too
        page = client.get(path_of(link["url"]))
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "Handover receipt from" in page.text and "final-report.pdf" in page.text
        unknown = client.get("/ack/" + "A" * 43)
        assert unknown.status_code == 404 and "This link is not available" in unknown.text
        schema = client.get("/openapi.json")
        assert schema.status_code == 200 and schema.json()["info"]["title"] == "Offboard"
