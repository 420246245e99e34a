"""Streaming a request body into an evidence ingest, shared by the API's upload route and the console's.

Both adapters stream the body into the same ``EvidenceIngest`` without buffering it or spooling it to disk,
so a file of several GiB keeps memory flat, whichever door it comes through.
"""

from __future__ import annotations

import mimetypes
import queue
import threading
from collections.abc import Callable

import anyio
from fastapi import Request

from vault.db import read_session
from vault.evidence import ingest as evidence
from vault.orgs.organizations import Principal
from vault.services import Services

# Chunks from the server are small (often 64 KiB); batching them cuts thread hand-offs per byte.
BATCH_BYTES = 1024 * 1024
#: Batches in flight between the receiving loop and the writing thread (bounds memory to a few MiB).
QUEUE_BATCHES = 4


async def pump(request: Request, sink: Callable[[bytes], None]) -> None:
    """Stream the request body into ``sink`` (which hashes and writes) on a worker thread.

    Receiving and writing overlap: the event loop keeps reading the next chunks while the thread writes
    the previous ones, through a small bounded queue, so memory stays flat and neither side waits for the
    other on every chunk. Chunks are handed over in batches of about 1 MiB to keep thread hand-offs rare,
    and each batch reaches ``sink`` as one piece.
    """
    handoff: queue.Queue[list[bytes] | None] = queue.Queue(maxsize=QUEUE_BATCHES)
    failed = threading.Event()
    errors: list[BaseException] = []

    def drain() -> None:
        while (batch := handoff.get()) is not None:
            if failed.is_set():
                continue  # keep draining so the producer never blocks on a dead consumer
            try:
                # One write and one hash update per batch, not per server chunk: the join's memcpy costs
                # far less than the Python calls and write syscalls it saves.
                sink(batch[0] if len(batch) == 1 else b"".join(batch))
            except BaseException as exc:  # noqa: BLE001 - re-raised below, outside the task group
                errors.append(exc)
                failed.set()

    async def put(item: list[bytes] | None) -> None:
        try:
            handoff.put_nowait(item)
        except queue.Full:
            await anyio.to_thread.run_sync(handoff.put, item)

    async with anyio.create_task_group() as group:
        consumer_done = anyio.Event()

        async def consume() -> None:
            try:
                await anyio.to_thread.run_sync(drain)
            finally:
                consumer_done.set()

        group.start_soon(consume)
        try:
            pending: list[bytes] = []
            size = 0
            async for chunk in request.stream():
                if failed.is_set():
                    break
                pending.append(chunk)
                size += len(chunk)
                if size >= BATCH_BYTES:
                    await put(pending)
                    pending, size = [], 0
            if pending and not failed.is_set():
                await put(pending)
        finally:
            await put(None)
            await consumer_done.wait()
    if errors:
        raise errors[0]


GENERIC_TYPES = {"", "application/octet-stream", "application/x-www-form-urlencoded"}


def declared_type(header: str | None, filename: str | None) -> str:
    """The client's content type, or a guess from the filename when it sent only a generic one (curl's
    ``--data-binary`` says form-urlencoded); the type is metadata only and never trusted for serving."""
    value = (header or "").split(";")[0].strip().lower()
    if value not in GENERIC_TYPES:
        return value
    return mimetypes.guess_type(filename or "")[0] or "application/octet-stream"


def begin_ingest(services: Services, principal: Principal, case_id: str) -> evidence.EvidenceIngest:
    with read_session(services.engine) as session:
        return evidence.EvidenceIngest.begin(
            session,
            services.store,
            principal,
            case_id,
            services.ingest_limits,
            transact=services.transact,
            clock=services.clock,
        )
