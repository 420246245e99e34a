"""What the console's browser tests share: a real server on loopback, a signed-in page, the axe check and
screenshots at the two widths the issue asks for.

Screenshots go to ``$OFFBOARD_TEST_OUTPUT/screenshots`` (default ``test-output/screenshots``), named
``<name>-1280.png`` and ``<name>-390.png``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from tests.integration.console_support import PASSWORD, STAFF
from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]
#: axe impacts that fail a page (the issue's bar: no "serious" or "critical" violation).
FAILING_IMPACTS = ("serious", "critical")


@contextmanager
def serve(settings: Any, prepare: Any = None) -> Iterator[tuple[str, Any]]:
    """An initialized deployment served by uvicorn on a free loopback port: ``(base_url, services)``.

    ``prepare(services, organization_id)`` runs before the server starts (staff, cases, ...)."""
    from api.app import create_app
    from vault.services import build_services
    from vault.setup import initialize

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    configured = settings.model_copy(update={"base_url": url})
    services = build_services(configured)
    organization_id = initialize(services).organization_id
    if prepare is not None:
        prepare(services, organization_id)
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
        yield url, services
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        services.close()


def sign_in(page: Any, base_url: str, email: str = STAFF, password: str = PASSWORD) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base_url + "/")


def assert_accessible(page: Any) -> None:
    """axe-core on the page as it is now: no violation of impact serious or critical."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in FAILING_IMPACTS]
    details = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in bad]
    assert not bad, f"axe on {page.url}:\n" + "\n".join(details)


def screenshots(page: Any, name: str) -> list[Path]:
    """Full-page screenshots at 1280 px and 390 px wide; the viewport is left at 1280 px."""
    folder = Path(os.environ.get("OFFBOARD_TEST_OUTPUT", ROOT / "test-output")) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        path = folder / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        written.append(path)
    return written
