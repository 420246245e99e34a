"""The certificate's statement, derived from a case's ledger entries alone (``docs/certificate.md``).

``derive_statement`` takes the case's entries as ``(index, decoded entry)`` pairs, in index order, and the
index of the ``case.status_changed`` entry to ``fully_offboarded``; it reads nothing else. The issuer
calls it on the entries in the database, and ``offboard verify`` on the entries a bundle carries, so a
statement that contradicts the ledger is found by deriving it again and comparing (``compare_statement``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vault.errors import InvalidInput
from vault.states import CaseStatus

#: The statement's part the ledger determines, in the order ``compare_statement`` reports it.
SECTIONS = ("case", "dates", "obligations", "access_revoked", "deliverables", "acknowledgments", "waivers", "final")
DELIVERABLE = "deliverable"

Entry = tuple[int, Mapping[str, Any]]


def _data(document: Mapping[str, Any]) -> Mapping[str, Any]:
    data = document.get("data")
    return data if isinstance(data, Mapping) else {}


def final_state_index(entries: Sequence[Entry]) -> int | None:
    """The index of the case's last ``case.status_changed`` to ``fully_offboarded``, if any."""
    found = None
    for index, document in entries:
        if document.get("type") == "case.status_changed" and _data(document).get("to") == CaseStatus.FULLY_OFFBOARDED:
            found = index
    return found


def _proofs(value: Any) -> list[dict[str, Any]]:
    """The ``{id, sha256}`` of each evidence an entry attaches (a step's or a revocation's)."""
    items = value if isinstance(value, list) else []
    return [{"id": e.get("id"), "sha256": e.get("sha256")} for e in items if isinstance(e, Mapping)]


def _case_part(opened: Mapping[str, Any], owner: Any, contacts: Any, case_id: Any) -> dict[str, Any]:
    return {
        "id": case_id,
        "client_name": opened.get("client_name"),
        "owner": owner,
        "contacts": contacts,
        "trigger": opened.get("trigger"),
        "service_type": opened.get("service_type"),
    }


def _obligation(index: int, document: Mapping[str, Any]) -> dict[str, Any]:
    data = _data(document)
    return {
        "step": data.get("step"),
        "title": data.get("title"),
        "completed_at": document.get("time"),
        "completed_by": document.get("actor"),
        "evidence": _proofs(data.get("evidence")),
        "ledger_index": index,
    }


def _revocation(index: int, document: Mapping[str, Any]) -> dict[str, Any]:
    data = _data(document)
    return {
        "access_item": data.get("access_item"),
        "name": data.get("name"),
        "revoked_at": document.get("time"),
        "revoked_by": data.get("revoked_by"),
        "method": data.get("method"),
        "evidence": _proofs(data.get("evidence")),
        "ledger_index": index,
    }


def _deliverable(index: int, document: Mapping[str, Any]) -> dict[str, Any]:
    data = _data(document)
    return {
        "evidence": data.get("evidence"),
        "filename": data.get("filename"),
        "sha256": data.get("sha256"),
        "size": data.get("size"),
        "stored_at": document.get("time"),
        "ledger_index": index,
    }


def _acknowledgment(index: int, document: Mapping[str, Any]) -> dict[str, Any]:
    data = _data(document)
    return {
        "receipt": data.get("receipt"),
        "recipient": data.get("recipient"),
        "name": data.get("name"),
        "acknowledged_at": data.get("acknowledged_at"),
        "shown_sha256": data.get("shown_sha256"),
        "ledger_index": index,
    }


def _waiver(index: int, document: Mapping[str, Any]) -> dict[str, Any]:
    data = _data(document)
    return {
        "waiver": data.get("waiver"),
        "scope": data.get("scope"),
        "receipt": data.get("receipt"),
        "evidence": data.get("evidence"),
        "reason": data.get("reason"),
        "waived_by": document.get("actor"),
        "waived_at": document.get("time"),
        "ledger_index": index,
    }


def derive_statement(entries: Sequence[Entry], *, final_index: int) -> dict[str, Any]:
    """The ledger-determined part of a certificate: every section of ``SECTIONS``, from the case's entries
    up to and including ``final_index``. Later entries (a dispute after closing) do not count.

    Steps and access items are keyed by their ids, so a later entry of one (a step completed again after a
    dispute reopened the case) replaces the earlier one. Raises ``InvalidInput`` when ``final_index`` is not
    the case's entry to ``fully_offboarded`` or the case has no ``case.opened`` entry.
    """
    upto = [(i, d) for i, d in entries if i <= final_index]
    final = next((d for i, d in upto if i == final_index), None)
    if (
        final is None
        or final.get("type") != "case.status_changed"
        or _data(final).get("to") != CaseStatus.FULLY_OFFBOARDED
    ):
        raise InvalidInput(f"entry {final_index} is not the case's change of state to fully_offboarded")
    opened = next((_data(d) for _, d in upto if d.get("type") == "case.opened"), None)
    if opened is None:
        raise InvalidInput("the case's entries have no case.opened entry")
    owner, contacts = opened.get("owner"), opened.get("contacts")
    steps: dict[Any, dict[str, Any]] = {}
    access: dict[Any, dict[str, Any]] = {}
    deliverables: list[dict[str, Any]] = []
    acknowledgments: list[dict[str, Any]] = []
    waivers: list[dict[str, Any]] = []
    for index, document in upto:
        kind, data = document.get("type"), _data(document)
        if kind == "case.owner_changed":
            owner = data.get("to")
        elif kind in ("case.contact_added", "case.contact_removed"):
            contacts = data.get("contacts")
        elif kind == "step.completed":
            steps[data.get("step")] = _obligation(index, document)
        elif kind == "access.revoked":
            access[data.get("access_item")] = _revocation(index, document)
        elif kind == "evidence.stored" and data.get("kind") == DELIVERABLE:
            deliverables.append(_deliverable(index, document))
        elif kind == "receipt.acknowledged":
            acknowledgments.append(_acknowledgment(index, document))
        elif kind == "case.waiver":
            waivers.append(_waiver(index, document))
    return {
        "case": _case_part(opened, owner, contacts, final.get("case")),
        "dates": {
            "intent_to_leave": opened.get("intent_date"),
            "end_of_service": opened.get("target_end_date"),
            "closed": final.get("time"),
        },
        "obligations": sorted(steps.values(), key=lambda o: o["ledger_index"]),
        "access_revoked": sorted(access.values(), key=lambda a: a["ledger_index"]),
        "deliverables": deliverables,
        "acknowledgments": acknowledgments,
        "waivers": waivers,
        "final": {"ledger_index": final_index, "time": final.get("time"), "actor": final.get("actor")},
    }


def _label(section: str, item: Mapping[str, Any]) -> str:
    for key in ("step", "name", "filename", "recipient", "waiver"):
        if item.get(key) is not None:
            return f"{section} {item[key]!r}"
    return section


def _compare_lists(section: str, claimed: Any, derived: list[dict[str, Any]]) -> list[str]:
    if not isinstance(claimed, list):
        return [f"{section}: expected a list, found {type(claimed).__name__}"]
    problems = []
    by_index: dict[Any, Mapping[str, Any]] = {
        item.get("ledger_index"): item for item in claimed if isinstance(item, Mapping)
    }
    for item in derived:
        stated = by_index.pop(item["ledger_index"], None)
        if stated is None:
            problems.append(
                f"{_label(section, item)} (ledger entry {item['ledger_index']}) is missing from the certificate"
            )
            continue
        for key, want in item.items():
            if stated.get(key) != want:
                problems.append(
                    f"{_label(section, item)}: the certificate says {key} {stated.get(key)!r}, "
                    f"ledger entry {item['ledger_index']} says {want!r}"
                )
    for index, extra in by_index.items():
        problems.append(f"{_label(section, extra)} is not in the ledger (no entry {index} of that kind)")
    if len(claimed) != len(derived) and not problems:
        problems.append(f"{section}: the certificate lists {len(claimed)} items, the ledger {len(derived)}")
    return problems


def compare_statement(document: Mapping[str, Any], derived: Mapping[str, Any]) -> list[str]:
    """Every way ``document`` (a certificate) differs from ``derived`` (``derive_statement`` of the ledger),
    each naming the section, the item and the field; empty when every statement matches."""
    problems: list[str] = []
    for section in SECTIONS:
        want, stated = derived[section], document.get(section)
        if isinstance(want, list):
            problems.extend(_compare_lists(section, stated, want))
        elif not isinstance(stated, Mapping):
            problems.append(f"{section}: expected an object, found {type(stated).__name__}")
        else:
            for key, value in want.items():
                if stated.get(key) != value:
                    problems.append(
                        f"{section}: the certificate says {key} {stated.get(key)!r}, the ledger says {value!r}"
                    )
            problems.extend(f"{section}: unexpected field {key!r}" for key in stated if key not in want)
    return problems
