"""Console upload throughput (issue 13): the evidence tab's per-file upload against the disk's own limit.

One file (``--gib``, default 2) goes, over real HTTP to uvicorn on loopback, through the route the upload
script uses (``POST /cases/{id}/evidence/upload``: a signed-in staff session, the CSRF token in
``X-CSRF-Token``, the raw body streamed into the same ingest as the API). The baseline is
``bench/upload.py``'s: read + SHA-256 + write + fsync of the same file. Rounds (``--repeat``, default 3)
interleave baseline and console and rotate their order; the figures are medians. Targets: the console upload at
>= 0.7x the baseline, and peak RSS growth of the serving process (uvicorn runs in this process) < 64 MiB.

    .venv/bin/python bench/console_upload.py [--gib 2] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import shutil
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

import httpx  # noqa: E402

from bench.common import MIB, SCRATCH, Measured, measure, median, mib_per_s, note  # noqa: E402
from bench.upload import (  # noqa: E402
    HTTP_TARGET,
    RSS_TARGET_MIB,
    Deployment,
    baseline_copy,
    check_hash,
    deployment,
    file_chunks,
    make_test_file,
    serving,
)
from vault.db import session_scope  # noqa: E402
from vault.orgs import signin  # noqa: E402
from vault.orgs.staff import add_staff  # noqa: E402

GIB = 1024 * MIB
STAFF = "bench-staff@bench.example"


def _token(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    if not found:
        raise RuntimeError("no CSRF field in the page")
    return found.group(1)


def signed_in_client(base_url: str, dep: Deployment) -> tuple[httpx.Client, str]:
    """A browser-like client signed in to the console, and the evidence page's CSRF token."""
    with session_scope(dep.services.engine) as session:
        add_staff(session, dep.principal, email=STAFF, name="Bench staff", role="member")
        password = secrets.token_urlsafe(18)  # a fresh one per run: nothing to keep secret afterwards
        signin.set_password(session, dep.principal, email=STAFF, password=password)
    client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(600.0))
    form = {"email": STAFF, "password": password, "csrf": _token(client.get("/login").text)}
    login = client.post("/login", data=form)
    if login.status_code != 303:
        client.close()
        raise RuntimeError(f"expected 303 from the sign-in, found {login.status_code}")
    return client, _token(client.get(f"/cases/{dep.case_id}/evidence").text)


def upload_console(client: httpx.Client, token: str, case_id: str, source: Path) -> str:
    headers = {
        "x-csrf-token": token,
        "x-offboard-filename": source.name,
        "x-offboard-kind": "deliverable",
        "content-type": "application/octet-stream",
        "content-length": str(source.stat().st_size),  # as XMLHttpRequest.send(File) declares it
    }
    response = client.post(f"/cases/{case_id}/evidence/upload", headers=headers, content=file_chunks(source))
    if response.status_code != 201:
        raise RuntimeError(f"expected 201 from the upload, found {response.status_code}: {response.text[:500]}")
    return str(response.json()["sha256"])


def run(scratch: Path, size: int, repeat: int) -> dict[str, Any]:
    """Interleaved rounds, each starting with the other phase, so both see the same cache and writeback state.

    The source file is written and fsynced before any timing, and every round settles the disk first
    (``measure``): a baseline timed right after writing its source measured the writeback of that file too.
    Each console round gets a fresh deployment, so deduplication never short-cuts a write.
    """
    source = scratch / "bench-console-upload.bin"
    note(f"creating {size / MIB:,.0f} MiB of random bytes in {scratch} ...")
    expected = make_test_file(source, size)  # fsynced before it returns

    def baseline() -> Measured:
        folder = Path(tempfile.mkdtemp(prefix="baseline-", dir=scratch))
        try:
            found, measured = measure(partial(baseline_copy, source, folder / "copy.bin"))
        finally:
            shutil.rmtree(folder)
        check_hash("baseline", expected, found)
        return measured

    def console() -> Measured:
        with deployment(scratch, size) as dep, serving(dep) as base_url:
            client, token = signed_in_client(base_url, dep)
            try:
                found, measured = measure(partial(upload_console, client, token, dep.case_id, source))
            finally:
                client.close()
        check_hash("console upload", expected, found)
        return measured

    runs: dict[str, list[Measured]] = {"baseline": [], "console": []}
    phases: list[tuple[str, Callable[[], Measured]]] = [("baseline", baseline), ("console", console)]
    for round_no in range(repeat):
        shift = round_no % len(phases)
        for name, phase in phases[shift:] + phases[:shift]:
            measured = phase()
            runs[name].append(measured)
            note(f"round {round_no + 1}/{repeat}: {name} {mib_per_s(size, measured.seconds):,.0f} MiB/s")
    return summary(size, runs["baseline"], runs["console"])


def summary(size: int, baseline: list[Measured], console: list[Measured]) -> dict[str, Any]:
    base_s = median(m.seconds for m in baseline)
    console_s = median(m.seconds for m in console)
    ratio = base_s / console_s if console_s > 0 else float("inf")
    rss_mib = max(m.rss_growth_bytes for m in console) / MIB  # the worst round
    return {
        "size_bytes": size,
        "rounds": len(console),
        "baseline_mib_s": round(mib_per_s(size, base_s), 2),
        "console_mib_s": round(mib_per_s(size, console_s), 2),
        "baseline_runs_mib_s": [round(mib_per_s(size, m.seconds), 2) for m in baseline],
        "console_runs_mib_s": [round(mib_per_s(size, m.seconds), 2) for m in console],
        "ratio": round(ratio, 3),
        "ratio_target": HTTP_TARGET,
        "ratio_ok": ratio >= HTTP_TARGET,
        "rss_growth_mib": round(rss_mib, 2),
        "rss_target_mib": RSS_TARGET_MIB,
        "rss_ok": rss_mib < RSS_TARGET_MIB,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--gib", type=float, default=2.0, help="test file size in GiB (default 2)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds; figures are medians (default 3)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = parser.parse_args(argv)
    size = max(1, int(args.gib * GIB))
    SCRATCH.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="console-upload-", dir=SCRATCH))
    try:
        result = run(scratch, size, max(1, args.repeat))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0 if result["ratio_ok"] and result["rss_ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
