"""A usage mistake on the command line is the usage text and one error line with exit 2, never a traceback
(typer parses with its own copy of click, whose errors the entry point must catch too)."""

from __future__ import annotations

import pytest

from vault.cli import main


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["staff", "set-password", "a@example.com", "extra"], "unexpected extra argument"),
        (["case", "list", "--no-such-flag"], "No such option"),
        (["evidence", "list"], "Missing"),
    ],
)
def test_usage_errors_exit_2_without_a_traceback(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    assert exited.value.code == 2
    assert "Traceback" not in out + err
    assert says in err and "Usage:" in err
