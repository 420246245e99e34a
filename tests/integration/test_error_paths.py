"""Error paths that the one error tree decides, on both backend pairs: the API's status and problem+json
body, and the CLI's one line on stderr with exit code 1 and no traceback.

A damaged ledger is an ``IntegrityFailure`` (500, its own title), wherever the gap is found; a store
that fails is a ``StorageError`` (503), also where the failure happens outside an upload's body.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from storage.base import StoreError
from tests.conftest import OWNER_EMAIL
from tests.helpers import cli_json, run_cli
from vault.db import session_scope
from vault.ledger import log

PROBLEMS = "https://offboard.invalid/problems/"
GAP = "the stored ledger lacks 1 needed tree node(s), first (1, 1)"


@pytest.fixture(autouse=True)
def _owner(owner: str) -> None:
    """Cases here are owned by the default organization's staff member."""


def _fill(client: TestClient, uploads: int) -> str:
    case = client.post("/api/v1/cases", json={"client_name": "Initech", "owner_email": OWNER_EMAIL})
    assert case.status_code == 201, case.text
    for i in range(uploads):
        params = {"filename": f"f{i}.txt", "kind": "other"}
        response = client.post(f"/api/v1/cases/{case.json()['id']}/evidence", params=params, content=b"%d" % i)
        assert response.status_code == 201, response.text
    return str(case.json()["id"])


def _lose_node_1_1(services: Any) -> None:
    """Drop the parent hashes stored with entry 3: nodes (1, 1) and (2, 0) of the tree are gone."""
    with session_scope(services.engine) as session:
        session.exec(text("UPDATE ledger_entry SET parents = :none WHERE idx = 3").bindparams(none=b""))  # type: ignore[call-overload]


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_a_damaged_ledger_is_a_500_integrity_problem(client: TestClient, services: Any) -> None:
    _fill(client, 9)
    _lose_node_1_1(services)
    response = client.get("/api/v1/ledger/proof/inclusion", params={"index": 0, "tree_size": 8})
    assert response.status_code == 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == PROBLEMS + "integrity-failure"
    assert body["title"] == "Stored records failed an integrity check"
    assert body["detail"] == GAP
    assert body["missing"] == [[1, 1]]
    # A proof that needs none of the lost nodes is still served.
    assert client.get("/api/v1/ledger/proof/inclusion", params={"index": 0, "tree_size": 2}).status_code == 200


def test_a_damaged_ledger_is_one_cli_line(
    client: TestClient, services: Any, cli_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(client, 9)
    _lose_node_1_1(services)
    code, stdout, stderr = run_cli(capsys, "ledger", "prove", "0", "--size", "8", "--json")
    assert (code, stdout) == (1, "")
    assert _one_line(stderr) == f"error: {GAP}"


def test_the_integrity_class_is_the_one_the_log_raises(client: TestClient, services: Any) -> None:
    from vault.errors import IntegrityFailure

    _fill(client, 3)
    _lose_node_1_1(services)
    org = client.get("/api/v1/ledger/entries/0").json()["organization"]
    with session_scope(services.engine) as session, pytest.raises(IntegrityFailure, match=r"first \(1, 1\)"):
        log.fetch_nodes(session, org, [(1, 1)])


def test_a_store_that_refuses_an_upload_is_a_503_storage_problem(
    client: TestClient, services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = _fill(client, 0)

    def full(_self: Any) -> Any:
        raise StoreError("no space left on the device")

    monkeypatch.setattr(type(services.store), "writer", full)
    params = {"filename": "a.txt", "kind": "other"}
    response = client.post(f"/api/v1/cases/{case_id}/evidence", params=params, content=b"abc")
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == PROBLEMS + "storage-error" and body["title"] == "Service unavailable"
    assert body["detail"] == "object store write failed: no space left on the device"


def test_a_store_that_cannot_list_fails_the_audit_in_one_line(
    services: Any, cli_env: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_json(capsys, "init")

    def unreachable(_self: Any) -> Any:
        raise StoreError("connection refused\nwhile listing")

    monkeypatch.setattr(type(services.store), "list_objects", unreachable)
    code, stdout, stderr = run_cli(capsys, "audit")
    assert (code, stdout) == (1, "")
    listing = f"cannot list the objects of {services.store.url}"
    assert _one_line(stderr) == f"error: {listing}: connection refused while listing"


def _unreachable_database() -> str:
    from tests.services import free_port

    return f"postgresql+psycopg://offboard:secret-password@127.0.0.1:{free_port()}/offboard"


def test_an_unreachable_database_is_a_503_problem_not_a_500() -> None:
    from fastapi import FastAPI
    from sqlalchemy import create_engine

    from api.errors import install

    app = FastAPI()
    install(app)
    engine = create_engine(_unreachable_database(), pool_pre_ping=True)

    @app.get("/reads")
    def reads() -> dict[str, int]:
        with engine.connect() as connection:  # a real connection attempt to a closed loopback port
            return {"one": int(connection.exec_driver_sql("SELECT 1").scalar_one())}

    response = TestClient(app).get("/reads")
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["type"] == PROBLEMS + "database-unavailable"
    assert body["detail"].startswith("the database could not be used: ") and "secret-password" not in body["detail"]


def test_the_cli_says_in_one_line_that_the_database_cannot_be_reached(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "OFFBOARD_HOME": str(tmp_path / "home"), "OFFBOARD_DATABASE_URL": _unreachable_database()}
    env.pop("OFFBOARD_DEBUG", None)
    command = [sys.executable, "-c", "from vault.cli import main; main()", "init"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    line = _one_line(done.stderr)
    assert line.startswith("error: the database could not be used: ") and "unexpected" not in line, line
    assert "secret-password" not in line
