"""``bench/witness.py --json`` prints the cosigning median and the tiles-to-static ratio (issue 16). A smoke
run on tiny sizes: it checks the shape and that the ratio is the rates' quotient, never a timing (benchmarks
are not tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_witness_json_names_both_figures() -> None:
    result = subprocess.run(
        [sys.executable, "bench/witness.py", "--json", "--rounds", "3", "--entries", "300", "--requests", "20"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout)
    for key in ("cosign_median_ms", "tiles_per_s", "static_per_s", "tiles_to_static"):
        assert isinstance(figures[key], float) and figures[key] > 0, key
    assert abs(figures["tiles_to_static"] - figures["tiles_per_s"] / figures["static_per_s"]) < 1e-9
    assert figures["rounds"] == 3 and figures["entries"] == 300
    names = [f["name"] for f in figures["figures"]]
    assert names == ["new checkpoint 2-of-2 cosigned (median)", "full tiles", "static 8 KiB response", "tiles / static"]
