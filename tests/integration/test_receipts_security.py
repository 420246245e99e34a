"""The link's defences on both backend pairs: rate limiting of wrong tokens per address, exactly one
acknowledgment under concurrent POSTs, and client addresses taken from trusted proxies only."""

from __future__ import annotations

import threading
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.integration.receipts_support import (
    acknowledge,
    app_client,
    create_receipt,
    form_of,
    handover,
    path_of,
    send_manual,
)
from vault.models import Acknowledgment, LedgerEntry


def test_a_thousand_wrong_tokens_get_429_after_the_threshold(services: Any, initialized: Any) -> None:
    secret = initialized.admin_token.secret
    with app_client(services, secret, peer=("203.0.113.9", 4000), ack_rate_limit_failures=20) as attacker:
        path = path_of(send_manual(attacker, create_receipt(attacker, handover(attacker))["id"])["links"][0]["url"])
        statuses = []
        for i in range(1000):
            guess = f"/ack/{i:043d}"
            statuses.append(attacker.get(guess).status_code)
        assert statuses[:20] == [404] * 20
        assert statuses[20:] == [429] * 980
        limited = attacker.get("/ack/" + "B" * 43)
        assert limited.headers["retry-after"].isdigit() and int(limited.headers["retry-after"]) > 0
        assert limited.headers["referrer-policy"] == "no-referrer"
        assert "Too many attempts" in limited.text
        # While limited, even the real link and POSTs are refused from that address...
        assert attacker.get(path).status_code == 429
        assert attacker.post(path, data={"action": "acknowledge"}).status_code == 429
        assert attacker.get(f"{path}/files/x").status_code == 429
        # ...but another address is not affected (the count is per address).
        other = TestClient(attacker.app, client=("198.51.100.20", 5000))
        assert other.get(path).status_code == 200


def test_twenty_concurrent_posts_give_exactly_one_acknowledgment(client: TestClient, services: Any) -> None:
    h = handover(client)
    receipt = create_receipt(client, h)
    path = path_of(send_manual(client, receipt["id"])["links"][0]["url"])
    fields = form_of(client.get(path).text)
    data = {**fields, "action": "acknowledge", "name": "Jane Client", "consent": "yes"}
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    lock = threading.Lock()

    def post() -> None:
        barrier.wait()
        status = client.post(path, data=data).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=post) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(statuses) == [200] + [404] * 19
    with Session(services.engine) as session:
        acks = session.exec(select(Acknowledgment).where(Acknowledgment.receipt_id == receipt["id"])).all()
        assert len(acks) == 1
        types = session.exec(select(LedgerEntry.entry_type).where(LedgerEntry.case_id == h.case_id)).all()
        assert types.count("receipt.acknowledged") == 1 and types.count("receipt.countersigned") == 1


def test_client_ip_comes_from_a_trusted_proxy_only(services: Any, initialized: Any) -> None:
    secret = initialized.admin_token.secret
    forwarded = {"X-Forwarded-For": "192.0.2.66, 198.51.100.7"}
    with app_client(services, secret, peer=("10.0.0.5", 1), trusted_proxies=["10.0.0.0/8"]) as behind_proxy:
        receipt = create_receipt(behind_proxy, handover(behind_proxy))
        path = path_of(send_manual(behind_proxy, receipt["id"])["links"][0]["url"])
        assert acknowledge(behind_proxy, path, headers=forwarded).status_code == 200
        got = behind_proxy.get(f"/api/v1/receipts/{receipt['id']}").json()
        # The right-most address the trusted proxy saw; the left part is whatever the client claimed.
        assert got["acknowledgment"]["ip"] == "198.51.100.7"
    with app_client(services, secret, peer=("192.0.2.1", 1), trusted_proxies=["10.0.0.0/8"]) as direct:
        receipt = create_receipt(direct, handover(direct))
        path = path_of(send_manual(direct, receipt["id"])["links"][0]["url"])
        assert acknowledge(direct, path, headers=forwarded).status_code == 200
        got = direct.get(f"/api/v1/receipts/{receipt['id']}").json()
        assert got["acknowledgment"]["ip"] == "192.0.2.1"  # a spoofed header from a non-proxy is ignored
