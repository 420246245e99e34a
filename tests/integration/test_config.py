"""One configuration for the CLI and the server (issue 14, item 9): ``offboard init`` writes
``<home>/offboard.env``, every command and the server read it, environment variables win over it, and a
command run where no home was initialized says so in one line and creates nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import cli_json, run_cli
from tests.integration.receipts_support import link_in, smtp_server


@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty working folder and no ``OFFBOARD_*`` variable: a new user's shell."""
    for name in list(os.environ):
        if name.upper().startswith("OFFBOARD_"):
            monkeypatch.delenv(name)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.mark.parametrize(
    "argv",
    [["case", "list"], ["staff", "add", "pm@agency.example"], ["ledger", "verify"], ["token", "create", "--name", "x"]],
)
def test_a_command_without_an_initialized_home_is_one_line_and_creates_nothing(
    bare: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = run_cli(capsys, *argv)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "`offboard init`" in err and str(bare / "offboard-data") in err
    assert "Traceback" not in err
    assert list(bare.iterdir()) == []


def test_serve_without_an_initialized_home_refuses(bare: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "serve", "--port", "1")
    assert code == 1 and "`offboard init`" in err and list(bare.iterdir()) == []


def test_a_relative_home_is_the_folder_it_names_from_where_init_ran(
    bare: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OFFBOARD_HOME", "my-home")
    created = cli_json(capsys, "init")
    assert created["home"] == str(bare / "my-home") and created["admin_token"]
    assert cli_json(capsys, "config", "show")["home"] == str(bare / "my-home")
    elsewhere = bare.parent / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, _, err = run_cli(capsys, "case", "list")
    assert code == 1 and str(elsewhere / "my-home") in err and "`offboard init`" in err
    assert list(elsewhere.iterdir()) == []


def test_init_writes_offboard_env_that_receipt_send_reads(bare: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The SMTP URL chosen at init reaches ``offboard receipt send`` without any variable set."""
    with smtp_server() as (url, inbox):
        cli_json(capsys, "init", "--smtp-url", url, "--base-url", "http://offboard.example:8100")
        env_file = bare / "offboard-data" / "offboard.env"
        assert env_file.stat().st_mode & 0o777 == 0o600
        assert f"OFFBOARD_SMTP_URL='{url}'" in env_file.read_text(encoding="utf-8")
        cli_json(capsys, "staff", "add", "pm@agency.example")
        case = cli_json(
            capsys, "case", "open", "--client", "Acme", "--owner", "pm@agency.example", "--contact", "cfo@acme.example"
        )
        (bare / "final-site-export.zip").write_bytes(b"PK final site")
        cli_json(capsys, "evidence", "add", "--case", case["id"], str(bare / "final-site-export.zip"))
        receipt = cli_json(capsys, "receipt", "create", case["id"])
        sent = cli_json(capsys, "receipt", "send", receipt["id"])
        assert sent["delivery"] == "smtp" and sent["links"] == []
        (message,) = inbox.wait_for(1)
    assert link_in(message).startswith("http://offboard.example:8100/ack/")


def test_init_again_keeps_the_file_and_a_new_port_moves_a_loopback_base_url(
    bare: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = cli_json(capsys, "init", "--smtp-from", "handover@agency.example")
    again = cli_json(capsys, "init", "--port", "8100")
    assert first["admin_token"] and again["admin_token"] is None and not again["created"]
    shown = cli_json(capsys, "config", "show")["settings"]
    assert shown["smtp_from"] == {
        "variable": "OFFBOARD_SMTP_FROM",
        "value": "handover@agency.example",
        "source": "offboard.env",
    }
    assert (shown["port"]["value"], shown["base_url"]["value"]) == ("8100", "http://127.0.0.1:8100")


def test_environment_wins_over_offboard_env_and_config_show_says_so(
    bare: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli_json(capsys, "init", "--base-url", "http://from-file.example", "--smtp-url", "smtp://mailer:hunter2@mail:25")
    monkeypatch.setenv("OFFBOARD_BASE_URL", "http://from-env.example")
    monkeypatch.setenv("OFFBOARD_OIDC_CLIENT_SECRET", "s3cr3t-value")
    shown = cli_json(capsys, "config", "show")["settings"]
    assert (shown["base_url"]["value"], shown["base_url"]["source"]) == ("http://from-env.example", "environment")
    assert (shown["smtp_url"]["value"], shown["smtp_url"]["source"]) == ("smtp://mailer:***@mail:25", "offboard.env")
    assert shown["oidc_client_secret"]["value"] == "***"
    assert shown["host"] == {"variable": "OFFBOARD_HOST", "value": "127.0.0.1", "source": "default"}
    code, text, _ = run_cli(capsys, "config", "show")
    assert code == 0 and "hunter2" not in text and "s3cr3t-value" not in text
    assert "OFFBOARD_BASE_URL" in text and "http://from-env.example  [environment]" in text


def test_the_server_reads_offboard_env_and_the_environment_wins(
    bare: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.app import app_from_env

    cli_json(capsys, "init", "--smtp-url", "smtp://mail.example:2525", "--base-url", "http://offboard.example")
    app = app_from_env()
    try:
        settings = app.state.services.settings
        assert (settings.smtp_url, settings.base_url) == ("smtp://mail.example:2525", "http://offboard.example")
    finally:
        app.state.services.close()
    monkeypatch.setenv("OFFBOARD_SMTP_URL", "smtp://other.example:25")
    app = app_from_env()
    try:
        assert app.state.services.settings.smtp_url == "smtp://other.example:25"
        assert app.state.services.settings.base_url == "http://offboard.example"
    finally:
        app.state.services.close()


def test_serve_warns_when_the_base_url_names_another_port(capsys: pytest.CaptureFixture[str]) -> None:
    from vault.cli.config import warn_port_mismatch
    from vault.config import Settings

    warn_port_mismatch(Settings(base_url="http://127.0.0.1:8000"), 8000)
    warn_port_mismatch(Settings(base_url="https://offboard.agency.example"), 8100)  # behind a proxy
    assert capsys.readouterr().err == ""
    warn_port_mismatch(Settings(base_url="http://localhost:8000"), 8100)
    assert "port 8100" in capsys.readouterr().err


def test_a_port_changed_after_init_moves_links_not_the_checkpoint_origin(
    bare: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_json(capsys, "init")
    cli_json(capsys, "staff", "add", "pm@agency.example")
    before = run_cli(capsys, "ledger", "checkpoint")[1]
    cli_json(capsys, "init", "--port", "8100")
    cli_json(capsys, "staff", "add", "qa@agency.example")
    after = run_cli(capsys, "ledger", "checkpoint")[1]
    assert before.splitlines()[0] == after.splitlines()[0] == "127.0.0.1:8000/default"
    assert cli_json(capsys, "ledger", "verify")["ok"] is True


def test_offline_bundle_verification_needs_no_home(bare: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A third party verifies a bundle without any Offboard home: ``offboard verify`` is not refused."""
    (bare / "bundle.zip").write_bytes(b"not a zip")
    code, _, err = run_cli(capsys, "verify", "bundle.zip")
    assert code == 1 and "not a bundle" in err and "offboard init" not in err
    assert [p.name for p in bare.iterdir()] == ["bundle.zip"]


@pytest.mark.parametrize("in_file", [False, True])
@pytest.mark.parametrize(
    ("url", "found"), [("garbage", "no scheme"), ("mysql://offboard:s3cret@db.example/offboard", "the scheme 'mysql'")]
)
def test_a_database_url_of_the_wrong_form_is_one_line_on_the_fast_list_and_the_ordinary_path(
    bare: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    found: str,
    in_file: bool,
) -> None:
    """``case list``'s table reads without ``Settings`` (vault/cases/direct_listing.py) and still refuses a
    bad URL as ``Settings`` does, in the same words, without echoing a password."""
    cli_json(capsys, "init")
    if in_file:
        env_file = bare / "offboard-data" / "offboard.env"
        env_file.write_text(env_file.read_text(encoding="utf-8") + f"OFFBOARD_DATABASE_URL='{url}'\n", "utf-8")
    else:
        monkeypatch.setenv("OFFBOARD_DATABASE_URL", url)
    line = (
        "error: invalid settings (OFFBOARD_DATABASE_URL: expected sqlite:///PATH or "
        f"postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB, found {found})\n"
    )
    for argv in (["case", "list"], ["case", "list", "--json"], ["staff", "list"]):
        assert run_cli(capsys, *argv) == (1, "", line), argv
