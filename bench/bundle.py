"""Benchmark (not a test): export and verify a case with 1 GiB of evidence and 10,000 ledger entries.

Prints the export and verify times and throughputs, and beside them the raw SHA-256 read throughput of the
same evidence files in the same run (read from the local object store and hashed, nothing else), with the
ratio of verify throughput to it (target >= 0.7x). Everything lives in a temporary folder that is removed.

    .venv/bin/python bench/bundle.py [--gib 1] [--entries 10000] [--files 16]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.rendering import render_bundle_report
from vault.bundle.export import BundleStream, prepare  # noqa: E402
from vault.bundle.verify import verify_bundle  # noqa: E402
from vault.cases import open_case  # noqa: E402
from vault.config import Settings  # noqa: E402
from vault.db import session_scope  # noqa: E402
from vault.evidence import EvidenceIngest  # noqa: E402
from vault.ledger import log  # noqa: E402
from vault.ledger.entries import EntryDraft  # noqa: E402
from vault.orgs import Principal, Role  # noqa: E402
from vault.services import build_services  # noqa: E402
from vault.setup import initialize  # noqa: E402
from vault.staff import add_staff  # noqa: E402

CHUNK = 1024 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="offboard-bench-bundle-") as folder:
        run(Path(folder), int(args.gib * 1024**3), args.entries, args.files)


def run(folder: Path, total: int, entries: int, files: int) -> None:
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
        ingest = EvidenceIngest(services.engine, services.store, principal, case_id, services.ingest_limits)
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
    with session_scope(services.engine) as session:
        plan = prepare(session, services.settings, principal, case_id, render_report=render_bundle_report)
    plan_seconds = time.perf_counter() - started
    stream = BundleStream(services.engine, services.store, plan)
    with target.open("wb") as handle:
        for chunk in stream:
            handle.write(chunk)
    export_seconds = time.perf_counter() - started
    zip_bytes = target.stat().st_size

    started = time.perf_counter()
    report = verify_bundle(target)
    verify_seconds = time.perf_counter() - started
    if not report.ok:
        raise SystemExit(f"bench bundle does not verify: {report.failures[:3]}")

    blobs = Path(services.settings.resolved_storage_url.removeprefix("file://"))
    started = time.perf_counter()
    raw_bytes = 0
    for item in plan.evidence:
        digest = hashlib.sha256()
        with (blobs / item.row.storage_key).open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                raw_bytes += len(chunk)
    raw_seconds = time.perf_counter() - started
    services.close()

    mib = 1024 * 1024
    verify_rate = zip_bytes / verify_seconds / mib
    raw_rate = raw_bytes / raw_seconds / mib
    print(f"evidence: {files} files, {total / mib:.0f} MiB; case entries in bundle: {len(plan.entries)}")
    print(f"setup: ingest {ingest_seconds:.1f} s, {entries - files - 2} appends {append_seconds:.1f} s")
    print(f"plan (proofs, report html+pdf): {plan_seconds:.1f} s")
    export_rate = zip_bytes / export_seconds / mib
    print(f"export: {export_seconds:.1f} s, {zip_bytes / mib:.0f} MiB zip, {export_rate:.0f} MiB/s")
    print(f"verify: {verify_seconds:.1f} s, {len(report.checks)} checks, {verify_rate:.0f} MiB/s")
    print(f"raw SHA-256 read of the same evidence: {raw_seconds:.1f} s, {raw_rate:.0f} MiB/s")
    print(f"verify / raw SHA-256 read: {verify_rate / raw_rate:.2f}x (target >= 0.7x)")


if __name__ == "__main__":
    main()
