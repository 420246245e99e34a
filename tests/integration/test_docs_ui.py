"""Issue 14 item 12: ``/docs`` works without internet. The page references only same-origin assets, those
assets are served (200, the right media type, the vendored bytes whose digests ``VERSION.md`` records),
nothing else of the folder is reachable, and ReDoc (a CDN page) is gone. The backends play no part."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import templates

pytestmark = pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)

VENDORED = Path(templates.__file__).parent / "static" / "swagger"


def _recorded_digests() -> dict[str, str]:
    text = (VENDORED / "VERSION.md").read_text(encoding="utf-8")
    return dict(re.findall(r"\| `([^`]+)` \| `([0-9a-f]{64})` \|", text))


def test_the_docs_page_references_only_same_origin_assets(client: TestClient) -> None:
    page = client.get("/docs", headers={"Authorization": ""})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    references = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html) + re.findall(r"url: '([^']+)'", html)
    assert references, html
    for reference in references:
        assert reference.startswith("/") and not reference.startswith("//"), reference
    assert "://" not in html, "the page names another origin"
    assert '"validatorUrl": null' in html


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
        ("swagger-ui.css", "text/css; charset=utf-8"),
        ("favicon-32x32.png", "image/png"),
    ],
)
def test_each_asset_is_served_with_its_type_and_its_recorded_bytes(
    client: TestClient, name: str, media_type: str
) -> None:
    response = client.get(f"/static/swagger/{name}", headers={"Authorization": ""})
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"].startswith("public")
    assert hashlib.sha256(response.content).hexdigest() == _recorded_digests()[name]


def test_the_licence_ships_and_nothing_else_is_served(client: TestClient) -> None:
    licence = (VENDORED / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Version 2.0" in licence
    assert "5.35.0" in (VENDORED / "VERSION.md").read_text(encoding="utf-8")
    for path in ("/static/swagger/LICENSE", "/static/swagger/VERSION.md", "/static/swagger/..%2Fack.css"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/problem+json")
    assert client.get("/redoc").status_code == 404
    operations: Any = client.get("/openapi.json").json()["paths"]
    assert "/docs" not in operations and not any(p.startswith("/static") for p in operations)
