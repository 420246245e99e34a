"""SQLModel tables, one module per concern. Import from here: ``from vault.models import Case``.

Values that leave the domain are frozen dataclasses or pydantic models, not these rows. Ids are random
UUID strings; times are aware UTC datetimes.
"""

from __future__ import annotations

from vault.models.cases import AccessItem, CaseNote, CaseStep, CaseWaiver, Playbook, PlaybookVersion, StaffMember
from vault.models.certificates import Certificate
from vault.models.core import INT_COLUMN_MAX, ApiToken, Case, Organization, OrganizationLogo, new_id
from vault.models.evidence import Evidence
from vault.models.handover import Acknowledgment, Receipt, ReceiptLink
from vault.models.jobs import Job, WorkerLease
from vault.models.ledger import Checkpoint, LedgerEntry, SigningKey, TimestampToken
from vault.models.limits import RateLimitFailure
from vault.models.reminders import ReminderSent, ReminderSettings
from vault.models.signin import ConsoleSession, StaffCredential
from vault.models.stored_pdfs import StoredPdf
from vault.models.webhooks import WebhookAttempt, WebhookCursor, WebhookDelivery, WebhookEndpoint
from vault.models.witnessing import Cosignature, Witness, WitnessAlert

__all__ = [
    "INT_COLUMN_MAX",
    "AccessItem",
    "Acknowledgment",
    "ApiToken",
    "Case",
    "CaseNote",
    "CaseStep",
    "CaseWaiver",
    "Certificate",
    "Checkpoint",
    "ConsoleSession",
    "Cosignature",
    "Evidence",
    "Job",
    "LedgerEntry",
    "Organization",
    "OrganizationLogo",
    "Playbook",
    "PlaybookVersion",
    "RateLimitFailure",
    "Receipt",
    "ReceiptLink",
    "ReminderSent",
    "ReminderSettings",
    "SigningKey",
    "StaffCredential",
    "StaffMember",
    "StoredPdf",
    "TimestampToken",
    "WebhookAttempt",
    "WebhookCursor",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WorkerLease",
    "Witness",
    "WitnessAlert",
    "new_id",
]
