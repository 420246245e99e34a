"""``print_table`` (the CLI's plain tables, ``offboard case list`` first): aligned columns two spaces apart,
every cell whole however wide, wide characters counted as two columns, and a control character in a value
shown as its escape so it can neither break a row nor reach the terminal (issue 14, items 6 and 8)."""

from __future__ import annotations

import pytest

from vault.cli.common import print_table


def test_columns_line_up_and_no_cell_is_cut(capsys: pytest.CaptureFixture[str]) -> None:
    long_name = "A client whose name is far wider than any terminal's eighty columns, " * 2
    print_table(("id", "client", "n"), [("abcdef01", long_name.strip(), "7"), ("0123456789", "Initech", "12")])
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "id          client" + " " * (len(long_name.strip()) - len("client")) + "  n",
        "abcdef01    " + long_name.strip() + "  7",
        "0123456789  Initech" + " " * (len(long_name.strip()) - len("Initech")) + "  12",
    ]


def test_only_the_headings_when_there_are_no_rows(capsys: pytest.CaptureFixture[str]) -> None:
    print_table(("id", "client"), [])
    assert capsys.readouterr().out == "id  client\n"


def test_wide_characters_take_two_columns_and_combining_marks_none(capsys: pytest.CaptureFixture[str]) -> None:
    print_table(("client", "n"), [("株式会社", "1"), ("Cafe\u0301", "2"), ("Initech", "3")])
    assert capsys.readouterr().out.splitlines() == ["client    n", "株式会社  1", "Cafe\u0301      2", "Initech   3"]


def test_a_control_character_is_shown_as_its_escape(capsys: pytest.CaptureFixture[str]) -> None:
    print_table(("client", "n"), [("Evil\nCorp\x1b[31m\t", "1")])
    shown = "Evil\\nCorp\\x1b[31m\\t"
    assert capsys.readouterr().out.splitlines() == ["client".ljust(len(shown)) + "  n", shown + "  1"]
