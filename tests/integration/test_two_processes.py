"""Issue 14 item 17: two ``offboard serve`` processes on one PostgreSQL + S3 pair behave as one service.

Both are real processes (``offboard serve`` on two loopback ports, one home, one database, one bucket).
Spread over both: 20 concurrent acknowledgment POSTs for one link record exactly one acknowledgment;
8 concurrent writers never fork the log (``verify_ledger`` afterwards: one tree, every checkpoint
consistent with it); and a link's refused answers are counted once for the deployment, not per process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from tests.conftest import create_bucket, create_postgres_database
from tests.helpers import verify_ledger_now
from tests.integration.receipts_support import create_receipt, form_of, handover, path_of, send_manual
from tests.services import Postgres, free_port
from vault.config import Settings
from vault.db import read_session
from vault.models import Acknowledgment, Organization
from vault.services import build_services

LINK_LIMIT = 4
OFFBOARD = [str(Path(sys.executable).parent / "offboard")]


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, f"offboard serve exited with {process.returncode}"
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"offboard serve at {url} did not become healthy")


@pytest.fixture
def deployment(postgres_server: Postgres, s3_endpoint: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Two servers of one deployment; yields their URLs, the admin token and the settings."""
    if shutil.which(OFFBOARD[0]) is None:
        pytest.fail(f"{OFFBOARD[0]} is missing (make install-dev)")
    ports = [free_port(), free_port()]
    settings = Settings(
        home=tmp_path / "home",
        base_url=f"http://127.0.0.1:{ports[0]}",
        database_url=create_postgres_database(postgres_server),
        storage_url=f"s3://{create_bucket(s3_endpoint)}/vault",
        s3_endpoint_url=s3_endpoint,
    )
    env = {
        **os.environ,
        "OFFBOARD_HOME": str(settings.home),
        "OFFBOARD_BASE_URL": settings.base_url,
        "OFFBOARD_DATABASE_URL": str(settings.database_url),
        "OFFBOARD_STORAGE_URL": str(settings.storage_url),
        "OFFBOARD_S3_ENDPOINT_URL": s3_endpoint,
        "OFFBOARD_ACK_LINK_RATE_LIMIT_FAILURES": str(LINK_LIMIT),
    }
    init = subprocess.run([*OFFBOARD, "init", "--json"], env=env, capture_output=True, text=True, check=False)
    assert init.returncode == 0, init.stderr
    token = json.loads(init.stdout)["admin_token"]
    logs = [open(tmp_path / f"serve-{port}.log", "wb") for port in ports]  # noqa: SIM115 - closed below
    processes = [
        subprocess.Popen(  # noqa: S603 - our own entry point
            [*OFFBOARD, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=log
        )
        for port, log in zip(ports, logs, strict=True)
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, process in zip(urls, processes, strict=True):
            _wait_healthy(url, process)
        yield {"urls": urls, "token": token, "settings": settings}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()


def _clients(deployment: dict[str, Any]) -> list[httpx.Client]:
    headers = {"Authorization": f"Bearer {deployment['token']}"}
    return [httpx.Client(base_url=url, headers=headers, timeout=60) for url in deployment["urls"]]


def _run(count: int, work: Any) -> list[Any]:
    """``work(i)`` on ``count`` threads released together; their results in thread order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion on the results
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    return results


def test_two_processes_behave_as_one_service(deployment: dict[str, Any]) -> None:
    clients = _clients(deployment)
    a, b = clients
    try:
        # Eight writers, spread over both processes, each storing four files into its own case.
        handovers = [handover(clients[i % 2]) for i in range(2)]
        cases = [h.case_id for h in handovers]

        def write(i: int) -> list[int]:
            client = clients[i % 2]
            statuses = []
            for j in range(4):
                response = client.post(
                    f"/api/v1/cases/{cases[i % 2]}/evidence",
                    params={"filename": f"w{i}-{j}.txt", "kind": "other"},
                    content=f"writer {i} file {j}".encode(),
                )
                statuses.append(response.status_code)
            return statuses

        assert _run(8, write) == [[201] * 4] * 8

        # Twenty acknowledgment POSTs for one link, half to each process: exactly one acknowledgment.
        receipt = create_receipt(a, handovers[0])
        path = path_of(send_manual(a, receipt["id"])["links"][0]["url"])
        page = a.get(path)
        fields = form_of(page.text)
        cookie = {"Cookie": f"offboard_ack_csrf={page.cookies['offboard_ack_csrf']}"}
        data = {**fields, "action": "acknowledge", "name": "Jane Client", "consent": "yes"}
        statuses = _run(20, lambda i: clients[i % 2].post(path, data=data, headers=cookie).status_code)
        assert sorted(statuses) == [200] + [410] * 19, statuses

        # A live link's refused answers (downloads it does not list) count once across both processes.
        other = create_receipt(b, handovers[1])
        link = path_of(send_manual(b, other["id"])["links"][0]["url"])
        refused = [clients[i % 2].get(f"{link}/files/not-listed").status_code for i in range(LINK_LIMIT)]
        assert refused == [404] * LINK_LIMIT
        assert a.get(link).status_code == 429 and b.get(link).status_code == 429
    finally:
        for client in clients:
            client.close()

    services = build_services(deployment["settings"])
    try:
        with read_session(services.engine) as session:
            org = session.exec(select(Organization)).one()
            acks = session.exec(select(Acknowledgment).where(Acknowledgment.receipt_id == receipt["id"])).all()
        assert len(acks) == 1
        report = verify_ledger_now(services, org)
        assert report.ok, report.problems
        assert report.size >= 8 * 4 and report.checkpoints_checked >= 1
    finally:
        services.close()
