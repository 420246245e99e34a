"""Witness benchmark (issue 16): how soon a new checkpoint is 2-of-2 cosigned, and how fast full tiles are served.

Two witnesses (``api.witness_app`` over ``vault.witness``, each in its own uvicorn server on loopback) are
configured for a fresh SQLite home with policy ``all``. Each round adds one entry, signs a checkpoint and
runs one pass of the witness client (``witness_pass``: add-checkpoint to both at once, verify, store); the
figure is the median time from the append to both cosignatures stored (target < 150 ms).

Then the same Offboard app serves full level-0 tiles of ``--entries`` entries from ``/tlog/default/tile/0/<N>``
(stored nodes, never recomputed from leaves) and, from the same server process, a static 8 KiB response at
``/bench/static``; sequential keep-alive requests, the same token on both. Target: tiles >= 0.5x the static rate.

    .venv/bin/python bench/witness.py [--rounds 30] [--entries 4096] [--requests 400] [--json]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from bench.common import SCRATCH, Figure, free_port, median, note, print_figures  # noqa: E402

COSIGN_TARGET_MS = 150.0
TILES_TARGET = 0.5
OWNER = "owner@bench.example"
STATIC = b"x" * 8192


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` under uvicorn on a loopback port, on a thread, until the block ends."""
    import httpx
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise SystemExit(f"the server on {base} did not start")
        time.sleep(0.02)
    try:
        httpx.get(base + "/", timeout=5)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def cosign_rounds(services: Any, org: str, case_id: str, rounds: int) -> list[float]:
    from vault.cases.lifecycle import add_note
    from vault.ledger.publish import publish
    from vault.models import Organization
    from vault.orgs.organizations import Principal, Role
    from vault.witnessing.submitter import witness_pass

    admin = Principal(org, Role.ADMIN, "bench:witness")

    def grow(session: Any) -> None:
        add_note(session, admin, case_id, "bench note", clock=services.clock)
        publish(session, services.settings, session.get(Organization, org), clock=services.clock)

    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        services.transact(grow)
        results = witness_pass(services.read, services.transact, services.settings, clock=services.clock)
        samples.append((time.perf_counter() - started) * 1000)
        if len(results) != 2 or any(not r.cosignatures for r in results):
            raise SystemExit(f"a round was not 2-of-2 cosigned: {[r.answer.detail for r in results]}")
    return samples


def rate(client: Any, urls: list[str], requests: int) -> float:
    for url in urls[:2]:
        client.get(url).raise_for_status()
    started = time.perf_counter()
    for n in range(requests):
        answer = client.get(urls[n % len(urls)])
        if answer.status_code != 200 or len(answer.content) != 8192:
            raise SystemExit(f"{answer.request.url} answered {answer.status_code}, {len(answer.content)} bytes")
    return requests / (time.perf_counter() - started)


def build(home: Path, witnesses: Path) -> tuple[Any, Any, str, str]:
    """The home (an admin, one case) and two witness folders; returns the witnesses' vkeys joined by ``|``."""
    from signing.cosignature import cosigner_of
    from vault.cases.lifecycle import open_case
    from vault.config import Settings
    from vault.orgs.organizations import Principal, Role
    from vault.orgs.staff import add_staff
    from vault.services import build_services
    from vault.setup import initialize
    from vault.witness.witness_home import init_witness

    services = build_services(Settings(home=home, base_url="http://127.0.0.1"))
    init = initialize(services)
    admin = Principal(init.organization_id, Role.ADMIN, "bench:witness")
    services.transact(lambda s: add_staff(s, admin, email=OWNER, name="Bench owner", role=Role.ADMIN))
    case_id = services.transact(lambda s: open_case(s, admin, client_name="Acme", owner_email=OWNER).id)
    cosigners = [cosigner_of(init_witness(witnesses / f"w{n}", name=f"bench.witness/w{n}").signer) for n in (1, 2)]
    return services, init, case_id, "|".join(c.vkey() for c in cosigners)


def log_vkey(services: Any, org: str) -> str:
    from vault.ledger import keyring

    return str(services.read(lambda session: keyring.verifiers(session, org)[0].vkey()))


def seed(services: Any, org: str, case_id: str, entries: int) -> int:
    from vault.cases.lifecycle import add_note
    from vault.ledger import log
    from vault.ledger.publish import publish
    from vault.models import Organization
    from vault.orgs.organizations import Principal, Role

    admin = Principal(org, Role.ADMIN, "bench:witness")

    def work(session: Any) -> int:
        for n in range(max(0, entries - log.size(session, org))):
            add_note(session, admin, case_id, f"bench note {n}", clock=services.clock)
        return publish(session, services.settings, session.get(Organization, org), clock=services.clock).size

    return int(services.transact(work))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--entries", type=int, default=4096)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import httpx
    from fastapi import Response

    from api.app import create_app
    from api.witness_app import create_witness_app
    from vault.ledger.tiles import TILE_WIDTH, Tile
    from vault.orgs.organizations import Principal, Role
    from vault.witness.witness_home import open_witness
    from vault.witnessing.roster import add_witness, set_witness_policy

    SCRATCH.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="witness-", dir=SCRATCH))
    try:
        note("building the home and two witnesses (not timed)")
        services, init, case_id, vkeys = build(scratch / "home", scratch)
        org = init.organization_id
        logs = [log_vkey(services, org)]
        admin = Principal(org, Role.ADMIN, "bench:witness")
        with (
            serving(create_witness_app(open_witness(scratch / "w1", logs))) as one,
            serving(create_witness_app(open_witness(scratch / "w2", logs))) as two,
        ):

            def configure(session: Any) -> None:
                for url, vkey in zip((one, two), vkeys.split("|"), strict=True):
                    add_witness(session, admin, url=url, vkey=vkey)
                set_witness_policy(session, admin, "all")

            services.transact(configure)
            note(f"{args.rounds} rounds: append, sign, 2-of-2 cosign")
            cosign_ms = median(cosign_rounds(services, org, case_id, args.rounds))
        size = seed(services, org, case_id, args.entries)
        full = size // TILE_WIDTH
        if full == 0:
            raise SystemExit(f"--entries {args.entries} gives no full tile (at least {TILE_WIDTH} are needed)")
        app = create_app(services.settings, services=services)
        app.add_api_route("/bench/static", lambda: Response(STATIC, media_type="application/octet-stream"))
        headers = {"Authorization": f"Bearer {init.admin_token.secret}"}
        with serving(app) as base, httpx.Client(headers=headers, timeout=30) as client:
            note(f"{args.requests} requests each: full tiles of {size} entries, then the static 8 KiB response")
            tiles = [f"{base}/tlog/default/tile/{Tile(0, n).path()}" for n in range(full)]
            tile_rate = rate(client, tiles, args.requests)
            static_rate = rate(client, [f"{base}/bench/static"], args.requests)
        services.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ratio = tile_rate / static_rate
    figures = [
        Figure("new checkpoint 2-of-2 cosigned (median)", cosign_ms, "ms", f"< {COSIGN_TARGET_MS:.0f} ms",
               cosign_ms < COSIGN_TARGET_MS),
        Figure("full tiles", tile_rate, "tiles/s"),
        Figure("static 8 KiB response", static_rate, "responses/s"),
        Figure("tiles / static", ratio, "x", f">= {TILES_TARGET}x", ratio >= TILES_TARGET),
    ]  # fmt: skip
    extra = {"rounds": args.rounds, "entries": size, "requests": args.requests, "cosign_median_ms": cosign_ms,
             "tiles_per_s": tile_rate, "static_per_s": static_rate, "tiles_to_static": ratio}  # fmt: skip
    print_figures(figures, as_json=args.json, extra=extra)


if __name__ == "__main__":
    main()
