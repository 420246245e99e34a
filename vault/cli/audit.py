"""``offboard audit [--repair]``: re-hash every stored object; report orphans and stale temp files; repair.

Exit 1 when an object is missing or altered, or when ``--repair`` could not remove something it should
have; orphans and temp files alone, and objects kept on purpose (retention, too young), exit 0. Lines
about problems and failures go to stderr, the rest to stdout; ``--json`` prints only the JSON report.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from vault.cli.common import JsonOpt, app, emit_json, err, out, progress_bar, services
from vault.clock import rfc3339
from vault.errors import InvalidInput
from vault.evidence import audit as audit_mod
from vault.evidence import orphans
from vault.evidence.audit import AuditReport
from vault.evidence.orphans import RepairReport, age_text


@app.command()
def audit(
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Remove stale temp files and delete orphans older than --orphan-min-age, unless retention keeps them.",
        ),
    ] = False,
    orphan_min_age: Annotated[
        str | None,
        typer.Option(
            "--orphan-min-age",
            help="With --repair: hours (36) or a duration (2d, 36h, 90m); at least 1 hour. Default 1 day.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-hash every stored object against the database; exit 1 if any is missing or altered."""
    if orphan_min_age is not None and not repair:
        raise InvalidInput("--orphan-min-age applies to --repair only")
    min_age = orphans.parse_min_age(orphan_min_age) if orphan_min_age is not None else orphans.ORPHAN_MIN_AGE
    repaired: RepairReport | None = None
    with services() as svc:
        total = audit_mod.total_recorded_bytes(svc.read)
        with progress_bar(json_mode=as_json) as progress:
            task = progress.add_task("audit", total=total)
            report = audit_mod.audit(svc.read, svc.store, clock=svc.clock, progress=lambda n: progress.advance(task, n))
        if repair:
            repaired = orphans.repair(svc.read, svc.store, report.orphans, now=svc.clock(), orphan_min_age=min_age)
    ok = report.ok and (repaired is None or repaired.ok)
    if as_json:
        emit_json(_report_json(report, repaired) | {"ok": ok})
    else:
        _print_report(report, repaired)
    if not ok:
        raise typer.Exit(1)


def _report_json(report: AuditReport, repaired: RepairReport | None) -> dict[str, Any]:
    return {
        "objects_checked": report.objects_checked,
        "bytes_checked": report.bytes_checked,
        "problems": [
            {"kind": p.kind, "storage_key": p.storage_key, "evidence_ids": list(p.evidence_ids), "detail": p.detail}
            for p in report.problems
        ],
        "orphans": [
            {
                "storage_key": o.key,
                "size": o.size,
                "modified": rfc3339(o.modified),
                "age_seconds": int(o.age.total_seconds()),
            }
            for o in report.orphans
        ],
        "temp_files": [
            {
                "name": t.temp.name,
                "what": t.temp.what,
                "size": t.temp.size,
                "modified": rfc3339(t.temp.modified),
                "age_seconds": int(t.age.total_seconds()),
            }
            for t in report.temp_files
        ],
        "repair": None
        if repaired is None
        else {
            "ok": repaired.ok,
            "orphan_min_age_seconds": int(repaired.orphan_min_age.total_seconds()),
            "actions": [
                {
                    "subject": a.subject,
                    "target": a.target,
                    "outcome": a.outcome,
                    "detail": a.detail,
                    "age_seconds": int(a.age.total_seconds()),
                    "retained_until": rfc3339(a.retained_until) if a.retained_until else None,
                }
                for a in repaired.actions
            ],
        },
    }


def _print_report(report: AuditReport, repaired: RepairReport | None) -> None:
    for p in report.problems:
        err.print(f"{p.kind.upper()}: {p.storage_key} (evidence {', '.join(p.evidence_ids)}): {p.detail}", markup=False)
    for o in report.orphans:
        out.print(
            f"ORPHAN: {o.key} ({o.size} bytes, last written {rfc3339(o.modified)}, {age_text(o.age)} ago): "
            "no evidence record names it",
            markup=False,
        )
    for t in report.temp_files:
        size = f"{t.temp.size} bytes, " if t.temp.size is not None else ""
        out.print(
            f"TEMP FILE: {t.temp.name} ({size}last written {rfc3339(t.temp.modified)}, {age_text(t.age)} ago): "
            f"{t.temp.what}",
            markup=False,
        )
    verdict = "OK" if report.ok else "FAILED"
    out.print(
        f"audit {verdict}: {report.objects_checked} objects, {report.bytes_checked} bytes re-hashed; "
        f"{_count(len(report.orphans), 'orphan')}, {_count(len(report.temp_files), 'stale temp file')}",
        markup=False,
    )
    if repaired is None:
        return
    for a in repaired.actions:
        line = f"{a.outcome}: {a.target} ({a.subject}, {age_text(a.age)} old): {a.detail}"
        (err if a.outcome == "failed" else out).print(line, markup=False)
    failed = repaired.count("orphan", "failed") + repaired.count("temp file", "failed")
    out.print(
        f"repair {'OK' if repaired.ok else 'FAILED'}: {_count(repaired.count('orphan', 'deleted'), 'orphan')} "
        f"deleted, {repaired.count('orphan', 'kept')} kept; "
        f"{_count(repaired.count('temp file', 'removed') + repaired.count('temp file', 'restored'), 'temp file')} "
        f"removed; {failed} failed",
        markup=False,
    )


def _count(amount: int, noun: str) -> str:
    return f"{amount} {noun}{'' if amount == 1 else 's'}"
