"""The console's evidence tab: the list, the no-JavaScript multipart upload of several files and the
per-file data route of the upload script, on both backends."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.cases_helpers import open_case, upload
from tests.integration.console_handover_support import VIEWER, other_org_case, signed_in
from tests.integration.console_support import STAFF, console_client, form_token

FILES = [
    ("file", ("minutes.txt", b"meeting minutes", "text/plain")),
    ("file", ("logo.png", b"\x89PNG logo", "image/png")),
]


@pytest.fixture
def case_id(client: TestClient, owner: str) -> str:
    return str(open_case(client, owner_email=owner)["id"])


def test_the_list_shows_every_file_with_its_uploader_size_hash_and_ledger_index(
    services: Any, initialized: Any, client: TestClient, case_id: str
) -> None:
    upload(client, case_id, b"report bytes", "deliverable", "report.pdf")
    with console_client(services) as browser:
        signed_in(browser, services, initialized.organization_id, STAFF, "member")
        page = browser.get(f"/cases/{case_id}/evidence")
    assert page.status_code == 200
    main = page.text[page.text.index("<main") : page.text.index("</main>")]
    assert "report.pdf" in main and "12 bytes" in main, main
    assert hashlib.sha256(b"report bytes").hexdigest() in page.text
    assert "token:" in page.text  # the uploader is the actor of the evidence.stored entry
    assert 'id="upload-form"' in page.text and 'aria-current="page">Evidence' in page.text


def test_no_js_form_streams_two_files_into_the_ingest(services: Any, initialized: Any, case_id: str) -> None:
    with console_client(services) as browser:
        signed_in(browser, services, initialized.organization_id, STAFF, "member")
        token = form_token(browser.get(f"/cases/{case_id}/evidence").text)
        data = {"csrf": token, "kind": "confirmation", "description": "from the form"}
        answer = browser.post(f"/cases/{case_id}/evidence", data=data, files=FILES)
        assert answer.status_code == 303, answer.text
        page = browser.get(answer.headers["location"])
    assert "2 of 2 files stored." in page.text
    assert "minutes.txt" in page.text and "logo.png" in page.text and "from the form" in page.text
    assert page.text.count(f"staff:{STAFF}") == 2 and page.text.count(">confirmation<") == 2


def test_no_js_form_errors_come_back_inline(services: Any, initialized: Any, case_id: str) -> None:
    with console_client(services) as browser:
        signed_in(browser, services, initialized.organization_id, STAFF, "member")
        token = form_token(browser.get(f"/cases/{case_id}/evidence").text)
        empty = [("file", ("", b"", "application/octet-stream"))]
        none = browser.post(f"/cases/{case_id}/evidence", data={"csrf": token, "kind": "other"}, files=empty)
        assert none.status_code == 422
        assert "There is a problem" in none.text and "Choose at least one file" in none.text
        assert 'aria-invalid="true"' in none.text
        bad = browser.post(f"/cases/{case_id}/evidence", data={"csrf": token, "kind": "poem"}, files=FILES)
        assert bad.status_code == 422
        assert "minutes.txt: kind must be one of" in bad.text and "Choose a kind from the list" in bad.text
        assert "Files (0)" in bad.text


def test_missing_csrf_viewer_and_other_org(services: Any, initialized: Any, case_id: str) -> None:
    foreign = other_org_case(services)
    with console_client(services) as browser:
        signed_in(browser, services, initialized.organization_id, STAFF, "member")
        assert browser.post(f"/cases/{case_id}/evidence", data={"kind": "other"}, files=FILES).status_code == 403
        assert browser.post(f"/cases/{case_id}/evidence/upload", content=b"x").status_code == 403
        assert "Files (0)" in browser.get(f"/cases/{case_id}/evidence").text
        token = form_token(browser.get(f"/cases/{case_id}/evidence").text)
        assert browser.get(f"/cases/{foreign}/evidence").status_code == 404
        data = {"csrf": token, "kind": "other"}
        assert browser.post(f"/cases/{foreign}/evidence", data=data, files=FILES).status_code == 404
        headers = {"X-CSRF-Token": token, "X-Offboard-Filename": "a.txt"}
        assert browser.post(f"/cases/{foreign}/evidence/upload", content=b"x", headers=headers).status_code == 404
    with console_client(services) as viewer:
        signed_in(viewer, services, initialized.organization_id, VIEWER, "viewer")
        page = viewer.get(f"/cases/{case_id}/evidence")
        assert page.status_code == 200 and 'id="upload-form"' not in page.text
        token = form_token(page.text)
        assert viewer.post(f"/cases/{case_id}/evidence", data={"csrf": token}, files=FILES).status_code == 403
        headers = {"X-CSRF-Token": token, "X-Offboard-Filename": "a.txt"}
        assert viewer.post(f"/cases/{case_id}/evidence/upload", content=b"x", headers=headers).status_code == 403


def test_data_route_stores_one_file_per_request(services: Any, initialized: Any, case_id: str) -> None:
    with console_client(services) as browser:
        signed_in(browser, services, initialized.organization_id, STAFF, "member")
        token = form_token(browser.get(f"/cases/{case_id}/evidence").text)
        headers = {
            "X-CSRF-Token": token,
            "X-Offboard-Filename": "%C3%9Cbergabe.txt",
            "X-Offboard-Kind": "deliverable",
            "Content-Type": "text/plain",
        }
        first = browser.post(f"/cases/{case_id}/evidence/upload", content=b"handover", headers=headers)
        assert first.status_code == 201, first.text
        body = first.json()
        assert body["name"] == "Übergabe.txt" and body["size"] == 8 and body["duplicate"] is False
        assert body["sha256"] == hashlib.sha256(b"handover").hexdigest() and body["ledger_index"] is not None
        again = browser.post(f"/cases/{case_id}/evidence/upload", content=b"handover", headers=headers)
        assert again.status_code == 200 and again.json()["duplicate"] is True
        bad = browser.post(
            f"/cases/{case_id}/evidence/upload", content=b"x", headers={**headers, "X-Offboard-Kind": "poem"}
        )
        assert bad.status_code == 400 and "kind must be one of" in bad.json()["detail"]
        assert "Übergabe.txt" in browser.get(f"/cases/{case_id}/evidence").text
    with console_client(services) as stranger:
        assert stranger.post(f"/cases/{case_id}/evidence/upload", content=b"x").status_code == 401


def test_a_download_is_streamed_and_recorded_as_a_retrieval(
    services: Any, initialized: Any, client: TestClient, case_id: str
) -> None:
    """Issue 17, requirement 6: the console's download is an ``evidence.retrieved`` entry too."""
    evidence_id = upload(client, case_id, b"report bytes", "deliverable", "report.pdf")
    with console_client(services) as browser:
        signed_in(browser, services, initialized.organization_id, "viewer@agency.example", "viewer")
        page = browser.get(f"/cases/{case_id}/evidence")
        assert f'href="/cases/{case_id}/evidence/{evidence_id}/content"' in page.text
        got = browser.get(f"/cases/{case_id}/evidence/{evidence_id}/content")
        assert got.status_code == 200 and got.content == b"report bytes"
        assert got.headers["x-offboard-sha256"] == hashlib.sha256(b"report bytes").hexdigest()
        assert "filename*=UTF-8''report.pdf" in got.headers["content-disposition"]
        assert browser.get(f"/cases/{case_id}/evidence/{'0' * 8}-0000-0000-0000-{'0' * 12}/content").status_code == 404
    timeline = client.get(f"/api/v1/cases/{case_id}/timeline").json()
    (entry,) = [e for e in timeline if e["type"] == "evidence.retrieved"]
    assert entry["actor"] == "staff:viewer@agency.example" and entry["data"]["channel"] == "console"
