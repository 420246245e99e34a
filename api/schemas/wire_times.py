"""RFC 3339 section 5.6 times in the API's JSON: one rendering for every public view's timestamps."""

from __future__ import annotations

from datetime import datetime

from vault.clock import rfc3339


def optional_rfc3339(value: datetime | None) -> str | None:
    """``value`` as the API writes times, or None for a time that has not happened (not yet closed, revoked)."""
    return rfc3339(value) if value is not None else None
