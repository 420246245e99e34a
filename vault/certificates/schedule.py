"""The close's side of a certificate: enqueue ``certificate.issue`` in the closing's unit of work.

Kept apart from ``issuing.py`` so closing a case imports no PDF or signing code (``docs/cli.md``, start-up).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from vault.jobs import queue
from vault.models import Case

CERTIFICATE_ISSUE = "certificate.issue"


def schedule_certificate(session: Session, *, case: Case, final_index: int, now: datetime) -> None:
    """Enqueue the certificate of the closing at ``final_index``; it runs once the closing has committed."""
    queue.enqueue(
        session,
        organization_id=case.organization_id,
        kind=CERTIFICATE_ISSUE,
        key=f"{case.id}:{final_index}",
        payload={"case_id": case.id, "final_index": final_index},
        run_at=now,
    )
