"""The ``bundle.exported`` entry an export begins with: what a complete bundle of that export contains, and to
whom it goes when stated (the chain of custody, ``docs/bundle.md`` "Legal packaging")."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from vault.bundle import layout
from vault.errors import InvalidInput
from vault.ledger.entries import EntryDraft
from vault.models import Case, Organization

if TYPE_CHECKING:
    from vault.bundle.plan import PlannedEvidence

#: The longest recipient an export may name (``--recipient``), in characters.
RECIPIENT_MAX = 200


def export_draft(
    org: Organization, case: Case, actor: str, evidence: Iterable[PlannedEvidence], recipient: str | None = None
) -> EntryDraft:
    """The ``bundle.exported`` entry: the organization as named at export, every evidence item the bundle
    holds and that it carries the legal packaging, so the signed log itself says what a complete bundle of
    this export contains; and to whom it goes, when stated (the chain of custody)."""
    data: dict[str, Any] = {
        "format": layout.FORMAT,
        "organization": {"id": org.id, "name": org.name, "slug": org.slug},
        "evidence": sorted(({"id": e.row.id, "sha256": e.row.sha256} for e in evidence), key=lambda e: e["id"]),
        "legal": layout.LEGAL_FORMAT,
    }
    if recipient is not None:
        if not recipient.strip() or len(recipient) > RECIPIENT_MAX or not recipient.isprintable():
            raise InvalidInput(f"the recipient must be 1 to {RECIPIENT_MAX} printable characters, got {recipient!r}")
        data["recipient"] = recipient
    return EntryDraft(type="bundle.exported", organization_id=org.id, case_id=case.id, actor=actor, data=data)
