"""Issue 14 items 14 and 15: an empty file is never evidence, and a file name is kept exactly as sent or
refused (control characters, bidirectional controls, more than 255 bytes in UTF-8); every download names
its file per RFC 6266 (ASCII ``filename`` plus ``filename*=UTF-8''...``). On both backend pairs; the CLI
meets the same checks, since they live in ingest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from tests.helpers import cli_json, run_cli
from tests.integration.test_evidence_api import assert_problem, open_case, upload


def _stored_nothing(client: TestClient, services: Any, case_id: str) -> None:
    assert client.get(f"/api/v1/cases/{case_id}/evidence").json() == []
    assert list(services.store.keys()) == []


def _filename_star(disposition: str) -> str:
    star = disposition.split("filename*=UTF-8''", 1)[1].split(";")[0]
    return unquote(star, errors="strict")


@pytest.mark.parametrize(
    "name",
    [
        'Zoë "final" résumé; v2.pdf',
        "報告書 – 最終版.pdf",
        "100% done\\really.txt",
        "a" * 251 + ".pdf",  # exactly 255 bytes
        "é" * 127 + ".",  # 255 bytes of two-byte characters and a dot
    ],
)
def test_a_name_is_kept_as_sent_and_sent_back_per_rfc_6266(client: TestClient, name: str) -> None:
    case_id = open_case(client)
    response = upload(client, case_id, b"payload of " + name.encode(), filename=name)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["original_filename"] == name
    entry = client.get(f"/api/v1/ledger/entries/{body['ledger_index']}")
    assert json.loads(entry.content)["data"]["filename"] == name

    disposition = client.get(f"/api/v1/evidence/{body['id']}/content").headers["content-disposition"]
    assert disposition.isascii()
    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback and all(c not in fallback for c in '"\\;%') and fallback.isprintable()
    assert _filename_star(disposition) == name


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("evil\x00.pdf", "U+0000 at position 4"),
        ("bell\x07\x1b[31mred", "U+0007 at position 4, U+001B at position 5"),
        ("line\nbreak.txt", "U+000A"),
        ("del\x7f.txt", "U+007F"),
        ("c1\x85.txt", "U+0085"),
        ("invoice\u202egnp.exe", "U+202E"),
        ("a" * 252 + ".pdf", "at most 255 bytes in UTF-8; found 256 bytes"),
        ("é" * 128, "found 256 bytes"),
    ],
)
def test_a_bad_name_is_refused_with_422_and_nothing_is_stored(
    client: TestClient, services: Any, name: str, needle: str
) -> None:
    case_id = open_case(client)
    response = upload(client, case_id, b"bytes with a bad name", filename=name)
    assert_problem(response, 422, needle)
    assert response.json()["type"].endswith("/unacceptable-upload")
    _stored_nothing(client, services, case_id)


def test_a_bad_name_in_the_header_or_a_multipart_part_is_refused(client: TestClient, services: Any) -> None:
    case_id = open_case(client)
    url = f"/api/v1/cases/{case_id}/evidence"
    by_header = client.post(
        url, content=b"x", params={"kind": "other"}, headers={"X-Offboard-Filename": "tab%09name.txt"}
    )
    assert_problem(by_header, 422, "U+0009")
    by_part = client.post(url, files={"file": ("z" * 300, b"x", "text/plain")}, data={"kind": "other"})
    assert_problem(by_part, 422, "found 300 bytes")
    _stored_nothing(client, services, case_id)


@pytest.mark.parametrize("kind", ["deliverable", "confirmation", "communication", "other"])
def test_an_empty_file_is_refused_with_422(client: TestClient, services: Any, kind: str) -> None:
    case_id = open_case(client)
    response = upload(client, case_id, b"", filename="empty.zip", kind=kind)
    assert_problem(response, 422, "the file is empty (0 bytes)")
    assert "case note" in response.json()["detail"]
    _stored_nothing(client, services, case_id)


def test_an_empty_multipart_file_is_refused_with_422(client: TestClient, services: Any) -> None:
    case_id = open_case(client)
    response = client.post(
        f"/api/v1/cases/{case_id}/evidence", files={"file": ("empty.txt", b"", "text/plain")}, data={"kind": "other"}
    )
    assert_problem(response, 422, "the file is empty (0 bytes)")
    _stored_nothing(client, services, case_id)


def test_the_cli_refuses_an_empty_file_in_one_line(
    cli_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_json(capsys, "init")
    cli_json(capsys, "staff", "add", "pm@agency.example", "--name", "Pat Manager")
    case = cli_json(capsys, "case", "open", "--client", "Globex", "--owner", "pm@agency.example")
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    code, out, err = run_cli(capsys, "evidence", "add", "--case", case["id"], str(empty))
    assert code == 1, (out, err)
    assert "the file is empty (0 bytes)" in err and "Traceback" not in out + err
    assert cli_json(capsys, "evidence", "list", "--case", case["id"]) == []
