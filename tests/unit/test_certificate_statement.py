"""The certificate's statement builder (``vault/certificates/statement.py``): every section is read from the
case's entries up to the final one, later entries never count, and ``compare_statement`` names each field
of a statement that contradicts the ledger."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from vault.certificates.statement import compare_statement, derive_statement, final_state_index
from vault.errors import InvalidInput

CASE = "c-1"


def _entry(type_: str, time: str, actor: str = "staff:pm@agency.example", **data: Any) -> dict[str, Any]:
    return {"type": type_, "time": time, "actor": actor, "case": CASE, "data": data}


def _entries() -> list[tuple[int, dict[str, Any]]]:
    evidence = [{"id": "e-audit", "sha256": "a" * 64, "kind": "other"}]
    return [
        (
            3,
            _entry(
                "case.opened",
                "2026-12-01T09:00:00.000000Z",
                client_name="Acme Ltd",
                owner="pm@agency.example",
                contacts=["cfo@acme.example"],
                trigger="cancellation",
                service_type="web",
                intent_date="2026-12-01",
                target_end_date="2026-12-31",
            ),
        ),
        (
            5,
            _entry(
                "evidence.stored",
                "2026-12-01T10:00:00.000000Z",
                evidence="e-1",
                filename="site.zip",
                sha256="b" * 64,
                size=12,
                kind="deliverable",
            ),
        ),
        (
            6,
            _entry(
                "evidence.stored",
                "2026-12-01T10:01:00.000000Z",
                evidence="e-audit",
                filename="audit.json",
                sha256="a" * 64,
                size=3,
                kind="other",
            ),
        ),
        (
            8,
            _entry(
                "access.revoked",
                "2026-12-02T10:00:00.000000Z",
                access_item="ai-1",
                name="GitHub",
                revoked_by="pm@agency.example",
                method="removed",
                evidence=[{"id": "e-audit", "sha256": "a" * 64}],
            ),
        ),
        (
            9,
            _entry(
                "step.completed",
                "2026-12-02T11:00:00.000000Z",
                step="export",
                title="Export data",
                evidence=evidence,
                note=None,
            ),
        ),
        (10, _entry("case.owner_changed", "2026-12-02T12:00:00.000000Z", to="lead@agency.example")),
        (
            12,
            _entry(
                "receipt.acknowledged",
                "2026-12-03T09:00:00.000000Z",
                actor="client:cfo@acme.example",
                receipt="r-1",
                recipient="cfo@acme.example",
                name="Jane Client",
                acknowledged_at="2026-12-03T09:00:00.000000Z",
                shown_sha256="c" * 64,
            ),
        ),
        (14, _entry("case.status_changed", "2026-12-03T10:00:00.000000Z", to="fully_offboarded")),
        (15, _entry("case.status_changed", "2026-12-04T10:00:00.000000Z", to="disputed")),
    ]


def test_every_section_comes_from_the_entries_up_to_the_final_one() -> None:
    entries = _entries()
    assert final_state_index(entries) == 14
    statement = derive_statement(entries, final_index=14)
    assert statement["case"] == {
        "id": CASE,
        "client_name": "Acme Ltd",
        "owner": "lead@agency.example",
        "contacts": ["cfo@acme.example"],
        "trigger": "cancellation",
        "service_type": "web",
    }
    assert statement["dates"] == {
        "intent_to_leave": "2026-12-01",
        "end_of_service": "2026-12-31",
        "closed": "2026-12-03T10:00:00.000000Z",
    }
    assert [d["filename"] for d in statement["deliverables"]] == ["site.zip"]
    assert statement["obligations"][0]["completed_by"] == "staff:pm@agency.example"
    assert statement["access_revoked"][0]["evidence"] == [{"id": "e-audit", "sha256": "a" * 64}]
    assert statement["acknowledgments"][0]["name"] == "Jane Client"
    assert statement["final"] == {
        "ledger_index": 14,
        "time": "2026-12-03T10:00:00.000000Z",
        "actor": "staff:pm@agency.example",
    }
    assert compare_statement(statement, derive_statement(entries, final_index=14)) == []


def test_a_final_index_that_is_not_the_closing_is_refused() -> None:
    with pytest.raises(InvalidInput, match="entry 12 is not the case's change of state"):
        derive_statement(_entries(), final_index=12)
    with pytest.raises(InvalidInput, match="no case.opened"):
        derive_statement(_entries()[1:], final_index=14)


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (
            lambda s: s["obligations"][0].update(completed_at="2026-11-01T00:00:00.000000Z"),
            "obligations 'export': the certificate says completed_at '2026-11-01",
        ),
        (lambda s: s["deliverables"].clear(), "deliverables 'site.zip' (ledger entry 5) is missing"),
        (
            lambda s: s["acknowledgments"][0].update(name="Someone Else"),
            "acknowledgments 'Jane Client': the certificate says name 'Someone Else'",
        ),
        (lambda s: s["dates"].update(closed="2026-12-01T00:00:00.000000Z"), "dates: the certificate says closed"),
        (lambda s: s["waivers"].append({"waiver": "w-9", "ledger_index": 99}), "waivers 'w-9' is not in the ledger"),
        (lambda s: s["case"].update(extra=1), "case: unexpected field 'extra'"),
    ],
)
def test_a_statement_that_contradicts_the_ledger_is_named(mutate: Any, needle: str) -> None:
    derived = derive_statement(_entries(), final_index=14)
    claimed = copy.deepcopy(derived)
    mutate(claimed)
    problems = compare_statement(claimed, derived)
    assert any(needle in p for p in problems), problems
