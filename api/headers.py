"""HTTP response headers shared by the JSON routes and the pages."""

from __future__ import annotations

from urllib.parse import quote


def content_disposition(filename: str) -> str:
    """RFC 6266 section 4.3: an ASCII ``filename`` fallback plus the exact name as RFC 8187 ``filename*``.

    Every download (evidence, receipt PDF, bundle, verifier page) sends its name through this, so no
    client-supplied byte reaches the header raw. The fallback keeps printable ASCII except ``"``, ``\\``,
    ``;`` and ``%`` (which some user agents would decode), each replaced by ``_``.
    """
    fallback = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\;%' else "_" for c in filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
