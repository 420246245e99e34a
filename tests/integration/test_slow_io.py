"""No lock is held across slow I/O: a receipt PDF waiting on a slow TSA does not hold up an upload,
whether the PDF is asked for alone or made for a bundle export.

The PDF is PAdES-signed with an RFC 3161 timestamp from a local TSA that sleeps 3 s before each answer.
While the PDF request waits on it, an evidence upload (a write: row, ledger entry, commit) must finish
within 0.5 s, and before the TSA answered. On SQLite a transaction left open across the signature
would hold the database's write lock for those seconds and the upload would wait for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.cases_helpers import upload
from tests.integration.receipts_support import create_receipt, handover
from tests.tsa import LocalTSA

TSA_DELAY = 3.0
UPLOAD_BUDGET = 0.5


@pytest.fixture
def slow_tsa() -> Iterator[LocalTSA]:
    with LocalTSA(delay=TSA_DELAY) as tsa:
        yield tsa


@pytest.fixture
def slow_client(settings: Any, slow_tsa: LocalTSA) -> Iterator[TestClient]:
    """The API of a deployment whose PDFs are timestamped by the slow TSA.

    Used without its lifespan: the in-process worker would otherwise timestamp checkpoints with the
    same TSA and its requests would be mistaken for the PDF's.
    """
    from api.app import create_app
    from vault.services import build_services
    from vault.setup import initialize

    tsa_settings = settings.model_copy(update={"tsa_url": slow_tsa.url})
    services = build_services(tsa_settings)
    try:
        admin = initialize(services).admin_token.secret
        client = TestClient(create_app(tsa_settings, services=services))
        client.headers["Authorization"] = f"Bearer {admin}"
        yield client
    finally:
        services.close()


@pytest.mark.parametrize("slow", ["receipt-pdf", "bundle-export"])
def test_an_upload_is_not_held_up_by_a_pdf_waiting_on_the_tsa(
    slow_client: TestClient, slow_tsa: LocalTSA, slow: str
) -> None:
    h = handover(slow_client)
    receipt = create_receipt(slow_client, h)
    answers: list[Any] = []

    def fetch_pdf() -> None:
        # The bundle carries the receipt's PDF, signed and timestamped while the bundle is prepared.
        if slow == "bundle-export":
            answers.append(slow_client.post(f"/api/v1/cases/{h.case_id}/bundle"))
        else:
            answers.append(slow_client.get(f"/api/v1/receipts/{receipt['id']}/pdf"))

    pdf = threading.Thread(target=fetch_pdf)
    pdf.start()
    try:
        assert slow_tsa.received.wait(10), "the PDF request never reached the TSA"
        assert not slow_tsa.answered.is_set()
        started = time.monotonic()
        upload(slow_client, h.case_id, b"uploaded while the TSA thinks", "other", "during-tsa.txt")
        finished = time.monotonic()
    finally:
        pdf.join(timeout=30)
    assert finished - started < UPLOAD_BUDGET, f"the upload took {finished - started:.2f} s"
    assert slow_tsa.answered_at is not None and finished < slow_tsa.answered_at, "the upload waited for the TSA"
    [response] = answers
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"PK" if slow == "bundle-export" else b"%PDF-")
    assert len(slow_tsa.requests) >= 1
