"""The link's defences on both backend pairs: rate limiting of guessed tokens per address and of refused
answers per link, exactly one acknowledgment under concurrent POSTs (whose losers spend no budget), used
and voided links answered with their own page, and client addresses taken from trusted proxies only."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
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
from vault.clock import system_clock
from vault.db import session_scope
from vault.models import Acknowledgment, LedgerEntry, ReceiptLink


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
    # The losers are told the link was used (410), not counted as guesses.
    assert sorted(statuses) == [200] + [410] * 19
    with Session(services.engine) as session:
        acks = session.exec(select(Acknowledgment).where(Acknowledgment.receipt_id == receipt["id"])).all()
        assert len(acks) == 1
        types = session.exec(select(LedgerEntry.entry_type).where(LedgerEntry.case_id == h.case_id)).all()
        assert types.count("receipt.acknowledged") == 1 and types.count("receipt.countersigned") == 1


def _race(client: TestClient, path: str, data: dict[str, str], count: int = 20) -> list[tuple[int, str]]:
    barrier = threading.Barrier(count)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def post() -> None:
        barrier.wait()
        response = client.post(path, data=data)
        with lock:
            results.append((response.status_code, response.text))

    threads = [threading.Thread(target=post) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == count
    return results


def test_the_losers_of_a_race_lock_no_one_out(client: TestClient) -> None:
    """The reproduced defect: 19 losing POSTs of one genuine link, then its holder reloading it, used up
    the address's 20 and the next genuine link from that address (a NAT) got 429."""
    first = path_of(send_manual(client, create_receipt(client, handover(client))["id"])["links"][0]["url"])
    second = path_of(send_manual(client, create_receipt(client, handover(client))["id"])["links"][0]["url"])
    data = {**form_of(client.get(first).text), "action": "acknowledge", "name": "Jane Client", "consent": "yes"}
    results = _race(client, first, data)
    reloads = [client.get(first) for _ in range(2)]
    # Another genuine link from the same address opens and is acknowledged...
    assert client.get(second).status_code == 200
    done = acknowledge(client, second, name="John Client")
    assert done.status_code == 200 and "Thank you, John Client" in done.text
    # ...the losers were told the link was used, and what it recorded...
    assert sorted(status for status, _ in results) == [200] + [410] * 19
    for status, text in results:
        if status == 410:
            assert "This link has already been used" in text and "to acknowledge the handover receipt" in text
        else:
            assert "Thank you, Jane Client" in text
    # ...and so is the holder reloading the link, never locked out of it.
    for again in reloads:
        assert again.status_code == 410 and "This link has already been used" in again.text


def test_used_voided_and_expired_links_spend_no_address_budget(services: Any, initialized: Any) -> None:
    secret = initialized.admin_token.secret
    with app_client(services, secret, peer=("192.0.2.44", 1), ack_rate_limit_failures=3) as client:
        used = path_of(send_manual(client, create_receipt(client, handover(client))["id"])["links"][0]["url"])
        assert acknowledge(client, used).status_code == 200
        disputed = path_of(send_manual(client, create_receipt(client, handover(client))["id"])["links"][0]["url"])
        fields = form_of(client.get(disputed).text)
        answered = client.post(disputed, data={**fields, "action": "dispute", "reason": "The fonts are missing."})
        assert answered.status_code == 200
        resent = create_receipt(client, handover(client))["id"]
        voided = path_of(send_manual(client, resent)["links"][0]["url"])
        fresh = path_of(send_manual(client, resent)["links"][0]["url"])
        late = create_receipt(client, handover(client))["id"]
        expired = path_of(send_manual(client, late)["links"][0]["url"])
        with session_scope(services.engine) as session:
            link = session.exec(select(ReceiptLink).where(ReceiptLink.receipt_id == late)).one()
            link.expires_at = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
            session.add(link)
        form = {**form_of(client.get(fresh).text), "action": "acknowledge", "name": "Jane", "consent": "yes"}
        # 50 requests each (GET, HEAD, POST, downloads) on links that exist but no longer open anything.
        for path, words in [
            (used, "to acknowledge the handover receipt"),
            (disputed, "to dispute the handover receipt"),
            (voided, "This link is no longer valid"),
            (expired, ">2 Jan 2026, 03:04 UTC</time>"),
        ]:
            for i in range(50):
                kind = i % 4
                if kind == 0:
                    response = client.get(path)
                elif kind == 1:
                    response = client.head(path)
                elif kind == 2:
                    response = client.post(path, data=form)
                else:
                    response = client.get(f"{path}/files/x")
                assert response.status_code == 410, (path, i)
                assert kind == 1 or words in response.text
                assert "set-cookie" not in response.headers
        # The address budget is untouched: the fresh link still opens and is answered...
        assert acknowledge(client, fresh).status_code == 200
        # ...and unknown tokens still count: three of them, then 429 for every /ack request.
        assert [client.get("/ack/" + c * 43).status_code for c in "ABC"] == [404] * 3
        limited = client.get(used)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
        assert "from your network" in limited.text


class Tick:
    """A clock the test moves forward."""

    def __init__(self) -> None:
        self.now: datetime = system_clock()

    def __call__(self) -> datetime:
        return self.now


def test_refused_answers_are_limited_per_link(services: Any, initialized: Any) -> None:
    secret = initialized.admin_token.secret
    clock = Tick()
    with app_client(
        services,
        secret,
        clock=clock,
        ack_link_rate_limit_failures=4,
        ack_link_rate_limit_window_seconds=600,
        ack_rate_limit_failures=3,
    ) as client:
        h = handover(client)
        path = path_of(send_manual(client, create_receipt(client, h)["id"])["links"][0]["url"])
        other = path_of(send_manual(client, create_receipt(client, handover(client))["id"])["links"][0]["url"])
        fields = form_of(client.get(path).text)
        good = {**fields, "action": "acknowledge", "name": "Jane Client", "consent": "yes"}
        others = [e["id"] for e in client.get(f"/api/v1/cases/{h.case_id}/evidence").json()]
        hidden = next(e for e in others if e not in h.evidence.values())
        # Four refusals of four kinds; more than the address budget (3), which they do not touch.
        assert client.post(path, data={**good, "csrf": "forged" * 8}).status_code == 403
        assert client.post(path, data={**good, "shown": "0" * 64}).status_code == 400
        assert client.post(path, data={**good, "name": " "}).status_code == 400
        assert client.get(f"{path}/files/{hidden}").status_code == 404
        # Now every request for that link gets 429, a correct answer included...
        for response in (
            client.get(path),
            client.post(path, data=good),
            client.get(f"{path}/files/{h.evidence['final-report.pdf']}"),
        ):
            assert response.status_code == 429
            assert int(response.headers["retry-after"]) == 600
            assert "with this link" in response.text
        clock.now += timedelta(seconds=300)
        assert int(client.get(path).headers["retry-after"]) == 300
        # ...while another link from the same address is not affected (the address spent nothing).
        assert acknowledge(client, other).status_code == 200
        # Once the window has moved on, the link works again and its holder answers.
        clock.now += timedelta(seconds=300)
        assert acknowledge(client, path).status_code == 200


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
