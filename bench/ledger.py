"""Ledger benchmark: durable appends per second against the database's own single-row commit rate.

Run with ``make bench`` (or ``.venv/bin/python bench/ledger.py``). Everything is measured in one run on
this machine, and each Offboard figure is printed beside the raw figure it is compared with. Each append
series runs between two raw measurements and its ratio is taken against their mean (this disk's speed
drifts by tens of percent from minute to minute), in five rounds; medians are printed:

- raw: one INSERT + COMMIT per row through the bare driver (sqlite3 in WAL mode with synchronous=FULL;
  psycopg with autocommit transactions), on a connection kept open: the database's own limit for durable
  single-row commits;
- raw into the ledger table: the same, into a copy of ``ledger_entry`` (its keys, case index and foreign
  key) with entry-shaped rows: the floor the schema sets, printed so the gap can be attributed;
- bare append: the least an append must do, through the bare driver (lock and head, RFC 8785, leaf hash,
  one row, commit), into that copy: the floor any implementation of the ledger meets on this machine; and
  the same with 8 appends per transaction, by one thread: the floor of group commit for 8 writers;
- one writer: one thread appending one entry after another through the ``Sequencer`` (the API's write path,
  ``Services.transact``), each append committed before the next starts; also printed: the same through a
  fresh session per append (``run_in_transaction``, as the CLI writes);
- 8 writers: 8 threads appending at once through the group-commit ``Sequencer``, and, for contrast, each
  in its own transaction;
- inclusion proof time at ``--proof-entries`` entries (default 10^6) and append-to-signed-checkpoint delay.

``--json`` prints every figure as one object; under each backend, ``one_writer_to_floor`` (one writer
against the bare append) and ``eight_writers_to_floor`` (8 writers through group commit against the bare
append with 8 per commit) are the medians of the per-round ratios that the text report also prints.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vault.clock import system_clock  # noqa: E402
from vault.config import Settings  # noqa: E402
from vault.db import read_session, run_in_transaction, session_scope  # noqa: E402
from vault.ledger import log, service  # noqa: E402
from vault.ledger.autopublish import Publisher  # noqa: E402
from vault.ledger.entries import EntryDraft, encode_entry  # noqa: E402
from vault.ledger.hashing import leaf_hash  # noqa: E402
from vault.ledger.publish import latest_checkpoint  # noqa: E402
from vault.ledger.sequencer import Sequencer  # noqa: E402
from vault.models import LedgerEntry  # noqa: E402
from vault.orgs.organizations import create_organization  # noqa: E402
from vault.services import build_services  # noqa: E402
from vault.setup import initialize  # noqa: E402

WRITERS = 8


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


class RawSqlite:
    """Single-row commits through the bare sqlite3 driver, on one connection kept for the whole bench, as
    the ledger keeps its own: a connection closed between runs would checkpoint and delete its WAL file,
    and the next run, growing a new file, would pay more per fsync than the ledger ever does."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body BLOB)")

    def run(self, count: int) -> float:
        db, payload = self.db, b"x" * 250
        start = time.perf_counter()
        for _ in range(count):
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO t (body) VALUES (?)", (payload,))
            db.execute("COMMIT")
        return rate(count, time.perf_counter() - start)

    def close(self) -> None:
        self.db.close()


class RawPostgres:
    """Single-row commits through bare psycopg (autocommit connection, one transaction per row), on one
    connection kept for the whole bench."""

    def __init__(self, port: int) -> None:
        import psycopg

        self.db = psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True)
        self.db.execute("CREATE TABLE IF NOT EXISTS raw_bench (id BIGSERIAL PRIMARY KEY, body BYTEA)")

    def run(self, count: int) -> float:
        db, payload = self.db, b"x" * 250
        start = time.perf_counter()
        for _ in range(count):
            with db.transaction():
                db.execute("INSERT INTO raw_bench (body) VALUES (%s)", (payload,))
        return rate(count, time.perf_counter() - start)

    def close(self) -> None:
        self.db.close()


class LedgerFloor:
    """The floors under an append, through the bare driver into a copy of the ledger's own table (same
    columns, primary key, case index and foreign key): ``run`` commits prepared entry-shaped rows (what it
    loses against the raw rate is the schema's cost); ``run_appends`` does the least an append must do."""

    def __init__(self, services: Any, org_id: str) -> None:
        self.postgres = services.engine.dialect.name == "postgresql"
        self.connection = services.engine.raw_connection()
        self.cursor = self.connection.cursor()
        if self.postgres:
            self.cursor.execute("CREATE TABLE ledger_floor (LIKE ledger_entry INCLUDING ALL)")
            self.cursor.execute(
                "ALTER TABLE ledger_floor ADD FOREIGN KEY (organization_id) REFERENCES organization (id)"
            )
            self.connection.commit()
        else:
            self.cursor.execute("SELECT sql FROM sqlite_master WHERE tbl_name = 'ledger_entry' AND sql IS NOT NULL")
            for (ddl,) in self.cursor.fetchall():
                self.cursor.execute(ddl.replace("ledger_entry", "ledger_floor"))
        body = encode_entry(draft(org_id, 0), system_clock())
        leaf = leaf_hash(body)
        columns = [c.name for c in LedgerEntry.__table__.columns]  # type: ignore[attr-defined]
        values = {
            "organization_id": org_id,
            "leaf_hash": leaf,
            "body": body,
            "entry_type": "bench.append",
            "case_id": None,
            "created_at": "2026-11-25 12:00:00.000000",
        }
        self.rows = [[values.get(c, leaf if c == "parents" and odd else b"") for c in columns] for odd in (0, 1)]
        self.position = columns.index("idx")
        self.columns, self.org_id, self.lock_key = columns, org_id, log._lock_key(org_id)
        mark = "%s" if self.postgres else "?"
        row_marks = f"({', '.join([mark] * len(columns))})"
        self.more_rows = ", " + row_marks
        # Column names come from the model; only placeholders are spliced in.
        self.insert = f"INSERT INTO ledger_floor ({', '.join(columns)}) VALUES {row_marks}"  # noqa: S608
        self.next = 0

    def run(self, count: int) -> float:
        cursor, insert, rows, position = self.cursor, self.insert, self.rows, self.position
        start = time.perf_counter()
        for n in range(self.next, self.next + count):
            params = rows[n % 2]
            params[position] = n
            if self.postgres:
                cursor.execute(insert, params)
                self.connection.commit()
            else:
                cursor.execute("BEGIN IMMEDIATE")
                cursor.execute(insert, params)
                cursor.execute("COMMIT")
        self.next += count
        return rate(count, time.perf_counter() - start)

    def run_appends(self, count: int, per_commit: int = 1) -> float:
        """The least an append must do, through the bare driver: take the log's lock and read its head,
        encode the entry (RFC 8785) and hash it, insert its row, commit; ``per_commit`` appends share one
        transaction (group commit done by one thread, so without any hand-off between threads). No
        interior nodes, no session: what the work itself costs before any framework is involved."""
        cursor, insert, columns = self.cursor, self.insert, self.columns
        org_id = self.org_id
        head = "SELECT idx FROM ledger_floor WHERE organization_id = {} ORDER BY idx DESC LIMIT 1"
        if self.postgres:
            head = "SELECT pg_advisory_xact_lock(%s), (" + head.format("%s") + ")"
        start = time.perf_counter()
        for first in range(0, count, per_commit):
            if self.postgres:
                cursor.execute(head, (self.lock_key, org_id))
                last = cursor.fetchone()[1]
            else:
                cursor.execute("BEGIN IMMEDIATE")
                cursor.execute(head.format("?"), (org_id,))
                row = cursor.fetchone()
                last = row[0] if row else None
            index = -1 if last is None else last
            rows = []
            for n in range(first, min(count, first + per_commit)):
                now = system_clock()
                body = encode_entry(draft(org_id, n), now)
                index += 1
                values = {
                    "organization_id": org_id,
                    "idx": index,
                    "leaf_hash": leaf_hash(body),
                    "parents": b"",
                    "body": body,
                    "entry_type": "bench.append",
                    "case_id": None,
                    "created_at": now.isoformat(" "),
                }
                rows.append([values[c] for c in columns])
            # One multi-row INSERT, as the ledger writes a transaction's entries.
            cursor.execute(insert + self.more_rows * (len(rows) - 1), [v for row in rows for v in row])
            if self.postgres:
                self.connection.commit()
            else:
                cursor.execute("COMMIT")
        elapsed = time.perf_counter() - start
        self.next = index + 1  # ``run`` goes on after these rows
        return rate(count, elapsed)

    def close(self) -> None:
        self.connection.close()


def draft(org_id: str, n: int) -> EntryDraft:
    return EntryDraft("bench.append", org_id, None, "bench", {"n": n, "pad": "y" * 150})


def one_writer(run: Callable[[Callable[[Any], Any]], Any], org_id: str, count: int) -> float:
    start = time.perf_counter()
    for n in range(count):
        run(lambda s, n=n: log.append(s, draft(org_id, n)))
    return rate(count, time.perf_counter() - start)


def many_writers(run: Callable[[Callable[[Any], Any]], Any], org_id: str, count: int, *, empty: bool = False) -> float:
    """8 threads, each running ``count / 8`` units one after another; ``empty``: units that do nothing (no
    transaction), so what is measured is the threads' hand-off through the write path alone."""
    per_writer = count // WRITERS
    barrier = threading.Barrier(WRITERS + 1)

    def writer(w: int) -> None:
        barrier.wait()
        for n in range(per_writer):
            if empty:
                run(lambda _s: None)
            else:
                run(lambda s, n=n: log.append(s, draft(org_id, w * per_writer + n)))

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    return rate(per_writer * WRITERS, time.perf_counter() - start)


def appends(services: Any, raw: Callable[[int], float], count: int, rounds: int = 5) -> dict[str, float]:
    """Every series in ``rounds`` rounds, each run between two raw measurements of the same size: its ratio
    is taken against the mean of the raw rates just before and just after it, so the disk's drift (tens of
    percent from one minute to the next here) falls on both sides of a ratio alike. Medians are reported."""
    with session_scope(services.engine) as session:
        org_id = create_organization(session, name=f"bench {time.time_ns()}").id
    per_round = count // rounds
    floor = LedgerFloor(services, org_id)
    sequencer = Sequencer(services.engine)  # the API's write path (``Services.transact``)
    own_transaction = lambda work: run_in_transaction(services.engine, work)  # noqa: E731 - as the CLI writes
    # Each write-path series runs right after the floor it is compared with, so the disk's drift between
    # the two is as small as the bench can make it.
    measures: dict[str, Callable[[int], float]] = {
        "raw_ledger_table": floor.run,
        "bare_append": floor.run_appends,
        "one_writer": lambda n: one_writer(sequencer.run, org_id, n),
        "one_writer_own_transaction": lambda n: one_writer(own_transaction, org_id, n),
        "bare_append_batches_of_8": lambda n: floor.run_appends(n, per_commit=WRITERS),
        "eight_writers_group_commit": lambda n: many_writers(sequencer.run, org_id, n),
        "eight_writers_no_group_commit": lambda n: many_writers(own_transaction, org_id, n),
        "eight_writers_empty_units": lambda n: many_writers(sequencer.run, org_id, n, empty=True),
    }
    series: dict[str, list[float]] = {}
    try:
        for _ in range(rounds):
            before = raw(per_round)
            series.setdefault("raw_single_commit_per_s", []).append(before)
            for name, measure in measures.items():
                value = measure(per_round)
                after = raw(per_round)
                series.setdefault(f"{name}_per_s", []).append(value)
                series.setdefault(f"{name}_ratio", []).append(value / ((before + after) / 2))
                series["raw_single_commit_per_s"].append(after)
                before = after
            # The write path against the floor it can reach, measured in the same round (requirement 9).
            last = {name: values[-1] for name, values in series.items()}
            series.setdefault("one_writer_to_floor", []).append(last["one_writer_per_s"] / last["bare_append_per_s"])
            series.setdefault("eight_writers_to_floor", []).append(
                last["eight_writers_group_commit_per_s"] / last["bare_append_batches_of_8_per_s"]
            )
            # The most 8 writer threads can reach against that floor: the floor's batch time plus the time
            # the 8 threads take just to hand their units over and be woken (empty units), per batch of 8.
            empty, floor8 = last["eight_writers_empty_units_per_s"], last["bare_append_batches_of_8_per_s"]
            series.setdefault("eight_writers_ceiling", []).append(empty / (empty + floor8))
    finally:
        sequencer.close()
        floor.close()
    return {name: statistics.median(values) for name, values in series.items()}


def proof_time(services: Any, entries: int) -> dict[str, float]:
    with session_scope(services.engine) as session:
        org_id = create_organization(session, name="proofs").id
    batch = 10_000
    start = time.perf_counter()
    for first in range(0, entries, batch):
        size = min(batch, entries - first)
        with session_scope(services.engine) as session:
            log.append_many(session, [draft(org_id, first + i) for i in range(size)])
    build = time.perf_counter() - start
    samples = []
    with read_session(services.engine) as session:
        for _ in range(300):
            index = random.randrange(entries)  # noqa: S311 - benchmark sampling, not security
            t0 = time.perf_counter()
            service.prove_inclusion(session, org_id, index, entries)
            samples.append(time.perf_counter() - t0)
    return {
        "entries": entries,
        "build_seconds": build,
        "inclusion_proof_median_ms": statistics.median(samples) * 1000,
        "inclusion_proof_p99_ms": sorted(samples)[int(len(samples) * 0.99) - 1] * 1000,
    }


def checkpoint_delay(services: Any, samples: int = 20) -> dict[str, float]:
    result = initialize(services)
    org_id = result.organization_id
    publisher = Publisher(services.read, services.settings, transact=services.transact)
    publisher.start()
    delays = []
    try:
        for n in range(samples):
            index = services.transact(lambda s, n=n: log.append(s, draft(org_id, n)).index)
            appended_at = time.perf_counter()
            while True:
                with read_session(services.engine) as session:
                    latest = latest_checkpoint(session, org_id)
                if latest is not None and latest.size > index:
                    delays.append(time.perf_counter() - appended_at)
                    break
                time.sleep(0.005)
    finally:
        publisher.stop()
    return {"append_to_checkpoint_median_ms": statistics.median(delays) * 1000, "max_ms": max(delays) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appends", type=int, default=3000, help="per series, over 5 rounds")
    parser.add_argument("--proof-entries", type=int, default=1_000_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures: dict[str, Any] = {}
    scratch = ROOT / "bench" / "out"
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        folder = Path(tmp)
        services = build_services(Settings(home=folder / "home"))
        try:
            raw_sqlite = RawSqlite(folder / "raw.db")
            try:
                figures["sqlite"] = appends(services, raw_sqlite.run, args.appends)
            finally:
                raw_sqlite.close()
            figures["checkpoint"] = checkpoint_delay(services)
            figures["proofs_sqlite"] = proof_time(services, args.proof_entries)
        finally:
            services.close()
        if not args.skip_postgres:
            from tests.services import start_postgres

            pg = start_postgres()
            try:
                url = _fresh_pg_database(pg)
                pg_services = build_services(Settings(home=folder / "pg-home", database_url=url))
                try:
                    raw_postgres = RawPostgres(pg.port)
                    try:
                        figures["postgres"] = appends(pg_services, raw_postgres.run, args.appends)
                    finally:
                        raw_postgres.close()
                finally:
                    pg_services.close()
            finally:
                pg.stop()
    if args.json:
        sys.stdout.write(json.dumps(figures, indent=2) + "\n")
        return
    report(figures)


def _fresh_pg_database(pg: Any) -> str:
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 port={pg.port} user=postgres dbname=postgres", autocommit=True) as c:
        c.execute('CREATE DATABASE "bench"')
    return str(pg.url("bench"))


def report(figures: dict[str, Any]) -> None:
    print("Ledger benchmark (durable appends; ratios against the database's own single-row commit rate)")
    for backend in ("sqlite", "postgres"):
        f = figures.get(backend)
        if not f:
            continue
        print(f"\n{backend}:")
        print(f"  raw single-row commits     {f['raw_single_commit_per_s']:>9.0f} /s")
        print(
            f"  raw, into the ledger table {f['raw_ledger_table_per_s']:>9.0f} /s  "
            f"{f['raw_ledger_table_ratio']:.2f}x  (the schema's floor)"
        )
        print(
            f"  bare append (driver only)  {f['bare_append_per_s']:>9.0f} /s  "
            f"{f['bare_append_ratio']:.2f}x  (lock, head, RFC 8785, hash, insert, commit)"
        )
        print(
            f"  bare, 8 per commit         {f['bare_append_batches_of_8_per_s']:>9.0f} /s  "
            f"{f['bare_append_batches_of_8_ratio']:.2f}x  (the same, one thread, 8 appends per transaction)"
        )
        print(
            f"  one writer                 {f['one_writer_per_s']:>9.0f} /s  "
            f"{f['one_writer_ratio']:.2f}x  (target 0.8x)"
        )
        print(
            f"  one writer, own session    {f['one_writer_own_transaction_per_s']:>9.0f} /s  "
            f"{f['one_writer_own_transaction_ratio']:.2f}x"
        )
        print(
            f"  8 writers, group commit    {f['eight_writers_group_commit_per_s']:>9.0f} /s  "
            f"{f['eight_writers_group_commit_ratio']:.2f}x  (target 3x)"
        )
        print(
            f"  8 writers, no group commit {f['eight_writers_no_group_commit_per_s']:>9.0f} /s  "
            f"{f['eight_writers_no_group_commit_ratio']:.2f}x"
        )
        print(
            f"  write path to its floor    one writer {f['one_writer_to_floor']:.2f}x of the bare append "
            f"(target 0.75x), 8 writers {f['eight_writers_to_floor']:.2f}x of 8 per commit (target 0.65x)"
        )
        print(
            f"  8 threads' hand-off alone  {f['eight_writers_empty_units_per_s']:>9.0f} empty units/s: with it, "
            f"8 writer threads reach at most {f['eight_writers_ceiling']:.2f}x of 8 per commit"
        )
    p = figures["proofs_sqlite"]
    print(
        f"\ninclusion proof at {p['entries']:,} entries: median {p['inclusion_proof_median_ms']:.3f} ms, "
        f"p99 {p['inclusion_proof_p99_ms']:.3f} ms (target <= 1 ms); built in {p['build_seconds']:.0f} s"
    )
    c = figures["checkpoint"]
    print(
        f"append -> signed checkpoint: median {c['append_to_checkpoint_median_ms']:.0f} ms, "
        f"max {c['max_ms']:.0f} ms (target <= 1000 ms)"
    )


if __name__ == "__main__":
    main()
