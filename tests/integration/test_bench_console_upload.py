"""``bench/console_upload.py --json`` prints one object: the console upload's rate, its ratio to the disk
baseline and the server's RSS growth. A smoke run on a tiny file checks the keys, never a timing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_console_upload_json_has_the_ratio_and_rss_keys() -> None:
    result = subprocess.run(
        [sys.executable, "bench/console_upload.py", "--json", "--gib", "0.002", "--repeat", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]  # 1: a target missed on a busy machine
    figures = json.loads(result.stdout)
    for key in ("baseline_mib_s", "console_mib_s", "ratio", "rss_growth_mib"):
        assert isinstance(figures[key], float) and figures[key] >= 0, key
    assert figures["size_bytes"] == int(0.002 * 1024**3) and figures["rounds"] == 2
    assert len(figures["baseline_runs_mib_s"]) == len(figures["console_runs_mib_s"]) == 2
    assert figures["ratio_target"] == 0.7 and figures["rss_target_mib"] == 64
    assert isinstance(figures["ratio_ok"], bool) and isinstance(figures["rss_ok"], bool)
