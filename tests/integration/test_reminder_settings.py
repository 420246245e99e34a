"""The reminder settings of an organization through the CLI (``offboard org reminders``) and the API
(``PATCH /api/v1/organization``): validated, admin-only, recorded in the ledger."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from tests.helpers import cli_json, run_cli
from tests.integration.cases_helpers import problem
from vault.db import read_session
from vault.ledger.entries import decode_entry
from vault.models import LedgerEntry


def last_entry(services: Any) -> dict[str, Any]:
    with read_session(services.engine) as session:
        rows = session.exec(select(LedgerEntry).order_by(LedgerEntry.idx)).all()  # type: ignore[arg-type]
        return dict(decode_entry(bytes(rows[-1].body)))


def test_cli_sets_and_shows_the_reminder_settings(
    cli_env: Any, capsys: pytest.CaptureFixture[str], services: Any
) -> None:
    cli_json(capsys, "init")
    assert cli_json(capsys, "org", "reminders") == {
        "timezone": "UTC",
        "digest_hour": 8,
        "escalate_after_days": 3,
        "client_schedule": [3, 7],
    }
    got = cli_json(
        capsys, "org", "reminders", "--timezone", "Europe/Berlin", "--digest-hour", "7", "--client-schedule", "2,5,9"
    )
    assert got == {
        "timezone": "Europe/Berlin",
        "digest_hour": 7,
        "escalate_after_days": 3,
        "client_schedule": [2, 5, 9],
    }
    entry = last_entry(services)
    assert entry["type"] == "organization.reminders_changed" and entry["data"] == got
    code, out, _ = run_cli(capsys, "org", "reminders")
    assert code == 0 and "Europe/Berlin" in out and "2,5,9" in out
    for args, words in [
        (("--timezone", "Mars/Olympus"), "IANA name"),
        (("--client-schedule", "7,3"), "must increase"),
        (("--client-schedule", "three"), "separated by commas"),
    ]:
        code, out, err = run_cli(capsys, "org", "reminders", *args)
        assert code == 1 and words in err and "Traceback" not in err + out, err
    code, _, err = run_cli(capsys, "org", "reminders", "--digest-hour", "24")
    assert code == 2 and "Traceback" not in err


def test_api_changes_reminders_admin_only_and_refuses_bad_values(client: Any) -> None:
    changed = client.patch("/api/v1/organization", json={"timezone": "Pacific/Auckland", "client_schedule": [4]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["reminders"] == {
        "timezone": "Pacific/Auckland",
        "digest_hour": 8,
        "escalate_after_days": 3,
        "client_schedule": [4],
    }
    assert client.get("/api/v1/organization").json()["reminders"]["timezone"] == "Pacific/Auckland"
    problem(client.patch("/api/v1/organization", json={"timezone": "Nowhere/Land"}), 400, "IANA name")
    problem(client.patch("/api/v1/organization", json={"client_schedule": [7, 3]}), 400, "must increase")
    assert client.patch("/api/v1/organization", json={"digest_hour": 24}).status_code == 422
    created = client.post("/api/v1/tokens", json={"name": "m", "role": "member"}).json()
    member = {"Authorization": f"Bearer {created['secret']}"}
    assert client.patch("/api/v1/organization", json={"digest_hour": 9}, headers=member).status_code == 403


def test_console_reminders_form_shows_errors_inline_then_saves(services: Any, initialized: Any) -> None:
    from tests.integration.console_support import PASSWORD, add_signin_staff, console_client, sign_in
    from tests.integration.test_console_settings import inline_error, post

    add_signin_staff(services, initialized.organization_id, email="admin@agency.example", role="admin")
    with console_client(services) as client:
        sign_in(client, "admin@agency.example", PASSWORD)
        assert 'value="UTC"' in client.get("/settings").text
        fields = {"timezone": "Mars/Olympus", "digest_hour": "25", "escalate_after": "x", "client_schedule": "7,3"}
        refused = post(client, "/settings/reminders", "/settings", **fields)
        inline_error(refused, "timezone", "IANA name")
        inline_error(refused, "digest-hour", "0 to 23")
        inline_error(refused, "escalate-after", "whole number")
        inline_error(refused, "client-schedule", "must increase")
        assert 'value="Mars/Olympus"' in refused.text, "the typed values are kept"
        fields = {"timezone": "Europe/Berlin", "digest_hour": "7", "escalate_after": "5", "client_schedule": "2,4"}
        assert post(client, "/settings/reminders", "/settings", **fields).status_code == 303
        page = client.get("/settings").text
        assert 'value="Europe/Berlin"' in page and 'value="2,4"' in page
    assert last_entry(services)["data"] == {
        "timezone": "Europe/Berlin",
        "digest_hour": 7,
        "escalate_after_days": 5,
        "client_schedule": [2, 4],
    }
