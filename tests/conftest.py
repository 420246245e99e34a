"""Shared fixtures. Backends are parametrized: the same tests run on SQLite + local folder and on
PostgreSQL + S3 (moto's server over HTTP on loopback)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import Postgres, free_port, start_postgres, unavailable

# moto and boto3 read credentials from the standard variables; never real ones in tests.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for _var in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
    os.environ.pop(_var, None)

BACKENDS = ["sqlite-local", "postgres-s3"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    try:
        pg = start_postgres()
    except Exception as exc:  # noqa: BLE001 - any failure to start means "unavailable"
        unavailable(f"PostgreSQL could not be started: {exc}")
    try:
        _make_template(pg)
        yield pg
    finally:
        pg.stop()


TEMPLATE_DB = "offboard_template"


def _make_template(pg: Postgres) -> None:
    """One migrated database that every test's database is copied from (faster than migrating each)."""
    import psycopg

    from vault.config import Settings
    from vault.db import make_engine, migrate

    with psycopg.connect(f"host=127.0.0.1 port={pg.port} user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
    engine = make_engine(Settings(database_url=pg.url(TEMPLATE_DB)))
    migrate(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        unavailable(f"moto[server] not installed: {exc}")
    port = free_port()
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def create_postgres_database(pg: Postgres) -> str:
    """A fresh, empty database in the session's cluster; returns its SQLAlchemy URL."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:16]
    with psycopg.connect(f"host=127.0.0.1 port={pg.port} user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
    return pg.url(name)


def create_bucket(endpoint: str, *, object_lock: bool = True) -> str:
    import boto3

    name = "offboard-" + uuid.uuid4().hex[:12]
    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=object_lock)
    return name


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Which backend pair a test runs on; tests using ``settings`` run once per pair."""
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Settings for one test, on a fresh database and a fresh object store of the backend pair."""
    from vault.config import Settings

    home = tmp_path / "home"
    # The worker's daily PDF re-timestamp sweep is off unless a test turns it on: the test TSAs' certificates
    # are short-lived, so an app's own worker would extend every stored PDF while the test looks at it.
    if backend == "sqlite-local":
        return Settings(home=home, base_url="http://testserver", pdf_retimestamp_days=0)
    pg: Postgres = request.getfixturevalue("postgres_server")
    endpoint: str = request.getfixturevalue("s3_endpoint")
    return Settings(
        home=home,
        base_url="http://testserver",
        pdf_retimestamp_days=0,
        database_url=create_postgres_database(pg),
        storage_url=f"s3://{create_bucket(endpoint)}/vault",
        s3_endpoint_url=endpoint,
    )


@pytest.fixture
def services(settings):  # type: ignore[no-untyped-def]
    """The deployment's engine and store, migrated, for one test."""
    from vault.services import build_services

    svc = build_services(settings)
    yield svc
    svc.close()


@pytest.fixture
def initialized(services):  # type: ignore[no-untyped-def]
    """A deployment after `offboard init`: default organization and its first admin token."""
    from vault.setup import initialize

    return initialize(services)


@pytest.fixture
def app(settings, services):  # type: ignore[no-untyped-def]
    from api.app import create_app

    return create_app(settings, services=services)


@pytest.fixture
def client(app, initialized):  # type: ignore[no-untyped-def]
    """An HTTP client authenticated as the default organization's admin."""
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:
        test_client.headers["Authorization"] = f"Bearer {initialized.admin_token.secret}"
        yield test_client


@pytest.fixture
def cli_env(settings, monkeypatch):  # type: ignore[no-untyped-def]
    """Point the CLI (which reads OFFBOARD_* variables) at the test's backends, in a home marked as
    initialized (its offboard.env, which `offboard init` writes), as tests build the deployment themselves."""
    from vault.config_file import write_env_file

    write_env_file(settings.env_file, {})
    monkeypatch.setenv("OFFBOARD_HOME", str(settings.home))
    for name in ("database_url", "storage_url", "s3_endpoint_url"):
        value = getattr(settings, name)
        if value:
            monkeypatch.setenv(f"OFFBOARD_{name.upper()}", value)
        else:
            monkeypatch.delenv(f"OFFBOARD_{name.upper()}", raising=False)
    return settings


OWNER_EMAIL = "owner@agency.example"


def add_owner(services, organization_id: str, email: str = OWNER_EMAIL) -> str:  # type: ignore[no-untyped-def]
    """Make ``email`` a staff member (case owners must be staff); idempotent."""
    from vault.db import session_scope
    from vault.orgs.organizations import Principal, Role
    from vault.orgs.staff import add_staff, find_staff

    with session_scope(services.engine) as session:
        if find_staff(session, organization_id, email) is None:
            add_staff(session, Principal(organization_id, Role.ADMIN, "test:setup"), email=email, role="member")
    return email


@pytest.fixture
def owner(services, initialized) -> str:  # type: ignore[no-untyped-def]
    """The email of a staff member of the default organization who can own cases."""
    return add_owner(services, initialized.organization_id)
