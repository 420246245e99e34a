"""The witness client against two ``offboard witness serve`` processes on loopback (issue 16, requirement 2):
policy 2 of 2 cosigns each checkpoint by both; with one witness stopped the checkpoint is reported
unwitnessed, never silently accepted; a forked copy of the log gets 422, an alert and no cosignature."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from signing.cosignature import parse_cosigner_vkey, verified_cosignatures
from tests.integration.witness_support import OFFBOARD, Log, fork_of, witness_serve
from vault.db import read_session
from vault.models import Cosignature, Witness, WitnessAlert
from vault.orgs.organizations import Principal, Role
from vault.states import WitnessStatus
from vault.witnessing.exchange import Outcome
from vault.witnessing.roster import add_witness, set_witness_policy
from vault.witnessing.submitter import witness_pass

pytestmark = pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)


def _init_witness(directory: Path, name: str) -> str:
    made = subprocess.run(
        [OFFBOARD, "witness", "init", "--dir", str(directory), "--name", name],
        capture_output=True,
        text=True,
        check=True,
    )
    return made.stdout.strip()


@pytest.fixture
def log(client: TestClient, services: Any, initialized: Any) -> Log:
    staff = client.post("/api/v1/staff", json={"email": "owner@agency.example", "name": "Owner"})
    assert staff.status_code == 201, staff.text
    case = client.post("/api/v1/cases", json={"client_name": "Acme", "owner_email": "owner@agency.example"})
    assert case.status_code == 201, case.text
    return Log(services, initialized.organization_id, case.json()["id"])


def _configure(log: Log, witnesses: list[tuple[str, str]]) -> None:
    admin = Principal(log.organization_id, Role.ADMIN, "test:admin")

    def work(session: Any) -> None:
        for url, vkey in witnesses:
            add_witness(session, admin, url=url, vkey=vkey)
        set_witness_policy(session, admin, str(len(witnesses)))

    log.services.transact(work)


def _pass(log: Log) -> dict[str, Outcome]:
    svc = log.services
    results = witness_pass(svc.read, svc.transact, svc.settings, clock=svc.clock)
    return {r.job.url: r.answer.outcome for r in results}


def _checkpoint(client: TestClient) -> dict[str, Any]:
    answer = client.get("/api/v1/ledger/checkpoint", headers={"Accept": "application/json"})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert answer.headers["x-offboard-witnessed"] == str(body["witnessed"]).lower()
    return body


def test_two_of_two_cosign_then_one_stops_and_a_fork_is_refused(log: Log, client: TestClient, tmp_path: Path) -> None:
    vkeys = [_init_witness(tmp_path / "w1", "witness.test/w1"), _init_witness(tmp_path / "w2", "witness.test/w2")]
    cosigners = [parse_cosigner_vkey(v) for v in vkeys]
    with (
        witness_serve(tmp_path / "w1", [log.vkey()]) as (base1, _),
        witness_serve(tmp_path / "w2", [log.vkey()]) as (
            base2,
            _,
        ),
    ):
        _configure(log, [(base1, vkeys[0]), (base2, vkeys[1])])
        for notes in (3, 4):  # the second round sends a consistency proof from the size each witness holds
            log.grow(notes)
            assert set(_pass(log).values()) <= {Outcome.COSIGNED}
            body = _checkpoint(client)
            assert body["witnessed"] is True, body
            assert {c["name"] for c in body["cosigned_by"]} == {"witness.test/w1", "witness.test/w2"}
            assert len(verified_cosignatures(body["cosigned_note"], cosigners)) == 2
            assert body["cosigned_note"].startswith(body["note"])
            text = client.get("/api/v1/ledger/checkpoint")
            assert text.text == body["cosigned_note"]
        fork = fork_of(log, tmp_path / "fork-home")
    try:
        # Both stopped now; restart only the first witness on its port.
        with witness_serve(tmp_path / "w1", [log.vkey()], port=int(base1.rsplit(":", 1)[1])):
            log.grow(2)
            outcomes = _pass(log)
            assert outcomes == {base1: Outcome.COSIGNED, base2: Outcome.UNREACHABLE}
            body = _checkpoint(client)
            assert body["witnessed"] is False
            assert body["witness_summary"].startswith("unwitnessed: 1 of the 2 cosignatures required")
            assert [c["name"] for c in body["cosigned_by"]] == ["witness.test/w1"]
            # The fork: the same key, other entries after the shared prefix. The witness refuses it.
            fork.grow(5, label="forked")
            fork_outcomes = _pass(fork)
            assert fork_outcomes[base1] == Outcome.REJECTED
            with read_session(fork.services.engine) as session:
                alerts = list(session.exec(select(WitnessAlert)))
                assert [a.witness_name for a in alerts] == ["witness.test/w1"]
                cosigned = session.exec(
                    select(Cosignature.checkpoint_id).where(Cosignature.witness_name == "witness.test/w1")
                )
                latest_forked = max(session.exec(select(Witness.last_checkpoint_id)))
                assert latest_forked not in set(cosigned)
                rejected = session.exec(select(Witness).where(Witness.name == "witness.test/w1")).one()
                assert rejected.status == WitnessStatus.REJECTED
            # Never retried blindly: the same forked checkpoint is not sent again.
            assert base1 not in _pass(fork)
    finally:
        fork.services.close()
