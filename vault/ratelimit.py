"""Failure rate limiting per key, and which address a request really came from.

``FailureLimiter`` counts failures per key in a sliding window; a key with ``max_failures`` failures
inside the window is refused (``RateLimited``, HTTP 429) until the oldest of them ages out. The
acknowledgment pages keep two (``docs/receipts.md``, "Link security"): one keyed by client address that
counts guesses (tokens no link has), one keyed by link id that counts refused answers on a live link.
``take`` spends the budget on every request instead, for endpoints open to anyone (the verifier keys,
``/.well-known/offboard/keys``, keyed by client address). State lives in the process: behind several
workers each counts on its own, which multiplies the thresholds by the worker count but keeps the 2^256
token space far out of reach.

``client_ip`` trusts ``X-Forwarded-For`` only when the direct peer is a configured proxy, and then takes
the right-most address that is not itself a trusted proxy (the left part is whatever the client wrote).
"""

from __future__ import annotations

import ipaddress
import math
import threading
from collections import OrderedDict, deque
from collections.abc import Iterable
from datetime import datetime

from vault.clock import Clock, system_clock
from vault.errors import ConfigurationError, RateLimited

#: Distinct keys tracked at once; the least recently failing are forgotten first.
MAX_KEYS = 100_000


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
