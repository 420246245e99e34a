"""Ids on the command line (issue 14, items 7 and 8), in-process on both backend pairs: every id argument
and option takes a unique prefix of 8+ characters, as git does; an ambiguous one is one line naming how
many records it matches; tables show the shortest unique prefix and ``--json`` the full ids. Domain errors
are one line with exit 1, and ``--debug`` or ``OFFBOARD_DEBUG=1`` adds the traceback."""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import cli_json, run_cli
from vault.ids import shortest_prefixes

OWNER = "pm@agency.example"


@pytest.fixture
def cli(cli_env: Any, capsys: pytest.CaptureFixture[str]) -> pytest.CaptureFixture[str]:
    cli_json(capsys, "init")
    cli_json(capsys, "staff", "add", OWNER, "--role", "member")
    return capsys


def _open(cli: pytest.CaptureFixture[str], client: str) -> str:
    case_id: str = cli_json(cli, "case", "open", "--client", client, "--owner", OWNER, "--contact", "c@x.example")["id"]
    return case_id


def test_every_id_takes_its_first_eight_characters(cli: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    case_id = _open(cli, "Globex")
    short = case_id[:8]
    assert cli_json(cli, "case", "show", short)["id"] == case_id
    assert cli_json(cli, "case", "show", short.upper())["id"] == case_id
    assert len(cli_json(cli, "case", "steps", short)) > 0

    (tmp_path / "handover.pdf").write_bytes(b"%PDF-1.4 handover")
    added = cli_json(cli, "evidence", "add", str(tmp_path / "handover.pdf"), "--case", short)[0]
    assert added["case_id"] == case_id
    assert [e["id"] for e in cli_json(cli, "evidence", "list", "--case", short)] == [added["id"]]
    got = cli_json(cli, "evidence", "get", added["id"][:8], "-o", str(tmp_path / "copy.pdf"))
    assert got["id"] == added["id"] and (tmp_path / "copy.pdf").read_bytes() == b"%PDF-1.4 handover"

    item = cli_json(cli, "case", "access", "add", short, "--name", "Data room", "--kind", "shared_drive")
    revoked = cli_json(
        cli, "case", "access", "revoke", short, item["id"][:10], "--method", "removed", "--evidence", added["id"][:8]
    )
    assert revoked["status"] == "revoked" and revoked["evidence_ids"] == [added["id"]]

    receipt = cli_json(cli, "receipt", "create", short, "--evidence", added["id"][:8])
    assert receipt["case_id"] == case_id
    assert cli_json(cli, "receipt", "show", receipt["id"][:8])["id"] == receipt["id"]
    assert [r["id"] for r in cli_json(cli, "receipt", "list", short)] == [receipt["id"]]

    code, out, _ = run_cli(cli, "evidence", "list", "--case", short)
    assert code == 0 and out.split()[0] == added["id"][:8]
    code, out, _ = run_cli(cli, "receipt", "list", short)
    assert code == 0 and out.split()[0] == receipt["id"][:8]
    code, out, _ = run_cli(cli, "case", "access", "list", short)
    assert code == 0 and out.split()[0] == item["id"][:8]


def test_case_list_shows_whole_short_ids_and_json_keeps_full_ones(cli: pytest.CaptureFixture[str]) -> None:
    ids = [_open(cli, f"Client {n}") for n in range(3)]
    code, out, _ = run_cli(cli, "case", "list")
    assert code == 0
    heading, *lines = out.splitlines()
    assert heading.split() == ["id", "client", "owner", "status", "steps", "access", "overdue"]
    assert [line.split()[0] for line in lines] == [case_id[:8] for case_id in ids]
    assert "…" not in out  # no id (or other cell of these short rows) is cut
    assert [c["id"] for c in cli_json(cli, "case", "list")] == ids


def test_an_ambiguous_prefix_is_one_line_naming_the_count(
    cli: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every id made from here on starts with the same 8 characters and differs in the next group.
    counter = itertools.count(1)
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(f"abcdef01-{next(counter):04x}-4000-8000-000000000000"))
    first, second = _open(cli, "Initech"), _open(cli, "Umbrella")
    assert first[:8] == second[:8] == "abcdef01"

    code, out, err = run_cli(cli, "case", "show", "abcdef01")
    assert (code, out) == (1, "")
    assert err == "error: case id prefix 'abcdef01' is ambiguous: 2 cases start with it; give more characters\n"
    assert cli_json(cli, "case", "show", first[:13])["id"] == first

    code, out, _ = run_cli(cli, "case", "list")
    shown = shortest_prefixes([first, second])
    assert 8 < len(shown[first]) < len(first)
    assert [line.split()[0] for line in out.splitlines()[1:]] == [shown[first], shown[second]]


def test_unknown_ids_are_domain_errors_and_debug_shows_the_traceback(
    cli: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run_cli(cli, "case", "show", "00000000")
    assert (code, err) == (1, "error: no case '00000000' in this organization\n")
    missing = "00000000-0000-4000-8000-000000000000"
    code, _, err = run_cli(cli, "case", "show", missing)
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err and missing in err

    code, _, err = run_cli(cli, "--debug", "case", "show", missing)
    assert code == 1 and err.startswith("Traceback")
    assert err.endswith(f"error: no case {missing!r} in this organization\n")
    monkeypatch.setenv("OFFBOARD_DEBUG", "1")
    code, _, err = run_cli(cli, "case", "show", "00000000")
    assert code == 1 and "Traceback" in err and "NotFound" in err
