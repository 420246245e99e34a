"""Small helpers shared by tests."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from vault.cli import main


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``offboard ARGS`` in-process; returns (exit code, stdout, stderr)."""
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code, out, err = run_cli(capsys, *args, "--json")
    assert code == 0, f"offboard {' '.join(args)} failed ({code}): {err}"
    return json.loads(out)


def chunks(data: bytes, size: int = 65536) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def make_pdf(title: str = "Final report", pages: int = 2) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def verify_ledger_now(services: Any, org: Any) -> Any:
    """``verify_ledger`` of ``org`` in a read session of its own, as ``offboard ledger verify`` runs it."""
    from vault.db import read_session
    from vault.ledger.integrity import verify_ledger

    with read_session(services.engine) as session:
        return verify_ledger(session, services.settings, org)


def record_md5s(services: Any) -> None:
    """Run the ``evidence.md5`` jobs (the worker's, some minutes after each upload), and no other job."""
    from datetime import timedelta

    from vault.clock import system_clock
    from vault.evidence.md5 import MD5_DELAY
    from vault.evidence.md5_worker import register
    from vault.jobs.loop import run_once
    from vault.jobs.registry import Registry

    registry = Registry()
    register(registry)
    run_once(services, now=system_clock() + MD5_DELAY + timedelta(minutes=1), registry=registry)
