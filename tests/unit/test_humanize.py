"""People read times, sizes and hashes: ``templates/humanize.py``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from templates.humanize import short_hash, size, when, when_text


def test_times_read_as_day_month_year_and_minutes_in_utc() -> None:
    at = datetime(2026, 12, 3, 14, 5, 59, tzinfo=UTC)
    assert when_text(at) == "3 Dec 2026, 14:05 UTC"
    # A naive value (as SQLite returns it) is UTC; another zone is converted.
    assert when_text(at.replace(tzinfo=None)) == "3 Dec 2026, 14:05 UTC"
    assert when_text(at.astimezone(timezone(timedelta(hours=-5)))) == "3 Dec 2026, 14:05 UTC"
    assert when_text(date(2027, 1, 9)) == "9 Jan 2027"
    assert when_text(None) == "—"


def test_a_time_element_carries_the_exact_utc_value_for_hover_and_for_the_script() -> None:
    html = str(when(datetime(2026, 12, 3, 14, 5, 7, tzinfo=UTC)))
    assert html == (
        '<time datetime="2026-12-03T14:05:07Z" title="2026-12-03T14:05:07Z" data-local>3 Dec 2026, 14:05 UTC</time>'
    )


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (999, "999 bytes"),
        (1000, "1.0 kB"),
        (3_000_000, "3.0 MB"),
        (999_949, "999.9 kB"),
        (999_950, "1.0 MB"),
        (2 * 1024**3, "2.1 GB"),
        (10**18, "1000.0 PB"),
    ],
)
def test_sizes_in_decimal_units(n: int, text: str) -> None:
    assert size(n) == text


def test_a_hash_is_shortened_with_the_full_value_one_click_away_and_escaped() -> None:
    digest = "ab" * 32
    html = str(short_hash(digest))
    assert "<details" in html and "abababababab…" in html and f">{digest}</code>" in html
    assert str(short_hash("<script>x</script>" * 2)).count("<script>") == 0
    assert str(short_hash("abc")) == '<code class="hash">abc</code>'
