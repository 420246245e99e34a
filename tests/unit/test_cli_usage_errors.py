"""A usage mistake on the command line is ONE line, naming the problem and the right form of the command,
with exit 2 and never a traceback (issue 14, item 7): one bad call for every command group. A malformed
id is a usage mistake too, refused before anything is looked up (item 8). None of these reach a database.
"""

from __future__ import annotations

from itertools import takewhile

import pytest

from vault.cli import main

SHORT = "3f2a9c1e"


@pytest.mark.parametrize(
    ("argv", "says", "form"),
    [
        (["init", "--nope"], "no such option: --nope", "offboard init [OPTIONS]"),
        (["serve", "--port", "x"], "invalid value for '--port'", "offboard serve [OPTIONS]"),
        (["token", "create"], "missing option '--name'", "offboard token create --name NAME [OPTIONS]"),
        (["org", "create"], "missing argument 'name'", "offboard org create [OPTIONS] NAME"),
        (
            ["staff", "set-password", "a@example.com", "extra"],
            "unexpected extra argument",
            "offboard staff set-password [OPTIONS] EMAIL",
        ),
        (["playbook", "show"], "missing argument 'key'", "offboard playbook show [OPTIONS] KEY"),
        (["case", "list", "--no-such-flag"], "no such option: --no-such-flag", "offboard case list [OPTIONS]"),
        (["case", "show", "zz-not-an-id"], "'zz-not-an-id' is not an id", "offboard case show [OPTIONS] CASE"),
        (["case", "show", SHORT[:7]], f"'{SHORT[:7]}' is too short for an id", "offboard case show [OPTIONS] CASE"),
        (["case", "nosuch"], "no such command 'nosuch'", "offboard case [OPTIONS] COMMAND [ARGS]..."),
        (
            ["case", "complete", SHORT, "step", "--evidence", "short"],
            "invalid value for '--evidence': 'short' is too short",
            "offboard case complete [OPTIONS] CASE STEP",
        ),
        (
            ["case", "access", "revoke", SHORT, SHORT, "--method", "removed"],
            "missing option '--evidence'",
            "offboard case access revoke --method METHOD --evidence EVIDENCE [OPTIONS] CASE ITEM",
        ),
        (["evidence", "list"], "missing option '--case'", "offboard evidence list --case CASE [OPTIONS]"),
        (
            ["evidence", "get", f"{SHORT}-zz", "-o", "x"],
            f"'{SHORT}-zz' is not an id",
            "offboard evidence get --output OUTPUT [OPTIONS] EVIDENCE",
        ),
        (["receipt", "show", "nothing"], "'nothing' is too short", "offboard receipt show [OPTIONS] RECEIPT"),
        (["bundle", "export", SHORT], "missing option '-o' / '--output'", "offboard bundle export --output OUTPUT"),
        (["verify"], "missing argument 'bundle'", "offboard verify [OPTIONS] BUNDLE"),
        (["ledger", "entry", "x"], "invalid value for 'index'", "offboard ledger entry [OPTIONS] INDEX"),
        # Integers are bounded like the API's (issue 14, item 13): 0 <= n < 2^63.
        (["ledger", "entry", str(2**63)], "invalid value for 'index'", "offboard ledger entry [OPTIONS] INDEX"),
        (["ledger", "entry", "--", "-1"], "invalid value for 'index'", "offboard ledger entry [OPTIONS] INDEX"),
        (
            ["ledger", "consistency", "1", str(2**63)],
            "invalid value for 'second'",
            "offboard ledger consistency [OPTIONS] FIRST SECOND",
        ),
        (
            ["playbook", "show", "web", "--version", str(2**63)],
            "invalid value for '--version'",
            "offboard playbook show [OPTIONS] KEY",
        ),
        (["audit", "--nope"], "no such option: --nope", "offboard audit [OPTIONS]"),
        (["nosuch"], "no such command 'nosuch'", "offboard [OPTIONS] COMMAND [ARGS]..."),
    ],
)
def test_a_usage_mistake_is_one_line_with_the_right_form_and_exit_2(
    argv: list[str], says: str, form: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    assert exited.value.code == 2
    assert out == "" and "Traceback" not in err
    assert err.endswith("\n") and err.count("\n") == 1, err
    path = " ".join(takewhile(lambda word: word.islower() and not word.startswith("-"), form.split()))
    assert err.startswith(f"{path}: "), err
    assert says in err and f"Usage: {form}" in err, err


def test_a_command_group_alone_prints_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["case"])
    _, err = capsys.readouterr()
    assert "Usage: offboard case [OPTIONS] COMMAND [ARGS]..." in err and "access" in err


def test_help_and_version_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--help"])
    assert "Commands:" in capsys.readouterr().out
    main(["--version"])
    assert capsys.readouterr().out.startswith("offboard 0.")
