"""Every retrieval of a stored file is a ledger entry (``evidence.retrieved``), so the chain of custody
lists who took a copy of what, when and how, beside who stored it (``docs/ledger.md``).

Recorded in its own unit of work before the first byte is sent, as a bundle export is: a download that
is then cut off still counts as an attempt, and nothing is sent that the log does not show.
"""

from __future__ import annotations

from enum import StrEnum

from sqlmodel import Session

from vault.clock import Clock
from vault.evidence.ingest import get_evidence
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.models import Evidence
from vault.orgs.organizations import Principal


class Channel(StrEnum):
    """How the copy left Offboard."""

    API = "api"
    CONSOLE = "console"
    CLI = "cli"
    #: The client, through a live acknowledgment link.
    CLIENT_LINK = "client_link"


def record_retrieval(
    session: Session, principal: Principal, evidence_id: str, *, channel: Channel, clock: Clock
) -> Evidence:
    """The evidence row, once its retrieval by ``principal`` is appended to its case's ledger.

    Any role may retrieve (a viewer reads); another organization's item is ``NotFound``."""
    row = get_evidence(session, principal.organization_id, evidence_id)
    data = {"evidence": row.id, "sha256": row.sha256, "filename": row.original_filename, "channel": channel.value}
    draft = EntryDraft("evidence.retrieved", row.organization_id, row.case_id, principal.actor, data)
    log.append(session, draft, clock=clock)
    return row
