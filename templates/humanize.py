"""Human-friendly values for people: times as "3 Dec 2026, 14:05", sizes as "3.0 MB", hashes shortened.

Filters of the one jinja2 environment (``templates/render.py``), so the console, the acknowledgment pages
and the emails say a time the same way. In HTML a time is a ``<time>`` element carrying the exact UTC value
(``datetime`` attribute and hover title); the console's small script rewrites its text into the viewer's
own time zone, and without JavaScript it reads in UTC, saying so.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from markupsafe import Markup, escape

_UNITS = ("bytes", "kB", "MB", "GB", "TB", "PB")


def _utc(value: datetime) -> datetime:
    # Rows read back from SQLite carry no zone; every stored time is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _parsed(value: datetime | date | str | None) -> datetime | date | None:
    # Signed documents (receipts) and email contexts carry RFC 3339 text, not datetimes.
    if not isinstance(value, str):
        return value
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an RFC 3339 time: {value!r}") from None


def when_text(value: datetime | date | str | None) -> str:
    """``3 Dec 2026, 14:05 UTC`` (a date alone: ``3 Dec 2026``); an em dash for nothing."""
    value = _parsed(value)
    if value is None:
        return "—"
    if not isinstance(value, datetime):
        return f"{value.day} {value:%b %Y}"
    at = _utc(value)
    return f"{at.day} {at:%b %Y, %H:%M} UTC"


def iso_utc(value: datetime) -> str:
    return _utc(value).isoformat(timespec="seconds").replace("+00:00", "Z")


def when(value: datetime | date | str | None) -> Markup:
    """A ``<time>`` element: readable text, the exact UTC instant on hover and in ``datetime``."""
    value = _parsed(value)
    if value is None:
        return Markup("—")
    if not isinstance(value, datetime):
        return Markup('<time datetime="{0}">{1}</time>').format(value.isoformat(), when_text(value))
    exact = iso_utc(value)
    return Markup('<time datetime="{0}" title="{0}" data-local>{1}</time>').format(exact, when_text(value))


def size(value: int | None) -> str:
    """``3.0 MB`` (decimal units, as file managers and browsers show them); whole bytes below 1 kB."""
    if value is None:
        return "—"
    if value < 1000:
        return "1 byte" if value == 1 else f"{value} bytes"
    amount = float(value)
    for unit in _UNITS[1:]:
        amount /= 1000
        if amount < 999.95 or unit == _UNITS[-1]:
            return f"{amount:.1f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def short_hash(value: str | None, keep: int = 12) -> Markup:
    """The first ``keep`` characters, with the full value one click away (a ``<details>`` element, so it
    works without JavaScript) and a copy button the script enables."""
    if not value:
        return Markup("—")
    if len(value) <= keep:
        return Markup('<code class="hash">{0}</code>').format(value)
    return Markup(
        '<details class="hash"><summary><code>{0}…</code><span class="visually-hidden"> show the full value'
        '</span></summary><code class="full" data-copy-source>{1}</code></details>'
    ).format(value[:keep], escape(value))


FILTERS = {"when": when, "when_text": when_text, "size": size, "short_hash": short_hash}
