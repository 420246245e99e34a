"""Receipts by email through a real SMTP server on loopback (aiosmtpd): the link mail, the client's
confirmation with the signed receipt attached, the owner's notices, and delivery failures."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, select

from tests.helpers import sha256
from tests.integration.cases_helpers import OWNER, problem
from tests.integration.receipts_support import (
    CONTACT,
    DELIVERABLES,
    app_client,
    create_receipt,
    form_of,
    handover,
    link_in,
    path_of,
    smtp_server,
    text_body,
    timeline_types,
)
from tests.services import free_port
from vault.models import ReceiptLink


def test_link_is_emailed_never_returned_and_confirmation_carries_the_signed_receipt(
    services: Any, initialized: Any
) -> None:
    with smtp_server() as (url, inbox), app_client(services, initialized.admin_token.secret, smtp_url=url) as client:
        h = handover(client, contacts=[CONTACT, "cfo@acme.example"])
        receipt = create_receipt(client, h)
        sent = client.post(f"/api/v1/receipts/{receipt['id']}/send")
        assert sent.status_code == 200, sent.text
        body = sent.json()
        assert body["delivery"] == "smtp" and body["links"] == [] and "/ack/" not in sent.text
        mails = inbox.wait_for(2)
        assert sorted(m["To"] for m in mails) == sorted([CONTACT, "cfo@acme.example"])
        request = inbox.to(CONTACT)[0]
        assert "please confirm what we handed over" in request["Subject"]
        link = link_in(request)
        assert link.startswith("http://testserver/ack/")
        html = request.get_body(preferencelist=("html",))
        assert html is not None and link in html.get_content()
        for name, data in DELIVERABLES.items():
            assert name in text_body(request) and sha256(data) in text_body(request)
        assert link != link_in(inbox.to("cfo@acme.example")[0])

        path = path_of(link)
        page = client.get(path)
        done = client.post(path, data={**form_of(page.text), "action": "acknowledge", "name": "Jane", "consent": "yes"})
        assert done.status_code == 200, done.text
        mails = inbox.wait_for(4)
        confirmation = [m for m in inbox.to(CONTACT) if "acknowledgment is recorded" in m["Subject"]][0]
        files = {part.get_filename(): part.get_content() for part in confirmation.iter_attachments()}
        stem = f"receipt-{receipt['id']}-acknowledged"
        assert set(files) == {f"{stem}.json", f"{stem}.sig.json", f"receipt-{receipt['id']}.pdf"}
        got = client.get(f"/api/v1/receipts/{receipt['id']}").json()
        countersigned = files[f"{stem}.json"]
        assert json.loads(countersigned) == got["acknowledgment"]["countersigned"]
        assert json.loads(files[f"{stem}.sig.json"])["signature"] == got["acknowledgment"]["signature"]["signature"]
        assert files[f"receipt-{receipt['id']}.pdf"].startswith(b"%PDF")
        owner = [m for m in inbox.to(OWNER) if "acknowledged" in m["Subject"]]
        assert owner and receipt["id"] in text_body(owner[0])


def test_dispute_notifies_the_owner_with_the_reason(services: Any, initialized: Any) -> None:
    with smtp_server() as (url, inbox), app_client(services, initialized.admin_token.secret, smtp_url=url) as client:
        h = handover(client)
        receipt = create_receipt(client, h)
        assert client.post(f"/api/v1/receipts/{receipt['id']}/send").status_code == 200
        path = path_of(link_in(inbox.wait_for(1)[0]))
        fields = form_of(client.get(path).text)
        reason = "Two of the promised files are empty."
        assert client.post(path, data={**fields, "action": "dispute", "reason": reason}).status_code == 200
        inbox.wait_for(2)
        notice = inbox.to(OWNER)[0]
        assert "disputed" in notice["Subject"] and reason in text_body(notice)


def test_resend_voids_the_previous_link(services: Any, initialized: Any) -> None:
    with smtp_server() as (url, inbox), app_client(services, initialized.admin_token.secret, smtp_url=url) as client:
        receipt = create_receipt(client, handover(client))
        assert client.post(f"/api/v1/receipts/{receipt['id']}/send").status_code == 200
        first = path_of(link_in(inbox.wait_for(1)[0]))
        again = client.post(f"/api/v1/receipts/{receipt['id']}/send")
        assert again.status_code == 200 and len(again.json()["voided_links"]) == 1
        second = path_of(link_in(inbox.wait_for(2)[1]))
        voided = client.get(first)
        assert voided.status_code == 410 and "This link is no longer valid" in voided.text
        assert client.get(second).status_code == 200


def test_smtp_failure_voids_the_links_and_says_so(services: Any, initialized: Any) -> None:
    dead = f"smtp://127.0.0.1:{free_port()}"  # nothing listens there
    with app_client(services, initialized.admin_token.secret, smtp_url=dead) as client:
        h = handover(client)
        receipt = create_receipt(client, h)
        body = problem(client.post(f"/api/v1/receipts/{receipt['id']}/send"), 503, "did not accept")
        assert body["type"].endswith("/mail-failed") and body["title"] == "Service unavailable"
        assert body["failed_recipients"] == [CONTACT]
        assert timeline_types(client, h.case_id)[-2:] == ["receipt.sent", "receipt.links_voided"]
        with Session(services.engine) as session:
            links = session.exec(select(ReceiptLink).where(ReceiptLink.receipt_id == receipt["id"])).all()
            assert [link.status for link in links] == ["voided"]
