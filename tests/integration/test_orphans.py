"""Crashes that leave orphans and temp files, and ``offboard audit [--repair]`` on both backend pairs
(SQLite + local folder, PostgreSQL + S3 on moto).

An orphan is made the way a crash makes one: a real ingest whose transaction dies after the object is
committed. Ages: on the local folder objects and temp files are aged with ``os.utime``; S3 cannot be
aged (moto stamps ``LastModified`` itself), so there the CLI's injected clock runs two days ahead and a
fresh object is one that a write of the same bytes tagged at that clock's now.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from sqlmodel import Session

from storage import ObjectStore, StoreError, object_key
from storage.local import LocalStore
from storage.s3 import S3Store
from tests.helpers import cli_json, run_cli, sha256
from vault.evidence import orphans
from vault.evidence.audit import audit
from vault.evidence.ingest import EvidenceIngest
from vault.orgs.organizations import Principal, Role, organization_by_slug

TWO_DAYS = timedelta(days=2)


def real_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Aging:
    """How a test makes things old or fresh on one backend, and the clock the audit runs on."""

    store: ObjectStore
    shift: timedelta
    #: Another store on the same backend whose clock is the audit's (the S3 freshen tag reads it).
    writer_store: ObjectStore

    def now(self) -> datetime:
        return real_now() + self.shift

    def make_old(self, key: str) -> None:
        if isinstance(self.store, LocalStore):
            moment = (real_now() - TWO_DAYS).timestamp()
            os.utime(self.store.path_of(key), (moment, moment))
        # On S3 the clock runs two days ahead instead: everything is two days old already.

    def write_again(self, data: bytes) -> None:
        """An upload of the same bytes, at the audit clock's now (stops before its row)."""
        writer = self.writer_store.writer()
        writer.write(data)
        writer.commit()

    def leave_stale_temp_file(self) -> str:
        """What a process killed mid-upload leaves; returns the name the audit reports."""
        writer = self.store.writer()
        writer.write(os.urandom(17 * 1024 * 1024))  # past the 16 MiB threshold: S3 parts uploaded
        if isinstance(self.store, LocalStore):
            (part,) = self.store.tmp_dir.glob("write-*.part")
            moment = (real_now() - timedelta(hours=2)).timestamp()
            os.utime(part, (moment, moment))
            return f"tmp/{part.name}"
        assert isinstance(self.store, S3Store)
        (upload,) = self.store.client.list_multipart_uploads(Bucket=self.store.bucket)["Uploads"]
        return str(upload["Key"])


@pytest.fixture
def aging(services: Any, cli_env: Any, monkeypatch: pytest.MonkeyPatch) -> Aging:
    store = services.store
    if isinstance(store, LocalStore):
        found = Aging(store, timedelta(0), store)
    else:
        found = Aging(
            store,
            TWO_DAYS,
            S3Store(store.bucket, store.prefix, endpoint_url=cli_env.s3_endpoint_url, clock=lambda: found.now()),
        )
    # The CLI imports build_services when a command runs (vault/cli/common.py), so it finds this one.
    import vault.services as services_module

    build = services_module.build_services
    monkeypatch.setattr(
        services_module, "build_services", lambda settings, **kw: build(settings, clock=found.now, **kw)
    )
    return found


@pytest.fixture
def case(cli_env: Any, capsys: pytest.CaptureFixture[str]) -> str:
    cli_json(capsys, "init")
    cli_json(capsys, "staff", "add", "pm@agency.example", "--name", "Pat Manager")
    return str(cli_json(capsys, "case", "open", "--client", "Globex", "--owner", "pm@agency.example")["id"])


def crash_between_object_and_row(services: Any, case_id: str, data: bytes) -> str:
    """Run a real ingest that dies after committing the object, before its row; returns the orphan's key."""
    with Session(services.engine) as session:
        principal = Principal(organization_by_slug(session, None).id, Role.ADMIN, "test:crash")

    def power_cut(work: Callable[[Session], Any]) -> Any:
        raise RuntimeError("power cut between the object and its row")

    ingest = EvidenceIngest(services.store, principal, case_id, services.ingest_limits, transact=power_cut)
    ingest.feed(data)
    with pytest.raises(RuntimeError, match="power cut"):
        ingest.finish(filename="lost.bin", kind="other", content_type=None, description=None)
    key = object_key(sha256(data))
    assert services.store.stat(key) is not None
    return key


def lock(settings: Any, store: ObjectStore, key: str, until: datetime) -> None:
    assert isinstance(store, S3Store)
    boto3.client("s3", endpoint_url=settings.s3_endpoint_url).put_object_retention(
        Bucket=store.bucket, Key=store.prefix + key, Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until}
    )


@dataclass
class Scene:
    committed: str
    committed_id: str
    old: str
    fresh: str
    locked: str | None
    temp: str
    live_temp: Path | None


@pytest.fixture
def scene(
    case: str, services: Any, aging: Aging, cli_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Scene:
    source = tmp_path / "handover.txt"
    source.write_bytes(b"the committed deliverable")
    added = cli_json(capsys, "evidence", "add", "--case", case, str(source))[0]
    committed = object_key(added["sha256"])
    aging.make_old(committed)  # old, but a row names it: never an orphan
    old = crash_between_object_and_row(services, case, b"crashed two days ago")
    aging.make_old(old)
    fresh = crash_between_object_and_row(services, case, b"crashed a moment ago")
    if isinstance(services.store, S3Store):
        aging.write_again(b"crashed a moment ago")
    locked = None
    if isinstance(services.store, S3Store):
        locked = crash_between_object_and_row(services, case, b"crashed, but under Object Lock")
        lock(cli_env, services.store, locked, real_now() + timedelta(days=30))
    temp = aging.leave_stale_temp_file()
    live_temp = None
    if isinstance(services.store, LocalStore):
        live_temp = services.store.tmp_dir / "write-live.part"
        live_temp.write_bytes(b"an upload in another process")
    return Scene(committed, added["id"], old, fresh, locked, temp, live_temp)


def test_audit_reports_orphans_with_their_age_and_stale_temp_files(
    scene: Scene, capsys: pytest.CaptureFixture[str]
) -> None:
    report = cli_json(capsys, "audit")
    assert report["ok"] is True and report["problems"] == [] and report["repair"] is None
    assert report["objects_checked"] == 1
    listed = {o["storage_key"]: o for o in report["orphans"]}
    assert set(listed) == {scene.old, scene.fresh} | ({scene.locked} if scene.locked else set())
    assert scene.committed not in listed
    assert TWO_DAYS.total_seconds() - 120 <= listed[scene.old]["age_seconds"] <= TWO_DAYS.total_seconds() + 120
    assert listed[scene.old]["size"] == len(b"crashed two days ago")
    if scene.live_temp is not None:  # local: the fresh crash is seconds old
        assert listed[scene.fresh]["age_seconds"] < 120
    assert [(t["name"], t["what"]) for t in report["temp_files"]] == [
        (scene.temp, "interrupted upload" if scene.live_temp else "incomplete multipart upload")
    ]
    assert report["temp_files"][0]["age_seconds"] >= 3600

    code, stdout, stderr = run_cli(capsys, "audit")
    assert code == 0, stderr
    assert f"ORPHAN: {scene.old} (20 bytes, last written " in stdout
    assert "2 days ago): no evidence record names it" in stdout
    assert f"TEMP FILE: {scene.temp} (" in stdout
    orphan_count = 3 if scene.locked else 2
    assert f"audit OK: 1 objects, 25 bytes re-hashed; {orphan_count} orphans, 1 stale temp file" in stdout


def test_repair_deletes_exactly_the_old_orphan_and_the_stale_temp_file(
    scene: Scene, services: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = services.store
    code, stdout, stderr = run_cli(capsys, "audit", "--repair")
    assert code == 0, stderr
    assert f"deleted: {scene.old} (orphan, 2 days old): no evidence record, not written for 1 day" in stdout
    assert f"removed: {scene.temp} (temp file, " in stdout
    if isinstance(store, LocalStore):
        assert f"kept: {scene.fresh} (orphan, " in stdout and "): younger than 1 day" in stdout
    else:
        assert f"kept: {scene.fresh} (orphan, 2 days old): written again at " in stdout
        assert "(an upload of the same bytes)" in stdout
        assert f"kept: {scene.locked} (orphan, 2 days old): under COMPLIANCE retention until " in stdout
    kept = 2 if scene.locked else 1
    assert f"repair OK: 1 orphan deleted, {kept} kept; 1 temp file removed; 0 failed" in stdout

    assert store.stat(scene.old) is None
    assert store.stat(scene.fresh) is not None
    if scene.locked:
        assert store.stat(scene.locked) is not None
    if scene.live_temp is not None:
        assert scene.live_temp.exists(), "a temp file written moments ago belongs to a live upload"
    after = cli_json(capsys, "audit")
    assert {o["storage_key"] for o in after["orphans"]} == {scene.fresh} | ({scene.locked} if scene.locked else set())
    assert after["temp_files"] == []
    out = tmp_path / "got.txt"
    cli_json(capsys, "evidence", "get", scene.committed_id, "-o", str(out))
    assert out.read_bytes() == b"the committed deliverable"


def test_repair_json_and_a_longer_min_age(scene: Scene, services: Any, capsys: pytest.CaptureFixture[str]) -> None:
    report = cli_json(capsys, "audit", "--repair", "--orphan-min-age", "3d")
    assert report["ok"] is True and report["repair"]["ok"] is True
    assert report["repair"]["orphan_min_age_seconds"] == 3 * 86400
    by_target = {a["target"]: a for a in report["repair"]["actions"]}
    assert by_target[scene.old]["outcome"] == "kept"
    assert by_target[scene.old]["detail"] == "younger than 3 days"
    assert (by_target[scene.temp]["subject"], by_target[scene.temp]["outcome"]) == ("temp file", "removed")
    assert services.store.stat(scene.old) is not None
    if scene.locked:
        # Too young for this min age, so the store is not even asked.
        assert by_target[scene.locked]["outcome"] == "kept" and by_target[scene.locked]["retained_until"] is None
        again = cli_json(capsys, "audit", "--repair", "--orphan-min-age", "36")
        locked = {a["target"]: a for a in again["repair"]["actions"]}[scene.locked]
        assert locked["outcome"] == "kept" and locked["retained_until"] is not None
        assert locked["detail"] == f"under COMPLIANCE retention until {locked['retained_until']}"
        assert {a["target"]: a for a in again["repair"]["actions"]}[scene.old]["outcome"] == "deleted"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--orphan-min-age", "2d"], "error: --orphan-min-age applies to --repair only"),
        (["--repair", "--orphan-min-age", "30m"], "error: orphan min age must be at least 1 hour"),
        (["--repair", "--orphan-min-age", "soon"], "error: orphan min age: expected hours (36) or a duration"),
    ],
)
def test_bad_min_age_is_one_line_and_exit_1(
    case: str, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, stdout, stderr = run_cli(capsys, "audit", *args)
    assert code == 1
    assert stderr.strip().startswith(message) and len(stderr.strip().splitlines()) == 1
    assert stdout == ""


def test_a_delete_the_store_refuses_fails_the_repair(
    scene: Scene, services: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(self: Any, key: str, **_: Any) -> None:
        raise StoreError(f"cannot delete {key}: the disk is read-only")

    monkeypatch.setattr(type(services.store), "delete", refuse)
    code, stdout, stderr = run_cli(capsys, "audit", "--repair")
    assert code == 1
    assert f"failed: {scene.old} (orphan, 2 days old): cannot delete {scene.old}: the disk is read-only" in stderr
    # Every orphan old enough reaches the store (on S3 the clock makes all three old).
    failed, kept = (3, 0) if scene.locked else (1, 1)
    assert f"repair FAILED: 0 orphans deleted, {kept} kept; 1 temp file removed; {failed} failed" in stdout
    report = json.loads(run_cli(capsys, "audit", "--repair", "--json")[1])
    assert report["ok"] is False and report["repair"]["ok"] is False


# --- races, at the domain level -------------------------------------------------------------------------


def test_an_orphan_whose_row_commits_during_the_audit_is_kept(
    case: str, services: Any, aging: Aging, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The audit read the rows, then a retried upload of the same bytes committed its row: the repair
    re-reads the rows before deleting."""
    data = b"the upload that crashed and was retried"
    key = crash_between_object_and_row(services, case, data)
    aging.make_old(key)
    report = audit(services.read, services.store, clock=aging.now)
    assert [o.key for o in report.orphans] == [key]
    retry = tmp_path / "retry.bin"
    retry.write_bytes(data)
    (row,) = cli_json(capsys, "evidence", "add", "--case", case, str(retry))
    aging.make_old(key)  # as if the freshen had not happened: only the row re-check can save it now
    repaired = orphans.repair(
        services.read, services.store, report.orphans, now=aging.now(), orphan_min_age=orphans.ORPHAN_MIN_AGE
    )
    (action,) = [a for a in repaired.actions if a.subject == "orphan"]
    assert (action.outcome, action.detail) == (
        "kept",
        f"now named by evidence {row['id']} (an upload committed it during the audit)",
    )
    assert services.store.stat(key) is not None


def test_an_orphan_an_upload_is_writing_again_is_kept(case: str, services: Any, aging: Aging) -> None:
    """An upload of the same bytes found the orphan after the audit listed it, and has not committed
    its row yet: the conditional delete sees that write."""
    data = b"bytes about to be uploaded again"
    key = crash_between_object_and_row(services, case, data)
    aging.make_old(key)
    report = audit(services.read, services.store, clock=aging.now)
    aging.write_again(data)
    repaired = orphans.repair(
        services.read, services.store, report.orphans, now=aging.now(), orphan_min_age=orphans.ORPHAN_MIN_AGE
    )
    (action,) = [a for a in repaired.actions if a.subject == "orphan"]
    assert action.outcome == "kept" and action.detail.startswith("written again at ")
    assert services.store.stat(key) is not None


# --- start-up -------------------------------------------------------------------------------------------


def test_start_up_removes_stale_local_temp_files_and_never_contacts_s3(
    app: Any, initialized: Any, services: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from fastapi.testclient import TestClient

    store = services.store
    calls: list[str] = []
    if isinstance(store, LocalStore):
        stale = store.tmp_dir / "write-dead.part"
        stale.write_bytes(b"half an upload")
        moment = (real_now() - timedelta(hours=1, minutes=1)).timestamp()
        os.utime(stale, (moment, moment))
        live = store.tmp_dir / "write-live.part"
        live.write_bytes(b"an upload in progress in another process")
        moment = (real_now() - timedelta(minutes=59)).timestamp()
        os.utime(live, (moment, moment))
    else:
        store.client.meta.events.register("before-call.s3", lambda event_name, **_: calls.append(event_name))
    with caplog.at_level(logging.INFO, logger="offboard.storage"), TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
    if isinstance(store, LocalStore):
        assert not stale.exists() and live.exists()
        assert f"start-up: removed 1 stale temp file(s) (older than 1 hour) from {store.url}" in caplog.messages
    else:
        assert calls == [], "starting must not wait on the bucket"
        assert not [m for m in caplog.messages if m.startswith("start-up:")]
