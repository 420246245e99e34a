"""The rate limits' two stores on both backend pairs: ``StoredFailureLimiter`` keeps ``FailureLimiter``'s
sliding window in the database (one budget for every process; old failures are deleted), and
``FailureLimiter.take`` spends a budget on every request, refusing without counting the refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from vault.db import read_session
from vault.errors import RateLimited
from vault.models import RateLimitFailure
from vault.ratelimit import FailureLimiter, StoredFailureLimiter


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_the_stored_window_slides_and_forgets(services: Any) -> None:
    clock = Clock()

    def limiter() -> StoredFailureLimiter:
        # A limiter per "process": only the database is shared.
        return StoredFailureLimiter(
            "ack-link", 3, 60, read=services.read, transact=services.transact, clock=clock, refusal="spent"
        )

    first, second = limiter(), limiter()
    for process in (first, second, first):
        process.check("link-1")
        process.fail("link-1")
        clock.now += timedelta(seconds=10)
    for process in (first, second):
        with pytest.raises(RateLimited, match="^spent$") as caught:
            process.check("link-1")
        assert caught.value.details["retry_after"] == 30
    second.check("link-2")  # other keys are unaffected
    StoredFailureLimiter("ack-address", 1, 60, read=services.read, transact=services.transact, clock=clock).check(
        "link-1"
    )  # nor is another scope
    clock.now += timedelta(seconds=30)  # the first failure ages out
    first.check("link-1")
    clock.now += timedelta(seconds=120)
    second.fail("link-2")  # recording deletes the scope's failures older than the window
    with read_session(services.engine) as session:
        kept = session.exec(select(RateLimitFailure.key)).all()
    assert kept == ["link-2"]


def test_take_counts_every_request_but_not_refusals() -> None:
    clock = Clock()
    limiter = FailureLimiter(2, 60, clock=clock, refusal="slow down")
    limiter.take("a")
    clock.now += timedelta(seconds=10)
    limiter.take("a")
    for _ in range(5):
        with pytest.raises(RateLimited, match="^slow down$") as caught:
            limiter.take("a")
        assert caught.value.details["retry_after"] == 50
    limiter.take("b")
    clock.now += timedelta(seconds=50)  # the first request ages out; the refusals never counted
    limiter.take("a")
