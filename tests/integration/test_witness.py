"""``offboard witness serve`` as a process on loopback, fed real checkpoints of an Offboard log with
proofs from the ledger (issue 16, requirement 3): it cosigns consistent ones, answers 409 with its size and
422 for a bad proof or a fork, resumes from its persisted state after a restart, and killed with SIGKILL
during submissions it never cosigns two inconsistent checkpoints of one log."""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from signing.cosignature import parse_cosigner_vkey, verified_cosignatures
from signing.note import parse_note
from tests.integration.witness_support import OFFBOARD, Log, fork_of, witness_serve
from vault.ledger.checkpoint import CheckpointBody

pytestmark = pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)


@pytest.fixture
def log(client: TestClient, services: Any, initialized: Any) -> Log:
    staff = client.post("/api/v1/staff", json={"email": "owner@agency.example", "name": "Owner"})
    assert staff.status_code == 201, staff.text
    case = client.post("/api/v1/cases", json={"client_name": "Acme", "owner_email": "owner@agency.example"})
    assert case.status_code == 201, case.text
    return Log(services, initialized.organization_id, case.json()["id"])


@pytest.fixture
def witness_dir(tmp_path: Path) -> tuple[Path, str]:
    directory = tmp_path / "witness"
    made = subprocess.run(
        [OFFBOARD, "witness", "init", "--dir", str(directory), "--name", "witness.test/w1"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert (directory / "witness.key").stat().st_mode & 0o777 == 0o600
    return directory, made.stdout.strip()


def _size(checkpoint: str) -> int:
    return CheckpointBody.from_text(parse_note(checkpoint).body).size


def test_cosigns_real_checkpoints_409_422_and_resumes_after_a_restart(
    log: Log, witness_dir: tuple[Path, str], tmp_path: Path
) -> None:
    directory, vkey = witness_dir
    cosigner = parse_cosigner_vkey(vkey)
    first = log.grow(5)
    # The fork shares the log up to the first checkpoint, then grows other entries under the same key.
    fork = fork_of(log, tmp_path / "fork-home")
    with witness_serve(directory, [log.vkey()]) as (base, _):
        answer = httpx.post(f"{base}/add-checkpoint", content=log.body(0, first, _size(first)))
        assert answer.status_code == 200, answer.text
        assert verified_cosignatures(first + answer.text, [cosigner])[0].timestamp > 0
        second = log.grow(7)
        stale = httpx.post(f"{base}/add-checkpoint", content=log.body(0, second, _size(second)))
        assert (stale.status_code, stale.headers["content-type"], stale.text) == (
            409,
            "text/x.tlog.size",
            f"{_size(first)}\n",
        )
        good = log.body(_size(first), second, _size(second))
        # One proof hash flipped: 422, and the witness stays at the first size.
        lines = good.split(b"\n")
        lines[1] = lines[1][:2] + (b"A" if lines[1][2:3] != b"A" else b"B") + lines[1][3:]
        bad = httpx.post(f"{base}/add-checkpoint", content=b"\n".join(lines))
        assert bad.status_code == 422, bad.text
    with witness_serve(directory, [log.vkey()]) as (base, _):
        # Restarted: it remembers the first size, not the rejected second.
        again = httpx.post(f"{base}/add-checkpoint", content=log.body(0, second, _size(second)))
        assert (again.status_code, again.text) == (409, f"{_size(first)}\n")
        assert httpx.post(f"{base}/add-checkpoint", content=good).status_code == 200
        try:
            forked = fork.grow(9, label="forked")
            refused = httpx.post(f"{base}/add-checkpoint", content=fork.body(_size(second), forked, _size(forked)))
            assert refused.status_code == 422, refused.text
        finally:
            fork.services.close()


def _submitter(log: Log, base: str, stop: threading.Event, cosigned: list[tuple[str, str]], label: str) -> None:
    """Grow ``log`` and submit each checkpoint from the size the witness says it holds, until stopped."""
    old = 0
    while not stop.is_set():
        checkpoint = log.grow(random.randint(1, 3), label=label)
        size = _size(checkpoint)
        for _ in range(3):
            try:
                answer = httpx.post(f"{base}/add-checkpoint", content=log.body(old, checkpoint, size), timeout=5)
            except httpx.TransportError:
                return
            if answer.status_code == 409:
                old = int(answer.text)
                continue
            if answer.status_code == 200:
                cosigned.append((checkpoint, answer.text))
                old = size
            break


def test_kill_9_during_submissions_never_yields_two_inconsistent_cosignatures(
    log: Log, witness_dir: tuple[Path, str], tmp_path: Path
) -> None:
    directory, vkey = witness_dir
    shared = _size(log.grow(3))
    fork = fork_of(log, tmp_path / "fork-home")
    cosigned: dict[str, list[tuple[str, str]]] = {"honest": [], "forked": []}
    try:
        for round_ in range(4):
            with witness_serve(directory, [log.vkey()]) as (base, process):
                stop = threading.Event()
                threads = [
                    threading.Thread(target=_submitter, args=(log, base, stop, cosigned["honest"], "honest")),
                    threading.Thread(target=_submitter, args=(fork, base, stop, cosigned["forked"], "forked")),
                ]
                for thread in threads:
                    thread.start()
                time.sleep(0.3 + round_ * 0.2)
                process.send_signal(signal.SIGKILL)
                process.wait()
                stop.set()
                for thread in threads:
                    thread.join(timeout=30)
        cosigner = parse_cosigner_vkey(vkey)
        every = [(name, note, lines) for name, items in cosigned.items() for note, lines in items]
        assert every, "nothing was cosigned"
        for _, note, lines in every:
            verified_cosignatures(note + lines, [cosigner])
        # Both histories share their first ``shared`` entries; beyond them, only one may ever be cosigned.
        beyond = {name for name, note, _ in every if _size(note) > shared}
        assert len(beyond) <= 1, f"cosigned checkpoints of both histories beyond size {shared}"
    finally:
        fork.services.close()
