"""Safe PDF metadata (page count, encrypted, version, title) with time and memory caps.

pypdf is pure Python and a hostile PDF can make it loop or allocate without bound, so parsing runs in a
child process with an address-space limit and is killed at the time limit. A PDF that cannot be parsed is
still stored; it is only flagged ``unparseable``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

_MEMORY_LIMIT = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class PdfInfo:
    """What was learned from a PDF; ``parseable`` false means only ``error`` is set."""

    parseable: bool
    pages: int | None = None
    encrypted: bool | None = None
    version: str | None = None
    title: str | None = None
    error: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PdfInfo:
        return cls(**json.loads(text))


def looks_like_pdf(prefix: bytes) -> bool:
    # PDF readers accept the header anywhere in the first 1024 bytes.
    return b"%PDF-" in prefix[:1024]


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_LIMIT, _MEMORY_LIMIT))


def inspect_pdf(path: Path, *, timeout: float) -> PdfInfo:
    """Parse ``path`` in a capped child process; never raises for a bad PDF."""
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, our own interpreter and module
            [sys.executable, "-m", "vault.evidence.pdfinfo", str(path)],
            capture_output=True,
            timeout=timeout,
            preexec_fn=_limit_memory,  # noqa: PLW1509
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
            check=False,
        )
    except subprocess.TimeoutExpired:
        return PdfInfo(parseable=False, error=f"parsing exceeded {timeout:g} s")
    if done.returncode != 0:
        return PdfInfo(parseable=False, error="parser failed (malformed PDF or resource limit)")
    try:
        return PdfInfo.from_json(done.stdout.decode())
    except (ValueError, TypeError):
        return PdfInfo(parseable=False, error="parser produced no result")


def _parse(path: str) -> PdfInfo:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(path, strict=False)
        encrypted = bool(reader.is_encrypted)
        pages = None if encrypted else len(reader.pages)
        title = None
        if not encrypted and reader.metadata is not None and reader.metadata.title:
            title = str(reader.metadata.title)[:500]
        return PdfInfo(parseable=True, pages=pages, encrypted=encrypted, version=reader.pdf_header[5:], title=title)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        return PdfInfo(parseable=False, error=f"{type(exc).__name__}: {str(exc)[:200]}")


if __name__ == "__main__":  # pragma: no cover - exercised through inspect_pdf
    sys.stdout.write(_parse(sys.argv[1]).to_json())
