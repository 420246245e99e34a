"""``offboard worker [--once [--at RFC3339]]``: run the job worker (``docs/worker.md``)."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from types import FrameType
from typing import Annotated

import typer

from vault.cli.common import JsonOpt, app, emit, services


def _instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise typer.BadParameter(
            f"expected an RFC 3339 time like 2027-03-01T09:00:00Z; got {value!r}", param_hint="--at"
        ) from None
    if moment.tzinfo is None:
        raise typer.BadParameter(f"the time needs its offset (Z or +hh:mm); got {value!r}", param_hint="--at")
    return moment.astimezone(UTC)


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Run every job due now, then exit (for cron).")] = False,
    at: Annotated[
        str | None, typer.Option("--at", help="With --once: treat this RFC 3339 time as now.", metavar="RFC3339")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run due jobs: reminders, digests, webhook deliveries, timestamping."""
    moment = _instant(at)
    if moment is not None and not once:
        raise typer.BadParameter("--at applies to --once only", param_hint="--at")
    from vault.jobs.loop import Worker, run_once

    with services() as svc:
        if once:
            report = run_once(svc, now=moment or svc.clock())
            data = {
                "claimed": report.claimed,
                "done": report.done,
                "retried": report.retried,
                "failed": report.failed,
                "lease_held_elsewhere": report.lease_held_elsewhere,
            }
            line = f"worker: {report.claimed} jobs run, {report.done} done, {report.retried} to retry, "
            line += f"{report.failed} failed" + (
                " (another worker holds the lease)" if report.lease_held_elsewhere else ""
            )
            emit(as_json, data, line)
            return
        loop = Worker(svc)

        def _stop(signum: int, frame: FrameType | None) -> None:
            del signum, frame
            loop.stop_soon()

        signal.signal(signal.SIGTERM, _stop)
        try:
            loop.run()
        except KeyboardInterrupt:
            loop.stop_soon()
