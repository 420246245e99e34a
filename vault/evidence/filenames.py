"""Original filenames: checked at ingest, then kept exactly as sent; never a storage key or a path.

A name is refused (``UnacceptableUpload``, HTTP 422) when it holds a control character (C0, DEL and C1:
NUL, or escape sequences that rewrite a terminal), a Unicode bidirectional control (which makes
``exe.pdf`` read as ``fdp.exe``) or a lone surrogate, or when it is longer than 255 bytes in UTF-8 (the
file-name limit of common file systems, so a download can be saved under its name). A name that passes
is stored unchanged, so the ``evidence.stored`` entry records what was sent; downloads carry it in
``Content-Disposition`` per RFC 6266 (``api/headers.py``).
"""

from __future__ import annotations

import unicodedata

from vault.errors import UnacceptableUpload

MAX_FILENAME_BYTES = 255
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)}


def _refused(ch: str) -> bool:
    return ch in _BIDI or unicodedata.category(ch) in {"Cc", "Cs"}


def checked_filename(raw: str | None) -> str:
    """``raw`` itself when it is acceptable (``"unnamed"`` when none was sent); else ``UnacceptableUpload``."""
    if not raw:
        return "unnamed"
    found = [f"U+{ord(ch):04X} at position {at}" for at, ch in enumerate(raw) if _refused(ch)]
    if found:
        raise UnacceptableUpload(
            "a file name may not contain control characters or bidirectional controls; "
            f"found {', '.join(found[:5])}{' and more' if len(found) > 5 else ''}",
            details={"field": "filename"},
        )
    size = len(raw.encode("utf-8"))
    if size > MAX_FILENAME_BYTES:
        raise UnacceptableUpload(
            f"a file name may be at most {MAX_FILENAME_BYTES} bytes in UTF-8; found {size} bytes",
            details={"field": "filename", "limit": MAX_FILENAME_BYTES},
        )
    return raw


def safe_path_component(name: str, *, limit: int = 120) -> str:
    """An ASCII file-system-safe name for exports (bundles): letters, digits, ``.-_`` only."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    cleaned = "".join(c if c.isalnum() or c in ".-_" else "_" for c in ascii_name).strip("._")
    return (cleaned or "file")[:limit]
