"""Real services for the tests: a throwaway PostgreSQL 15 cluster and moto's S3 server on loopback.

Started once per test session, stopped at exit (also on failure). When a service cannot be had on this
machine the tests that need it are skipped with a loud reason, unless ``CI`` or
``OFFBOARD_REQUIRE_SERVICES`` is set: then its absence fails the run, so main never lands untested.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest


def services_required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("OFFBOARD_REQUIRE_SERVICES"))


def unavailable(reason: str) -> None:
    """Skip (locally) or fail (in CI) because a real service is missing."""
    if services_required():
        pytest.fail(f"required service unavailable: {reason}", pytrace=False)
    pytest.skip(f"SERVICE UNAVAILABLE, test skipped: {reason}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Postgres:
    data_dir: Path
    port: int
    user: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def run_as(self) -> list[str]:
        return ["runuser", "-u", self.user, "--"] if os.geteuid() == 0 else []

    def stop(self) -> None:
        subprocess.run(
            [*self.run_as(), "pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def start_postgres() -> Postgres:
    """initdb + pg_ctl start on a free loopback port, as an unprivileged user when we are root."""
    if shutil.which("initdb") is None or shutil.which("pg_ctl") is None:
        raise RuntimeError("initdb/pg_ctl not found on PATH (install PostgreSQL 15)")
    user = "postgres"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(user)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", user], check=True)
    else:
        user = pwd.getpwuid(os.geteuid()).pw_name
    root = Path(tempfile.mkdtemp(prefix="offboard-pg-"))
    data = root / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, user)
        shutil.chown(data, user)
    pg = Postgres(data, free_port(), user)
    subprocess.run(
        [*pg.run_as(), "initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        capture_output=True,
        check=True,
    )
    opts = f"-p {pg.port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200"
    subprocess.run(
        [*pg.run_as(), "pg_ctl", "-D", str(data), "-w", "-l", str(data / "log"), "-o", opts, "start"],
        capture_output=True,
        check=True,
    )
    return pg
