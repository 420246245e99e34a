"""Original filenames are kept as metadata only, escaped; they never become storage keys or paths.

Control characters, NUL and Unicode bidirectional overrides (which make ``exe.pdf`` read as ``fdp.exe``)
are replaced by visible ``\\u{...}`` escapes, and the name is capped in length.
"""

from __future__ import annotations

import unicodedata

MAX_FILENAME_CHARS = 255
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)}


def escape_filename(raw: str | None) -> str:
    """A printable, bounded rendering of a client-supplied filename (``"unnamed"`` when empty)."""
    if not raw:
        return "unnamed"
    out: list[str] = []
    for ch in raw:
        if ch in _BIDI or unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn"} or ch == "\\":
            out.append(f"\\u{{{ord(ch):04x}}}")
        else:
            out.append(ch)
    text = "".join(out).strip()
    if len(text) > MAX_FILENAME_CHARS:
        text = text[: MAX_FILENAME_CHARS - 1] + "…"
    return text or "unnamed"


def safe_path_component(name: str, *, limit: int = 120) -> str:
    """An ASCII file-system-safe name for exports (bundles): letters, digits, ``.-_`` only."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    cleaned = "".join(c if c.isalnum() or c in ".-_" else "_" for c in ascii_name).strip("._")
    return (cleaned or "file")[:limit]
