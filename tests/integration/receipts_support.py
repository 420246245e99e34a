"""Shared steps for the receipt tests: a case with deliverables, a sent receipt, the page's form fields,
and a loopback SMTP server (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import email
import email.policy
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from fastapi.testclient import TestClient

from tests.integration.cases_helpers import open_case, upload
from tests.services import free_port, unavailable

CONTACT = "client@acme.example"
DELIVERABLES = {"final-report.pdf": b"%PDF-1.4 final report bytes", "Übergabe – source.zip": b"PK\x03\x04 source"}


@dataclass
class Handover:
    case_id: str
    evidence: dict[str, str]
    receipt: dict[str, Any] = field(default_factory=dict)


def handover(client: TestClient, contacts: list[str] | None = None) -> Handover:
    """A case with two deliverables (one with a non-ASCII name) and one non-deliverable evidence."""
    case = open_case(client, contacts=contacts if contacts is not None else [CONTACT])
    evidence = {name: upload(client, case["id"], data, "deliverable", name) for name, data in DELIVERABLES.items()}
    upload(client, case["id"], b"an internal note", "other", "note.txt")
    return Handover(case["id"], evidence)


def create_receipt(client: TestClient, h: Handover, **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/cases/{h.case_id}/receipts", json=body)
    assert response.status_code == 201, response.text
    h.receipt = dict(response.json())
    return h.receipt


def send_manual(client: TestClient, receipt_id: str, **headers: str) -> dict[str, Any]:
    response = client.post(f"/api/v1/receipts/{receipt_id}/send", headers=headers)
    assert response.status_code == 200, response.text
    body = dict(response.json())
    assert body["delivery"] == "manual"
    return body


def path_of(url: str) -> str:
    match = re.match(r"^https?://[^/]+(/ack/[A-Za-z0-9_-]{43})$", url)
    assert match, url
    return match.group(1)


def form_of(html: str) -> dict[str, str]:
    """The hidden fields of the acknowledgment form."""
    fields = dict(re.findall(r'<input type="hidden" name="(csrf|shown)" value="([^"]+)"', html))
    assert set(fields) == {"csrf", "shown"}, html[:500]
    return fields


def acknowledge(client: TestClient, path: str, name: str = "Jane Client", headers: dict[str, str] | None = None) -> Any:
    page = client.get(path, headers=headers)
    assert page.status_code == 200, page.text
    data = {**form_of(page.text), "action": "acknowledge", "name": name, "consent": "yes"}
    return client.post(path, data=data, headers=headers)


def timeline_types(client: TestClient, case_id: str) -> list[str]:
    return [e["type"] for e in client.get(f"/api/v1/cases/{case_id}/timeline").json()]


class Inbox:
    """aiosmtpd handler: keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802, ARG002 - aiosmtpd API
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10.0, *, to: str | None = None) -> list[EmailMessage]:
        """The messages received once there are ``count`` (only those addressed ``to``, when given: a
        worker may send a digest meanwhile, depending on the hour)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [m for m in self.messages if to is None or m["To"] == to]
                if len(found) >= count:
                    return found
            time.sleep(0.02)
        raise AssertionError(f"expected {count} emails{f' to {to}' if to else ''}, got {len(self.messages)}")

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


@contextmanager
def smtp_server() -> Iterator[tuple[str, Inbox]]:
    """An SMTP server on 127.0.0.1 (a free port picked first: aiosmtpd cannot use port 0)."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError as exc:  # pragma: no cover - dev dependency
        unavailable(f"aiosmtpd not installed: {exc}")
        raise
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", inbox
    finally:
        controller.stop()


def text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def link_in(message: EmailMessage) -> str:
    match = re.search(r"https?://\S+/ack/[A-Za-z0-9_-]{43}", text_body(message))
    assert match, text_body(message)
    return match.group(0)


@contextmanager
def app_client(
    services: Any,
    admin_secret: str,
    *,
    peer: tuple[str, int] = ("testclient", 50000),
    clock: Any = None,
    **overrides: Any,
) -> Iterator[TestClient]:
    """A client of an app on the test's database and store, with some settings changed (SMTP, proxies),
    and optionally its own clock."""
    from api.app import create_app
    from vault.services import Services

    settings = services.settings.model_copy(update=overrides)
    svc = Services(settings=settings, engine=services.engine, store=services.store, clock=clock or services.clock)
    with TestClient(create_app(settings, services=svc), client=peer) as client:
        client.headers["Authorization"] = f"Bearer {admin_secret}"
        yield client
