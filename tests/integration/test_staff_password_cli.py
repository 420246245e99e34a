"""``offboard staff add --password-stdin`` and ``offboard staff set-password``, in-process on both backend
pairs: the password comes from stdin only, the policy refuses short and common ones (leaving nothing
behind), and the result is a staff member who can sign in to the console."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import pytest
from sqlmodel import Session, select

from tests.helpers import cli_json, run_cli
from tests.integration.console_support import console_client, sign_in
from vault.models import LedgerEntry, StaffCredential

EMAIL = "lead@agency.example"
GOOD = "paper-lamp-orbit-71"


@pytest.fixture
def cli(cli_env: Any, capsys: pytest.CaptureFixture[str]) -> pytest.CaptureFixture[str]:
    cli_json(capsys, "init")
    return capsys


def stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def test_add_with_password_from_stdin_then_sign_in(
    cli: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, services: Any
) -> None:
    stdin(monkeypatch, GOOD + "\n")
    member = cli_json(cli, "staff", "add", EMAIL, "--name", "Lee Ad", "--role", "admin", "--password-stdin")
    assert (member["email"], member["role"]) == (EMAIL, "admin")
    with Session(services.engine) as session:
        (credential,) = session.exec(select(StaffCredential)).all()
        bodies = [e.body.decode() for e in session.exec(select(LedgerEntry)).all()]
    assert credential.password_hash.startswith("$argon2id$") and GOOD not in credential.password_hash
    assert not any(GOOD in b or credential.password_hash in b for b in bodies)
    assert any(json.loads(b)["type"] == "staff.password_set" for b in bodies)
    with console_client(services) as client:
        assert sign_in(client, EMAIL, GOOD).status_code == 303
        assert "admin" in client.get("/").text


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-pw\n", "the password must be at least 12 characters; it has 8"),
        ("Password1234\n", "the password is one of the most commonly used passwords"),
        ("\n", "no password on standard input"),
        ("", "no password on standard input"),
    ],
)
def test_a_refused_password_adds_no_one(
    cli: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, password: str, message: str
) -> None:
    stdin(monkeypatch, password)
    code, _, err = run_cli(cli, "staff", "add", EMAIL, "--name", "Lee", "--password-stdin")
    assert code == 1 and f"error: {message}" in err
    assert cli_json(cli, "staff", "list") == []


def test_set_password_reads_stdin_only_and_replaces_the_old_one(
    cli: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, services: Any
) -> None:
    cli_json(cli, "staff", "add", EMAIL, "--name", "Lee")
    code, _, err = run_cli(cli, "staff", "set-password", EMAIL)
    assert code == 1 and "--password-stdin" in err
    try:
        code, _, err = run_cli(cli, "staff", "set-password", EMAIL, GOOD)
    except Exception as exc:  # noqa: BLE001 - typer's own click errors escape main() today (not ours to fix)
        code, err = 2, str(exc)
    assert code != 0 and "unexpected extra argument" in err  # a password as an argument is refused
    stdin(monkeypatch, GOOD + "\n")
    code, out, _ = run_cli(cli, "staff", "set-password", EMAIL, "--password-stdin")
    assert code == 0 and out.strip() == f"password set for {EMAIL}"
    with console_client(services) as client:
        assert sign_in(client, EMAIL, GOOD).status_code == 303
        assert client.get("/").status_code == 200
        stdin(monkeypatch, "another-long-phrase-8\r\n")
        assert cli_json(cli, "staff", "set-password", EMAIL, "--password-stdin")["password_set"] is True
        assert client.get("/").status_code == 303  # the password change ended the open session
        assert sign_in(client, EMAIL, GOOD).status_code == 401
        assert sign_in(client, EMAIL, "another-long-phrase-8").status_code == 303


def test_set_password_of_someone_who_is_not_staff(
    cli: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin(monkeypatch, GOOD + "\n")
    code, _, err = run_cli(cli, "staff", "set-password", "nobody@agency.example", "--password-stdin")
    assert code == 1 and "error: nobody@agency.example is not a staff member of this organization" in err
