"""Benchmark (not a test): export and verify a case with 1 GiB of evidence and 10,000 ledger entries.

Default mode, in this process: prints the export and verify times and throughputs and, beside them, the raw
SHA-256 read throughput of the same evidence files in the same run (read from the local object store and
hashed, nothing else), with the ratio of verify throughput to it. Verify and the raw reads run ``--repeat``
times, interleaved; the figures are medians.

``--vs-bagit`` instead compares whole ``offboard`` processes with the stock BagIt tools on the same files
(``bench/bundle_bagit.py``); ``--json`` prints its figures as one object. Everything lives in a temporary
folder that is removed.

Before measuring, the worker runs the jobs an upload leaves (as a deployment's worker does some minutes after
each upload): each file's MD5, for the load file, is then recorded in the ledger (``vault/evidence/md5.py``)
and the export takes it from there. ``--unrecorded-md5`` skips that, so the export computes every MD5 itself,
as for files stored before MD5s were recorded or exported within minutes of their upload.

    .venv/bin/python bench/bundle.py [--gib 1] [--entries 10000] [--files 16] [--repeat 5]
    .venv/bin/python bench/bundle.py --vs-bagit [--json] [--gib G] [--unrecorded-md5]
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
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import select  # noqa: E402

from vault.bundle.export import BundleStream, prepare  # noqa: E402
from vault.bundle.verify import verify_bundle  # noqa: E402
from vault.cases.lifecycle import open_case  # noqa: E402
from vault.clock import system_clock  # noqa: E402
from vault.config import Settings  # noqa: E402
from vault.config_file import write_env_file  # noqa: E402
from vault.db import session_scope  # noqa: E402
from vault.evidence.ingest import EvidenceIngest  # noqa: E402
from vault.ledger import log  # noqa: E402
from vault.ledger.entries import EntryDraft  # noqa: E402
from vault.models import Evidence  # noqa: E402
from vault.orgs.organizations import Principal, Role  # noqa: E402
from vault.orgs.staff import add_staff  # noqa: E402
from vault.services import Services, build_services  # noqa: E402
from vault.setup import initialize  # noqa: E402

CHUNK = 1024 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=5, help="rounds; figures are medians (default 5)")
    parser.add_argument("--vs-bagit", action="store_true", help="whole processes against bagit.py (and zip)")
    parser.add_argument("--json", action="store_true", help="with --vs-bagit: one JSON object on stdout")
    parser.add_argument("--unrecorded-md5", action="store_true", help="no worker run: the export computes MD5s")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="offboard-bench-bundle-") as folder:
        record = not args.unrecorded_md5
        seeded = seed(Path(folder), int(args.gib * 1024**3), args.entries, args.files, record_md5s=record)
        if not args.vs_bagit:
            run(Path(folder), seeded, args.repeat)
            return
        from bench.bundle_bagit import compare, print_summary

        seeded.services.close()  # the CLI processes open the home themselves
        figures = compare(Path(folder), seeded.home, seeded.case_id, seeded.evidence_files, args.repeat)
        figures.update(gib=args.gib, entries=args.entries, files=args.files, md5s_recorded=record)
        print_summary(figures, as_json=args.json)


@dataclass(frozen=True)
class Seeded:
    """A home with one case: ``files`` evidence files of ``total`` bytes in all and ``entries`` log entries."""

    services: Services
    home: Path
    principal: Principal
    case_id: str
    evidence_files: list[Path]
    timings: dict[str, Any]


def seed(folder: Path, total: int, entries: int, files: int, *, record_md5s: bool = False) -> Seeded:
    """``record_md5s``: run the worker's due jobs afterwards, which record each file's MD5 (one entry each)."""
    services = build_services(Settings(home=folder / "home", base_url="http://bench.example"))
    init = initialize(services)
    write_env_file(services.settings.env_file, {"base_url": "http://bench.example"})  # as `offboard init` does
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
        for number in range(entries - files * (2 if record_md5s else 1) - 2):
            draft = EntryDraft("case.note", init.organization_id, case_id, "bench", {"note": str(number), "text": "n"})
            log.append(session, draft)
    append_seconds = time.perf_counter() - started
    if record_md5s:
        from vault.evidence.md5 import MD5_DELAY
        from vault.jobs.loop import run_once

        run_once(services, now=system_clock() + MD5_DELAY + timedelta(minutes=1))
    blobs = Path(services.settings.resolved_storage_url.removeprefix("file://"))
    with session_scope(services.engine) as session:
        keys = sorted(e.storage_key for e in session.exec(select(Evidence).where(Evidence.case_id == case_id)))
    timings = {"ingest_s": ingest_seconds, "append_s": append_seconds, "files": files, "total": total}
    return Seeded(services, folder / "home", principal, case_id, [blobs / key for key in keys], timings)


def run(folder: Path, seeded: Seeded, repeat: int = 5) -> None:
    services, principal, case_id = seeded.services, seeded.principal, seeded.case_id
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

    files_read = seeded.evidence_files
    services.close()  # verify works offline, like a client's machine: nothing else open in this process
    verify_runs: list[float] = []
    verify_cpu: list[float] = []
    raw_runs: list[float] = []
    raw_bytes = 0
    for _ in range(max(1, repeat)):
        # Interleaved, so a burst of load on this shared machine hits verify and its baseline alike.
        cpu_before, started = process_cpu(), time.perf_counter()
        report = verify_bundle(target)
        verify_runs.append(time.perf_counter() - started)
        verify_cpu.append(process_cpu() - cpu_before)
        if not report.ok:
            raise SystemExit(f"bench bundle does not verify: {report.failures[:3]}")
        started = time.perf_counter()
        raw_bytes = read_and_hash(files_read, "sha256")
        raw_runs.append(time.perf_counter() - started)

    mib = 1024 * 1024
    t = seeded.timings
    verify_seconds = statistics.median(verify_runs)
    raw256 = raw_bytes / statistics.median(raw_runs) / mib
    verify_rate = zip_bytes / verify_seconds / mib
    print(f"evidence: {t['files']} files, {t['total'] / mib:.0f} MiB; case entries in bundle: {len(plan.entries)}")
    print(f"setup: ingest {t['ingest_s']:.1f} s, appends {t['append_s']:.1f} s")
    print(f"plan (proofs, report html+pdf): {plan_seconds:.1f} s")
    export_rate = zip_bytes / export_seconds / mib
    print(f"export: {export_seconds:.1f} s, {zip_bytes / mib:.0f} MiB zip, {export_rate:.0f} MiB/s")
    runs_text = ", ".join(f"{seconds:.2f}" for seconds in verify_runs)
    print(
        f"verify: {verify_seconds:.2f} s (median of {runs_text}), {len(report.checks)} checks, {verify_rate:.0f} MiB/s"
    )
    cpu = statistics.median(verify_cpu)
    print(f"verify CPU (all threads): {cpu:.2f} s, {cpu / verify_seconds:.2f} cores busy on average (median)")
    print(f"raw SHA-256 read of the same evidence, one thread: {raw256:.0f} MiB/s (median)")
    print(f"verify / raw SHA-256 read: {verify_rate / raw256:.2f}x")


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
