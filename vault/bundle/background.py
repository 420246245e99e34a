"""Generated bundle files made on a thread of their own while the export streams the evidence: the PDF
report is about a second of pure Python for 10,000 entries, and the evidence copy spends its time in hashing
and I/O outside the interpreter lock, so the two overlap (``export.py``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future

from vault.bundle.plan import BundlePlan


def in_background(make: Callable[[], bytes], name: str) -> Future[bytes]:
    """``make()`` on a daemon thread of its own; its result, or what it raised, in the future returned."""
    future: Future[bytes] = Future()

    def run() -> None:
        future.set_running_or_notify_cancel()
        try:
            future.set_result(make())
        except BaseException as exc:  # noqa: BLE001 - re-raised by whoever takes the result
            future.set_exception(exc)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


def settle(plan: BundlePlan) -> None:
    """Wait for the plan's files still rendering (re-raising what a render raised) and add them to its files."""
    for path in list(plan.rendering):
        plan.files[path] = plan.rendering.pop(path).result()


__all__ = ["in_background", "settle"]
