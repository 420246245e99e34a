"""One C2SP tlog-witness ``add-checkpoint`` request over HTTP, and what the witness answered.

200: signature lines (cosignatures); 409: the witness is at another size, given as ``text/x.tlog.size``;
422: the proof or checkpoint is inconsistent with what it saw (an alert); anything else, a timeout or no
connection: a failure to retry later. Answers are read to at most ``MAX_ANSWER_BYTES``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import httpx

from vault.errors import InvalidInput
from vault.ledger.checkpoint import parse_decimal
from vault.witness.submission import submission_text

#: A witness answers a few signature lines or a size; more is not an answer.
MAX_ANSWER_BYTES = 64 * 1024
SIZE_TYPE = "text/x.tlog.size"


class Outcome(StrEnum):
    """How one add-checkpoint request ended."""

    COSIGNED = "cosigned"
    CONFLICT = "conflict"
    REJECTED = "rejected"
    UNREACHABLE = "unreachable"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Answer:
    """What a witness answered to one add-checkpoint request."""

    outcome: Outcome
    #: In words, for the witness's status and alerts.
    detail: str
    #: On 200, the signature lines (each with its newline), not yet verified.
    lines: tuple[str, ...] = ()
    #: On 409, the size the witness holds.
    size: int | None = None


def add_checkpoint(client: httpx.Client, url: str, old_size: int, proof: Sequence[bytes], note: str) -> Answer:
    """POST ``<url>/add-checkpoint`` with ``note`` and the consistency proof from ``old_size``."""
    body = submission_text(old_size, proof, note).encode("utf-8")
    try:
        with client.stream("POST", f"{url}/add-checkpoint", content=body) as response:
            raw = b""
            for chunk in response.iter_bytes():
                raw += chunk
                if len(raw) > MAX_ANSWER_BYTES:
                    return Answer(Outcome.FAILED, f"the witness answered more than {MAX_ANSWER_BYTES} bytes")
    except httpx.TimeoutException:
        return Answer(Outcome.UNREACHABLE, "the witness did not answer in time")
    except httpx.HTTPError as exc:
        return Answer(Outcome.UNREACHABLE, f"the witness could not be reached: {type(exc).__name__}")
    text = raw.decode("utf-8", errors="replace")
    return _answer(response.status_code, response.headers.get("content-type", ""), text)


def _answer(status: int, content_type: str, text: str) -> Answer:
    if status == 200:
        lines = tuple(line + "\n" for line in text.split("\n") if line)
        if not text.endswith("\n") or not lines:
            return Answer(Outcome.FAILED, "the witness answered 200 without signature lines")
        return Answer(Outcome.COSIGNED, "cosigned", lines=lines)
    if status == 409:
        if content_type.split(";")[0].strip() != SIZE_TYPE or not text.endswith("\n"):
            return Answer(Outcome.FAILED, f"the witness answered 409 without a {SIZE_TYPE} size")
        try:
            size = parse_decimal(text[:-1], "the witness's size", InvalidInput)
        except InvalidInput as exc:
            return Answer(Outcome.FAILED, f"the witness answered 409 with a malformed size: {exc.message}")
        return Answer(Outcome.CONFLICT, f"the witness holds size {size}", size=size)
    snippet = text.strip().splitlines()[0][:200] if text.strip() else ""
    if status == 422:
        return Answer(Outcome.REJECTED, f"the witness refused the checkpoint as inconsistent (422) {snippet}".strip())
    return Answer(Outcome.FAILED, f"the witness answered {status} {snippet}".strip())
