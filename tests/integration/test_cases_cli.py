"""The case, staff, org and playbook commands, in-process on both backend pairs."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import cli_json, run_cli


@pytest.fixture
def cli(cli_env: Any, capsys: pytest.CaptureFixture[str]) -> pytest.CaptureFixture[str]:
    cli_json(capsys, "init")
    cli_json(capsys, "staff", "add", "pm@agency.example", "--name", "PM", "--role", "member")
    return capsys


def test_playbook_list_and_open_with_service_type(cli: pytest.CaptureFixture[str]) -> None:
    playbooks = cli_json(cli, "playbook", "list")
    assert {p["key"] for p in playbooks} == {
        "web-agency-retainer",
        "it-managed-services",
        "consulting-engagement",
    }
    case = cli_json(
        cli,
        "case",
        "open",
        "--client",
        "Globex",
        "--owner",
        "pm@agency.example",
        "--service-type",
        "it-managed-services",
        "--contact",
        "a@globex.example",
        "--contact",
        "b@globex.example",
    )
    assert (case["service_type"], case["contacts"]) == (
        "it-managed-services",
        ["a@globex.example", "b@globex.example"],
    )
    assert case["progress"]["steps_required"] == 10
    default = cli_json(cli, "case", "open", "--client", "Initech", "--owner", "pm@agency.example")
    assert default["service_type"] == "web-agency-retainer"
    code, _, err = run_cli(cli, "case", "open", "--client", "X", "--owner", "nobody@agency.example")
    assert code == 1 and "is not a staff member" in err


def test_close_lists_what_is_missing_then_succeeds(cli: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    case = cli_json(
        cli,
        "case",
        "open",
        "--client",
        "Globex",
        "--owner",
        "pm@agency.example",
        "--service-type",
        "consulting-engagement",
    )
    case_id = case["id"]
    item = cli_json(cli, "case", "access", "add", case_id, "--name", "Data room", "--kind", "shared_drive")
    code, out, _ = run_cli(cli, "case", "close", case_id, "--json")
    assert code == 1
    missing = json.loads(out)["missing"]
    assert len(missing) == 9 and missing[-1]["access_item"] == item["id"]
    code, _, err = run_cli(cli, "case", "close", case_id)
    assert code == 1 and "[access] access to 'Data room' is not revoked" in err

    proof = tmp_path / "audit.json"
    proof.write_text('{"event": "user removed"}')
    evidence = cli_json(cli, "evidence", "add", "--case", case_id, "--kind", "other", str(proof))[0]["id"]
    cli_json(cli, "case", "access", "revoke", case_id, item["id"], "--method", "removed", "--evidence", evidence)
    for step in cli_json(cli, "case", "steps", case_id):
        if not step["required"]:
            continue
        args = ["case", "complete", case_id, step["key"], "--note", "done"]
        for criterion in step["criteria"]:
            if criterion.startswith("evidence:"):
                kind = criterion.split(":")[1]
                path = tmp_path / f"{step['key']}-{kind}.txt"
                path.write_text(f"{step['key']} {kind}")
                added = cli_json(cli, "evidence", "add", "--case", case_id, "--kind", kind, str(path))
                args += ["--evidence", added[0]["id"]]
        cli_json(cli, *args)
    # The final report is a deliverable no receipt listed: the gate names it until an admin waives it.
    code, out, _ = run_cli(cli, "case", "close", case_id, "--json")
    (missing,) = json.loads(out)["missing"]
    assert code == 1 and missing["kind"] == "deliverable" and "is not in an acknowledged receipt" in missing["reason"]
    both = ["--receipt", "a" * 8, "--deliverable", "d" * 8]
    code, _, err = run_cli(cli, "case", "waive", case_id, "--reason", "x" * 12, *both)
    assert code == 1 and "name --receipt or --deliverable, not both" in err
    reason = "handed over on paper at the exit meeting"
    waiver = cli_json(cli, "case", "waive", case_id, "--deliverable", missing["evidence"], "--reason", reason)
    assert (waiver["scope"], waiver["evidence_id"]) == ("deliverable", missing["evidence"])
    closed = cli_json(cli, "case", "close", case_id)
    assert closed["status"] == "fully_offboarded"
    note = cli_json(cli, "case", "note", case_id, "client thanked us")
    timeline = cli_json(cli, "case", "timeline", case_id)
    assert timeline[-1]["index"] == note["ledger_index"] and timeline[-1]["type"] == "case.note"
    assert [e["type"] for e in timeline][:2] == ["case.opened", "case.playbook_snapshot"]
    code, _, err = run_cli(cli, "case", "complete", case_id, "working-papers")
    assert code == 1 and "immutable" in err


def test_overdue_owner_dispute_waive_and_log(cli: pytest.CaptureFixture[str]) -> None:
    old = (date.today() - timedelta(days=45)).isoformat()
    late = cli_json(cli, "case", "open", "--client", "Late", "--owner", "pm@agency.example", "--intent-date", old)
    cli_json(cli, "case", "open", "--client", "Fresh", "--owner", "pm@agency.example")
    overdue = cli_json(cli, "case", "list", "--overdue")
    assert [c["id"] for c in overdue] == [late["id"]] and overdue[0]["overdue"]
    assert len(cli_json(cli, "case", "list")) == 2

    cli_json(cli, "staff", "add", "lead@agency.example")
    moved = cli_json(cli, "case", "owner", late["id"], "lead@agency.example", "--reason", "PM left")
    assert moved["owner_email"] == "lead@agency.example"
    logged = cli_json(cli, "case", "log", late["id"], "--channel", "meeting", "--text", "Kick-off of the exit")
    assert logged["kind"] == "communication" and logged["duplicate"] is False
    waiver = cli_json(cli, "case", "waive", late["id"], "--reason", "client refused to respond")
    assert waiver["ledger_index"] is not None
    assert cli_json(cli, "case", "dispute", late["id"], "--reason", "fees")["status"] == "disputed"
    assert cli_json(cli, "case", "resolve", late["id"], "--reason", "agreed")["status"] == "in_progress"
    types = [e["type"] for e in cli_json(cli, "case", "timeline", late["id"])]
    for expected in ("case.owner_changed", "evidence.stored", "case.waiver", "case.status_changed"):
        assert expected in types


def test_org_option_selects_the_tenant(cli: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    org = cli_json(cli, "org", "create", "Rival Agency")
    assert org["slug"] == "rival-agency"
    cli_json(cli, "--org", "rival-agency", "staff", "add", "boss@rival.example", "--role", "admin")
    theirs = cli_json(cli, "--org", "rival-agency", "case", "open", "--client", "C", "--owner", "boss@rival.example")
    assert cli_json(cli, "case", "list") == []
    code, _, err = run_cli(cli, "case", "show", theirs["id"])
    assert code == 1 and "no case" in err
    assert cli_json(cli, "--org", "rival-agency", "case", "show", theirs["id"])["client_name"] == "C"
    code, _, err = run_cli(cli, "--org", "nope", "case", "list")
    assert code == 1 and "no organization with slug 'nope'" in err

    custom = tmp_path / "mini.yaml"
    custom.write_text(
        "key: mini\nversion: 1\ntitle: Mini\nsteps:\n  - {key: a, title: A, criteria: [note], due_days: 1}\n"
    )
    published = cli_json(cli, "--org", "rival-agency", "playbook", "publish", str(custom))
    assert (published["key"], published["created"]) == ("mini", True)
    assert "mini" not in {p["key"] for p in cli_json(cli, "playbook", "list")}
    custom.write_text("key: mini\nversion: 1\ntitle: Mini\nsteps: [1]\n")
    code, _, err = run_cli(cli, "playbook", "publish", str(custom))
    assert code == 1 and "steps[0]: expected a mapping" in err
