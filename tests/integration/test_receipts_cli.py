"""``offboard receipt create|send|show|list|pdf`` in-process on both backend pairs."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import cli_json, run_cli
from tests.integration.receipts_support import app_client, form_of, link_in, path_of, smtp_server
from vault.db import session_scope
from vault.orgs.organizations import create_token, default_organization

CONTACT = "client@globex.example"
#: Shaped like an id (a prefix of 8+ hex characters) but naming nothing.
UNKNOWN = "0000000f-0000"


@pytest.fixture
def cli(cli_env: Any, capsys: pytest.CaptureFixture[str]) -> pytest.CaptureFixture[str]:
    cli_json(capsys, "init")
    cli_json(capsys, "staff", "add", "pm@agency.example", "--role", "member")
    return capsys


def _case_with_files(cli: pytest.CaptureFixture[str], tmp_path: Path, contacts: list[str]) -> tuple[str, list[str]]:
    args = [a for c in contacts for a in ("--contact", c)]
    case = cli_json(cli, "case", "open", "--client", "Globex", "--owner", "pm@agency.example", *args)
    files = []
    for name, data in {"handover.pdf": b"%PDF-1.4 handover", "notes.txt": b"internal"}.items():
        (tmp_path / name).write_bytes(data)
        files.append(str(tmp_path / name))
    added = cli_json(cli, "evidence", "add", files[0], "--case", case["id"])
    cli_json(cli, "evidence", "add", files[1], "--case", case["id"], "--kind", "other")
    return case["id"], [added[0]["id"]]


def test_create_send_show_and_pdf(cli: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    case_id, deliverables = _case_with_files(cli, tmp_path, [CONTACT])
    (tmp_path / "terms.txt").write_text("Handed over as agreed in the SOW §4.\n", encoding="utf-8")
    receipt = cli_json(cli, "receipt", "create", case_id, "--terms-file", str(tmp_path / "terms.txt"))
    assert receipt["status"] == "draft"
    assert [d["evidence"] for d in receipt["document"]["deliverables"]] == deliverables
    assert receipt["document"]["terms"] == "Handed over as agreed in the SOW §4."
    explicit = cli_json(cli, "receipt", "create", case_id, "--evidence", deliverables[0], "--terms", "Short.")
    assert explicit["document"]["terms"] == "Short."

    sent = cli_json(cli, "receipt", "send", receipt["id"])
    assert sent["delivery"] == "manual" and sent["status"] == "sent"
    assert [link["recipient"] for link in sent["links"]] == [CONTACT]
    assert sent["links"][0]["url"].startswith("http://127.0.0.1:8000/ack/")  # OFFBOARD_BASE_URL's default

    shown = cli_json(cli, "receipt", "show", receipt["id"])
    assert shown["status"] == "sent" and shown["sha256"] == receipt["sha256"]
    assert "/ack/" not in str(shown)
    listed = cli_json(cli, "receipt", "list", case_id)
    assert [r["id"] for r in listed] == [receipt["id"], explicit["id"]]
    assert [r["status"] for r in listed] == ["sent", "draft"]

    code, out, err = run_cli(cli, "receipt", "pdf", receipt["id"], "-o", str(tmp_path / "r.pdf"))
    assert code == 0, err
    data = (tmp_path / "r.pdf").read_bytes()
    assert data.startswith(b"%PDF") and b"/ByteRange" in data
    code, out, _ = run_cli(cli, "receipt", "show", receipt["id"])
    assert code == 0 and "status sent" in out and hashlib.sha256(b"%PDF-1.4 handover").hexdigest() in out


def test_cli_errors(cli: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    case_id, _ = _case_with_files(cli, tmp_path, [])
    for args, message in [
        (("receipt", "show", UNKNOWN), "no receipt"),
        (("receipt", "send", UNKNOWN), "no receipt"),
        (("receipt", "pdf", UNKNOWN, "-o", str(tmp_path / "x.pdf")), "no receipt"),
        (("receipt", "create", UNKNOWN), "no case"),
        (("receipt", "create", case_id, "--terms", "a", "--terms-file", "t"), "not both"),
        (("receipt", "create", case_id, "--terms-file", str(tmp_path / "missing.txt")), "cannot read the terms"),
    ]:
        code, _, err = run_cli(cli, *args)
        assert code == 1 and message in err, (args, err)
    code, _, err = run_cli(cli, "receipt", "show", "nope")  # not an id at all: a usage mistake
    assert code == 2 and "'nope' is too short for an id" in err
    receipt = cli_json(cli, "receipt", "create", case_id)
    code, _, err = run_cli(cli, "receipt", "send", receipt["id"])
    assert code == 1 and "no client contacts" in err


def test_send_by_smtp_and_acknowledge_then_show_status(
    cli: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, services: Any
) -> None:
    case_id, _ = _case_with_files(cli, tmp_path, [CONTACT])
    receipt = cli_json(cli, "receipt", "create", case_id)
    with smtp_server() as (url, inbox):
        monkeypatch.setenv("OFFBOARD_SMTP_URL", url)
        sent = cli_json(cli, "receipt", "send", receipt["id"])
        assert sent["delivery"] == "smtp" and sent["links"] == []
        code, out, _ = run_cli(cli, "receipt", "send", receipt["id"])  # resend: the first link is voided
        assert code == 0 and CONTACT in out and "/ack/" not in out
        first, second = (path_of(link_in(m)) for m in inbox.wait_for(2))
    monkeypatch.delenv("OFFBOARD_SMTP_URL")
    with session_scope(services.engine) as session:
        org = default_organization(session)
        assert org is not None
        secret = create_token(session, organization_id=org.id, name="t", role="admin").secret
    with app_client(services, secret) as client:
        voided = client.get(first)
        assert voided.status_code == 410 and "This link is no longer valid" in voided.text
        page = client.get(second)
        data = {**form_of(page.text), "action": "acknowledge", "name": "Jane", "consent": "yes"}
        assert client.post(second, data=data).status_code == 200
    shown = cli_json(cli, "receipt", "show", receipt["id"])
    assert shown["status"] == "acknowledged" and shown["acknowledgment"]["name"] == "Jane"
    code, _, err = run_cli(cli, "receipt", "send", receipt["id"])
    assert code == 1 and "acknowledged" in err
