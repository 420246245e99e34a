"""The states of every state machine Offboard stores, in one place and with no dependencies.

Each is a ``StrEnum``: the database column stays a plain string (the stored value is the member's
value, so no schema or data changes), while code compares and writes members, never literals. Which
moves are allowed lives with the logic that makes them (``vault/cases/lifecycle.py`` ``TRANSITIONS``, the gate,
``vault/handover/links.py``, ``vault/handover/acknowledgments.py``). ``STORED`` names the column each enum governs, so a
test can check that every value the code writes is a member.
"""

from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    """``offboarding_case.status``: from intent to the final state (``docs/cases.md``)."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    AWAITING_ACKNOWLEDGMENT = "awaiting_acknowledgment"
    #: The final state, entered only through the gate (``vault/cases/gate.py``).
    FULLY_OFFBOARDED = "fully_offboarded"
    DISPUTED = "disputed"


class StepStatus(StrEnum):
    """``case_step.status``: a step is done once, with its evidence; it never goes back."""

    PENDING = "pending"
    DONE = "done"


class AccessStatus(StrEnum):
    """``access_item.status``. Verification by a second person is recorded beside it (``verified_at``)."""

    ACTIVE = "active"
    REVOKED = "revoked"


class ReceiptStatus(StrEnum):
    """``receipt.status``: signed, sent, then answered once (acknowledged or disputed)."""

    DRAFT = "draft"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    DISPUTED = "disputed"


class LinkState(StrEnum):
    """What a token opens. A link only ever leaves ``LIVE``, never returns to it.

    ``receipt_link.status`` stores ``LIVE``, ``USED`` or ``VOIDED`` (``STORED_LINK_STATES``); ``UNKNOWN``
    and ``EXPIRED`` are derived when a token is looked up, never written.
    """

    #: Malformed, or no link has this token's hash: a guess.
    UNKNOWN = "unknown"
    #: Unexpired, and its receipt awaits an answer in a case not yet fully offboarded.
    LIVE = "live"
    #: This link answered the receipt (acknowledged or disputed).
    USED = "used"
    #: Replaced by a newer link, or its receipt was answered through another link, or its case closed.
    VOIDED = "voided"
    #: Past ``expires_at`` while still unused.
    EXPIRED = "expired"


#: The link states a ``receipt_link`` row can hold.
STORED_LINK_STATES = frozenset({LinkState.LIVE, LinkState.USED, LinkState.VOIDED})


class DeliveryStatus(StrEnum):
    """``webhook_delivery.status``: pending until a 2xx answer or until its retries are spent (webhooks.md)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    #: Every scheduled attempt failed, or its endpoint was removed; a replay may still deliver it.
    FAILED = "failed"


class PdfKind(StrEnum):
    """``stored_pdf.kind``: what a stored signed PDF renders (``vault/pdfs/stored.py``); its ledger entries
    are ``<kind>.pdf_stored`` and ``<kind>.pdf_retimestamped``."""

    RECEIPT = "receipt"
    #: A certificate of completion's PDF (edition ``issued``: a certificate never changes).
    CERTIFICATE = "certificate"


#: (table, column) -> the values it may hold.
STORED: dict[tuple[str, str], frozenset[str]] = {
    ("offboarding_case", "status"): frozenset(CaseStatus),
    ("case_step", "status"): frozenset(StepStatus),
    ("access_item", "status"): frozenset(AccessStatus),
    ("receipt", "status"): frozenset(ReceiptStatus),
    ("receipt_link", "status"): STORED_LINK_STATES,
    ("webhook_delivery", "status"): frozenset(DeliveryStatus),
}


class LogVisibility(StrEnum):
    """``organization.log_visibility``: who may read the log's tiles (``docs/ledger.md``, "Tiles")."""

    #: Everything needs a token of the organization.
    PRIVATE = "private"
    #: The checkpoint and the tiles of hashes are public; entry bundles need a token.
    HASHES = "hashes"
    #: Checkpoint, hashes and entries are public.
    PUBLIC = "public"


class WitnessStatus(StrEnum):
    """``witness.status``: how the last submission of a checkpoint to a witness ended (``docs/ledger.md``)."""

    #: Never submitted to.
    NEW = "new"
    #: The witness cosigned the checkpoint.
    COSIGNED = "cosigned"
    #: The witness refused the consistency proof or the checkpoint (422): an alert, never retried blindly.
    REJECTED = "rejected"
    #: The witness could not be reached or did not answer in time; retried later.
    UNREACHABLE = "unreachable"
    #: The witness answered something else (403, 404, a malformed or unverifiable answer); retried later.
    FAILED = "failed"


STORED[("witness", "status")] = frozenset(WitnessStatus)
