"""The human-readable case report of a bundle: ``report.html`` (jinja2) and ``report.pdf`` (fpdf2).

Both render one ``ReportData``: the case, its timeline (the bundle's ledger entries, with indexes), the
deliverables with hashes, steps, access revocations, the acknowledgment record, notes, the final state,
and what each record proves and does not. A value that is not known is shown as "absent", never
guessed. The PDF is reproducible: fixed creation date (the export time) and a bundled Unicode font
(DejaVu, Debian's fonts-dejavu-core) so any client name renders.

The templates live in ``templates/bundle/``; jinja2 is imported here because the bundle is produced by
the CLI as well as the API, with no web layer in between.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from vault.bundle.plan import BundlePlan
from vault.clock import rfc3339
from vault.errors import ConfigurationError
from vault.models import AccessItem, CaseNote, CaseStep

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "bundle"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
ABSENT = "absent"

CLAIMS: tuple[tuple[str, str, str], ...] = (
    (
        "Ledger entries (data/ledger/entries)",
        "Each entry's exact bytes are leaf N of the organization's log as described by the signed checkpoint "
        "(inclusion proof), so it cannot have been altered or removed without breaking the proof.",
        "That the event described happened as written, or at the time written: the time is the server's "
        "clock. An entry proves what was recorded, not that it is true.",
    ),
    (
        "Signed checkpoint (data/ledger/checkpoint)",
        "The holder of the organization's key vouched for this log size and root. With the key pinned out "
        "of band, no one else could have produced it.",
        "Anything if the key is not pinned: a bundle can carry any key. It does not prove when it was "
        "signed (see timestamps), nor that the log shown to others was the same (compare checkpoints).",
    ),
    (
        "Earlier checkpoints with consistency proofs",
        "The log given to the client earlier is a prefix of this one: nothing recorded then was changed.",
        "That entries appended since are complete or true.",
    ),
    (
        "Evidence files (data/evidence)",
        "Each file's bytes hash to the SHA-256 recorded in its evidence.stored entry.",
        "That the client received or opened the file; only an acknowledgment can say that.",
    ),
    (
        "RFC 3161 timestamps (data/timestamps)",
        "The checkpoint note existed no later than the TSA's genTime, for whoever trusts the TSA's root.",
        "When each entry was written before that time.",
    ),
    (
        "Receipts (data/receipts)",
        "The organization signed exactly this list of deliverables and terms.",
        "The client's agreement, unless an acknowledgment block is present and countersigned.",
    ),
    (
        "This report, steps and access tables",
        "Nothing by themselves: they are a reading aid rendered from the database at export time, covered "
        "only by the bag manifests. The ledger entries listed in the timeline are the record.",
        "Step and access tables are the state at export; their history is in the timeline.",
    ),
    (
        "The export itself",
        "A bundle.exported entry carrying the SHA-256 of manifest-sha256.txt is appended after the export.",
        "It is not inside this bundle (it comes after the checkpoint); a later bundle or the live log shows it.",
    ),
)


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything the two renderings show, as display strings."""

    title: str
    facts: tuple[tuple[str, str], ...]
    timeline: tuple[tuple[str, str, str, str, str], ...]
    deliverables: tuple[tuple[str, str, str, str, str, str], ...]
    steps: tuple[tuple[str, str, str, str, str], ...]
    access: tuple[tuple[str, str, str, str, str, str], ...]
    acknowledgments: tuple[tuple[str, str], ...]
    notes: tuple[tuple[str, str, str, str], ...]
    final_state: tuple[tuple[str, str], ...]
    claims: tuple[tuple[str, str, str], ...]


def shown(value: object) -> str:
    """The display form of a value; ``None`` and empty text are "absent"."""
    if value is None or value == "":
        return ABSENT
    if hasattr(value, "tzinfo") and hasattr(value, "hour"):
        return rfc3339(value)  # type: ignore[arg-type]
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _summary(data: dict[str, Any]) -> str:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))
    return text if len(text) <= 240 else text[:239] + "…"


def collect(session: Session, plan: BundlePlan) -> ReportData:
    case = plan.case
    steps = session.exec(select(CaseStep).where(CaseStep.case_id == case.id).order_by(col(CaseStep.position))).all()
    items = session.exec(
        select(AccessItem).where(AccessItem.case_id == case.id).order_by(col(AccessItem.added_at))
    ).all()
    notes = session.exec(select(CaseNote).where(CaseNote.case_id == case.id).order_by(col(CaseNote.created_at))).all()
    facts = (
        ("Organization", plan.organization.name),
        ("Case", case.id),
        ("Client", case.client_name),
        ("Owner", shown(case.owner_email)),
        ("Trigger", shown(case.trigger)),
        ("Service type", shown(case.service_type)),
        ("Intent date", shown(case.intent_date)),
        ("Target end date", shown(case.target_end_date)),
        ("Log origin", plan.origin),
        ("Checkpoint size", str(plan.checkpoint.size)),
        ("Exported at", rfc3339(plan.exported_at)),
        ("Exported by", plan.exported_by),
    )
    timeline = tuple(
        (
            str(e.index),
            shown(e.document.get("time")),
            shown(e.document.get("actor")),
            shown(e.document.get("type")),
            _summary(e.document.get("data") or {}),
        )
        for e in plan.entries
    )
    deliverables = tuple(
        (e.row.original_filename, e.row.kind, str(e.row.size), e.row.sha256, shown(e.row.ledger_index), e.path)
        for e in plan.evidence
    )
    step_rows = tuple(
        (
            f"{s.title} ({s.key})" + ("" if s.required else " [optional]"),
            s.status,
            shown(s.completed_at),
            shown(s.completed_by),
            shown(s.ledger_index),
        )
        for s in steps
    )
    access_rows = tuple(
        (
            f"{i.name} ({i.kind}, held by {i.held_by})",
            i.status,
            f"{shown(i.revoked_at)} by {shown(i.revoked_by)}",
            shown(i.revocation_method),
            f"{shown(i.verified_at)} by {shown(i.verified_by)}" if i.verified_at else ABSENT,
            shown(i.revoked_index),
        )
        for i in items
    )
    acks = tuple((r.receipt_id, r.status) for r in plan.receipts) or (("Acknowledgment", ABSENT),)
    note_rows = tuple((shown(n.created_at), n.kind, n.author, n.text) for n in notes)
    final = (
        ("Status", case.status),
        ("Fully offboarded at", shown(case.closed_at)),
        ("Last change", shown(case.updated_at)),
    )
    return ReportData(
        title=f"Offboarding evidence: {case.client_name}",
        facts=facts,
        timeline=timeline,
        deliverables=deliverables,
        steps=step_rows,
        access=access_rows,
        acknowledgments=acks,
        notes=note_rows,
        final_state=final,
        claims=CLAIMS,
    )


#: Renders ``report.html`` from the collected facts. The domain never imports jinja2 (STYLE.md): the API
#: layer's ``api.rendering.render_bundle_report`` is passed in by whoever exports.
ReportRenderer = Callable[[ReportData], bytes]


def verify_page() -> bytes:
    """The offline verifier page, copied verbatim into every bundle."""
    path = TEMPLATES / "verify.html"
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"the verifier page {path} is missing from the installation") from exc
