"""One webhook HTTP request: signed per Standard Webhooks, never following a redirect, bounded in time and size.

httpx sends it; ``follow_redirects=False`` makes a 3xx a failed attempt (a redirect could point a signed
event anywhere), the response body is read to at most 64 KiB, and the whole exchange is cut at 10 s.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import httpx
from standardwebhooks.webhooks import Webhook

TIMEOUT_SECONDS = 10.0
MAX_BODY_BYTES = 64 * 1024
EXCERPT_CHARS = 2000


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt got back."""

    #: The HTTP status, or ``None`` when no response came (refused, timed out, malformed).
    status_code: int | None
    latency_ms: int
    #: The first characters of the body read (UTF-8, invalid bytes replaced).
    excerpt: str
    #: Body bytes read: at most ``MAX_BODY_BYTES``.
    body_bytes: int
    #: Whether the body went on beyond what was read.
    truncated: bool
    #: Empty when the attempt succeeded (a 2xx); otherwise why it failed.
    error: str

    @property
    def ok(self) -> bool:
        return not self.error


def signed_headers(secret: str, message_id: str, at: datetime, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers and the content type."""
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
    }


def post(url: str, headers: dict[str, str], body: str) -> Outcome:
    """POST ``body`` to ``url`` once and report what happened; never raises for the network's failures."""
    started = time.monotonic()
    status: int | None = None
    read = bytearray()
    truncated = False
    error = ""
    try:
        with (
            httpx.Client(follow_redirects=False, timeout=TIMEOUT_SECONDS) as client,
            client.stream("POST", url, content=body.encode("utf-8"), headers=headers) as response,
        ):
            status = response.status_code
            for chunk in response.iter_bytes():
                read.extend(chunk)
                if len(read) > MAX_BODY_BYTES:
                    truncated = True
                    break
                if time.monotonic() - started > TIMEOUT_SECONDS:
                    raise httpx.ReadTimeout("the response took longer than 10 s")
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    latency = int((time.monotonic() - started) * 1000)
    if not error and status is not None:
        error = _status_error(status)
    body_read = bytes(read[:MAX_BODY_BYTES])
    excerpt = body_read[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace")[:EXCERPT_CHARS]
    return Outcome(status, latency, excerpt, len(body_read), truncated, error)


def _status_error(status: int) -> str:
    if 200 <= status < 300:
        return ""
    if 300 <= status < 400:
        return f"answered {status} (a redirect): redirects are not followed"
    return f"answered {status}"
