"""Issue 14 item 12 in Chromium: ``/docs`` renders the API's operations with every request to another
origin refused (as on a machine without internet). SQLite + local folder only: the page does not depend
on the backends."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from tests.services import free_port

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite-local"], indirect=True)]


@pytest.fixture
def base_url(settings: Any) -> Iterator[str]:
    from api.app import create_app
    from vault.services import build_services
    from vault.setup import initialize

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    configured = settings.model_copy(update={"base_url": url})
    services = build_services(configured)
    initialize(services)
    server = uvicorn.Server(
        uvicorn.Config(create_app(configured, services=services), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        services.close()


def test_the_docs_render_the_operations_without_network(base_url: str, page: Any) -> None:
    elsewhere: list[str] = []

    def only_this_origin(route: Any) -> None:
        if route.request.url.startswith(base_url + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", only_this_origin)
    page.goto(base_url + "/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/cases" in p for p in paths), paths
    assert any("/.well-known/offboard/keys" in p for p in paths), paths
    assert len(paths) >= 20
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("Offboard")
    assert elsewhere == []
