"""``bench/bundle.py --vs-bagit``: Offboard's bundle commands against the stock BagIt tools, whole processes,
on the same files, in the same run (issue 17, requirement 2). Not a test.

Three ratios, each a median of ``--repeat`` interleaved rounds (default 5); a ratio above 1 means Offboard is
faster:

- ``verify_vs_bagit``: ``bagit.py --validate DIR`` on the already-unzipped bag, over ``offboard verify
  BUNDLE.zip`` (target >= 1.3x). Both are whole processes: start-up and imports count.
- ``export_vs_bagit``: ``bagit.py --sha256 DIR`` making a bag of a copy of the same evidence files, then
  ``zip -0 -r`` of it and an fsync of the ZIP (``sync FILE``), over ``offboard bundle export CASE -o FILE``
  (target >= 1.0x). The copy is made before the clock starts.
- ``verify_to_sha256_floor``: the in-process ``verify_bundle`` throughput over the machine's two-core SHA-256
  read rate of the same ZIP's bytes (two threads, each reading and hashing half with hashlib, which uses the
  CPU's SHA instructions; target >= 0.6x).

Peak RSS of each whole-process ``offboard`` run is read from ``wait4`` (target < 200 MiB for a 1 GiB bundle).
Every command runs with the page cache as the previous round left it, after an ``os.sync()``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 1024 * 1024
MIB = 1024 * 1024
TARGETS = {"verify_vs_bagit": 1.3, "export_vs_bagit": 1.0, "verify_to_sha256_floor": 0.6}
RSS_TARGET_MIB = 200


@dataclass(frozen=True, slots=True)
class Run:
    """One whole-process run: wall seconds and the process's peak RSS (0 when not read)."""

    seconds: float
    peak_rss_mib: float


#: Runs its arguments as a command and reports that command's peak RSS. Linux carries the RSS high-water mark of
#: the process that calls exec into the new program's ``ru_maxrss``, so a command started straight from this
#: (large) bench process would report at least the bench's own peak; started from this small launcher, it
#: reports at least the launcher's few MiB.
LAUNCHER = """
import os, sys
pid = os.posix_spawnp(sys.argv[1], sys.argv[1:], os.environ)
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(f"\\nlauncher-maxrss-kib={usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def timed_process(argv: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> Run:
    """Run ``argv`` to completion; fails loudly on a non-zero exit (a bench of a failing command is void)."""
    os.sync()
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own commands
        [sys.executable, "-S", "-c", LAUNCHER, *argv], env=env, cwd=cwd, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    errors = done.stderr.decode(errors="replace")
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} ... exited {done.returncode}: {errors[-1500:]}")
    kib = int(errors.rsplit("launcher-maxrss-kib=", 1)[1].split()[0])
    return Run(seconds, kib / 1024)


def tool(name: str) -> str:
    """A command from this venv's bin folder (bagit.py, offboard), else from PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed (make install-dev installs bagit)")
    return found


def two_core_sha256(path: Path) -> float:
    """Seconds to read and SHA-256 the file's bytes on two threads, each taking one half (hashlib releases
    the interpreter lock while it hashes, so the halves run on two cores)."""
    size = path.stat().st_size
    middle = size // 2

    def half(start: int, end: int) -> None:
        digest = hashlib.sha256()
        with path.open("rb", buffering=0) as handle:
            handle.seek(start)
            left = end - start
            while left > 0:
                chunk = handle.read(min(CHUNK, left))
                if not chunk:
                    break
                digest.update(chunk)
                left -= len(chunk)

    threads = [threading.Thread(target=half, args=span) for span in ((0, middle), (middle, size))]
    os.sync()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def cli_env(home: Path) -> dict[str, str]:
    """The environment of the ``offboard`` processes: this home, nothing else of the caller's OFFBOARD_*."""
    env = {key: value for key, value in os.environ.items() if not key.upper().startswith("OFFBOARD_")}
    env.update({"OFFBOARD_HOME": str(home), "OFFBOARD_BASE_URL": "http://bench.example", "NO_COLOR": "1"})
    return env


def compare(folder: Path, home: Path, case_id: str, evidence: list[Path], repeat: int) -> dict[str, Any]:
    """Every round: export both ways, then verify both ways, then the in-process verify and its floor."""
    from vault.bundle.verify import verify_bundle

    offboard, bagit = tool("offboard"), tool("bagit.py")
    env = cli_env(home)
    runs: dict[str, list[Run]] = {
        name: [] for name in ("offboard_export", "bagit_export", "offboard_verify", "bagit_verify")
    }
    in_process: list[float] = []
    floor: list[float] = []
    bundle = folder / "case.zip"
    unzipped = folder / "unzipped"
    export_offboard = partial(timed_process, [offboard, "bundle", "export", case_id, "-o", str(bundle)], env=env)
    verify_offboard = partial(timed_process, [offboard, "verify", str(bundle)], env=env)
    for round_no in range(max(1, repeat)):
        bundle.unlink(missing_ok=True)
        # Alternate which goes first, so neither always meets the cache the other left.
        first = round_no % 2 == 0
        exports = [
            ("offboard_export", export_offboard),
            ("bagit_export", partial(bagit_export, folder, bagit, evidence)),
        ]
        for name, step in exports if first else exports[::-1]:
            runs[name].append(step())
        if round_no == 0:
            shutil.rmtree(unzipped, ignore_errors=True)
            with zipfile.ZipFile(bundle) as archive:
                archive.extractall(unzipped)  # noqa: S202 - our own bundle, just written
        bag = next(unzipped.iterdir())
        verify_bagit = partial(timed_process, [bagit, "--validate", "--quiet", str(bag)])
        verifies = [("offboard_verify", verify_offboard), ("bagit_verify", verify_bagit)]
        for name, step in verifies if first else verifies[::-1]:
            runs[name].append(step())
        os.sync()
        started = time.perf_counter()
        report = verify_bundle(bundle)
        in_process.append(time.perf_counter() - started)
        if not report.ok:
            raise SystemExit(f"the bench bundle does not verify: {report.failures[:3]}")
        floor.append(two_core_sha256(bundle))
        figures = {name: f"{values[-1].seconds:.2f}" for name, values in runs.items()}
        print(f"round {round_no + 1}: {figures}, in-process verify {in_process[-1]:.2f}", file=sys.stderr)
    return summary(runs, in_process, floor, bundle.stat().st_size)


def bagit_export(folder: Path, bagit: str, evidence: list[Path]) -> Run:
    """``bagit.py --sha256`` over a fresh copy of the evidence files, ``zip -0`` of the bag, fsync of the ZIP."""
    bag, target = folder / "bag", folder / "bag.zip"
    shutil.rmtree(bag, ignore_errors=True)
    target.unlink(missing_ok=True)
    bag.mkdir()
    for path in evidence:
        shutil.copyfile(path, bag / path.name)
    script = f'"{bagit}" --sha256 --quiet bag && zip -0 -r -q bag.zip bag && sync bag.zip'
    try:
        return timed_process(["sh", "-c", script], cwd=folder)
    finally:
        shutil.rmtree(bag, ignore_errors=True)
        target.unlink(missing_ok=True)


def summary(runs: dict[str, list[Run]], in_process: list[float], floor: list[float], zip_bytes: int) -> dict[str, Any]:
    seconds = {name: statistics.median(r.seconds for r in values) for name, values in runs.items()}
    verify_in_process = statistics.median(in_process)
    floor_seconds = statistics.median(floor)
    figures: dict[str, Any] = {
        "verify_vs_bagit": round(seconds["bagit_verify"] / seconds["offboard_verify"], 3),
        "export_vs_bagit": round(seconds["bagit_export"] / seconds["offboard_export"], 3),
        "verify_to_sha256_floor": round(floor_seconds / verify_in_process, 3),
        "targets": TARGETS,
        "rounds": len(in_process),
        "zip_mib": round(zip_bytes / MIB, 1),
        "seconds": {name: round(value, 3) for name, value in seconds.items()},
        "verify_in_process_s": round(verify_in_process, 3),
        "sha256_two_core_mib_s": round(zip_bytes / MIB / floor_seconds, 1),
        "peak_rss_mib": {
            "offboard_export": round(max(r.peak_rss_mib for r in runs["offboard_export"]), 1),
            "offboard_verify": round(max(r.peak_rss_mib for r in runs["offboard_verify"]), 1),
        },
        "rss_target_mib": RSS_TARGET_MIB,
    }
    figures["meets_targets"] = all(figures[name] >= target for name, target in TARGETS.items()) and all(
        value < RSS_TARGET_MIB for value in figures["peak_rss_mib"].values()
    )
    return figures


def print_summary(figures: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(figures))
        return
    s = figures["seconds"]
    print(f"bundle: {figures['zip_mib']} MiB ZIP; medians of {figures['rounds']} interleaved rounds")
    print(f"export: offboard {s['offboard_export']:.2f} s, bagit.py --sha256 + zip -0 + fsync {s['bagit_export']:.2f} s"
          f" -> {figures['export_vs_bagit']:.2f}x (target >= 1.0x)")  # fmt: skip
    print(f"verify: offboard {s['offboard_verify']:.2f} s, bagit.py --validate (unzipped) {s['bagit_verify']:.2f} s"
          f" -> {figures['verify_vs_bagit']:.2f}x (target >= 1.3x)")  # fmt: skip
    floor = f"{figures['sha256_two_core_mib_s']:.0f} MiB/s -> {figures['verify_to_sha256_floor']:.2f}x (target >= 0.6x)"
    print(f"in-process verify {figures['verify_in_process_s']:.2f} s against two-core SHA-256 {floor}")
    rss = figures["peak_rss_mib"]
    print(f"peak RSS: export {rss['offboard_export']:.0f} MiB, verify {rss['offboard_verify']:.0f} MiB (target < 200)")
