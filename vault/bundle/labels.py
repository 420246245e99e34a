"""``bundle.json`` and ``bag-info.txt`` held against the signed entries they repeat (``docs/bundle.md``,
"Verifying", step 15).

Both files are indexes, never a source of truth: every field a reader is shown (the client's name, the
organization, who exported and when, each evidence item's file name, kind, type, size, index and path) is
compared with the signed value, and a disagreement fails naming the field and both values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vault.bundle import bagit, layout
from vault.bundle.records import data_of as _data
from vault.bundle.records import dicts as _list

if TYPE_CHECKING:
    from vault.bundle.claims import ClaimChecks


def check_labels(c: ClaimChecks, tip: int | None) -> None:
    """Every label; ``tip`` is the bundle's own export entry (format 2), when it was found."""
    _index_fields(c, tip)
    _bag_info(c, tip)
    _evidence_labels(c)


def _field(c: ClaimChecks, name: str, listed: Any, signed: Any, source: str) -> None:
    if listed != signed:
        c.add("index", f"{layout.INDEX} {name}", False, f"bundle.json says {listed!r}; {source} records {signed!r}")


def _index_fields(c: ClaimChecks, tip: int | None) -> None:
    opened = c.of_type("case.opened")
    if opened:
        index, entry = opened[0]
        _field(c, "client_name", c.index.get("client_name"), _data(entry).get("client_name"), f"entry {index}")
    else:
        c.warnings.append(("index", f"{layout.INDEX} client_name", "not checked: case.opened is not in the bundle"))
    organization = c.index.get("organization")
    organization = organization if isinstance(organization, dict) else {}
    some = next(iter(c.entries.values()), None)
    if some is not None:
        _field(c, "organization.id", organization.get("id"), some.get("organization"), "every entry")
    if tip is None:
        return
    export = c.entries[tip]
    signed_org = _data(export).get("organization")
    signed_org = signed_org if isinstance(signed_org, dict) else {}
    source = f"the export entry {tip}"
    for key in ("id", "name", "slug"):
        _field(c, f"organization.{key}", organization.get(key), signed_org.get(key), source)
    _field(c, "exported_at", c.index.get("exported_at"), export.get("time"), source)
    _field(c, "exported_by", c.index.get("exported_by"), export.get("actor"), source)


def _bag_info(c: ClaimChecks, tip: int | None) -> None:
    """``bag-info.txt``'s labels, which BagIt tools show, against the signed values they repeat."""
    data = c.files.get(layout.BAG_INFO_TXT)
    try:
        info = bagit.BagInfo.parse(data) if data is not None else None
    except bagit.MalformedBag:
        info = None
    if info is None:
        return  # the bag checks already fail a missing or malformed bag-info.txt
    signed: dict[str, object] = {
        "External-Identifier": c.case_id,
        "Offboard-Case": c.case_id,
        "Offboard-Format": c.index.get("format"),
        "Offboard-Origin": c.origin,
        "Offboard-Checkpoint-Size": str(c.checkpoint_size),
    }
    opened = c.of_type("case.opened")
    if opened:
        client = str(_data(opened[0][1]).get("client_name"))
        signed["External-Description"] = f"Offboarding evidence bundle for {client}"
    if tip is not None:
        export = c.entries[tip]
        organization = _data(export).get("organization")
        signed["Source-Organization"] = organization.get("name") if isinstance(organization, dict) else None
        signed["Offboard-Exported-By"] = export.get("actor")
        signed["Bagging-Date"] = str(export.get("time"))[:10]
    for label, value in signed.items():
        found, want = info.get(label), bagit.clean_value(str(value))
        if found != want:
            c.add("bag", f"{layout.BAG_INFO_TXT} {label}", False, f"says {found!r}; the signed data say {want!r}")


def _evidence_labels(c: ClaimChecks) -> None:
    stored = {str(_data(e).get("evidence")): (i, _data(e)) for i, e in c.of_type("evidence.stored")}
    for item in _list(c.index.get("evidence")):
        evidence_id = str(item.get("id"))
        found = stored.get(evidence_id)
        if found is None:
            continue  # the evidence checks already fail an item without its verified entry
        index, data = found
        signed = {
            "filename": data.get("filename"),
            "kind": data.get("kind"),
            "content_type": data.get("content_type"),
            "size": data.get("size"),
            "ledger_index": index,
            "path": layout.evidence_path(evidence_id, str(data.get("filename"))),
        }
        wrong = [name for name, value in signed.items() if item.get(name) != value]
        detail = (
            f"bundle.json gives {', '.join(f'{n} {item.get(n)!r}' for n in wrong)}; entry {index} records "
            + ", ".join(f"{n} {signed[n]!r}" for n in wrong)
        )
        c.add("evidence", f"evidence {evidence_id}", not wrong, detail if wrong else f"labels as in entry {index}")
