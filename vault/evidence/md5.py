"""The MD5 of each stored evidence file, for the e-discovery load file (``docs/bundle.md``, "Legal packaging").

MD5 is no integrity check here (SHA-256 is, and the content address): e-discovery tools expect it in a load
file. Computing it costs about twice the SHA-256 on this kind of machine, so it is done once per file and off
the upload: the upload's unit of work enqueues an ``evidence.md5`` job (key: the evidence id) to run
``MD5_DELAY`` later, when the worker (``md5_worker.py``) reads the object back, checks it against its
SHA-256 while hashing (``stream_verified``), and records the MD5 as an ``evidence.md5`` ledger entry of the
case. The record is the ledger's, not a database column: a later edit of the database cannot change the MD5
a bundle's load file states without breaking the log. An export takes the MD5s its case's entries record and
computes the others (files stored before this existed, or exported before their job ran) from the bytes it
copies, as before.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from vault.db import Unit
from vault.jobs import queue
from vault.models import Evidence

EVIDENCE_MD5 = "evidence.md5"
#: How long after an upload its MD5 is computed: after the burst of uploads a hand-over brings, so this second
#: read of every file does not compete with the uploads still coming in.
MD5_DELAY = timedelta(minutes=5)


def enqueue_md5(session: Unit, row: Evidence, now: datetime) -> None:
    """In the upload's unit of work: the job that records the row's MD5 later."""
    queue.enqueue(
        session,
        organization_id=row.organization_id,
        kind=EVIDENCE_MD5,
        key=row.id,
        payload={"evidence": row.id},
        run_at=now + MD5_DELAY,
    )
