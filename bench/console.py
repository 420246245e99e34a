"""Console benchmark: render time of the case list and of one case's pages through the real app.

Run with ``.venv/bin/python bench/console.py`` (``--json`` prints one object). On SQLite + a local folder,
through ``TestClient`` (the whole app: session check, domain reads, templates), it seeds ``--cases`` cases
(default 2,000) and, in one of them, ``--evidence`` evidence rows (default 500) and notes until the
organization's log holds ``--entries`` entries (default 5,000), each series in one transaction through the
domain functions. Then it requests each URL ``--requests`` times (default 50) after one warm-up request and
reports the median and 95th percentile in milliseconds against the target of 150 ms at p95 (issue 13).

The case also gets ``--receipts`` signed receipts (default 5), each sent to its two contacts (links shown by
hand, as without SMTP), so the receipts tab lists receipts with a status per contact.

The case's pages (``/cases/{id}``, ``/cases/{id}/evidence``, ``/cases/{id}/receipts``,
``/cases/{id}/timeline``) are measured when they answer 200 in the build the bench runs on; any other
answer is reported under ``skipped``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from api.app import create_app  # noqa: E402
from vault.cases import lifecycle  # noqa: E402
from vault.config import Settings  # noqa: E402
from vault.db import Unit  # noqa: E402
from vault.evidence.ingest import evidence_entry  # noqa: E402
from vault.handover.links import send_receipt  # noqa: E402
from vault.handover.receipts import create_receipt  # noqa: E402
from vault.ledger import log  # noqa: E402
from vault.models import Evidence  # noqa: E402
from vault.orgs import signin  # noqa: E402
from vault.orgs.organizations import Principal, Role  # noqa: E402
from vault.orgs.staff import add_staff  # noqa: E402
from vault.services import Services, build_services  # noqa: E402
from vault.setup import initialize  # noqa: E402

STAFF, PASSWORD = "bench@agency.example", "paper-lamp-orbit-71"
TARGET_MS = 150.0
CASE_PAGES = ("/cases/{id}", "/cases/{id}/evidence", "/cases/{id}/receipts", "/cases/{id}/timeline")
CONTACTS = ["it@client.example", "finance@client.example"]


def seed(services: Services, org: str, *, cases: int, evidence: int, entries: int) -> str:
    """The cases, then the evidence and notes of the first one; returns that case's id."""
    admin = Principal(org, Role.ADMIN, "bench:setup")

    def people(session: Unit) -> None:
        add_staff(session, admin, email=STAFF, name="Bench", role="admin")
        signin.set_password(session, admin, email=STAFF, password=PASSWORD)

    def open_all(session: Unit) -> str:
        ids = [
            lifecycle.open_case(session, admin, client_name=f"Client {n:05d}", owner_email=STAFF, contacts=CONTACTS).id
            for n in range(cases)
        ]
        return ids[0]

    def files(session: Unit) -> None:
        rows = [
            Evidence(
                organization_id=org, case_id=case_id, sha256=f"{n:064x}", size=1000 + n, content_type="application/pdf",
                original_filename=f"deliverable-{n:03d}.pdf", kind="deliverable", storage_key=f"bench/{n}",
            )
            for n in range(evidence)
        ]  # fmt: skip
        session.add_all(rows)
        session.flush()
        appended_all = log.append_many(session, [evidence_entry(r, admin.actor) for r in rows])
        for row, appended in zip(rows, appended_all, strict=True):
            row.ledger_index = appended.index
            session.add(row)

    def notes(session: Unit) -> None:
        for n in range(max(0, entries - log.size(session, org))):
            lifecycle.add_note(session, admin, case_id, f"bench note {n}")

    services.transact(people)
    case_id = services.transact(open_all)
    services.transact(files)
    services.transact(notes)
    return case_id


def send_receipts(services: Services, org: str, case_id: str, count: int) -> None:
    """``count`` receipts of the case's deliverables, each created and sent through the domain functions."""
    admin = Principal(org, Role.ADMIN, "bench:setup")
    for _ in range(count):
        receipt = services.transact(lambda session: create_receipt(session, services.settings, admin, case_id))
        send_receipt(services.transact, services.settings, admin, receipt.id, mailer=None,
                     render=services.templates.email)  # fmt: skip


def timed(client: TestClient, url: str, requests: int) -> dict[str, Any]:
    client.get(url)
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code} during the run")
    samples.sort()
    p95 = samples[max(0, int(len(samples) * 0.95 + 0.5) - 1)]
    return {"requests": requests, "median_ms": round(statistics.median(samples), 2), "p95_ms": round(p95, 2),
            "meets_target": p95 < TARGET_MS}  # fmt: skip


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp) / "home", base_url="http://testserver")
        services = build_services(settings)
        try:
            org = initialize(services).organization_id
            start = time.perf_counter()
            case_id = seed(services, org, cases=args.cases, evidence=args.evidence, entries=args.entries)
            figures: dict[str, Any] = {
                "backend": "sqlite-local", "cases": args.cases, "evidence": args.evidence,
                "entries": log_size(services, org), "seed_s": round(time.perf_counter() - start, 1),
                "target_p95_ms": TARGET_MS, "pages": {}, "skipped": {},
            }  # fmt: skip
            with TestClient(create_app(settings, services=services), follow_redirects=False) as client:
                send_receipts(services, org, case_id, args.receipts)  # the renderer exists once the app does
                figures["receipts"] = args.receipts
                page = client.get("/login")
                token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
                client.post("/login", data={"email": STAFF, "password": PASSWORD, "csrf": token})
                figures["pages"]["/"] = timed(client, "/", args.requests)
                for pattern in CASE_PAGES:
                    status = client.get(pattern.format(id=case_id)).status_code
                    if status != 200:
                        figures["skipped"][pattern] = f"answers {status} in this build"
                        continue
                    figures["pages"][pattern] = timed(client, pattern.format(id=case_id), args.requests)
            return figures
        finally:
            services.close()


def log_size(services: Services, org: str) -> int:
    return services.read(lambda session: log.size(session, org))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--evidence", type=int, default=500)
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--receipts", type=int, default=5)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args)
    if args.json:
        print(json.dumps(figures))  # noqa: T201 - the bench's output
        return
    print(f"seeded {figures['cases']} cases, {figures['evidence']} evidence, {figures['entries']} entries "  # noqa: T201
          f"in {figures['seed_s']} s (target p95 < {TARGET_MS:.0f} ms)")  # fmt: skip
    for url, row in figures["pages"].items():
        print(f"{url:28} median {row['median_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} ms")  # noqa: T201
    for url, why in figures["skipped"].items():
        print(f"{url:28} skipped: {why}")  # noqa: T201


if __name__ == "__main__":
    main()
