"""Evidence over HTTP on both backend pairs: round trip, dedup, limits, hostile names, auth, PDFs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.helpers import chunks, make_pdf, sha256
from vault.models import Evidence, LedgerEntry
from vault.orgs.organizations import Role, create_organization, create_token


def open_case(client: TestClient, name: str = "Acme Ltd") -> str:
    staff = client.post("/api/v1/staff", json={"email": "owner@agency.example", "name": "Owner"})
    assert staff.status_code in (201, 409), staff.text  # a case owner must be a staff member
    response = client.post("/api/v1/cases", json={"client_name": name, "owner_email": "owner@agency.example"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def upload(client: TestClient, case_id: str, data: Any, headers: dict[str, str] | None = None, **params: Any) -> Any:
    params.setdefault("filename", "handover.zip")
    params.setdefault("kind", "deliverable")
    return client.post(f"/api/v1/cases/{case_id}/evidence", params=params, content=data, headers=headers)


def assert_problem(response: Any, status: int, needle: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert needle in body["detail"], body


def test_raw_upload_round_trip(client: TestClient) -> None:
    case_id = open_case(client)
    data = b"final deliverable bytes\n" * 5000
    response = upload(client, case_id, data, filename="Brand guide – v3.pdf", description="final")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["sha256"] == sha256(data)
    assert body["size"] == len(data)
    assert body["kind"] == "deliverable"
    assert body["original_filename"] == "Brand guide – v3.pdf"
    assert body["duplicate"] is False
    assert body["stored_at"].endswith("Z")
    assert body["ledger_index"] is not None

    meta = client.get(f"/api/v1/evidence/{body['id']}")
    assert meta.status_code == 200
    assert meta.json()["sha256"] == body["sha256"]

    content = client.get(f"/api/v1/evidence/{body['id']}/content")
    assert content.status_code == 200
    assert content.content == data
    assert content.headers["x-content-type-options"] == "nosniff"
    assert content.headers["content-security-policy"] == "sandbox"
    disposition = content.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Brand guide _ v3.pdf"')
    assert "filename*=UTF-8''Brand%20guide%20%E2%80%93%20v3.pdf" in disposition


def test_streamed_chunked_upload_without_length(client: TestClient) -> None:
    case_id = open_case(client)
    data = bytes(range(256)) * 40000  # 10 MiB, more than one S3 part at the test threshold
    response = upload(client, case_id, chunks(data), filename="site-export.tar")  # type: ignore[arg-type]
    assert response.status_code == 201, response.text
    assert response.json()["sha256"] == sha256(data)
    assert client.get(f"/api/v1/evidence/{response.json()['id']}/content").content == data


def test_multipart_upload(client: TestClient) -> None:
    case_id = open_case(client)
    data = b"signed off by client" * 100
    response = client.post(
        f"/api/v1/cases/{case_id}/evidence",
        files={"file": ("confirmation.eml", data, "message/rfc822")},
        data={"kind": "confirmation", "description": "client email"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["kind"], body["original_filename"], body["content_type"]) == (
        "confirmation",
        "confirmation.eml",
        "message/rfc822",
    )
    assert body["description"] == "client email"
    assert body["sha256"] == sha256(data)


def test_multipart_without_file_part_is_400(client: TestClient, services: Any) -> None:
    case_id = open_case(client)
    response = client.post(f"/api/v1/cases/{case_id}/evidence", data={"kind": "other"}, files={"x": ("a", b"1")})
    assert_problem(response, 400, "no 'file' part")


def test_duplicate_bytes_stored_once(client: TestClient, services: Any) -> None:
    case_id = open_case(client)
    first = upload(client, case_id, b"same bytes")
    second = upload(client, case_id, b"same bytes", filename="copy.zip")
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["duplicate"] is True
    assert second.json()["id"] == first.json()["id"]
    with Session(services.engine) as session:
        assert len(session.exec(select(Evidence)).all()) == 1
        stored = session.exec(select(LedgerEntry).where(LedgerEntry.entry_type == "evidence.stored")).all()
        assert len(stored) == 1
    assert len(list(services.store.keys())) == 1


@pytest.mark.parametrize("declare_length", [True, False])
def test_upload_over_limit_is_413_and_leaves_nothing(
    client: TestClient, services: Any, settings: Any, declare_length: bool
) -> None:
    services.settings = settings.model_copy(update={"max_upload_bytes": 100_000})
    case_id = open_case(client)
    data = b"x" * 300_000
    body: Any = data if declare_length else chunks(data, 50_000)
    response = upload(client, case_id, body)
    assert_problem(response, 413, "exceeds the limit of 100000 bytes")
    assert list(services.store.keys()) == []
    with Session(services.engine) as session:
        assert session.exec(select(Evidence)).all() == []
    if settings.resolved_storage_url.startswith("file://"):
        root = Path(settings.resolved_storage_url.removeprefix("file://"))
        leftovers = [p for p in root.rglob("*") if p.is_file()]
        assert leftovers == []
    else:
        import boto3

        bucket = settings.resolved_storage_url.removeprefix("s3://").split("/")[0]
        s3 = boto3.client("s3", endpoint_url=settings.s3_endpoint_url)
        assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
        assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


#: Names that look like paths are kept as sent (they never become one); names with control characters or
#: over 255 bytes are refused (tests/integration/test_upload_names.py).
HOSTILE_NAMES = [
    "../../../etc/passwd",
    "/absolute/path.txt",
    "..\\..\\windows\\system32",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_filenames_never_become_paths(client: TestClient, services: Any, settings: Any, name: str) -> None:
    case_id = open_case(client)
    data = f"payload for {name!r}".encode()
    response = upload(client, case_id, data, filename=name)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["original_filename"] == name
    keys = list(services.store.keys())
    assert keys == [next(k for k in keys if k.endswith(body["sha256"]))]
    assert all(name not in k for k in keys)
    assert not (settings.home.parent / "etc").exists()
    download = client.get(f"/api/v1/evidence/{body['id']}/content")
    assert download.content == data
    assert download.headers["content-disposition"].startswith('attachment; filename="')


def test_missing_and_wrong_token_are_401(client: TestClient) -> None:
    case_id = open_case(client)
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer obt_wrong"}, {"Authorization": "Basic eDp5"}):
        response = client.get(f"/api/v1/cases/{case_id}", headers=headers)
        assert_problem(response, 401, "token")
        assert response.headers["www-authenticate"] == "Bearer"


def test_other_organization_sees_404_everywhere(client: TestClient, services: Any) -> None:
    case_id = open_case(client)
    evidence_id = upload(client, case_id, b"secret deliverable").json()["id"]
    with Session(services.engine) as session:
        other = create_organization(session, name="Rival Agency")
        token = create_token(session, organization_id=other.id, name="rival", role=Role.ADMIN)
        session.commit()
    rival = {"Authorization": f"Bearer {token.secret}"}
    for path in (
        f"/api/v1/cases/{case_id}",
        f"/api/v1/cases/{case_id}/evidence",
        f"/api/v1/evidence/{evidence_id}",
        f"/api/v1/evidence/{evidence_id}/content",
    ):
        assert_problem(client.get(path, headers=rival), 404, "in this organization")
    response = client.post(f"/api/v1/cases/{case_id}/evidence", params={"kind": "other"}, content=b"x", headers=rival)
    assert_problem(response, 404, "in this organization")
    assert client.get("/api/v1/cases", headers=rival).json() == []


def test_viewer_cannot_upload(client: TestClient, services: Any, initialized: Any) -> None:
    case_id = open_case(client)
    with Session(services.engine) as session:
        viewer = create_token(session, organization_id=initialized.organization_id, name="auditor", role="viewer")
        session.commit()
    response = upload(client, case_id, b"data", headers={"Authorization": f"Bearer {viewer.secret}"})
    assert_problem(response, 403, "role")
    assert list(services.store.keys()) == []


def test_bad_kind_and_unknown_case(client: TestClient, services: Any) -> None:
    case_id = open_case(client)
    assert_problem(upload(client, case_id, b"data", kind="invoice"), 400, "kind must be one of")
    assert list(services.store.keys()) == []
    assert_problem(upload(client, "no-such-case", b"data"), 404, "no case")
    assert_problem(client.get("/api/v1/evidence/nope"), 404, "no evidence")


def test_invalid_case_body_is_problem(client: TestClient) -> None:
    response = client.post("/api/v1/cases", json={"client_name": "", "owner_email": "x@y.example"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    response = client.post("/api/v1/cases", json={"client_name": "A", "owner_email": "not an email"})
    assert_problem(response, 400, "not a valid email")
    response = client.post("/api/v1/cases", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_pdf_metadata_and_malformed_pdf(client: TestClient) -> None:
    case_id = open_case(client)
    good = upload(client, case_id, make_pdf("Final report", pages=3), filename="report.pdf")
    assert good.status_code == 201, good.text
    pdf = good.json()["pdf"]
    assert pdf["parseable"] is True
    assert (pdf["pages"], pdf["title"], pdf["encrypted"]) == (3, "Final report", False)

    hostile = b"%PDF-1.7\n1 0 obj << /Type /Pages /Kids [1 0 R] /Count 99999999 >> endobj\ntrailer << /Root 1 0 R"
    bad = upload(client, case_id, hostile, filename="broken.pdf")
    assert bad.status_code == 201, bad.text
    assert bad.json()["pdf"]["parseable"] is False
    assert bad.json()["sha256"] == sha256(hostile)
    assert client.get(f"/api/v1/evidence/{bad.json()['id']}/content").content == hostile

    plain = upload(client, case_id, b"not a pdf at all", filename="notes.txt")
    assert plain.json()["pdf"] is None


def test_generic_content_type_is_guessed_from_the_filename(client: TestClient) -> None:
    case_id = open_case(client)
    curl_like = {"Content-Type": "application/x-www-form-urlencoded"}
    pdf = upload(client, case_id, b"%PDF-1.4 x", headers=curl_like, filename="handover.pdf")
    assert pdf.json()["content_type"] == "application/pdf"
    explicit = upload(
        client, case_id, b"notes", headers={"Content-Type": "text/plain; charset=utf-8"}, filename="a.bin"
    )
    assert explicit.json()["content_type"] == "text/plain"
    unknown = upload(client, case_id, b"\x00\x01", filename="blob.unknownext")
    assert unknown.json()["content_type"] == "application/octet-stream"
