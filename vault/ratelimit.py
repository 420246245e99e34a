"""Failure rate limiting per key, and which address a request really came from.

``FailureLimiter`` counts failures per key in a sliding window; a key with ``max_failures`` failures
inside the window is refused (``RateLimited``, HTTP 429) until the oldest of them ages out; console
sign-in keeps two (``vault/orgs/signin.py``).
``take`` spends the budget on every request instead, for endpoints open to anyone (the verifier keys,
``/.well-known/offboard/keys``, keyed by client address). Its state lives in the process: behind several
processes each counts on its own, which is enough to keep one address from hammering a cheap endpoint.

``StoredFailureLimiter`` keeps the same sliding window in the database (``rate_limit_failure``), so every
process of a deployment counts the same failures. The acknowledgment pages keep two
(``docs/receipts.md``, "Link security"): one keyed by client address that counts guesses (tokens no link
has), one keyed by link id that counts refused answers on a live link.

``client_ip`` trusts ``X-Forwarded-For`` only when the direct peer is a configured proxy, and then takes
the right-most address that is not itself a trusted proxy (the left part is whatever the client wrote).
"""

from __future__ import annotations

import ipaddress
import math
import threading
from collections import OrderedDict, deque
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from vault.clock import Clock, system_clock
from vault.db import Read, Transact
from vault.errors import ConfigurationError, RateLimited
from vault.models import RateLimitFailure

#: Distinct keys tracked at once; the least recently failing are forgotten first.
MAX_KEYS = 100_000
#: A stored key's length (the column's); addresses and link ids are far shorter.
MAX_KEY_CHARS = 200


class FailureLimiter:
    def __init__(
        self,
        max_failures: int,
        window_seconds: float,
        *,
        clock: Clock = system_clock,
        refusal: str = "too many failed attempts; try again later",
    ) -> None:
        if max_failures < 1 or window_seconds <= 0:
            raise ConfigurationError(
                "a failure limit needs max_failures >= 1 and window_seconds > 0, "
                f"found {max_failures} and {window_seconds}"
            )
        self.max_failures = max_failures
        self.window = window_seconds
        self.refusal = refusal
        self._clock = clock
        self._failures: OrderedDict[str, deque[datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and (now - times[0]).total_seconds() >= self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def _refuse_if_spent(self, times: deque[datetime], now: datetime) -> None:
        if len(times) >= self.max_failures:
            wait = self.window - (now - times[0]).total_seconds()
            raise RateLimited(self.refusal, details={"retry_after": max(1, math.ceil(wait))})

    def _count(self, key: str, times: deque[datetime], now: datetime) -> None:
        times.append(now)
        self._failures[key] = times
        self._failures.move_to_end(key)
        while len(self._failures) > MAX_KEYS:
            self._failures.popitem(last=False)

    def check(self, key: str) -> None:
        """Raise ``RateLimited`` (with ``retry_after`` seconds) if ``key`` has used up its failures."""
        with self._lock:
            now = self._clock()
            self._refuse_if_spent(self._recent(key, now), now)

    def fail(self, key: str) -> None:
        with self._lock:
            now = self._clock()
            self._count(key, self._recent(key, now), now)

    def take(self, key: str) -> None:
        """``check``, then count this attempt: a budget of every request (the public keys), not only of
        failures. A refused request is not counted, so a flood does not push the window on."""
        with self._lock:
            now = self._clock()
            times = self._recent(key, now)
            self._refuse_if_spent(times, now)
            self._count(key, times, now)


class Limiter(Protocol):
    """What the pages need of a limit: refuse a spent key, count a failure."""

    def check(self, key: str) -> None: ...

    def fail(self, key: str) -> None: ...


def failures_since(session: Session, *, scope: str, key: str, since: datetime) -> tuple[int, datetime | None]:
    """How many failures ``key`` has in ``scope`` after ``since``, and the oldest of them."""
    row = session.exec(
        select(func.count(), func.min(RateLimitFailure.at)).where(
            RateLimitFailure.scope == scope, RateLimitFailure.key == key, col(RateLimitFailure.at) > since
        )
    ).one()
    return int(row[0]), row[1]


def record_failure(session: Session, *, scope: str, key: str, at: datetime, forget_before: datetime) -> None:
    """Count one failure, and delete the scope's failures that have aged out (so the table stays small)."""
    session.exec(
        delete(RateLimitFailure).where(col(RateLimitFailure.scope) == scope, col(RateLimitFailure.at) <= forget_before)
    )
    session.add(RateLimitFailure(scope=scope, key=key, at=at))


class StoredFailureLimiter:
    """``FailureLimiter``'s sliding window, counted in the database (``rate_limit_failure``), so every
    process of a deployment sees the same failures; one code path for SQLite and PostgreSQL.

    Each failure is one row inserted in its own transaction, so the count is exact however many processes
    record at once. A check and the failure after it are not one transaction: attempts racing past the
    same check may overshoot the threshold by their number, never more.
    """

    def __init__(
        self,
        scope: str,
        max_failures: int,
        window_seconds: float,
        *,
        read: Read,
        transact: Transact,
        clock: Clock = system_clock,
        refusal: str = "too many failed attempts; try again later",
    ) -> None:
        if max_failures < 1 or window_seconds <= 0:
            raise ConfigurationError(
                "a failure limit needs max_failures >= 1 and window_seconds > 0, "
                f"found {max_failures} and {window_seconds}"
            )
        self.scope = scope
        self.max_failures = max_failures
        self.window = timedelta(seconds=window_seconds)
        self.refusal = refusal
        self._read = read
        self._transact = transact
        self._clock = clock

    def check(self, key: str) -> None:
        """Raise ``RateLimited`` (with ``retry_after`` seconds) if ``key`` has used up its failures."""
        now = self._clock()
        count, oldest = self._read(
            lambda session: failures_since(session, scope=self.scope, key=key[:MAX_KEY_CHARS], since=now - self.window)
        )
        if count >= self.max_failures and oldest is not None:
            wait = (self.window - (now - oldest)).total_seconds()
            raise RateLimited(self.refusal, details={"retry_after": max(1, math.ceil(wait))})

    def fail(self, key: str) -> None:
        now = self._clock()
        self._transact(
            lambda unit: record_failure(
                unit, scope=self.scope, key=key[:MAX_KEY_CHARS], at=now, forget_before=now - self.window
            )
        )


def _networks(trusted: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(item.strip(), strict=False) for item in trusted if item.strip()]


def _in(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_ip(peer: str | None, forwarded_for: str | None, trusted_proxies: Iterable[str]) -> str:
    """The client's address: the peer, unless the peer is a trusted proxy that says who it forwarded."""
    address = peer or "unknown"
    networks = _networks(trusted_proxies)
    if not networks or not forwarded_for or not _in(address, networks):
        return address
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _in(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return address  # a malformed hop: fall back to the proxy rather than trust garbage
    return hops[0] if hops else address
