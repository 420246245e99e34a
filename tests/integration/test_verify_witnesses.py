"""``offboard verify --witness-key`` (issue 16, requirements 2 and 4): a bundle carries the latest cosigned
checkpoint, 2 of 2 witnesses on loopback cosigned it, and the verifier checks each cosignature against the
keys the user gives; a tampered line, an unknown key and a bad key fail; without keys the report says
plainly that no independent witness was checked. The client's ``.tlog-proof`` carries the cosignatures too."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from signing.note import SIGNATURE_PREFIX, parse_note
from tests.helpers import run_cli
from tests.integration.bundle_corpus import rebag, rezip, unzip
from tests.integration.receipts_support import create_receipt, handover, path_of, send_manual
from tests.integration.test_witnessing import _configure, _init_witness, _pass
from tests.integration.witness_support import Log, witness_serve
from vault.bundle import layout
from vault.config import Settings
from vault.ledger.checkpoint import CheckpointBody
from vault.witnessing.exchange import Outcome

#: No background publishing: the checkpoints are the ones the steps sign, so the witnessed one is known.
QUIET = 3600.0
W1, W2, W3 = "witness.test/w1", "witness.test/w2", "witness.test/w3"
NO_WITNESS = "no independent witness was checked"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"checkpoint_delay_seconds": QUIET})


def _witness_keys(tmp_path: Path) -> list[str]:
    return [_init_witness(tmp_path / name.rsplit("/", 1)[1], name) for name in (W1, W2, W3)]


def _verify(capsys: pytest.CaptureFixture[str], target: Path, *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run_cli(capsys, "verify", str(target), *args, "--json")
    assert out, err
    return code, json.loads(out)


def _witness_args(*vkeys: str) -> list[str]:
    return [arg for vkey in vkeys for arg in ("--witness-key", vkey)]


def _tamper_line(note: bytes, name: str) -> bytes:
    """``note`` with the last signature byte of ``name``'s cosignature line flipped."""
    lines = note.decode().split("\n")
    for i, line in enumerate(lines):
        if line.startswith(f"{SIGNATURE_PREFIX}{name} "):
            blob = bytearray(base64.b64decode(line.rsplit(" ", 1)[1]))
            blob[-1] ^= 0x01
            lines[i] = f"{SIGNATURE_PREFIX}{name} {base64.b64encode(bytes(blob)).decode()}"
            return "\n".join(lines).encode()
    raise AssertionError(f"no line of {name}")


def test_bundle_cosigned_checkpoint_is_checked_with_the_witness_keys(
    client: TestClient, services: Any, initialized: Any, owner: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    del owner
    case = client.post("/api/v1/cases", json={"client_name": "Acme", "owner_email": "owner@agency.example"})
    assert case.status_code == 201, case.text
    log = Log(services, initialized.organization_id, case.json()["id"])
    v1, v2, v3 = _witness_keys(tmp_path)
    with (
        witness_serve(tmp_path / "w1", [log.vkey()]) as (base1, _),
        witness_serve(tmp_path / "w2", [log.vkey()]) as (
            base2,
            _,
        ),
    ):
        _configure(log, [(base1, v1), (base2, v2)])
        witnessed_note = log.grow(3)
        assert set(_pass(log).values()) == {Outcome.COSIGNED}
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(client.post(f"/api/v1/cases/{log.case_id}/bundle").content)
    root, files = unzip(bundle.read_bytes())
    cosigned = files[layout.WITNESSED].decode()
    assert cosigned.startswith(witnessed_note)
    assert {line.split(" ")[1] for line in cosigned[len(witnessed_note) :].splitlines()} == {W1, W2}
    size = CheckpointBody.from_text(parse_note(witnessed_note).body).size
    assert files[layout.earlier_checkpoint_path(size)].decode() == witnessed_note

    code, report = _verify(capsys, bundle, *_witness_args(v1, v2))
    assert code == 0, report["failures"]
    assert report["witnesses"].startswith(f"2 of 2 witness keys cosigned the checkpoint of size {size} (2 required)")
    assert report["passed_by_kind"]["witness"] == 1
    code, out, _ = run_cli(capsys, "verify", str(bundle), *_witness_args(v1, v2))
    assert code == 0 and "witnesses: 2 of 2 witness keys cosigned" in out, out

    # No witness key: the bundle passes, and says plainly that no witness was checked.
    code, out, _ = run_cli(capsys, "verify", str(bundle))
    assert code == 0 and f"witnesses: {NO_WITNESS}" in out, out
    assert _verify(capsys, bundle)[1]["witnesses"].startswith(NO_WITNESS)

    # One cosignature line tampered with (and the bag re-hashed, as a forger would): 1 of the 2 required.
    forged = tmp_path / "forged.zip"
    forged.write_bytes(rezip(root, rebag({**files, layout.WITNESSED: _tamper_line(files[layout.WITNESSED], W2)})))
    code, report = _verify(capsys, forged, *_witness_args(v1, v2), "--witnesses-required", "2")
    assert code == 1
    (failure,) = report["failures"]
    assert failure["kind"] == "witness" and failure["detail"].startswith("1 of 2 witness keys cosigned"), failure
    assert f"not cosigned by {W2}" in failure["detail"] and "does not verify" in failure["detail"]
    assert _verify(capsys, forged, *_witness_args(v1, v2), "--witnesses-required", "1")[0] == 0

    # A witness that never saw this log.
    code, report = _verify(capsys, bundle, *_witness_args(v3))
    assert code == 1
    (failure,) = report["failures"]
    assert failure["detail"].startswith("0 of 1 witness keys cosigned") and W3 in failure["detail"], failure


@pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)
def test_verify_refuses_bad_witness_options(
    client: TestClient, owner: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    del client, owner
    bundle = tmp_path / "any.zip"
    bundle.write_bytes(b"not read: the options are refused first")
    v1 = _init_witness(tmp_path / "w1", W1)
    for args in (
        ["--witness-key", "not-a-key"],
        ["--witness-key", v1.replace("+", "-", 1)],
        ["--witness-key", v1, "--witnesses-required", "2"],
        ["--witnesses-required", "1"],
    ):
        code, _, err = run_cli(capsys, "verify", str(bundle), *args)
        assert code == 2, (args, err)
        assert len(err.strip().splitlines()) == 1, err
    proof = tmp_path / "kept.tlog-proof"
    proof.write_text("c2sp.org/tlog-proof@v1\nindex 0\n\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "verify", str(proof), "--since", str(proof))
    assert code == 2 and "--since" in err, err
    code, _, err = run_cli(capsys, "verify", str(proof), "--witness-key", v1)
    assert code == 1 and err.startswith("not a tlog-proof: "), err


def test_tlog_proof_carries_the_cosignatures_of_its_checkpoint(
    client: TestClient, services: Any, initialized: Any, owner: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    del owner
    h = handover(client)
    receipt = create_receipt(client, h)
    path = path_of(send_manual(client, receipt["id"])["links"][0]["url"])
    before = client.get(f"{path}/receipt.tlog-proof").text  # signs the checkpoint that holds the receipt
    log = Log(services, initialized.organization_id, h.case_id)
    v1, v2, v3 = _witness_keys(tmp_path)
    with (
        witness_serve(tmp_path / "w1", [log.vkey()]) as (base1, _),
        witness_serve(tmp_path / "w2", [log.vkey()]) as (
            base2,
            _,
        ),
    ):
        _configure(log, [(base1, v1), (base2, v2)])
        assert set(_pass(log).values()) == {Outcome.COSIGNED}
    kept_text = client.get(f"{path}/receipt.tlog-proof").text
    # The same proof, its checkpoint now followed by both witnesses' cosignature lines.
    assert kept_text.startswith(before)
    assert [line.split(" ")[1] for line in kept_text[len(before) :].splitlines()] == [W1, W2]
    kept = tmp_path / "receipt.tlog-proof"
    kept.write_text(kept_text, encoding="utf-8")

    pinned = ["--key", log.vkey()]
    code, report = _verify(capsys, kept, *pinned, *_witness_args(v1, v2))
    assert code == 0, report["failures"]
    assert report["witnesses"].startswith("2 of 2 witness keys cosigned")
    code, report = _verify(capsys, kept, *pinned, *_witness_args(v3))
    assert code == 1 and report["failures"][0]["kind"] == "witness", report
    code, out, _ = run_cli(capsys, "verify", str(kept), *pinned)
    assert code == 0 and NO_WITNESS in out, out
    # A tampered cosignature line in the kept file.
    forged = tmp_path / "forged.tlog-proof"
    forged.write_bytes(_tamper_line(kept.read_bytes(), W1))
    assert _verify(capsys, forged, *pinned, *_witness_args(v1, v2))[0] == 1

    # A later bundle still extends the kept (now cosigned) proof's checkpoint, and carries its cosignatures.
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(client.post(f"/api/v1/cases/{h.case_id}/bundle").content)
    code, report = _verify(capsys, bundle, "--since", str(kept), *_witness_args(v1, v2))
    assert code == 0, report["failures"]
    assert report["passed_by_kind"]["since"] == 1 and report["passed_by_kind"]["witness"] == 1
