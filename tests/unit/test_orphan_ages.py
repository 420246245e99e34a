"""``--orphan-min-age`` parsing and the ages the audit prints."""

from __future__ import annotations

from datetime import timedelta

import pytest

from vault.errors import InvalidInput
from vault.evidence.orphans import age_text, parse_min_age


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("36", timedelta(hours=36)),
        ("1.5", timedelta(minutes=90)),
        ("2d", timedelta(days=2)),
        ("36h", timedelta(hours=36)),
        ("90m", timedelta(minutes=90)),
        ("1d12h", timedelta(days=1, hours=12)),
        (" 1D ", timedelta(days=1)),
        ("1h", timedelta(hours=1)),
    ],
)
def test_min_age_is_hours_or_a_duration(text: str, age: timedelta) -> None:
    assert parse_min_age(text) == age


@pytest.mark.parametrize("text", ["", "h", "soon", "-3", "1d 2h", "2w", "1h30"])
def test_min_age_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"expected hours \(36\) or a duration \(2d, 36h, 90m, 1d12h\), found"):
        parse_min_age(text)


@pytest.mark.parametrize("text", ["0", "59m", "0.5"])
def test_min_age_below_an_hour_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match=f"must be at least 1 hour .*found '{text}'"):
        parse_min_age(text)


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (timedelta(0), "0 seconds"),
        (timedelta(seconds=-5), "0 seconds"),
        (timedelta(seconds=1), "1 second"),
        (timedelta(minutes=12, seconds=5), "12 minutes 5 seconds"),
        (timedelta(hours=5, seconds=59), "5 hours"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=2, hours=3, minutes=4), "2 days 3 hours"),
    ],
)
def test_age_text_gives_the_largest_unit_and_the_next(age: timedelta, text: str) -> None:
    assert age_text(age) == text
