"""``bench/ledger.py --json`` prints one object carrying the write path's ratios to its floors (issue 12,
requirement 9). A smoke run on tiny sizes: it checks the shape and that the ratios are the rates' quotients,
never a timing (benchmarks are not tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_ledger_json_names_the_ratios_to_the_floors() -> None:
    result = subprocess.run(
        [sys.executable, "bench/ledger.py", "--json", "--appends", "40", "--proof-entries", "64", "--skip-postgres"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout)
    sqlite = figures["sqlite"]
    for key in ("one_writer_to_floor", "eight_writers_to_floor", "one_writer_per_s", "bare_append_per_s"):
        assert isinstance(sqlite[key], float) and sqlite[key] > 0, key
    assert "postgres" not in figures
    assert figures["proofs_sqlite"]["entries"] == 64
