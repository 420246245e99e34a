"""The case state machine: every allowed transition, every refusal, and the gate's one way in.

Runs the domain functions on an embedded SQLite database (fast, no server); the API and PostgreSQL
paths are covered by ``tests/integration/test_cases_*.py``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from vault.cases import access, gate
from vault.cases import lifecycle as cases
from vault.cases.lifecycle import TRANSITIONS, CaseStatus
from vault.config import Settings
from vault.db import session_scope
from vault.errors import Conflict, Forbidden, InvalidInput, NotFound
from vault.models import Case, Evidence
from vault.orgs.organizations import Principal, Role, create_organization
from vault.orgs.staff import add_staff
from vault.services import Services, build_services

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Services]:
    services = build_services(Settings(home=tmp_path / "home"), clock=clock)
    yield services
    services.close()


@pytest.fixture
def admin(svc: Services) -> Principal:
    with session_scope(svc.engine) as session:
        org = create_organization(session, name="Agency", slug="agency", clock=clock)
        principal = Principal(org.id, Role.ADMIN, "test:admin")
        add_staff(session, principal, email="owner@agency.example", clock=clock)
        add_staff(session, principal, email="second@agency.example", clock=clock)
    return principal


def tiny_case(svc: Services, admin: Principal) -> str:
    """A consulting case (9 steps); returns its id."""
    with session_scope(svc.engine) as session:
        case = cases.open_case(
            session,
            admin,
            client_name="Client",
            owner_email="owner@agency.example",
            service_type="consulting-engagement",
            clock=clock,
        )
        return case.id


def evidence(svc: Services, admin: Principal, case_id: str, kind: str, tag: str) -> str:
    """An evidence row (the object store is not needed for state tests)."""
    with session_scope(svc.engine) as session:
        row = Evidence(
            organization_id=admin.organization_id,
            case_id=case_id,
            sha256=f"{tag:0>64}"[-64:],
            size=1,
            content_type="text/plain",
            original_filename=f"{tag}.txt",
            kind=kind,
            storage_key=f"k/{tag}",
        )
        session.add(row)
        session.flush()
        return row.id


def status(svc: Services, case_id: str) -> str:
    with Session(svc.engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.status


def finish_work(svc: Services, admin: Principal, case_id: str, *, waive_deliverables: bool = True) -> list[str]:
    """Complete every required step in order, with what its criteria ask for; no receipt lists the
    deliverables attached, so an admin waives each (unless told not to). Returns the deliverables' ids."""
    with session_scope(svc.engine) as session:
        steps = cases.list_steps(session, admin.organization_id, case_id)
    n = 0
    deliverables = []
    for step in sorted((s for s in steps if s.required), key=lambda s: s.position):
        ids = []
        for criterion in cases.loads_list(step.criteria):
            if criterion.startswith("evidence:"):
                n += 1
                ids.append(evidence(svc, admin, case_id, criterion.split(":")[1], f"{n}"))
                if criterion == "evidence:deliverable":
                    deliverables.append(ids[-1])
        with session_scope(svc.engine) as session:
            cases.complete_step(session, admin, case_id, step.key, evidence_ids=ids, note="done", clock=clock)
    for evidence_id in deliverables if waive_deliverables else []:
        act(svc, gate.waive_deliverable, admin, case_id, evidence_id=evidence_id, reason="handed over on a USB key")
    return deliverables


def act(svc: Services, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    with session_scope(svc.engine) as session:
        return fn(session, *args, clock=clock, **kwargs)


def test_transition_table_has_one_way_into_the_final_state() -> None:
    into_final = {s for s, targets in TRANSITIONS.items() if CaseStatus.FULLY_OFFBOARDED in targets}
    assert into_final == {CaseStatus.IN_PROGRESS, CaseStatus.AWAITING_ACKNOWLEDGMENT}
    assert TRANSITIONS[CaseStatus.FULLY_OFFBOARDED] == {CaseStatus.DISPUTED}
    assert all(CaseStatus.DISPUTED in TRANSITIONS[s] for s in CaseStatus if s != CaseStatus.DISPUTED)


@pytest.mark.parametrize(
    ("current", "target"),
    [(a, b) for a, b in itertools.product(CaseStatus, CaseStatus) if b not in TRANSITIONS[a]],
)
def test_every_transition_outside_the_table_is_refused(
    svc: Services, admin: Principal, current: CaseStatus, target: CaseStatus
) -> None:
    case_id = tiny_case(svc, admin)
    with session_scope(svc.engine) as session:
        case = cases.get_case(session, admin.organization_id, case_id)
        case.status = current.value  # put it there directly: this test is about the table
        session.add(case)
    with session_scope(svc.engine) as session:
        case = cases.get_case(session, admin.organization_id, case_id)
        with pytest.raises(Conflict, match=f"cannot move from {current.value} to {target.value}"):
            cases.change_status(session, case, admin, target, "test", clock=clock)


def test_open_to_in_progress_explicitly_and_by_work(svc: Services, admin: Principal) -> None:
    first = tiny_case(svc, admin)
    act(svc, gate.start_work, admin, first)
    assert status(svc, first) == "in_progress"
    with pytest.raises(Conflict, match="cannot move from in_progress to in_progress"):
        act(svc, gate.start_work, admin, first)
    second = tiny_case(svc, admin)
    act(
        svc,
        cases.complete_step,
        admin,
        second,
        "confirm-close",
        evidence_ids=[evidence(svc, admin, second, "communication", "c")],
    )
    assert status(svc, second) == "in_progress"


def test_dependencies_and_criteria_are_enforced(svc: Services, admin: Principal) -> None:
    case_id = tiny_case(svc, admin)
    with pytest.raises(Conflict, match="depends on steps not completed yet: confirm-close") as caught:
        act(svc, cases.complete_step, admin, case_id, "review-engagement-letter", note="read it")
    assert caught.value.details == {"pending_dependencies": ["confirm-close"]}
    deliverable = evidence(svc, admin, case_id, "deliverable", "d")
    with pytest.raises(Conflict, match="evidence:communication: attach evidence of kind communication") as unmet:
        act(svc, cases.complete_step, admin, case_id, "confirm-close", evidence_ids=[deliverable])
    assert unmet.value.details["unmet"][0].startswith("evidence:communication")
    assert status(svc, case_id) == "open", "a refused completion changes nothing"
    comm = evidence(svc, admin, case_id, "communication", "c")
    act(svc, cases.complete_step, admin, case_id, "confirm-close", evidence_ids=[comm])
    with pytest.raises(Conflict, match="note: write a note"):
        act(svc, cases.complete_step, admin, case_id, "review-engagement-letter", note="   ")
    with pytest.raises(Conflict, match="already completed"):
        act(svc, cases.complete_step, admin, case_id, "confirm-close", evidence_ids=[comm])


def test_access_criterion_waits_for_every_revocation(svc: Services, admin: Principal) -> None:
    case_id = tiny_case(svc, admin)
    act(
        svc,
        cases.complete_step,
        admin,
        case_id,
        "confirm-close",
        evidence_ids=[evidence(svc, admin, case_id, "communication", "c")],
    )
    item = act(svc, access.add_item, admin, case_id, name="Client VPN", kind="app").id
    with pytest.raises(Conflict, match="access:all_revoked: 1 access item\\(s\\) not revoked: Client VPN"):
        act(svc, cases.complete_step, admin, case_id, "revoke-access")
    proof = evidence(svc, admin, case_id, "other", "p")
    act(svc, access.revoke_item, admin, case_id, item, method="disabled account", evidence_ids=[proof])
    act(svc, cases.complete_step, admin, case_id, "revoke-access")


def test_close_is_refused_listing_everything_missing(svc: Services, admin: Principal) -> None:
    case_id = tiny_case(svc, admin)
    act(svc, access.add_item, admin, case_id, name="Data room", kind="shared_drive")
    with pytest.raises(Conflict) as caught:
        act(svc, gate.close_case, admin, case_id)
    missing = caught.value.details["missing"]
    assert [m["kind"] for m in missing].count("step") == 8  # the consulting playbook's required steps
    assert {m["step"] for m in missing if m["kind"] == "step"} >= {"final-report", "client-signoff"}
    assert "working-papers" not in {m.get("step") for m in missing}, "optional steps never block"
    assert [m["reason"] for m in missing if m["kind"] == "access"] == ["access to 'Data room' is not revoked"]
    assert status(svc, case_id) == "in_progress"


def test_awaiting_acknowledgment_then_close(svc: Services, admin: Principal) -> None:
    case_id = tiny_case(svc, admin)
    act(svc, gate.start_work, admin, case_id)
    with pytest.raises(Conflict, match="still has 8 obligation"):
        act(svc, gate.request_acknowledgment, admin, case_id)
    finish_work(svc, admin, case_id)
    act(svc, gate.request_acknowledgment, admin, case_id)
    assert status(svc, case_id) == "awaiting_acknowledgment"
    with pytest.raises(Conflict, match="only a case in_progress can await"):
        act(svc, gate.request_acknowledgment, admin, case_id)
    # A newly registered system sends the case back to work.
    item = act(svc, access.add_item, admin, case_id, name="Slack guest", kind="app").id
    assert status(svc, case_id) == "in_progress"
    act(
        svc,
        access.revoke_item,
        admin,
        case_id,
        item,
        method="removed guest",
        evidence_ids=[evidence(svc, admin, case_id, "other", "s")],
    )
    act(svc, gate.request_acknowledgment, admin, case_id)
    closed = act(svc, gate.close_case, admin, case_id)
    assert (closed.status, closed.closed_at) == ("fully_offboarded", NOW)


def test_unacknowledged_receipts_block_until_an_admin_waives(svc: Services, admin: Principal) -> None:
    case_id = tiny_case(svc, admin)
    finish_work(svc, admin, case_id)

    def two_receipts(_session: Session, _case: Case) -> list[gate.PendingAcknowledgment]:
        return [
            gate.PendingAcknowledgment("r1", "receipt r1 not acknowledged"),
            gate.PendingAcknowledgment("r2", "receipt r2 not acknowledged"),
        ]

    with pytest.raises(Conflict) as caught:
        act(svc, gate.close_case, admin, case_id, pending=two_receipts)
    assert caught.value.details["missing"] == [
        {"kind": "acknowledgment", "reason": "receipt r1 not acknowledged", "receipt": "r1"},
        {"kind": "acknowledgment", "reason": "receipt r2 not acknowledged", "receipt": "r2"},
    ]
    member = Principal(admin.organization_id, Role.MEMBER, "test:member")
    with pytest.raises(Forbidden, match="needs the role admin"):
        act(svc, gate.waive_acknowledgment, member, case_id, reason="client refused to respond")
    with pytest.raises(InvalidInput, match="written reason of 10"):
        act(svc, gate.waive_acknowledgment, admin, case_id, reason="no")
    act(
        svc,
        gate.waive_acknowledgment,
        admin,
        case_id,
        reason="client refused to respond twice",
        receipt_id="r1",
    )
    with pytest.raises(Conflict) as still:
        act(svc, gate.close_case, admin, case_id, pending=two_receipts)
    assert [m["receipt"] for m in still.value.details["missing"]] == ["r2"]
    act(svc, gate.waive_acknowledgment, admin, case_id, reason="client refused to respond to every receipt")
    assert act(svc, gate.close_case, admin, case_id, pending=two_receipts).status == "fully_offboarded"


def test_a_deliverable_in_no_acknowledged_receipt_blocks_until_an_admin_waives_it(
    svc: Services, admin: Principal
) -> None:
    """Issue 14, item 2: every deliverable is in an acknowledged receipt, or an admin waives it with a reason."""
    case_id = tiny_case(svc, admin)
    (report,) = finish_work(svc, admin, case_id, waive_deliverables=False)
    with session_scope(svc.engine) as session:
        row = session.get(Evidence, report)
        assert row is not None
        row.stored_at, name = NOW, row.original_filename
        session.add(row)
    other = tiny_case(svc, admin)
    with pytest.raises(Conflict) as caught:
        act(svc, gate.close_case, admin, case_id)
    assert caught.value.details["missing"] == [
        {
            "kind": "deliverable",
            "reason": f"deliverable '{name}', stored at 2026-11-25T12:00:00.000000Z, is not in an acknowledged receipt",
            "evidence": report,
        }
    ]
    # Awaiting the client's acknowledgment is allowed: only the client's side is missing.
    act(svc, gate.request_acknowledgment, admin, case_id)
    member = Principal(admin.organization_id, Role.MEMBER, "test:member")
    reason = "handed over in person at the exit meeting"
    with pytest.raises(Forbidden, match="needs the role admin"):
        act(svc, gate.waive_deliverable, member, case_id, evidence_id=report, reason=reason)
    with pytest.raises(InvalidInput, match="written reason of 10"):
        act(svc, gate.waive_deliverable, admin, case_id, evidence_id=report, reason="given")
    with pytest.raises(NotFound, match="no evidence"):
        act(svc, gate.waive_deliverable, admin, other, evidence_id=report, reason=reason)
    note = evidence(svc, admin, case_id, "other", "n")
    with pytest.raises(InvalidInput, match="is of kind other; only a deliverable"):
        act(svc, gate.waive_deliverable, admin, case_id, evidence_id=note, reason=reason)
    waiver = act(svc, gate.waive_deliverable, admin, case_id, evidence_id=report, reason=reason)
    assert (waiver.scope, waiver.evidence_id, waiver.receipt_id) == ("deliverable", report, None)
    assert act(svc, gate.close_case, admin, case_id).status == "fully_offboarded"


def test_fully_offboarded_is_immutable_except_notes_and_dispute(svc: Services, admin: Principal) -> None:
    case_id = tiny_case(svc, admin)
    finish_work(svc, admin, case_id)
    act(svc, gate.close_case, admin, case_id)
    refusals = [
        lambda: act(svc, cases.complete_step, admin, case_id, "working-papers"),
        lambda: act(svc, access.add_item, admin, case_id, name="x", kind="app"),
        lambda: act(svc, cases.change_owner, admin, case_id, owner_email="second@agency.example", reason="leave"),
        lambda: act(svc, gate.waive_acknowledgment, admin, case_id, reason="long enough reason"),
        lambda: act(svc, gate.waive_deliverable, admin, case_id, evidence_id="x", reason="long enough reason"),
        lambda: act(svc, gate.start_work, admin, case_id),
        lambda: act(svc, gate.request_acknowledgment, admin, case_id),
    ]
    for refuse in refusals:
        with pytest.raises(Conflict, match="fully_offboarded and immutable"):
            refuse()
    with pytest.raises(Conflict, match="already fully_offboarded"):
        act(svc, gate.close_case, admin, case_id)
    note = act(svc, cases.add_note, admin, case_id, "client emailed thanks")
    assert note.ledger_index is not None
    act(svc, gate.dispute, admin, case_id, reason="client says the report is missing an appendix")
    assert status(svc, case_id) == "disputed"


def test_dispute_and_resolution(svc: Services, admin: Principal) -> None:
    case_id = tiny_case(svc, admin)
    act(svc, gate.dispute, admin, case_id, reason="scope disagreement")
    with pytest.raises(Conflict, match="already disputed"):
        act(svc, gate.dispute, admin, case_id, reason="again")
    finish_work(svc, admin, case_id)  # work may continue while disputed
    with pytest.raises(Conflict) as caught:
        act(svc, gate.close_case, admin, case_id)
    assert caught.value.details["missing"] == [
        {"kind": "status", "reason": "the case is disputed; resolve the dispute first"}
    ]
    with pytest.raises(InvalidInput, match="1 to 10000"):
        act(svc, gate.resolve_dispute, admin, case_id, reason=" ")
    act(svc, gate.resolve_dispute, admin, case_id, reason="agreed after call")
    assert status(svc, case_id) == "in_progress"
    with pytest.raises(Conflict, match="not disputed"):
        act(svc, gate.resolve_dispute, admin, case_id, reason="again")
    assert act(svc, gate.close_case, admin, case_id).status == "fully_offboarded"
    # A dispute after closing reopens the question; resolving it means passing the gate again.
    act(svc, gate.dispute, admin, case_id, reason="late claim")
    act(svc, gate.resolve_dispute, admin, case_id, reason="claim withdrawn")
    with Session(svc.engine) as session:
        case = cases.get_case(session, admin.organization_id, case_id)
        assert (case.status, case.closed_at) == ("in_progress", None)
    assert act(svc, gate.close_case, admin, case_id).status == "fully_offboarded"


def test_viewers_change_nothing(svc: Services, admin: Principal) -> None:
    case_id = tiny_case(svc, admin)
    viewer = Principal(admin.organization_id, Role.VIEWER, "test:viewer")
    for attempt in (
        lambda: act(svc, gate.start_work, viewer, case_id),
        lambda: act(svc, gate.close_case, viewer, case_id),
        lambda: act(svc, gate.dispute, viewer, case_id, reason="x"),
        lambda: act(svc, cases.add_note, viewer, case_id, "x"),
        lambda: act(svc, cases.complete_step, viewer, case_id, "confirm-close"),
        lambda: act(svc, access.add_item, viewer, case_id, name="x", kind="app"),
    ):
        with pytest.raises(Forbidden):
            attempt()
    assert status(svc, case_id) == "open"
