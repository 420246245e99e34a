"""Benchmark (not a test): export and verify a case with 1 GiB of evidence and 10,000 ledger entries.

Prints the export and verify times and throughputs, and beside them the raw SHA-256 read throughput of the
same evidence files in the same run (read from the local object store and hashed, nothing else), with the
ratio of verify throughput to it (target >= 0.7x). Verify must hash every byte with SHA-256 and SHA-512 (the
two payload manifests), so the raw SHA-512 read throughput is measured too, and from both the ceiling that
verify could reach with the hashing split perfectly over its threads. Verify and the raw reads run
``--repeat`` times, interleaved; the figures are medians. Everything lives in a temporary folder that is
removed.

    .venv/bin/python bench/bundle.py [--gib 1] [--entries 10000] [--files 16] [--repeat 5]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vault.bundle.export import BundleStream, prepare  # noqa: E402
from vault.bundle.verify import HASH_WORKERS, verify_bundle  # noqa: E402
from vault.cases.lifecycle import open_case  # noqa: E402
from vault.config import Settings  # noqa: E402
from vault.db import session_scope  # noqa: E402
from vault.evidence.ingest import EvidenceIngest  # noqa: E402
from vault.ledger import log  # noqa: E402
from vault.ledger.entries import EntryDraft  # noqa: E402
from vault.orgs.organizations import Principal, Role  # noqa: E402
from vault.orgs.staff import add_staff  # noqa: E402
from vault.services import build_services  # noqa: E402
from vault.setup import initialize  # noqa: E402

CHUNK = 1024 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=5, help="verify rounds; figures are medians (default 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="offboard-bench-bundle-") as folder:
        run(Path(folder), int(args.gib * 1024**3), args.entries, args.files, args.repeat)


def run(folder: Path, total: int, entries: int, files: int, repeat: int = 5) -> None:
    services = build_services(Settings(home=folder / "home", base_url="http://bench.example"))
    init = initialize(services)
    principal = Principal(init.organization_id, Role.ADMIN, "bench")
    with session_scope(services.engine) as session:
        add_staff(session, principal, email="pm@bench.example", role="member")
        case_id = open_case(session, principal, client_name="Bench Ltd", owner_email="pm@bench.example").id

    started = time.perf_counter()
    per_file = total // files
    block = os.urandom(CHUNK)
    for number in range(files):
        ingest = EvidenceIngest(services.store, principal, case_id, services.ingest_limits, transact=services.transact)
        for offset in range(0, per_file, CHUNK):
            # Distinct content per file and chunk, cheaply: a counter prefix on a random block.
            prefix = number.to_bytes(4, "big") + offset.to_bytes(8, "big")
            ingest.feed(prefix + block[12 : min(CHUNK, per_file - offset)])
        ingest.finish(filename=f"deliverable-{number}.bin", kind="deliverable", content_type=None, description=None)
    ingest_seconds = time.perf_counter() - started

    started = time.perf_counter()
    with session_scope(services.engine) as session:
        for number in range(entries - files - 2):
            draft = EntryDraft("case.note", init.organization_id, case_id, "bench", {"note": str(number), "text": "n"})
            log.append(session, draft)
    append_seconds = time.perf_counter() - started

    target = folder / "case.zip"
    started = time.perf_counter()
    plan = prepare(services.transact, services.settings, principal, case_id)
    plan_seconds = time.perf_counter() - started
    stream = BundleStream(services.transact, services.store, plan)
    with target.open("wb") as handle:
        for chunk in stream:
            handle.write(chunk)
    export_seconds = time.perf_counter() - started
    zip_bytes = target.stat().st_size

    blobs = Path(services.settings.resolved_storage_url.removeprefix("file://"))
    files_read = [blobs / item.row.storage_key for item in plan.evidence]
    services.close()  # verify works offline, like a client's machine: nothing else open in this process
    verify_runs: list[float] = []
    verify_cpu: list[float] = []
    raw: dict[str, list[float]] = {"sha256": [], "sha512": []}
    raw_bytes = 0
    for _ in range(max(1, repeat)):
        # Interleaved, so a burst of load on this shared machine hits verify and its baseline alike.
        cpu_before, started = process_cpu(), time.perf_counter()
        report = verify_bundle(target)
        verify_runs.append(time.perf_counter() - started)
        verify_cpu.append(process_cpu() - cpu_before)
        if not report.ok:
            raise SystemExit(f"bench bundle does not verify: {report.failures[:3]}")
        for algorithm, runs in raw.items():
            started = time.perf_counter()
            raw_bytes = read_and_hash(files_read, algorithm)
            runs.append(time.perf_counter() - started)

    mib = 1024 * 1024
    verify_seconds = statistics.median(verify_runs)
    raw256, raw512 = (raw_bytes / statistics.median(runs) / mib for runs in raw.values())
    verify_rate = zip_bytes / verify_seconds / mib
    # Both payload manifests must be checked, so every byte is hashed with SHA-256 and SHA-512: with the
    # work split perfectly over the hashing threads (and nothing else to do) verify could reach this.
    workers = min(HASH_WORKERS, os.cpu_count() or 1)
    ceiling = workers / (1 / raw256 + 1 / raw512)
    print(f"evidence: {files} files, {total / mib:.0f} MiB; case entries in bundle: {len(plan.entries)}")
    print(f"setup: ingest {ingest_seconds:.1f} s, {entries - files - 2} appends {append_seconds:.1f} s")
    print(f"plan (proofs, report html+pdf): {plan_seconds:.1f} s")
    export_rate = zip_bytes / export_seconds / mib
    print(f"export: {export_seconds:.1f} s, {zip_bytes / mib:.0f} MiB zip, {export_rate:.0f} MiB/s")
    runs_text = ", ".join(f"{seconds:.2f}" for seconds in verify_runs)
    print(
        f"verify: {verify_seconds:.2f} s (median of {runs_text}), {len(report.checks)} checks, {verify_rate:.0f} MiB/s"
    )
    cpu = statistics.median(verify_cpu)
    print(f"verify CPU (all threads): {cpu:.2f} s, {cpu / verify_seconds:.2f} cores busy on average (median)")
    print(f"raw SHA-256 read of the same evidence: {raw256:.0f} MiB/s; raw SHA-512 read: {raw512:.0f} MiB/s (medians)")
    print(f"verify / raw SHA-256 read: {verify_rate / raw256:.2f}x (target >= 0.7x)")
    print(
        f"ceiling with SHA-256 + SHA-512 of every byte on {workers} cores: {ceiling:.0f} MiB/s = "
        f"{ceiling / raw256:.2f}x of raw SHA-256; verify reaches {verify_rate / ceiling:.0%} of it"
    )


def process_cpu() -> float:
    """User and system CPU seconds of this process so far, every thread included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def read_and_hash(paths: list[Path], algorithm: str) -> int:
    """Read every file in 1 MiB chunks and hash it, nothing else; returns the bytes read."""
    total = 0
    for path in paths:
        digest = hashlib.new(algorithm)
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                total += len(chunk)
    return total


if __name__ == "__main__":
    main()
