"""Small readers of decoded bundle records shared by the content and claim checks (and the receipt source,
which writes the acknowledgment status the checks read back)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: An acknowledgment's id in ``bundle.json``'s ``receipts``: its receipt's id and this suffix.
ACK_SUFFIX = "-acknowledgment"


def dicts(value: Any) -> list[dict[str, Any]]:
    """The objects of a JSON list (anything else: none)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def data_of(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An entry's ``data`` object (anything else: empty)."""
    data = entry.get("data")
    return data if isinstance(data, dict) else {}


def ack_status(block: Mapping[str, Any]) -> str:
    """The ``status`` that ``bundle.json`` gives an acknowledgment, from its signed acknowledgment block."""
    return f"acknowledged by {block.get('name')} <{block.get('recipient')}> at {block.get('acknowledged_at')}"
