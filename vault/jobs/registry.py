"""Which handler runs each job kind, and which sweeps run each tick: a ``Registry`` built by
``vault/jobs/catalog.py`` (tests build their own)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from vault.errors import InvalidInput, OffboardError
from vault.jobs.queue import ClaimedJob

if TYPE_CHECKING:
    from vault.services import Services

#: ``fn(services, job, now)``: runs one job; raise ``RetryLater``/any ``OffboardError`` to retry, ``GiveUp`` to fail.
Handler = Callable[["Services", ClaimedJob, datetime], None]
#: ``fn(services, jobs, now) -> failures by job id``: runs several jobs of one kind at once (one SMTP
#: connection for many emails); a job absent from the answer succeeded.
BatchHandler = Callable[["Services", Sequence[ClaimedJob], datetime], Mapping[str, OffboardError]]
#: ``fn(services, now)``: called once per tick before jobs are claimed; enqueues what has come due. Two
#: workers may sweep at once (PostgreSQL), so a sweep enqueues with deterministic keys.
Sweep = Callable[["Services", datetime], None]


@dataclass(frozen=True, slots=True)
class Retries:
    """How a kind retries: ``base * 2**(attempt-1)``, at most ``ceiling``, until ``max_attempts`` claims."""

    max_attempts: int = 20
    base: timedelta = timedelta(seconds=30)
    ceiling: timedelta = timedelta(hours=6)

    def delay(self, attempts: int) -> timedelta:
        grown: timedelta = self.base * (2 ** min(max(attempts - 1, 0), 30))
        return min(grown, self.ceiling)


@dataclass(frozen=True, slots=True)
class Kind:
    """One registered job kind: exactly one of ``run`` (job by job) and ``run_batch``."""

    name: str
    run: Handler | None
    run_batch: BatchHandler | None
    retries: Retries


@dataclass(slots=True)
class Registry:
    kinds: dict[str, Kind] = field(default_factory=dict)
    sweeps: dict[str, Sweep] = field(default_factory=dict)

    def register_handler(self, kind: str, fn: Handler, *, retries: Retries | None = None) -> None:
        self._add(Kind(kind, fn, None, retries or Retries()))

    def register_batch_handler(self, kind: str, fn: BatchHandler, *, retries: Retries | None = None) -> None:
        self._add(Kind(kind, None, fn, retries or Retries()))

    def register_sweep(self, name: str, fn: Sweep) -> None:
        if name in self.sweeps:
            raise InvalidInput(f"sweep {name!r} is registered twice")
        self.sweeps[name] = fn

    def _add(self, kind: Kind) -> None:
        if kind.name in self.kinds:
            raise InvalidInput(f"job kind {kind.name!r} is registered twice")
        self.kinds[kind.name] = kind
