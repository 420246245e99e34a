"""The client's ``.tlog-proof`` from the acknowledgment page, and ``offboard verify BUNDLE --since FILE``
(issue 16, requirement 4): a later honest bundle extends the kept checkpoint; a bundle of a fork (a copy
of the deployment that issued its own receipt at the same place, under the same key) fails, saying so."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from signing.keys import generate_key
from tests.helpers import run_cli
from tests.integration.receipts_support import acknowledge, create_receipt, handover, path_of, send_manual
from vault.config import Settings
from vault.ledger.checkpoint import sign_checkpoint
from vault.ledger.proofs import TlogProof
from vault.services import build_services

#: No background publishing: checkpoints are signed only when a step asks for one, so the honest log and
#: its fork, doing the same steps, sign checkpoints at the same sizes. SQLite only: the fork copies the home.
QUIET = 3600.0


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", base_url="http://testserver", checkpoint_delay_seconds=QUIET)


def _issue_and_keep_proof(client: TestClient) -> tuple[str, str, str]:
    """A sent receipt and its .tlog-proof as the client downloads it: (case id, page path, proof text)."""
    h = handover(client)
    receipt = create_receipt(client, h)
    path = path_of(send_manual(client, receipt["id"])["links"][0]["url"])
    page = client.get(path)
    assert f'href="{path}/receipt.tlog-proof"' in page.text
    download = client.get(f"{path}/receipt.tlog-proof")
    assert download.status_code == 200, download.text
    assert '.tlog-proof"' in download.headers["content-disposition"]
    proof = TlogProof.from_text(download.text)
    assert proof.index < proof.body.size
    # The same file on every download: the first checkpoint that holds the receipt's entry.
    assert client.get(f"{path}/receipt.tlog-proof").text == download.text
    return h.case_id, path, download.text


def _verify(capsys: pytest.CaptureFixture[str], bundle: Path, since: Path) -> tuple[int, dict[str, Any]]:
    code, out, _ = run_cli(capsys, "verify", str(bundle), "--since", str(since), "--json")
    return code, json.loads(out)


def test_verify_since_passes_on_a_later_bundle_and_fails_on_a_fork(
    client: TestClient, owner: str, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    del owner  # the cases need their owner
    honest_home = settings.home
    fork_home = tmp_path / "fork-home"
    shutil.copytree(honest_home, fork_home)  # before the receipt: the fork rewrites from here
    case_id, path, kept = _issue_and_keep_proof(client)
    assert acknowledge(client, path).status_code == 200
    proof_file = tmp_path / "receipt.tlog-proof"
    proof_file.write_text(kept, encoding="utf-8")
    honest = tmp_path / "honest.zip"
    honest.write_bytes(client.post(f"/api/v1/cases/{case_id}/bundle").content)
    code, report = _verify(capsys, honest, proof_file)
    assert code == 0, report["failures"]
    assert report["passed_by_kind"]["since"] == 1

    fork_settings = Settings(home=fork_home, base_url=settings.base_url, checkpoint_delay_seconds=QUIET)
    fork_services = build_services(fork_settings)
    try:
        with TestClient(create_app(fork_settings, services=fork_services)) as fork_client:
            fork_client.headers["Authorization"] = client.headers["Authorization"]
            fork_case, _, fork_kept = _issue_and_keep_proof(fork_client)
            assert TlogProof.from_text(fork_kept).body.size == TlogProof.from_text(kept).body.size
            forked = tmp_path / "forked.zip"
            forked.write_bytes(fork_client.post(f"/api/v1/cases/{fork_case}/bundle").content)
    finally:
        fork_services.close()
    code, report = _verify(capsys, forked, proof_file)
    assert code == 1
    (failure,) = report["failures"]
    assert failure["kind"] == "since" and "the log has forked" in failure["detail"], failure
    # The fork's bundle is otherwise a valid bundle: only the kept checkpoint exposes it.
    assert run_cli(capsys, "verify", str(forked))[0] == 0


def test_verify_since_refuses_an_unreadable_file_and_a_foreign_checkpoint(
    client: TestClient, owner: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    del owner
    case_id, _, kept = _issue_and_keep_proof(client)
    bundle = tmp_path / "b.zip"
    bundle.write_bytes(client.post(f"/api/v1/cases/{case_id}/bundle").content)
    code, _, err = run_cli(capsys, "verify", str(bundle), "--since", str(tmp_path / "missing"))
    assert code != 0 and "cannot read the kept checkpoint" in err
    # A checkpoint of the same origin and size under another key: not one of this log's.
    body = TlogProof.from_text(kept).body
    foreign = tmp_path / "foreign.checkpoint"
    foreign.write_text(sign_checkpoint(body, [generate_key(body.origin)]), encoding="utf-8")
    code, report = _verify(capsys, bundle, foreign)
    (failure,) = report["failures"]
    assert code == 1 and failure["kind"] == "since" and "not one of this log's" in failure["detail"]
