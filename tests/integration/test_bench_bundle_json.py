"""``bench/bundle.py --vs-bagit --json`` prints one object with the three ratios of issue 17 requirement 2.
A smoke run on a tiny case: it checks the shape and that both tools ran, never a timing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_bundle_vs_bagit_json_has_the_three_ratios() -> None:
    result = subprocess.run(
        [sys.executable, "bench/bundle.py", "--vs-bagit", "--json", "--gib", "0.002", "--entries", "60",
         "--files", "2", "--repeat", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout)
    for key in ("verify_vs_bagit", "export_vs_bagit", "verify_to_sha256_floor"):
        assert isinstance(figures[key], float) and figures[key] > 0, key
    assert figures["targets"] == {"verify_vs_bagit": 1.3, "export_vs_bagit": 1.0, "verify_to_sha256_floor": 0.6}
    assert figures["rounds"] == 1 and figures["gib"] == 0.002
    assert set(figures["seconds"]) == {"offboard_export", "bagit_export", "offboard_verify", "bagit_verify"}
    assert all(value > 0 for value in figures["seconds"].values())
    assert figures["peak_rss_mib"]["offboard_verify"] > 0 and isinstance(figures["meets_targets"], bool)
