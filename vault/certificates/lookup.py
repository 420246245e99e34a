"""Reading certificates: the latest of a case, or why there is none yet."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, col, select

from vault.cases.lifecycle import get_case
from vault.errors import Conflict
from vault.handover.receipts import SignedDocument
from vault.models import Certificate
from vault.states import CaseStatus


def case_certificates(session: Session, organization_id: str, case_id: str) -> list[Certificate]:
    """Every certificate of the case, oldest first (one per closing)."""
    get_case(session, organization_id, case_id)
    query = select(Certificate).where(Certificate.case_id == case_id)
    return list(session.exec(query.order_by(col(Certificate.final_index))).all())


def latest_certificate(session: Session, organization_id: str, case_id: str) -> Certificate:
    """The certificate of the case's latest closing; ``Conflict`` saying why there is none yet (``NotFound``
    for a case of another organization)."""
    case = get_case(session, organization_id, case_id)
    found = case_certificates(session, organization_id, case_id)
    if found:
        return found[-1]
    if case.status == CaseStatus.FULLY_OFFBOARDED:
        raise Conflict(
            f"case {case_id} is fully offboarded but its certificate is not issued yet: the worker issues it "
            "moments after the close (offboard worker, or offboard serve)"
        )
    raise Conflict(f"case {case_id} has no certificate: it is {case.status}, not fully offboarded")


def signed_certificate(row: Certificate) -> SignedDocument:
    return SignedDocument(bytes(row.document), bytes(row.signature), row.key_id, row.key_name)


def certificate_document(row: Certificate) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(bytes(row.document))
    return value
