"""verify.html's claim checks (completeness, the binding of receipts, bundle.json's labels; the port of
``vault/bundle/claims.py``) in Chromium, held to ``offboard verify``.

Two ways. Whole bundles crafted from a real export (an entry removed everywhere, a relabelled evidence
filename, the index relabelled format 1, a stale checkpoint, a misplaced consistency proof, and a case
whose first entries predate case links) go through the page and ``verify_bundle``, which must give the same
verdict and name the same failure. And the page's ``claimChecks`` is held to ``ClaimChecks`` on the same
decoded input, check for check and word for word, over mutations that reach every branch of both.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from signing.keys import parse_vkey
from tests.integration.bundle_corpus import Built, build_case, build_services_at, entry_count, rebag, rezip, unzip
from vault import canonical
from vault.bundle import layout
from vault.bundle.claims import ClaimChecks
from vault.bundle.records import ACK_SUFFIX, ack_status
from vault.bundle.verify import BundleVerification, verify_bundle
from vault.evidence.filenames import safe_path_component
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.ledger.hashing import leaf_hash

PAGE = (Path(__file__).resolve().parents[2] / "templates" / "bundle" / "verify.html").as_uri()

Files = dict[str, bytes]


def _build(home: Path, *, legacy: tuple[str, ...] = ()) -> Built:
    """A real case and export; entries of the ``legacy`` types are written as version 1 (no case link), as
    entries written before case links were."""
    real = log.encode_entry

    def encode(draft: EntryDraft, time: Any, prev: Any = None) -> bytes:
        body = real(draft, time, prev)
        if draft.type not in legacy:
            return body
        document = json.loads(body)
        document["v"] = 1
        del document["prev"]
        return canonical.dumps(document)

    services = build_services_at(home)
    try:
        with pytest.MonkeyPatch.context() as patch, ThreadPoolExecutor(max_workers=1) as pool:
            patch.setattr(log, "encode_entry", encode)
            # Playwright's sync API keeps an event loop running in this thread, and signing the receipt PDF
            # uses asyncio.run: build the case in a thread of its own.
            return pool.submit(build_case, services, timestamp=not legacy).result()
    finally:
        services.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("claims-home"))


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("legacy-home"), legacy=("case.opened", "case.playbook_snapshot"))


@pytest.fixture(scope="module")
def browser_page(browser: Any) -> Iterator[Any]:
    """One page for the many ``claimChecks`` calls (the bundle tests use the function-scoped ``page``)."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(PAGE)
    try:
        yield page
    finally:
        context.close()


# --- whole bundles: the page and the CLI agree --------------------------------------------------


def craft(built: Built, change: Callable[[Files, dict[str, Any]], None]) -> bytes:
    """The real export with ``change`` applied to its files and its index, re-bagged as a forger would."""
    root, files = unzip(built.zip_bytes)
    index = json.loads(files[layout.INDEX])
    change(files, index)
    files[layout.INDEX] = json.dumps(index).encode()
    return rezip(root, rebag(files))


def on_page(page: Any, path: Path, vkey: str) -> tuple[str, str, list[list[str]]]:
    """(data-verdict, data-complete, the failed rows as [result, kind, item, detail])."""
    page.goto(PAGE)
    page.fill("#key", vkey)
    page.set_input_files("#bundle", str(path))
    page.wait_for_selector("body[data-verdict]", timeout=60_000)
    rows = [row.split("\t") for row in page.inner_text("#checks tbody").splitlines()]
    failed = [row for row in rows if row[0] == "FAIL"]
    return page.get_attribute("body", "data-verdict"), page.get_attribute("body", "data-complete"), failed


def by_cli(path: Path, vkey: str) -> BundleVerification:
    return verify_bundle(path, pinned=[parse_vkey(vkey)])


def _drop_entry(position: int) -> Callable[[Files, dict[str, Any]], None]:
    def change(files: Files, index: dict[str, Any]) -> None:
        dropped = index["entries"].pop(position)
        del files[layout.entry_path(dropped)], files[layout.proof_path(dropped)]

    return change


def _relabel_filename(files: Files, index: dict[str, Any]) -> None:
    index["evidence"][0]["filename"] = "invoice.pdf"


def _relabel_format_1(files: Files, index: dict[str, Any]) -> None:
    index["format"] = layout.FORMAT_1


def _entry_beyond_checkpoint(files: Files, index: dict[str, Any]) -> None:
    """An entry at the checkpoint's size, with a proof against that checkpoint: it cannot be covered."""
    size, tip = index["checkpoint"]["size"], index["entries"][-1]
    files[layout.entry_path(size)] = files[layout.entry_path(tip)]
    proof = files[layout.proof_path(tip)].decode()
    files[layout.proof_path(size)] = proof.replace(f"\nindex {tip}\n", f"\nindex {size}\n").encode()
    index["entries"].append(size)


def _consistency_to(key: str, size: int) -> Callable[[Files, dict[str, Any]], None]:
    def change(files: Files, index: dict[str, Any]) -> None:
        path = index["earlier_checkpoints"][0]["consistency"]
        proof = json.loads(files[path])
        proof[key] = size
        files[path] = json.dumps(proof).encode()

    return change


def test_untouched_bundle_is_complete(page: Any, built: Built, tmp_path: Path) -> None:
    path = tmp_path / "untouched.zip"
    path.write_bytes(built.zip_bytes)
    first = json.loads(unzip(built.zip_bytes)[1][layout.INDEX])["entries"][0]
    assert on_page(page, path, built.vkey) == ("pass", "true", [])
    assert page.inner_text("#completeness").startswith(f"Complete from the case's first entry ({first})")
    assert page.is_hidden("#warnings")
    passed = f"\tcompleteness\tcase\tall {entry_count(built)} entries of the case, from its first (entry {first})"
    assert passed in page.inner_text("#checks")
    report = by_cli(path, built.vkey)
    assert report.ok and report.complete and report.complete_from == first and not report.warnings


def _index_at(built: Built, position: int) -> int:
    return int(json.loads(unzip(built.zip_bytes)[1][layout.INDEX])["entries"][position])


@pytest.mark.parametrize(
    ("name", "change", "item", "detail"),
    [
        (
            "entry-removed-everywhere",
            _drop_entry(1),
            "data/ledger/entries/{second}.json",
            "entry {second} of the case is missing: entry {third} links to it as the case's previous entry",
        ),
        (
            "relabelled-evidence-filename",
            _relabel_filename,
            "evidence {evidence}",
            "bundle.json gives filename 'invoice.pdf'; entry {stored} records filename 'final report.txt'",
        ),
        (
            "relabelled-format-1",
            _relabel_format_1,
            "data/bundle.json",
            "bundle.json says format offboard-bundle/1, but entries [{first}, {second}, {third}",
        ),
        (
            "entry-beyond-checkpoint",
            _entry_beyond_checkpoint,
            "data/ledger/entries/{size}.json",
            "the bundle's checkpoint (size {size}) is older than entry {size} it must cover",
        ),
        (
            "consistency-to-another-checkpoint",
            _consistency_to("second", 99),
            "data/ledger/checkpoints/{earlier}.checkpoint",
            "the consistency proof leads to size 99, but the bundle's checkpoint has size {size}: the proof "
            "belongs to another checkpoint",
        ),
        (
            "consistency-from-another-size",
            _consistency_to("first", 3),
            "data/ledger/checkpoints/{earlier}.checkpoint",
            "the consistency proof starts from size 3, not {earlier}",
        ),
    ],
)
def test_crafted_bundle_fails_on_page_and_cli_alike(
    name: str,
    change: Callable[[Files, dict[str, Any]], None],
    item: str,
    detail: str,
    page: Any,
    built: Built,
    tmp_path: Path,
) -> None:
    index = json.loads(unzip(built.zip_bytes)[1][layout.INDEX])
    names = {
        "first": index["entries"][0],
        "second": index["entries"][1],
        "third": index["entries"][2],
        "size": index["checkpoint"]["size"],
        "earlier": index["earlier_checkpoints"][0]["size"],
        "evidence": index["evidence"][0]["id"],
        "stored": index["evidence"][0]["ledger_index"],
    }
    item, detail = item.format(**names), detail.format(**names)
    path = tmp_path / f"{name}.zip"
    path.write_bytes(craft(built, change))
    verdict, complete, failed = on_page(page, path, built.vkey)
    assert (verdict, complete) == ("fail", "false")
    assert any(row[2] == item and detail in row[3] for row in failed), failed
    assert page.inner_text("#completeness") == "Completeness NOT proven: the bundle failed verification."
    report = by_cli(path, built.vkey)
    assert not report.ok and not report.complete
    assert any(c.item == item and detail in c.detail for c in report.failures), report.failures


def test_entries_before_case_links_pass_with_a_warning(page: Any, legacy: Built, tmp_path: Path) -> None:
    """The first two entries are version 1: the walk ends there, so completeness holds only from the third."""
    path = tmp_path / "legacy.zip"
    path.write_bytes(legacy.zip_bytes)
    linked_from = _index_at(legacy, 1)
    warning = (
        f"not provable for entries before index {linked_from}: entry {linked_from} was written before case "
        "links; every entry from it to the export is present"
    )
    verdict, complete, failed = on_page(page, path, legacy.vkey)
    assert (verdict, complete, failed) == ("pass", "false", [])
    assert page.inner_text("#verdict").startswith("PASS: all")
    assert page.is_visible("#warnings")
    assert page.inner_text("#warnings li") == f"WARNING [completeness] case: {warning}"
    assert page.inner_text("#completeness") == "Completeness NOT proven: 1 warning(s) below."
    assert "\tcompleteness\t" not in page.inner_text("#checks")  # a warning is never a passed check
    report = by_cli(path, legacy.vkey)
    assert report.ok and not report.complete and report.complete_from == linked_from
    assert [(w.kind, w.item, w.detail) for w in report.warnings] == [("completeness", "case", warning)]


# --- claimChecks against ClaimChecks on the same decoded input ----------------------------------


def decoded(built: Built) -> dict[str, Any]:
    """What ``ContentChecks`` hands ``ClaimChecks`` for the real export, every entry verified."""
    _, files = unzip(built.zip_bytes)
    index = json.loads(files[layout.INDEX])
    return {
        "index": index,
        "entries": {i: json.loads(files[layout.entry_path(i)]) for i in index["entries"]},
        "leaves": {i: leaf_hash(files[layout.entry_path(i)]) for i in index["entries"]},
        "present": set(index["entries"]),
        "files": {p: d for p, d in files.items() if not p.startswith(layout.EVIDENCE_DIR)},
        "sha256": {p: hashlib.sha256(d).hexdigest() for p, d in files.items()},
        "case_id": index["case"],
        "checkpoint_size": index["checkpoint"]["size"],
        "origin": index["origin"],
    }


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def rechain(ctx: dict[str, Any]) -> None:
    """Recompute every leaf hash and every version 2 entry's link, as the log would have written them."""
    previous: int | None = None
    for i in sorted(ctx["entries"]):
        entry = ctx["entries"][i]
        if entry.get("v") != 1:
            entry["prev"] = None if previous is None else {"index": previous, "leaf_hash": b64(ctx["leaves"][previous])}
        ctx["leaves"][i] = leaf_hash(canonical.dumps(entry))
        previous = i


def insert_before_export(ctx: dict[str, Any], entry_type: str, data: dict[str, Any]) -> None:
    """A new case entry, appended just before the export record (which moves up one), links recomputed."""
    tip = max(ctx["entries"])
    exported = ctx["entries"].pop(tip)
    ctx["entries"][tip] = {**copy.deepcopy(exported), "type": entry_type, "data": data}
    ctx["entries"][tip + 1] = exported
    ctx["present"] |= {tip, tip + 1}
    ctx["checkpoint_size"] = tip + 2
    rechain(ctx)


def _of_type(ctx: dict[str, Any], entry_type: str) -> int:
    return next(i for i, e in sorted(ctx["entries"].items()) if e["type"] == entry_type)


def _nth(ctx: dict[str, Any], n: int) -> int:
    return sorted(ctx["entries"])[n]


def _drop(ctx: dict[str, Any], i: int, *, file_too: bool = True) -> None:
    del ctx["entries"][i], ctx["leaves"][i]
    if file_too:
        ctx["present"].discard(i)


def _legacy(ctx: dict[str, Any], *positions: int) -> None:
    for n in positions:
        entry = ctx["entries"][_nth(ctx, n)]
        entry["v"] = 1
        entry.pop("prev", None)
    rechain(ctx)


def _all_legacy(ctx: dict[str, Any]) -> None:
    _legacy(ctx, *range(len(ctx["entries"])))


def _another_history(ctx: dict[str, Any]) -> None:
    """A second first entry of the case, below it: on no chain that reaches the export."""
    ctx["entries"][1] = {**ctx["entries"][_nth(ctx, 0)], "prev": None}
    ctx["leaves"][1] = bytes(32)


def _receipt(ctx: dict[str, Any]) -> tuple[str, str, str]:
    """(id, json path, sig path) of the export's receipt."""
    item = ctx["index"]["receipts"][0]
    return item["id"], item["json"], item["sig"]


def _edit_json(ctx: dict[str, Any], path: str, edit: Callable[[dict[str, Any]], None]) -> None:
    document = json.loads(ctx["files"][path])
    edit(document)
    ctx["files"][path] = canonical.dumps(document)


def _acknowledge(ctx: dict[str, Any], *, status: str | None = None, countersign: bool = True) -> None:
    """The client's acknowledgment of the receipt, countersigned in an entry, listed as exports list it."""
    receipt_id, receipt_json, _ = _receipt(ctx)
    block = {
        "id": "ack-1",
        "receipt": receipt_id,
        "recipient": "client@example.com",
        "name": "Ada O'Brien",
        "acknowledged_at": "2026-12-01T10:00:00.000000Z",
    }
    document = canonical.dumps({"receipt": json.loads(ctx["files"][receipt_json]), "acknowledgment": block})
    signature = {"algorithm": "Ed25519", "key_id": "1234abcd", "signature": b64(b"countersignature" * 4)}
    json_path, sig_path, _ = layout.receipt_paths(receipt_id + ACK_SUFFIX)
    ctx["files"][json_path], ctx["files"][sig_path] = document, json.dumps(signature).encode()
    listed = {"id": receipt_id + ACK_SUFFIX, "json": json_path, "sig": sig_path, "pdf": None}
    ctx["index"]["receipts"].append({**listed, "status": status or ack_status(block)})
    ctx["index"]["receipts"][0]["status"] = "acknowledged"
    if countersign:
        digest = hashlib.sha256(document).hexdigest()
        data = {"receipt": receipt_id, "acknowledgment": "ack-1", "sha256": digest, "key_id": "1234abcd"}
        insert_before_export(ctx, "receipt.countersigned", {**data, "signature": signature["signature"]})


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(ctx: dict[str, Any]) -> None:
        target = ctx
        for key in path[:-1]:
            target = target[key(ctx) if callable(key) else key]
        target[path[-1]] = value

    return change


def _seq(*changes: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def change(ctx: dict[str, Any]) -> None:
        for one in changes:
            one(ctx)

    return change


def _at(n: int) -> Callable[[dict[str, Any]], int]:
    return lambda ctx: _nth(ctx, n)


_TIP = _at(-1)

MUTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "untouched": lambda _: None,
    "entry-missing": lambda ctx: _drop(ctx, _nth(ctx, 1)),
    "entry-present-but-unverified": lambda ctx: _drop(ctx, _nth(ctx, 1), file_too=False),
    "leaf-hash-differs": lambda ctx: ctx["leaves"].__setitem__(_nth(ctx, 1), bytes(32)),
    "link-not-backwards": _set(["entries", _at(2), "prev", "index"], 10**6),
    "prev-not-a-link": _set(["entries", _at(2), "prev"], {"index": "4", "leaf_hash": None}),
    "prev-absent": lambda ctx: ctx["entries"][_nth(ctx, 2)].pop("prev"),
    "prev-not-base64": _set(["entries", _at(2), "prev", "leaf_hash"], "not base64!"),
    "prev-short": _set(["entries", _at(2), "prev", "leaf_hash"], b64(bytes(31))),
    "claims-to-be-first": _set(["entries", _at(2), "prev"], None),
    "legacy-start": lambda ctx: _legacy(ctx, 0, 1),
    "legacy-in-the-middle": lambda ctx: _legacy(ctx, 2),
    "format-1-with-links": _set(["index", "format"], layout.FORMAT_1),
    "format-1-legacy": _seq(_all_legacy, _set(["index", "format"], layout.FORMAT_1)),
    "format-1-without-case-opened": _seq(
        _all_legacy, _set(["index", "format"], layout.FORMAT_1), lambda ctx: _drop(ctx, _nth(ctx, 0))
    ),
    "no-entries": lambda ctx: [_drop(ctx, i) for i in list(ctx["entries"])],
    "export-record-missing": lambda ctx: _drop(ctx, _nth(ctx, -1)),
    "export-record-v1": _set(["entries", _TIP, "v"], 1),
    "checkpoint-beyond-export": lambda ctx: ctx.__setitem__("checkpoint_size", ctx["checkpoint_size"] + 2),
    "no-checkpoint": _set(["checkpoint_size"], None),
    "no-case": _set(["case_id"], None),
    "another-history": _another_history,
    "exported-hash-differs": _set(["index", "evidence", 0, "sha256"], "0" * 64),
    "exported-evidence-unlisted": lambda ctx: ctx["index"]["evidence"].pop(0),
    "evidence-not-exported": lambda ctx: ctx["index"]["evidence"].append({"id": "planted", "sha256": "ab"}),
    "index-labels": _seq(
        _set(["index", "client_name"], "Initech"),
        _set(["index", "organization", "name"], 'Other "quoted" org'),
        _set(["index", "organization", "slug"], None),
        _set(["index", "organization", "id"], "o-1"),
        _set(["index", "exported_at"], "2020-01-01T00:00:00Z"),
        lambda ctx: ctx["index"].pop("exported_by"),
    ),
    "organization-not-an-object": _set(["index", "organization"], ["acme"]),
    "evidence-labels": _seq(
        _set(["index", "evidence", 0, "filename"], "it's.pdf"),
        _set(["index", "evidence", 0, "kind"], "other"),
        _set(["index", "evidence", 0, "content_type"], "text/plain\t"),
        _set(["index", "evidence", 1, "size"], "76800"),
        _set(["index", "evidence", 1, "ledger_index"], 3),
        _set(["index", "evidence", 2, "path"], "data/evidence/x"),
    ),
    "receipt-status": _set(["index", "receipts", 0, "status"], "sent"),
    "receipt-sent": lambda ctx: insert_before_export(ctx, "receipt.sent", {"receipt": _receipt(ctx)[0], "links": []}),
    "receipt-sent-and-listed": _seq(
        lambda ctx: insert_before_export(ctx, "receipt.sent", {"receipt": _receipt(ctx)[0], "links": []}),
        _set(["index", "receipts", 0, "status"], "sent"),
    ),
    "receipt-disputed": lambda ctx: insert_before_export(ctx, "receipt.disputed", {"receipt": _receipt(ctx)[0]}),
    "receipt-of-another-case": lambda ctx: _edit_json(ctx, _receipt(ctx)[1], _set(["case", "id"], "c-2")),
    "receipt-case-not-an-object": lambda ctx: _edit_json(ctx, _receipt(ctx)[1], _set(["case"], 7)),
    "receipt-unissued": lambda ctx: ctx["entries"][_of_type(ctx, "receipt.issued")].__setitem__("type", "case.note"),
    "receipt-other-signature": lambda ctx: _edit_json(ctx, _receipt(ctx)[2], _set(["signature"], "AA==")),
    "receipt-misplaced": _set(["index", "receipts", 0, "json"], "data/receipts/elsewhere.json"),
    "receipt-not-json": lambda ctx: ctx["files"].__setitem__(_receipt(ctx)[1], b"{"),
    "receipt-not-an-object": lambda ctx: ctx["files"].__setitem__(_receipt(ctx)[1], b"[1]"),
    "receipt-signature-missing": lambda ctx: ctx["files"].pop(_receipt(ctx)[2]),
    "receipt-unlisted": _set(["index", "receipts"], []),
    "deliverable-missing": lambda ctx: ctx["sha256"].pop(ctx["index"]["evidence"][0]["path"]),
    "deliverable-other-hash": lambda ctx: ctx["sha256"].__setitem__(ctx["index"]["evidence"][0]["path"], "f" * 64),
    "acknowledged": _acknowledge,
    "acknowledgment-status": lambda ctx: _acknowledge(ctx, status="acknowledged"),
    "acknowledgment-not-countersigned": lambda ctx: _acknowledge(ctx, countersign=False),
    "acknowledgment-unlisted": _seq(_acknowledge, lambda ctx: ctx["index"]["receipts"].pop()),
    "acknowledgment-of-another-document": _seq(
        _acknowledge, lambda ctx: _edit_json(ctx, _receipt(ctx)[1], _set(["terms"], "other"))
    ),
    "acknowledgment-other-hash": _seq(
        _acknowledge,
        lambda ctx: ctx["entries"][_of_type(ctx, "receipt.countersigned")]["data"].__setitem__("sha256", "0" * 64),
    ),
    "acknowledgment-of-another-receipt": _seq(
        _acknowledge,
        lambda ctx: _edit_json(
            ctx,
            layout.receipt_paths(_receipt(ctx)[0] + ACK_SUFFIX)[0],
            _set(["acknowledgment", "receipt"], "r-2"),
        ),
    ),
}

CLAIMS_JS = """async (p) => {
  const bytes = (t) => Uint8Array.from(atob(t), (c) => c.charCodeAt(0));
  const byIndex = (o, f) => new Map(Object.entries(o).map(([k, v]) => [Number(k), f(v)]).sort((a, b) => a[0] - b[0]));
  const files = Object.fromEntries(Object.entries(p.files).map(([k, v]) => [k, bytes(v)]));
  const r = await window.offboardClaims.claimChecks({ index: p.index, entries: byIndex(p.entries, (e) => e),
    leaves: byIndex(p.leaves, bytes), present: new Set(p.present), files, sha256: p.sha256, caseId: p.caseId,
    checkpointSize: p.checkpointSize, origin: p.origin });
  return { checks: r.checks.map((c) => [c.kind, c.item, c.ok, c.detail]),
    warnings: r.warnings.map((w) => [w.kind, w.item, w.detail]), completeFrom: r.completeFrom };
}"""


@pytest.fixture(scope="module")
def base(built: Built) -> dict[str, Any]:
    return decoded(built)


def by_python(ctx: dict[str, Any]) -> dict[str, Any]:
    claims = ClaimChecks(
        index=ctx["index"],
        entries=dict(sorted(ctx["entries"].items())),  # as ContentChecks inserts them: by index
        leaves=ctx["leaves"],
        present=ctx["present"],
        files=ctx["files"],
        sha256=ctx["sha256"],
        case_id=ctx["case_id"],
        checkpoint_size=ctx["checkpoint_size"],
        origin=ctx["origin"],
    )
    checks = [list(check) for check in claims.run()]
    return {"checks": checks, "warnings": [list(w) for w in claims.warnings], "completeFrom": claims.complete_from}


def by_page(page: Any, ctx: dict[str, Any]) -> dict[str, Any]:
    payload = {
        "index": ctx["index"],
        "entries": {str(i): e for i, e in ctx["entries"].items()},
        "leaves": {str(i): b64(leaf) for i, leaf in ctx["leaves"].items()},
        "present": sorted(ctx["present"]),
        "files": {p: b64(d) for p, d in ctx["files"].items()},
        "sha256": ctx["sha256"],
        "caseId": ctx["case_id"],
        "checkpointSize": ctx["checkpoint_size"],
        "origin": ctx["origin"],
    }
    return dict(page.evaluate(CLAIMS_JS, payload))


def _parser_words_aside(result: dict[str, Any]) -> dict[str, Any]:
    """The JSON parsers' own error messages differ (V8's and CPython's); everything before them must not."""
    checks = [[k, i, ok, d.partition("not JSON: ")[0] if "not JSON: " in d else d] for k, i, ok, d in result["checks"]]
    return {**result, "checks": checks}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_claim_checks_agree_with_python(name: str, base: dict[str, Any], browser_page: Any) -> None:
    ctx = copy.deepcopy(base)
    MUTATIONS[name](ctx)
    expected = by_python(ctx)
    assert _parser_words_aside(by_page(browser_page, ctx)) == _parser_words_aside(expected)
    if name == "untouched":
        assert all(ok for _, _, ok, _ in expected["checks"]) and expected["completeFrom"] is not None
    else:
        assert expected != by_python(base), "the mutation changed nothing"


NAMES = [
    "../../etc/passwd",
    "Globex Ünïcode «Ltd».pdf",
    "ﬁnal report",
    "",
    "._.",
    "a" * 200,
    "x/y\\z",
    "日本語.txt",
    "e\u0301te",
    "Ω-\u2126",
]


def test_safe_path_component_agrees_with_python(browser_page: Any) -> None:
    safe = "window.offboardClaims.safePathComponent"
    script = f"(names) => names.map((n) => [{safe}(n), {safe}(n, 64)])"
    expected = [[safe_path_component(n), safe_path_component(n, limit=64)] for n in NAMES]
    assert browser_page.evaluate(script, NAMES) == expected


REPRS: list[Any] = [
    None,
    True,
    False,
    0,
    -7,
    "plain",
    "it's",
    'say "hi"',
    "both ' and \"",
    "tab\tnew\nline\r",
    "\x00\x1f\x7f",
    "back\\slash",
    "ünï",
    [1, "a", None],
    {"k": [True, {"n": "v"}]},
    [],
]


def test_messages_quote_values_as_python_does(browser_page: Any) -> None:
    script = "(values) => values.map((v) => window.offboardClaims.pyRepr(v))"
    assert browser_page.evaluate(script, REPRS) == [repr(v) for v in REPRS]
