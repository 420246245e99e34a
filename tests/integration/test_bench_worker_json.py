"""``bench/worker.py --reminders --json`` prints the mail jobs' figures and the reminder sweep's beside them
(issue 15, Tests: speed). A smoke run on tiny sizes: it checks the shape, that every due reminder was sent
and recorded (the bench asserts it), and that the ratio is the rates' quotient, never a timing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_worker_json_carries_the_reminders_ratio() -> None:
    result = subprocess.run(
        [sys.executable, "bench/worker.py", "--json", "--cases", "4", "--jobs", "20", "--reminders"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout)
    assert (out["cases"], out["jobs"], out["reminders"]) == (4, 20, 20)
    figures = {f["name"]: f for f in out["figures"]}
    assert {"bare sending", "worker: due mail jobs", "worker / bare sending"} <= set(figures)
    bare, swept = figures["bare sending (client reminders)"]["value"], figures["worker: due reminders"]["value"]
    assert out["reminders_per_s"] == swept > 0
    assert abs(out["reminders_to_bare"] - swept / bare) < 1e-9
    assert figures["reminders / bare sending"]["target"] == ">= 0.5x"


def test_bench_worker_refuses_reminders_that_do_not_split_across_cases() -> None:
    result = subprocess.run(
        [sys.executable, "bench/worker.py", "--cases", "3", "--jobs", "20", "--reminders"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "multiple of --cases" in result.stderr
