"""``/.well-known/offboard/verify.html.sha256`` and ``/.well-known/offboard/verify.html``: served to anyone, no
credential; the digest in sha256sum's format (checked by ``sha256sum -c`` itself), the page as a download."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from vault.bundle.verifier_page import PAGE


def test_digest_and_page_are_public_cacheable_and_agree(client: TestClient, tmp_path: Path) -> None:
    page_bytes = PAGE.read_bytes()
    digest = client.get("/.well-known/offboard/verify.html.sha256", headers={"Authorization": ""})
    assert digest.status_code == 200, digest.text
    assert digest.headers["content-type"] == "text/plain; charset=utf-8"
    assert digest.headers["cache-control"] == "public, max-age=3600"
    assert digest.text == f"{hashlib.sha256(page_bytes).hexdigest()}  verify.html\n"

    page = client.get("/.well-known/offboard/verify.html", headers={"Authorization": ""})
    assert page.status_code == 200
    assert page.content == page_bytes
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-disposition"] == "attachment; filename=\"verify.html\"; filename*=UTF-8''verify.html"
    assert page.headers["content-security-policy"] == "sandbox"
    assert page.headers["x-content-type-options"] == "nosniff"

    if shutil.which("sha256sum") is None:
        pytest.fail("sha256sum (coreutils) is missing")
    (tmp_path / "verify.html").write_bytes(page.content)
    (tmp_path / "verify.html.sha256").write_text(digest.text)
    checked = subprocess.run(
        ["sha256sum", "-c", "verify.html.sha256"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0 and checked.stdout == "verify.html: OK\n", checked.stdout + checked.stderr
    (tmp_path / "verify.html").write_bytes(page.content + b" ")
    tampered = subprocess.run(
        ["sha256sum", "-c", "verify.html.sha256"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert tampered.returncode == 1 and "FAILED" in tampered.stdout


def test_a_missing_page_is_a_server_error(client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("vault.bundle.verifier_page.PAGE", tmp_path / "gone.html")
    response = client.get("/.well-known/offboard/verify.html.sha256")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert (
        "the verifier page" in response.json()["detail"]
        and "is missing from the installation" in response.json()["detail"]
    )
