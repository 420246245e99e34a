"""Hashing every member of a bundle for the bag manifests (RFC 8493 section 3): SHA-256, and SHA-512 when
the bag carries SHA-512 manifests (format 4 writes them only on request; formats 1 to 3 always did).

Every byte of every member is hashed with each algorithm the bag's manifests use (and its CRC-32 checked
against the ZIP directory by ``SafeZip.feed``). The large members carry nearly all the bytes, so they are hashed on a
thread pool while the caller goes on with other work: hashlib and zlib release the GIL on large
buffers, so each worker keeps a core busy. Work is balanced by cost: a member is one job (read once,
fed to every hash) unless, with two algorithms, it alone is more than a worker's fair share, in which case
its SHA-256 and SHA-512 become two jobs that read it separately, so two cores share one huge file. Jobs are queued
most expensive first, and an idle thread takes the next one (greedy list scheduling).

The caller is one of the hashing threads: while it checks the ledger (Python, holding the GIL) only
``workers - 1`` pool threads hash, so on a two-core machine the caller keeps a core to itself instead
of three busy threads sharing two; when it asks for the result it takes queued jobs too, and both
cores hash until the end.

Small members, and those the caller needs before the pool is done, are hashed inline (``hash_inline``):
for a small member a thread hand-off would cost more than the hashing.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field

from vault.bundle import layout
from vault.bundle.zipsafe import MemberUnreadable, SafeZip

#: Members at most this large are kept in memory for the content checks (evidence never is).
KEEP_LIMIT = 64 * 1024 * 1024
#: Members at least this large are hashed on the pool (below it a hand-off costs more than it saves).
LARGE = 256 * 1024
#: Read size for large members: big enough that a worker takes the GIL rarely (four times per chunk).
LARGE_CHUNK = 8 * 1024 * 1024
ALGORITHMS = ("sha256", "sha512")
#: What a bag without SHA-512 manifests needs.
SHA256_ONLY = ("sha256",)
#: Relative cost per byte, used only to order and split jobs. SHA-512 is about twice SHA-256 where the
#: CPU has SHA extensions (and cheaper where it does not); a wrong guess costs balance, never results.
_COST = {"sha256": 1.0, "sha512": 2.0}


@dataclass(slots=True)
class MemberDigests:
    """Hex digests per bag-relative member path, the bytes of the members kept, and read failures."""

    sha256: dict[str, str] = field(default_factory=dict)
    sha512: dict[str, str] = field(default_factory=dict)
    kept: dict[str, bytes] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, digests: dict[str, str], data: bytes | None) -> None:
        self.sha256[name] = digests["sha256"]
        if "sha512" in digests:
            self.sha512[name] = digests["sha512"]
        if data is not None:
            self.kept[name] = data

    def merge(self, other: MemberDigests) -> None:
        self.sha256.update(other.sha256)
        self.sha512.update(other.sha512)
        self.kept.update(other.kept)
        self.unreadable.update(other.unreadable)

    def of(self, algorithm: str) -> dict[str, str]:
        return self.sha256 if algorithm == "sha256" else self.sha512


@dataclass(frozen=True, slots=True)
class _Job:
    name: str
    algorithms: tuple[str, ...]
    #: Whether this job checks the member's CRC-32 (exactly one job per member does).
    check_crc: bool
    keep: bool

    def run(self, archive: SafeZip) -> tuple[dict[str, str], bytes | None]:
        hashes = [hashlib.new(algorithm) for algorithm in self.algorithms]
        consumers: list[Callable[[memoryview], object]] = [h.update for h in hashes]
        parts: list[bytes] = []
        if self.keep:
            consumers.append(lambda chunk: parts.append(bytes(chunk)))
        archive.feed(self.name, consumers, check_crc=self.check_crc, chunk_size=LARGE_CHUNK)
        digests = {algorithm: h.hexdigest() for algorithm, h in zip(self.algorithms, hashes, strict=True)}
        return digests, b"".join(parts) if self.keep else None


def _keep(archive: SafeZip, name: str) -> bool:
    return archive.size(name) <= KEEP_LIMIT and not name.startswith(layout.EVIDENCE_DIR)


def plan_jobs(
    archive: SafeZip, names: Iterable[str], workers: int, algorithms: tuple[str, ...] = ALGORITHMS
) -> list[_Job]:
    """The jobs for ``names``, most expensive first."""
    names = list(names)
    both = sum(_COST[a] for a in algorithms)
    fair = sum(archive.size(n) for n in names) * both / max(1, workers)
    jobs: list[tuple[float, _Job]] = []
    for name in names:
        size, keep = archive.size(name), _keep(archive, name)
        if workers > 1 and len(algorithms) > 1 and size * both > fair:
            first, *rest = algorithms
            jobs.append((size * _COST[first], _Job(name, (first,), True, keep)))
            jobs.extend((size * _COST[a], _Job(name, (a,), False, False)) for a in rest)
        else:
            jobs.append((size * both, _Job(name, algorithms, True, keep)))
    jobs.sort(key=lambda pair: (-pair[0], pair[1].name, pair[1].algorithms))
    return [job for _, job in jobs]


_Outcome = tuple[dict[str, str], bytes | None] | BaseException


class PendingDigests:
    """Large members queued for hashing; pool threads take jobs now, ``result()`` joins in and waits."""

    def __init__(self, archive: SafeZip, jobs: list[_Job], pool: Executor, helpers: int) -> None:
        #: The members being hashed.
        self.names = frozenset(job.name for job in jobs)
        self._archive = archive
        self._jobs = jobs
        # deque.popleft is atomic, so the threads share the queue without a lock.
        self._queue = deque(enumerate(jobs))
        self._outcomes: list[_Outcome | None] = [None] * len(jobs)
        self._helpers: list[Future[None]] = [pool.submit(self._drain) for _ in range(min(helpers, len(jobs)))]

    def _drain(self) -> None:
        """Run queued jobs until none is left."""
        while True:
            try:
                position, job = self._queue.popleft()
            except IndexError:
                return
            try:
                self._outcomes[position] = job.run(self._archive)
            except BaseException as exc:  # kept and re-raised by result(), as a Future would
                self._outcomes[position] = exc

    def result(self) -> MemberDigests:
        """Hash the jobs still queued in this thread, wait for the pool's, and gather every digest."""
        self._drain()
        for helper in self._helpers:
            helper.result()
        out = MemberDigests()
        found: dict[str, dict[str, str]] = {}
        data: dict[str, bytes] = {}
        for job, outcome in zip(self._jobs, self._outcomes, strict=True):
            if isinstance(outcome, MemberUnreadable):
                out.unreadable[job.name] = outcome.message
                continue
            if isinstance(outcome, BaseException):
                raise outcome
            if outcome is None:  # every queued job ran: the drains above returned only on an empty queue
                raise RuntimeError(f"{job.name}: hashing job did not run")
            digests, kept = outcome
            found.setdefault(job.name, {}).update(digests)
            if kept is not None:
                data[job.name] = kept
        for name, digests in found.items():
            if name not in out.unreadable:
                out.add(name, digests, data.get(name))
        return out


def start_large(
    archive: SafeZip,
    pool: Executor,
    workers: int,
    *,
    skip: Callable[[str], bool],
    algorithms: tuple[str, ...] = ALGORITHMS,
) -> PendingDigests:
    """Queue every member of at least ``LARGE`` bytes, except those ``skip`` names, for hashing.

    ``workers`` is how many threads hash in the end: ``workers - 1`` of ``pool``'s threads start now and
    the caller joins them in ``PendingDigests.result()``. ``skip`` names members the caller needs before
    that (it hashes them with ``hash_inline``).
    """
    large = sorted(n for n in archive.members if archive.size(n) >= LARGE and not skip(n))
    jobs = plan_jobs(archive, large, workers, algorithms)
    return PendingDigests(archive, jobs, pool, max(1, workers - 1))


def hash_inline(archive: SafeZip, names: Iterable[str], algorithms: tuple[str, ...] = ALGORITHMS) -> MemberDigests:
    """Hash (and keep, for the content checks) ``names`` in this thread."""
    out = MemberDigests()
    names = set(names)
    small = [name for name in names if archive.size(name) < LARGE]
    for name, data in archive.read_many(small):
        if isinstance(data, MemberUnreadable):
            out.unreadable[name] = data.message
            continue
        digests = {algorithm: hashlib.new(algorithm, data).hexdigest() for algorithm in algorithms}
        out.add(name, digests, data if _keep(archive, name) else None)
    for name in sorted(names - set(small)):
        keep = _keep(archive, name)
        try:
            # Streamed, never held whole unless kept: its size is whatever the archive claims.
            found, kept = _Job(name, algorithms, True, keep).run(archive)
        except MemberUnreadable as exc:
            out.unreadable[name] = exc.message
            continue
        out.add(name, found, kept)
    return out


__all__ = [
    "ALGORITHMS",
    "KEEP_LIMIT",
    "LARGE",
    "SHA256_ONLY",
    "MemberDigests",
    "PendingDigests",
    "hash_inline",
    "plan_jobs",
    "start_large",
]
