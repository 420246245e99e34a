"""``bench/console.py --json`` prints one object with each measured page's median and p95 (issue 13). A
smoke run on tiny sizes: it checks the shape, never a timing (benchmarks are not tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_console_json_names_each_page_and_its_p95() -> None:
    result = subprocess.run(
        [sys.executable, "bench/console.py", "--json", "--cases", "20", "--evidence", "5", "--entries", "80",
         "--receipts", "2", "--requests", "3"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout)
    assert figures["cases"] == 20 and figures["entries"] >= 80 and figures["target_p95_ms"] == 150.0
    assert "/" in figures["pages"] and figures["receipts"] == 2
    for row in figures["pages"].values():
        assert row["requests"] == 3 and row["p95_ms"] >= row["median_ms"] > 0 and isinstance(row["meets_target"], bool)
    assert set(figures["pages"]) | set(figures["skipped"]) == {
        "/",
        "/cases/{id}",
        "/cases/{id}/evidence",
        "/cases/{id}/receipts",
        "/cases/{id}/timeline",
    }
