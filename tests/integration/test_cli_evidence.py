"""The ``offboard`` CLI on both backend pairs: init, cases, evidence add/get, tokens, audit."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.helpers import cli_json, run_cli, sha256


def s3_client(settings: Any) -> Any:
    return boto3.client("s3", endpoint_url=settings.s3_endpoint_url)


def bucket_and_key(settings: Any, key: str) -> tuple[str, str]:
    bucket, _, prefix = settings.resolved_storage_url.removeprefix("s3://").partition("/")
    return bucket, f"{prefix.strip('/')}/{key}" if prefix else key


def local_path(settings: Any, key: str) -> Path:
    return Path(settings.resolved_storage_url.removeprefix("file://")) / key


def tamper(settings: Any, key: str, data: bytes) -> None:
    """Replace an object's bytes behind Offboard's back."""
    if settings.resolved_storage_url.startswith("file://"):
        path = local_path(settings, key)
        os.chmod(path, 0o644)
        path.write_bytes(data)
    else:
        bucket, full = bucket_and_key(settings, key)
        s3_client(settings).put_object(Bucket=bucket, Key=full, Body=data)


def remove(settings: Any, key: str) -> None:
    if settings.resolved_storage_url.startswith("file://"):
        local_path(settings, key).unlink()
    else:
        bucket, full = bucket_and_key(settings, key)
        s3_client(settings).delete_object(Bucket=bucket, Key=full)


@pytest.fixture
def case_id(cli_env: Any, capsys: pytest.CaptureFixture[str]) -> str:
    init = cli_json(capsys, "init")
    assert init["admin_token"].startswith("obt_")
    again = cli_json(capsys, "init")
    assert again["admin_token"] is None, "a second init must not issue another admin token"
    cli_json(capsys, "staff", "add", "pm@agency.example", "--name", "Pat Manager")
    case = cli_json(capsys, "case", "open", "--client", "Globex", "--owner", "pm@agency.example")
    assert case["status"] == "open"
    return str(case["id"])


def test_add_get_round_trip(case_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = tmp_path / "final-report.pdf"
    first.write_bytes(b"%PDF-1.4 not really" * 1000)
    second = tmp_path / "assets.zip"
    second.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    added = cli_json(capsys, "evidence", "add", "--case", case_id, str(first), str(second))
    assert [a["sha256"] for a in added] == [sha256(first.read_bytes()), sha256(second.read_bytes())]
    assert [a["duplicate"] for a in added] == [False, False]

    again = cli_json(capsys, "evidence", "add", "--case", case_id, str(second))
    assert again[0]["duplicate"] is True and again[0]["id"] == added[1]["id"]

    out = tmp_path / "out" / "copy.zip"
    out.parent.mkdir()
    got = cli_json(capsys, "evidence", "get", added[1]["id"], "-o", str(out))
    assert got["sha256"] == sha256(second.read_bytes())
    assert out.read_bytes() == second.read_bytes()

    listed = cli_json(capsys, "evidence", "list", "--case", case_id)
    assert {e["id"] for e in listed} == {a["id"] for a in added}


def test_get_refuses_altered_object(
    case_id: str, cli_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "contract.txt"
    source.write_bytes(b"the signed contract")
    added = cli_json(capsys, "evidence", "add", "--case", case_id, str(source))[0]
    key = f"sha256/{added['sha256'][:2]}/{added['sha256'][2:4]}/{added['sha256']}"
    tamper(cli_env, key, b"the forged contract")
    out = tmp_path / "fetched.txt"
    code, stdout, stderr = run_cli(capsys, "evidence", "get", added["id"], "-o", str(out))
    assert code == 1
    assert "do not match the record" in stderr
    assert not out.exists()
    assert list(tmp_path.glob(".fetched.txt*")) == []


def test_audit_catches_flipped_byte_and_deleted_object(
    case_id: str, cli_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = []
    for name, body in (("a.txt", b"alpha" * 100), ("b.txt", b"bravo" * 100), ("c.txt", b"charlie" * 100)):
        path = tmp_path / name
        path.write_bytes(body)
        files.append(str(path))
    added = cli_json(capsys, "evidence", "add", "--case", case_id, *files)
    clean = cli_json(capsys, "audit")
    assert clean["ok"] is True and clean["objects_checked"] == 3 and clean["problems"] == []

    def key(item: dict[str, Any]) -> str:
        return f"sha256/{item['sha256'][:2]}/{item['sha256'][2:4]}/{item['sha256']}"

    flipped = bytearray(b"alpha" * 100)
    flipped[7] ^= 0x01
    tamper(cli_env, key(added[0]), bytes(flipped))
    remove(cli_env, key(added[1]))
    code, stdout, stderr = run_cli(capsys, "audit", "--json")
    assert code == 1
    report = json.loads(stdout)
    assert report["ok"] is False
    kinds = {p["evidence_ids"][0]: p["kind"] for p in report["problems"]}
    assert kinds == {added[0]["id"]: "altered", added[1]["id"]: "missing"}

    code, stdout, stderr = run_cli(capsys, "audit")
    assert code == 1
    assert added[0]["id"] in stderr and added[1]["id"] in stderr and "FAILED" in stdout


def test_errors_are_messages_not_tracebacks(case_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "x.txt"
    source.write_bytes(b"x")
    code, _, stderr = run_cli(capsys, "evidence", "add", "--case", "missing-case", str(source))
    assert code == 2 and "'missing-case' is not an id" in stderr and "Traceback" not in stderr
    code, _, stderr = run_cli(capsys, "evidence", "add", "--case", "0000000f", str(source))
    assert code == 1 and "no case '0000000f'" in stderr and "Traceback" not in stderr
    code, _, stderr = run_cli(capsys, "evidence", "add", "--case", case_id, "--kind", "bogus", str(source))
    assert code == 1 and "kind must be one of" in stderr
    code, _, stderr = run_cli(capsys, "token", "create", "--name", "ci", "--role", "root")
    assert code == 1 and "role must be one of" in stderr
    code, _, stderr = run_cli(capsys, "--org", "nope", "case", "list")
    assert code == 1 and "no organization with slug 'nope'" in stderr


def test_token_create_prints_secret_once(case_id: str, capsys: pytest.CaptureFixture[str], services: Any) -> None:
    from sqlmodel import Session, select

    from vault.models import ApiToken
    from vault.orgs.organizations import authenticate

    issued = cli_json(capsys, "token", "create", "--name", "uploader", "--role", "member")
    assert issued["role"] == "member" and issued["token"].startswith("obt_")
    with Session(services.engine) as session:
        rows = session.exec(select(ApiToken)).all()
        assert all(issued["token"] not in r.token_hash for r in rows)
        assert authenticate(session, issued["token"]).role.value == "member"
