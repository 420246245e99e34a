"""``offboard.env`` is written as python-dotenv reads it back (atomically, mode 0600), and what
``offboard config show`` prints never holds a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from vault.config import Settings, get_settings
from vault.config_file import read_env_file, write_env_file
from vault.config_report import MASK, Source, effective_settings, mask_url, masked
from vault.errors import ConfigurationError, InvalidInput

AWKWARD = "smtp://us'er:p\\a#ss word@mail.example:25/?x='y'"


def test_values_round_trip_through_the_dotenv_parser(tmp_path: Path) -> None:
    path = tmp_path / "home" / "offboard.env"
    write_env_file(path, {"smtp_url": AWKWARD, "base_url": "http://a.example"})
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_env_file(path) == {"smtp_url": AWKWARD, "base_url": "http://a.example"}
    settings = get_settings(home=tmp_path / "home")
    assert (settings.smtp_url, settings.base_url) == (AWKWARD, "http://a.example")
    assert [p.name for p in path.parent.iterdir()] == ["offboard.env"]  # no temp file left


def test_rewriting_keeps_other_lines_and_replaces_the_given_ones(tmp_path: Path) -> None:
    path = tmp_path / "offboard.env"
    write_env_file(path, {"smtp_url": "smtp://a:1", "port": "8000"})
    assert write_env_file(path, {"port": "8100"}) == {"smtp_url": "smtp://a:1", "port": "8100"}
    assert read_env_file(path) == {"smtp_url": "smtp://a:1", "port": "8100"}


@pytest.mark.parametrize(
    ("values", "says"),
    [({"smtp_url": "smtp://a\nOFFBOARD_PORT=1"}, "one line"), ({"home": "/x"}, "home"), ({"nope": "1"}, "nope")],
)
def test_refuses_what_the_file_cannot_hold(tmp_path: Path, values: dict[str, str], says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        write_env_file(tmp_path / "offboard.env", values)
    assert not (tmp_path / "offboard.env").exists()


def test_a_value_that_does_not_parse_names_its_variable(tmp_path: Path) -> None:
    write_env_file(tmp_path / "offboard.env", {"port": "eighty"})
    with pytest.raises(ConfigurationError, match="OFFBOARD_PORT"):
        get_settings(home=tmp_path)


def test_the_home_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OFFBOARD_HOME", "rel")
    assert get_settings().home == tmp_path / "rel"
    assert Settings(home=Path("rel")).env_file == tmp_path / "rel" / "offboard.env"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("smtp://user:hunter2@mail.example:587", f"smtp://user:{MASK}@mail.example:587"),
        (
            "postgresql+psycopg://app:pw@db/offboard?sslmode=require",
            f"postgresql+psycopg://app:{MASK}@db/offboard?sslmode=require",
        ),
        ("https://tsa.example/?token=abc&x=1", f"https://tsa.example/?token={MASK}&x=1"),
        ("smtp://mail.example:25", "smtp://mail.example:25"),
        ("smtp://onlyuser@mail.example", "smtp://onlyuser@mail.example"),
    ],
)
def test_urls_are_shown_without_passwords_or_tokens(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_secret_settings_are_masked_whole_and_files_are_not() -> None:
    assert masked("oidc_client_secret", "abc") == MASK
    assert masked("oidc_client_secret", None) is None
    assert masked("pdf_key_file", Path("/etc/offboard/pdf.key")) == "/etc/offboard/pdf.key"
    assert masked("trusted_proxies", ["10.0.0.1"]) == '["10.0.0.1"]'


def test_sources_environment_then_file_then_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OFFBOARD_PORT", raising=False)
    monkeypatch.delenv("OFFBOARD_HOST", raising=False)
    write_env_file(tmp_path / "offboard.env", {"smtp_url": "smtp://u:p@m:25", "port": "8100"})
    monkeypatch.setenv("OFFBOARD_SMTP_URL", "smtp://u:envpass@m:25")
    shown = {s.name: s for s in effective_settings(get_settings(home=tmp_path))}
    assert (shown["smtp_url"].source, shown["smtp_url"].value) == (Source.ENVIRONMENT, f"smtp://u:{MASK}@m:25")
    assert (shown["port"].source, shown["port"].value) == (Source.ENV_FILE, "8100")
    assert (shown["host"].source, shown["host"].value) == (Source.DEFAULT, "127.0.0.1")
    assert shown["database_url"].value == f"sqlite:///{tmp_path / 'offboard.db'}"
