"""Which reminders are due at an instant: pure functions over a session and ``now`` (``docs/cases.md``,
"Reminders").

Each due reminder carries the key that makes it happen once (``reminder_sent.key`` is unique); a key
already recorded is not due again. Days are the organization's local days (``ReminderPolicy.zone``); every
stored time stays UTC.

- Digest: each case owner, once per local day from the digest hour, lists the open cases' required steps
  overdue or due within 48 hours and the unrevoked access items; nothing is due when that list is empty.
- Escalation: an item overdue by more than the escalation days goes to every active admin, once per item.
- Client reminder: each live, unexpired link of a sent receipt at the latest schedule day reached since the
  link was sent (a worker that was off does not send the missed days one after another).
- Expiry notice: a link that expired unanswered in the last ``EXPIRY_NOTICE_DAYS`` days, to the owner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, select

from vault.cases.progress import step_due
from vault.clock import rfc3339
from vault.models import AccessItem, Case, CaseStep, Organization, Receipt, ReceiptLink, ReminderSent, StaffMember
from vault.orgs.organizations import Role
from vault.reminders.policy import ReminderPolicy, policy_of
from vault.states import AccessStatus, CaseStatus, LinkState, ReceiptStatus, StepStatus

DUE_SOON = timedelta(hours=48)
EXPIRY_NOTICE_DAYS = 7


@dataclass(frozen=True, slots=True)
class DueItem:
    """One line of a digest or the subject of an escalation."""

    case_id: str
    client_name: str
    #: ``step`` or ``access``.
    kind: str
    #: The step's or access item's id.
    ref: str
    title: str
    #: The local day it is due (the target end date for access), ``None`` for access with no target.
    due: date | None
    #: Whole local days past due; 0 when not overdue.
    days_overdue: int


@dataclass(frozen=True, slots=True)
class Reminder:
    """One email that is due: to whom, which template, about which cases, under which once-only key."""

    organization_id: str
    key: str
    #: ``digest``, ``escalation``, ``client_reminder`` or ``link_expired``.
    type: str
    recipient: str
    template: str
    #: The cases the email is about: each gets an ``email.sent`` ledger entry.
    case_ids: tuple[str, ...]
    context: dict[str, Any] = field(hash=False)
    #: Client emails only: the link whose sealed token the email carries.
    link_id: str | None = None


def local_day(now: datetime, policy: ReminderPolicy) -> date:
    return now.astimezone(policy.zone).date()


def end_of_day(day: date, policy: ReminderPolicy) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=policy.zone)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _open_cases(session: Session, organization_id: str) -> list[Case]:
    query = select(Case).where(Case.organization_id == organization_id, Case.status != CaseStatus.FULLY_OFFBOARDED)
    return list(session.exec(query.order_by(col(Case.opened_at))).all())


def case_items(session: Session, case: Case, now: datetime, policy: ReminderPolicy) -> list[DueItem]:
    """The case's required steps overdue or due within 48 hours, and its unrevoked access items."""
    today = local_day(now, policy)
    items: list[DueItem] = []
    steps = session.exec(select(CaseStep).where(CaseStep.case_id == case.id).order_by(col(CaseStep.position))).all()
    for step in steps:
        due = step_due(case, step)
        if not step.required or step.status == StepStatus.DONE or end_of_day(due, policy) > now + DUE_SOON:
            continue
        items.append(DueItem(case.id, case.client_name, "step", step.id, step.title, due, max((today - due).days, 0)))
    target = case.target_end_date
    late = max((today - target).days, 0) if target is not None else 0
    access = select(AccessItem).where(AccessItem.case_id == case.id, AccessItem.status == AccessStatus.ACTIVE)
    for item in session.exec(access.order_by(col(AccessItem.added_at))).all():
        items.append(DueItem(case.id, case.client_name, "access", item.id, item.name, target, late))
    return items


def _sent(session: Session, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return set(session.exec(select(ReminderSent.key).where(col(ReminderSent.key).in_(keys))).all())


def owner_reminders(session: Session, org: Organization, now: datetime, base_url: str) -> list[Reminder]:
    """The digests due now and the escalations of the organization's open cases."""
    policy = policy_of(session, org.id)
    local = now.astimezone(policy.zone)
    per_owner: dict[str, tuple[str, list[DueItem]]] = {}
    overdue: list[DueItem] = []
    for case in _open_cases(session, org.id):
        items = case_items(session, case, now, policy)
        owner_key = case.owner_id or case.owner_email
        per_owner.setdefault(owner_key, (case.owner_email, []))[1].extend(items)
        overdue.extend(i for i in items if i.days_overdue > policy.escalate_after_days)
    common: dict[str, Any] = {"organization": org.name, "accent": org.accent_colour, "base_url": base_url.rstrip("/")}
    due: list[Reminder] = []
    if local.hour >= policy.digest_hour:
        for owner_key, (email, items) in per_owner.items():
            if items:
                key = f"digest:{owner_key}:{local.date().isoformat()}"
                context = {**common, "items": items, "day": local.date().isoformat(), "timezone": policy.timezone}
                cases = tuple(dict.fromkeys(i.case_id for i in items))
                due.append(Reminder(org.id, key, "digest", email, "owner_digest", cases, context))
    admins = session.exec(
        select(StaffMember).where(StaffMember.organization_id == org.id, StaffMember.role == Role.ADMIN.value)
    ).all()
    for item in overdue:
        for admin in (a for a in admins if a.active):
            key = f"escalation:{item.ref}:{admin.id}"
            context = {**common, "item": item, "escalate_after_days": policy.escalate_after_days}
            due.append(Reminder(org.id, key, "escalation", admin.email, "admin_escalation", (item.case_id,), context))
    return due


def client_reminders(session: Session, org: Organization, now: datetime) -> list[Reminder]:
    """Client reminders and the owner's expiry notices of the organization's sent, unanswered receipts."""
    policy = policy_of(session, org.id)
    rows = session.exec(
        select(ReceiptLink, Receipt, Case)
        .join(Receipt, col(Receipt.id) == col(ReceiptLink.receipt_id))
        .join(Case, col(Case.id) == col(Receipt.case_id))
        .where(
            ReceiptLink.organization_id == org.id,
            ReceiptLink.status == LinkState.LIVE,
            Receipt.status == ReceiptStatus.SENT,
            Case.status != CaseStatus.FULLY_OFFBOARDED,
        )
        .order_by(col(ReceiptLink.created_at), col(ReceiptLink.recipient))
    ).all()
    common: dict[str, Any] = {"organization": org.name, "accent": org.accent_colour}
    due: list[Reminder] = []
    for link, receipt, case in rows:
        sent, expires = _aware(link.created_at), _aware(link.expires_at)
        context = {
            **common,
            "client_name": case.client_name,
            "case_id": case.id,
            "receipt_id": receipt.id,
            "recipient": link.recipient,
            "expires_at": rfc3339(expires),
        }
        if expires <= now:
            if now - expires <= timedelta(days=EXPIRY_NOTICE_DAYS):
                key = f"expired:{link.id}"
                due.append(
                    Reminder(org.id, key, "link_expired", case.owner_email, "owner_link_expired", (case.id,), context)
                )
            continue
        reached = [d for d in policy.client_schedule if sent + timedelta(days=d) <= now]
        if reached:
            key = f"client:{link.id}:{reached[-1]}"
            context = {**context, "days": reached[-1]}
            due.append(
                Reminder(
                    org.id, key, "client_reminder", link.recipient, "client_reminder", (case.id,), context, link.id
                )
            )
    return due


def due_reminders(session: Session, now: datetime, base_url: str) -> list[Reminder]:
    """Every reminder due at ``now`` across organizations, not yet sent, in a stable order."""
    found: list[Reminder] = []
    for org in session.exec(select(Organization).order_by(col(Organization.created_at))).all():
        found.extend(owner_reminders(session, org, now, base_url))
        found.extend(client_reminders(session, org, now))
    done = _sent(session, [r.key for r in found])
    return [r for r in found if r.key not in done]
