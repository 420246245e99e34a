"""Upload throughput (issue 2, "Benchmark"): Offboard's ingest against what the disk itself can do.

In one run, on one disk (a scratch folder under ``bench/out/``, removed afterwards), with 1 MiB chunks:

- baseline: read + SHA-256 + write + fsync of the test file: the machine's own limit for a durable,
  hashed copy;
- (a) storage layer: ``vault.evidence.ingest.EvidenceIngest`` (hash, temp file, fsync, rename, row, ledger entry);
- (b) HTTP: the real app under uvicorn on loopback, fed a raw streamed body by httpx.

Rounds are interleaved and rotate their order (baseline, a, b; a, b, baseline; ...) so disk noise and
what one phase leaves behind hit every phase alike; each phase gets a fresh deployment so deduplication
never short-cuts a write. The figures are medians of the rounds; RSS growth is the worst round.
Targets: a >= 0.8x and b >= 0.7x the baseline, RSS growth < 64 MiB.

    .venv/bin/python bench/upload.py [--size-mib 1024] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from api.app import create_app  # noqa: E402
from bench.common import (  # noqa: E402
    MIB,
    SCRATCH,
    Figure,
    Measured,
    measure,
    median,
    mib_per_s,
    note,
    print_figures,
)
from bench.common import free_port as pick_port  # noqa: E402
from vault.cases.lifecycle import open_case  # noqa: E402
from vault.config import Settings  # noqa: E402
from vault.db import session_scope  # noqa: E402
from vault.evidence.ingest import EvidenceIngest  # noqa: E402
from vault.orgs.organizations import Principal, Role  # noqa: E402
from vault.orgs.staff import add_staff  # noqa: E402
from vault.services import Services, build_services  # noqa: E402
from vault.setup import initialize  # noqa: E402

CHUNK = MIB
STORAGE_TARGET = 0.8
HTTP_TARGET = 0.7
RSS_TARGET_MIB = 64
OWNER = "owner@bench.example"


def file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb", buffering=0) as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def make_test_file(path: Path, size: int) -> str:
    """Random bytes (not compressible, not deduplicable); returns their SHA-256 hex. Not timed."""
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        left = size
        while left:
            chunk = os.urandom(min(CHUNK, left))
            digest.update(chunk)
            handle.write(chunk)
            left -= len(chunk)
        handle.flush()
        os.fsync(handle.fileno())
    return digest.hexdigest()


def baseline_copy(source: Path, target: Path) -> str:
    """The machine's limit: read, hash and write each chunk once, then fsync, as a durable store must."""
    digest = hashlib.sha256()
    with target.open("wb", buffering=0) as out:
        for chunk in file_chunks(source):
            digest.update(chunk)
            out.write(chunk)
        os.fsync(out.fileno())
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Deployment:
    services: Services
    principal: Principal
    case_id: str
    token: str


@contextmanager
def deployment(scratch: Path, size: int) -> Iterator[Deployment]:
    """A fresh embedded deployment (SQLite + local folder) with one open case; removed on exit."""
    home = Path(tempfile.mkdtemp(prefix="home-", dir=scratch))
    # Explicit values so OFFBOARD_* variables in the environment cannot point the benchmark elsewhere.
    settings = Settings(
        home=home, database_url=None, storage_url=None, keys_dir=None, max_upload_bytes=max(size, 1) + MIB
    )
    services = build_services(settings)
    try:
        init = initialize(services)
        if init.admin_token is None:
            raise RuntimeError(f"expected a fresh home at {home}, found an initialized one")
        principal = Principal(init.organization_id, Role.ADMIN, "cli:bench")
        with session_scope(services.engine) as session:
            add_staff(session, principal, email=OWNER, name="Bench owner", role=Role.ADMIN)
            case = open_case(session, principal, client_name="Bench client", owner_email=OWNER)
            case_id = case.id
        yield Deployment(services, principal, case_id, init.admin_token.secret)
    finally:
        services.close()
        shutil.rmtree(home, ignore_errors=True)


def ingest_storage(dep: Deployment, source: Path) -> str:
    svc = dep.services
    ingest = EvidenceIngest(
        svc.store, dep.principal, dep.case_id, svc.ingest_limits, transact=svc.transact, clock=svc.clock
    )
    try:
        for chunk in file_chunks(source):
            ingest.feed(chunk)
        result = ingest.finish(
            filename=source.name,
            kind="deliverable",
            content_type="application/octet-stream",
            description=None,
        )
    except BaseException:
        ingest.abort()
        raise
    return result.evidence.sha256


@contextmanager
def serving(dep: Deployment) -> Iterator[str]:
    """The real app under uvicorn (default loop and HTTP parser, as ``offboard serve``) in a thread."""
    app = create_app(dep.services.settings, services=dep.services)
    port = pick_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="bench-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on 127.0.0.1:{port}")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def upload_http(base_url: str, dep: Deployment, source: Path) -> str:
    headers = {
        "authorization": f"Bearer {dep.token}",
        "content-type": "application/octet-stream",
        # Declared, as a real client would, so the body is not chunk-encoded.
        "content-length": str(source.stat().st_size),
    }
    with httpx.Client(timeout=httpx.Timeout(600.0)) as client:
        response = client.post(
            f"{base_url}/api/v1/cases/{dep.case_id}/evidence",
            params={"filename": source.name, "kind": "deliverable"},
            headers=headers,
            content=file_chunks(source),
        )
    if response.status_code != 201:
        raise RuntimeError(f"expected 201 from the upload, found {response.status_code}: {response.text[:500]}")
    sha256: str = response.json()["sha256"]
    return sha256


def check_hash(phase: str, expected: str, found: str) -> None:
    if found != expected:
        raise RuntimeError(f"{phase}: expected SHA-256 {expected}, found {found}")


@dataclass
class Runs:
    baseline: list[Measured]
    storage: list[Measured]
    http: list[Measured]


def run(scratch: Path, size: int, repeat: int, *, skip_http: bool) -> Runs:
    source = scratch / "bench-upload.bin"
    note(f"creating {size / MIB:,.0f} MiB of random bytes in {scratch} ...")
    expected = make_test_file(source, size)

    def baseline() -> Measured:
        # A fresh folder, as each deployment's store gets: writing beside the source file measured
        # up to 1.6x slower on this virtual disk, which would flatter Offboard's ratios.
        folder = Path(tempfile.mkdtemp(prefix="baseline-", dir=scratch))
        try:
            found, measured = measure(partial(baseline_copy, source, folder / "copy.bin"))
        finally:
            shutil.rmtree(folder)
        check_hash("baseline", expected, found)
        return measured

    def storage() -> Measured:
        with deployment(scratch, size) as dep:
            found, measured = measure(partial(ingest_storage, dep, source))
        check_hash("storage layer", expected, found)
        return measured

    def http() -> Measured:
        with deployment(scratch, size) as dep, serving(dep) as base_url:
            found, measured = measure(partial(upload_http, base_url, dep, source))
        check_hash("HTTP", expected, found)
        return measured

    runs = Runs([], [], [])
    phases: list[tuple[str, Callable[[], Measured], list[Measured]]] = [
        ("baseline", baseline, runs.baseline),
        ("storage layer", storage, runs.storage),
    ]
    if not skip_http:
        phases.append(("HTTP", http, runs.http))
    for round_no in range(repeat):
        # Each round starts with the next phase, so no phase always pays for what the one before it
        # left behind (deleted gigabytes are discarded asynchronously on this disk).
        shift = round_no % len(phases)
        for name, phase, results in phases[shift:] + phases[:shift]:
            measured = phase()
            results.append(measured)
            speed = mib_per_s(size, measured.seconds)
            note(f"round {round_no + 1}/{repeat}: {name} {speed:,.0f} MiB/s")
    return runs


def figures(runs: Runs, size: int) -> list[Figure]:
    base = median(mib_per_s(size, m.seconds) for m in runs.baseline)
    result = [Figure("baseline: read + SHA-256 + write + fsync", base, "MiB/s")]
    phases = [
        ("(a) storage layer", runs.storage, STORAGE_TARGET),
        ("(b) HTTP on loopback", runs.http, HTTP_TARGET),
    ]
    for name, measured, target in phases:
        if not measured:
            continue
        speed = median(mib_per_s(size, m.seconds) for m in measured)
        ratio = speed / base
        growth = max(m.rss_growth_bytes for m in measured) / MIB
        result += [
            Figure(f"{name}", speed, "MiB/s"),
            Figure(f"{name}: ratio to baseline", ratio, "x", f">= {target}", ratio >= target),
            Figure(f"{name}: peak RSS growth", growth, "MiB", f"< {RSS_TARGET_MIB}", growth < RSS_TARGET_MIB),
        ]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--size-mib", type=int, default=1024, help="test file size in MiB (default 1024)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; figures are medians (default 3)")
    parser.add_argument("--dir", type=Path, default=SCRATCH, help="parent of the scratch folder (default bench/out)")
    parser.add_argument("--skip-http", action="store_true", help="measure only the baseline and (a)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON on stdout")
    args = parser.parse_args(argv)
    if args.size_mib < 1 or args.repeat < 1:
        parser.error("--size-mib and --repeat must be at least 1")
    size = args.size_mib * MIB
    args.dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="upload-", dir=args.dir))
    try:
        runs = run(scratch, size, args.repeat, skip_http=args.skip_http)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    extra = {
        "size_bytes": size,
        "chunk_bytes": CHUNK,
        "repeat": args.repeat,
        "seconds": {
            "baseline": [m.seconds for m in runs.baseline],
            "storage": [m.seconds for m in runs.storage],
            "http": [m.seconds for m in runs.http],
        },
        "cpus": os.cpu_count(),
    }
    print_figures(figures(runs, size), as_json=args.json, extra=extra)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
