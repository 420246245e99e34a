"""Shared helpers for the benchmarks in ``bench/``: timing, peak memory, free ports, a figures table.

Benchmarks are scripts run by ``make bench``, not tests: they print figures for a person (and JSON for a
machine with ``--json``). Peak memory is the kernel's high-water mark of resident memory (``VmHWM``),
which ``/proc/self/clear_refs`` can reset, so one process can measure the peak of each phase separately.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

MIB = 1024 * 1024
REPO = Path(__file__).resolve().parent.parent
#: Scratch space on the repository's own filesystem (ignored by git), so "the same disk" is this disk.
SCRATCH = REPO / "bench" / "out"

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _status_kib(field: str) -> int | None:
    try:
        text = _STATUS.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def rss_bytes() -> int:
    """Resident memory of this process now (``VmRSS``); 0 where ``/proc`` is unavailable."""
    kib = _status_kib("VmRSS")
    return kib * 1024 if kib is not None else 0


def peak_rss_bytes() -> int:
    """Peak resident memory since start or the last ``reset_peak_rss()``.

    Falls back to ``getrusage`` (peak over the whole process life, in KiB on Linux) without ``/proc``.
    """
    kib = _status_kib("VmHWM")
    if kib is None:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib * 1024


def reset_peak_rss() -> bool:
    """Reset the peak to the current RSS (Linux >= 4.0: ``5`` into ``clear_refs``); False if unsupported."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Measured:
    """One timed run of a phase."""

    seconds: float
    #: Peak RSS during the phase minus RSS at its start.
    rss_growth_bytes: int


def settle() -> None:
    """Flush all dirty pages (earlier phases, deleted files) so no phase pays for another's writes."""
    os.sync()


def measure(action: Callable[[], T]) -> tuple[T, Measured]:
    """Settle the disk, then run ``action`` once; returns its result with wall time and peak RSS growth."""
    settle()
    reset_peak_rss()
    start_rss = rss_bytes()
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    return result, Measured(seconds, max(0, peak_rss_bytes() - start_rss))


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


def mib_per_s(size_bytes: int, seconds: float) -> float:
    return size_bytes / MIB / seconds if seconds > 0 else float("inf")


@dataclass(frozen=True, slots=True)
class Figure:
    """One line of a benchmark's summary: a measured value, its unit and, optionally, its target."""

    name: str
    value: float
    unit: str
    target: str = ""
    #: None when the figure has no target.
    ok: bool | None = None


def format_table(figures: Sequence[Figure]) -> str:
    """A plain-text table of figures, aligned for a terminal."""
    rows = [("figure", "value", "target", "verdict")]
    for fig in figures:
        verdict = "" if fig.ok is None else ("ok" if fig.ok else "MISSED")
        rows.append((fig.name, f"{fig.value:,.2f} {fig.unit}", fig.target, verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def print_figures(figures: Sequence[Figure], *, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    """Print the table (stderr when ``as_json``, so stdout holds only JSON) and, with ``as_json``, JSON."""
    table = format_table(figures)
    if not as_json:
        print(table)
        return
    print(table, file=sys.stderr)
    payload = {"figures": [asdict(fig) for fig in figures], **(extra or {})}
    print(json.dumps(payload, indent=2))


def note(message: str) -> None:
    """Progress for the person watching; on stderr so stdout stays the result."""
    print(message, file=sys.stderr, flush=True)
