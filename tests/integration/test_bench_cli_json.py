"""``bench/cli.py --json`` prints one object with the start-up ratios (issue 14, item 6). A smoke run on a
tiny home and one round: it checks the shape and that each ratio is its round's quotient, never a timing
(benchmarks are not tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_cli_json_names_the_ratios_to_the_baseline() -> None:
    result = subprocess.run(
        [sys.executable, "bench/cli.py", "--json", "--cases", "2", "--repeat", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout)
    seconds = figures["seconds"]
    assert set(figures["ratios"]) == {"help", "version", "case_list", "import_sqlmodel"}
    for name, ratio in figures["ratios"].items():
        assert ratio == seconds[name][0] / seconds["baseline"][0], name
    assert figures["targets"] == {"help": 1.5, "version": 1.5, "case_list": 3.0}
    assert (figures["cases"], figures["repeat"], figures["bytecode"]) == (2, 1, "as-is")
