"""``offboard webhook add|list|remove|test`` in-process on both backends (issue 15, requirement 4)."""

from __future__ import annotations

from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from tests.helpers import cli_json, run_cli
from tests.integration.webhook_receiver import Answer, receiver


@pytest.fixture
def cli(cli_env: Any, capsys: pytest.CaptureFixture[str]) -> pytest.CaptureFixture[str]:
    cli_json(capsys, "init")
    return capsys


def test_add_test_list_remove(cli: pytest.CaptureFixture[str]) -> None:
    with receiver(Answer(200, b"ok")) as rx:
        added = cli_json(
            cli, "webhook", "add", rx.url + "/cli", "--events", "case.opened,receipt.sent", "--allow-loopback-http"
        )
        assert added["secret"].startswith("whsec_") and added["events"] == ["case.opened", "receipt.sent"]
        code, out, err = run_cli(cli, "webhook", "test", added["id"])
        assert code == 0, err
        assert "delivered" in out
        [(headers, body)] = rx.hits("/cli")
    assert Webhook(added["secret"]).verify(body, headers)["event"] == "webhook.test"
    assert [h["id"] for h in cli_json(cli, "webhook", "list")] == [added["id"]]
    cli_json(cli, "webhook", "remove", added["id"])
    assert cli_json(cli, "webhook", "list") == []


def test_a_given_secret_is_used_and_bad_input_is_one_line(cli: pytest.CaptureFixture[str]) -> None:
    secret = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"
    added = cli_json(cli, "webhook", "add", "https://hooks.example/h", "--events", "case.opened", "--secret", secret)
    assert added["secret"] == secret
    code, out, err = run_cli(cli, "webhook", "add", "http://hooks.example/h", "--events", "case.opened")
    assert code == 1 and "must use https" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(cli, "webhook", "add", "https://hooks.example/h", "--events", "case.nope")
    assert code == 1 and "events must be" in err
    code, _, err = run_cli(cli, "webhook", "add", "https://hooks.example/h", "--events", "case.opened", "--secret", "x")
    assert code == 1 and "whsec_" in err


def test_a_refused_test_exits_1(cli: pytest.CaptureFixture[str]) -> None:
    with receiver(Answer(500, b"down")) as rx:
        added = cli_json(cli, "webhook", "add", rx.url + "/x", "--events", "case.opened", "--allow-loopback-http")
        code, _, _ = run_cli(cli, "webhook", "test", added["id"])
    assert code == 1


def test_the_worker_delivers_and_retries_when_stepped_with_at(cli: pytest.CaptureFixture[str]) -> None:
    cli_json(cli, "staff", "add", "pm@agency.example", "--role", "member")
    with receiver(Answer(500), Answer(500), Answer(200)) as rx:
        added = cli_json(cli, "webhook", "add", rx.url + "/w", "--events", "case.opened", "--allow-loopback-http")
        case = cli_json(cli, "case", "open", "--client", "Globex", "--owner", "pm@agency.example")
        for at in ("2030-01-01T09:00:00Z", "2030-01-01T09:00:10Z", "2030-01-01T09:10:00Z", "2030-01-02T09:00:00Z"):
            code, _, err = run_cli(cli, "worker", "--once", "--at", at)
            assert code == 0, err
        hits = rx.hits("/w")
    assert len(hits) == 3
    assert len({h["webhook-id"] for h, _ in hits}) == 1
    for headers, body in hits:
        assert Webhook(added["secret"]).verify(body, headers)["case"] == case["id"]
