"""The bundle report rendered from ledger entries alone (``vault.bundle.report``, ``report_html``, ``pdf``): every
section from crafted entries, escaping, absent values, determinism, the check that re-renders and compares, and
the PDF's convenience-copy mark."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from typing import Any

from pypdf import PdfReader

from tests.report_entries import AWKWARD, CASES, LONG, ORIGIN, decoded
from vault.bundle import layout
from vault.bundle.report import ReportData, Section, build_report, summary
from vault.bundle.report_html import check_report, escape, first_difference, render_report_html
from vault.bundle.report_pdf import CONVENIENCE, render_pdf

ABSENT_HTML = '<span class="absent">absent</span>'


def full() -> ReportData:
    return build_report(decoded(CASES["full"]()), origin=ORIGIN, checkpoint_size=99)


def section(report: ReportData, section_id: str) -> Section:
    return next(s for s in report.sections if s.id == section_id)


def test_escape_is_exactly_five_characters() -> None:
    assert escape("&<>\"'") == "&amp;&lt;&gt;&quot;&#39;"
    assert escape("é 🎉 $1 \n\t/=`") == "é 🎉 $1 \n\t/=`"


def test_awkward_text_is_escaped_and_the_page_runs_no_script() -> None:
    html = render_report_html(decoded(CASES["full"]()), origin=ORIGIN, checkpoint_size=99).decode("utf-8")
    assert "<script" not in html and "alert('x')" not in html
    assert escape(AWKWARD) in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "content=\"default-src 'none'; style-src 'unsafe-inline'\"" in html
    assert f"<title>Offboarding evidence: {escape(AWKWARD)}</title>" in html
    assert escape(LONG) in html  # nothing is truncated


def test_facts_and_final_state_come_from_the_entries() -> None:
    report = full()
    facts = dict(report.facts)
    assert facts["Organization"] == "Acme & Sons <Ltd> 🎉"  # from the v2 bundle.exported entry, the last one
    assert facts["Case"] == "c-1" and facts["Client"] == AWKWARD
    assert facts["Client contacts"] == "a@client.example, b&c@client.example"
    assert facts["Owner"] == "lead@agency.example"  # the owner change, not the opening owner
    assert facts["Playbook"] == "web version 3" and facts["Service type"] == "web <agency>"
    assert facts["Opened"] == "2026-11-01T10:00:00.000000Z (entry 3)"
    assert facts["Log origin"] == ORIGIN and facts["Checkpoint size"] == "99"
    assert facts["Ledger entries in this bundle"] == str(len(CASES["full"]()))
    assert facts["Exported at"] == "2026-11-21T12:00:00.000000Z" and facts["Exported by"] == "staff:lead@agency.example"
    final = dict(report.final_state)
    assert final["Status"] == "fully_offboarded"
    assert final["Since"] == final["Fully offboarded at"] == "2026-11-20T08:00:00.123456Z (entry 61)"
    assert final["Last entry"] == "67: bundle.exported at 2026-11-21T12:00:00.000000Z"


def test_deliverables_with_bundle_paths() -> None:
    rows = section(full(), "deliverables").rows
    assert rows == (
        (
            "Rapport e\u0301te\u0301 \u212b.pdf",
            "deliverable",
            "1234",
            "11" * 32,
            "11",
            "data/evidence/ev-1-Rapport_ete_A.pdf",
        ),
        ("../../etc/passwd", "confirmation", "0", "22" * 32, "13", "data/evidence/ev_2-etc_passwd"),
        ("📄🎉.txt", "other", "9", "33" * 32, "15", "data/evidence/ev-3-txt"),
    )
    assert rows[0][5] == layout.evidence_path("ev-1", "Rapport e\u0301te\u0301 \u212b.pdf")


def test_steps_access_acknowledgments_and_notes() -> None:
    report = full()
    steps = section(report, "steps").rows
    assert steps[0][0] == f"{AWKWARD} (handover)" and steps[0][4] == LONG
    assert steps[0][3] == "Rapport e\u0301te\u0301 \u212b.pdf, ev-unknown, absent"
    assert steps[1] == ("DNS moved (dns)", "2026-11-01T10:00:00.000000Z", "staff:pm@x", None, None, "19")
    access = section(report, "access").rows
    assert access[0] == (
        "GitHub <org> (code, held by agency)",
        "verified",
        "2026-11-01T10:00:00.000000Z by ops@x",
        "removed & rotated",
        "2026-11-01T10:00:00.000000Z by lead@x",
        "added 21, revoked 25, verified 27",
    )
    assert access[1] == ("Stripe (billing, held by client)", "active", None, None, None, "added 23")
    receipts = section(report, "acknowledgment").rows
    assert receipts[0] == (
        "r-1",
        "2026-11-01T10:00:00.000000Z (entry 29)",
        "a@client.example, b&c@client.example, absent",
        "2",
        "by Zoë <Client> <a@client.example> at 2026-11-03T09:00:00.000001Z (entry 39)",
        "2026-11-01T10:00:00.000000Z (entry 41)",
        None,
    )
    assert receipts[1][0] == "r-2" and receipts[1][3] == "0" and receipts[1][4] is None
    assert receipts[1][6] == f"by b&c@client.example at 2026-11-01T10:00:00.000000Z (entry 47): {AWKWARD}"
    notes = section(report, "notes").rows
    assert [(row[1], row[4]) for row in notes] == [
        ("client dispute", "47"),
        ("dispute", "49"),
        ("note", "51"),
        ("waiver", "53"),
        ("waiver", "55"),
        ("waiver", "57"),
        ("resolution", "59"),
    ]
    assert notes[3][3] == "acknowledgment waived for every receipt: client unreachable"
    assert notes[4][3] == "acknowledgment waived for receipt r-2: superseded"
    assert notes[5][3] == f"acknowledgment waived for deliverable design <files>.zip (ev-3): {AWKWARD}"


def test_timeline_has_every_entry_with_a_summary() -> None:
    cases = CASES["full"]()
    timeline = section(full(), "timeline").rows
    assert [row[0] for row in timeline] == [str(index) for index, _ in cases]
    opened = timeline[0][4]
    assert opened is not None and opened.startswith(f"client_name: {AWKWARD}; owner: pm@agency.example;")
    assert "owner_id" not in opened  # known types show their listed fields only
    # Other types: every field, keys in RFC 8785 (UTF-16 code unit) order, values as RFC 8785 JSON.
    custom = next(row[4] for row in timeline if row[3] == "custom.thing")
    assert custom == (
        ': empty key; 10: true; 2: false; __proto__: {"y":"","z":null}; a: [1,0,1e+21,0.30000000000000004]; '
        'b: 1.5; constructor: c; é: {"nested":["<&>"]}; 😀: emoji key; ～: fullwidth tilde (after the emoji in '
        "UTF-16 order)"
    )
    assert summary({"type": "case.note", "data": {}}) is None


def test_absent_values_read_absent() -> None:
    empty = build_report([], origin=ORIGIN, checkpoint_size=0)
    assert all(
        value is None
        for label, value in empty.facts
        if label not in ("Log origin", "Checkpoint size", "Ledger entries in this bundle")
    )
    assert all(value is None for _, value in empty.final_state)
    assert all(not s.rows for s in empty.sections if s.id != "claims")
    html = render_report_html([], origin=ORIGIN, checkpoint_size=0).decode()
    assert "<h1>Offboarding evidence: absent</h1>" in html
    assert html.count('<p class="absent">absent</p>') == 6
    assert f"<dt>Organization</dt><dd>{ABSENT_HTML}</dd>" in html


def test_mistyped_fields_and_a_format_1_export() -> None:
    report = build_report(decoded(CASES["odd"]()), origin=ORIGIN, checkpoint_size=30)
    facts = dict(report.facts)
    # The last entry is a v1 bundle.exported (format 1, after its own checkpoint): not this bundle's export.
    assert facts["Organization"] is None and facts["Exported at"] is None and facts["Exported by"] is None
    assert facts["Client"] is None and facts["Client contacts"] is None and facts["Owner"] is None
    # The opening status (7, shown as JSON) is replaced by a status change whose data is not an object.
    assert dict(report.final_state)["Status"] is None and dict(report.final_state)["Since"] == "absent (entry 4)"
    deliverable = section(report, "deliverables").rows[0]
    assert deliverable == (None, None, "12", None, "6", None)
    steps = section(report, "steps").rows[0]
    assert steps == ("absent (absent)", None, None, None, None, "8")
    access = section(report, "access").rows
    assert access == (
        ("Only revoked (absent, held by absent)", "revoked", "absent by absent", None, None, "revoked 10"),
        ('["n"] (absent, held by absent)', "verified", None, None, "absent by absent", "verified 12"),
    )
    receipts = section(report, "acknowledgment").rows
    assert [row[0] for row in receipts] == [None, "5"] and receipts[0][4] == "by absent <absent> at absent (entry 14)"
    timeline = section(report, "timeline").rows
    assert timeline[11] == ("22", None, None, None, "only: data") and timeline[12][3] == '["a","list"]'


def test_rendering_is_deterministic() -> None:
    entries = decoded(CASES["full"]())
    first = render_report_html(entries, origin=ORIGIN, checkpoint_size=99)
    assert render_report_html(decoded(CASES["full"]()), origin=ORIGIN, checkpoint_size=99) == first
    assert render_report_html(entries, origin=ORIGIN, checkpoint_size=100) != first


def test_check_report_passes_the_rendering_and_names_the_first_differing_line() -> None:
    entries = decoded(CASES["full"]())
    good = render_report_html(entries, origin=ORIGIN, checkpoint_size=99)
    ok, detail = check_report({layout.REPORT_HTML: good}, entries, ORIGIN, 99)
    assert ok and detail == f"identical to the report rendered from the {len(entries)} verified ledger entries"

    forged = good.replace(b"<dd>fully_offboarded</dd>", b"<dd>in_progress</dd>", 1)
    ok, detail = check_report({layout.REPORT_HTML: forged}, entries, ORIGIN, 99)
    line = good[: good.index(b"<dd>fully_offboarded</dd>")].count(b"\n") + 1
    assert not ok and f"at line {line}: expected " in detail
    assert "'<dt>Status</dt><dd>fully_offboarded</dd>'" in detail and "'<dt>Status</dt><dd>in_progress</dd>'" in detail

    # Any one entry fewer (or more) than the report was rendered from is caught too.
    ok, detail = check_report({layout.REPORT_HTML: good}, entries[:-1], ORIGIN, 99)
    assert not ok and "differs from the report rendered from" in detail
    assert check_report({}, entries, ORIGIN, 99) == (False, "missing, so the report cannot be checked")
    no_checkpoint = (False, "cannot be rendered again without a verified checkpoint")
    assert check_report({layout.REPORT_HTML: good}, entries, ORIGIN, None) == no_checkpoint
    assert check_report({layout.REPORT_HTML: good}, entries, None, 99) == no_checkpoint


def test_first_difference() -> None:
    assert first_difference(b"a\nb\nc", b"a\nb\nc\nd") == "line 4: the file goes on where the rendering does not"
    assert first_difference(b"a\nb\nc", b"a\nb") == "line 3: the file ends where the rendering does not"
    long_line = b"x" * 500 + b"A" + b"y" * 500
    where = first_difference(long_line, long_line.replace(b"A", b"B"))
    assert re.fullmatch(r"line 1: expected 'x{60}Ay{59}', found 'x{60}By{59}'", where), where


def test_pdf_is_marked_a_convenience_copy_on_its_first_page() -> None:
    pdf = render_pdf(full(), datetime(2026, 11, 21, 12, tzinfo=UTC))
    reader = PdfReader(io.BytesIO(pdf))
    first = " ".join(reader.pages[0].extract_text().split())
    assert "Convenience copy: this PDF proves nothing; report.html is checked by the verifiers" in first
    assert CONVENIENCE.startswith("Convenience copy: this PDF proves nothing")
    assert "Acme & Sons <Ltd>" in first  # the same data as report.html
    assert render_pdf(full(), datetime(2026, 11, 21, 12, tzinfo=UTC)) == pdf  # reproducible


def _runs_past_the_right_margin(pdf: bytes) -> list[str]:
    """Every text run whose right end lies beyond the page's right margin (12 mm), measured with the same
    font metrics fpdf2 laid it out with."""
    from fpdf import FPDF

    from vault.bundle.report_pdf import FONT, FONT_DIR

    metrics = FPDF(format="A4")
    metrics.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
    metrics.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    limit_pt = (210 - 12) * 72 / 25.4 + 0.5
    found: list[str] = []
    for page in PdfReader(io.BytesIO(pdf)).pages:

        def visit(text: str, _cm: Any, tm: Any, font: Any, size: float, page_found: list[str] = found) -> None:
            if not text.strip() or not size:
                return
            bold = "Bold" in str((font or {}).get("/BaseFont", ""))
            metrics.set_font(FONT, "B" if bold else "", size)
            # Spaces collapsed: justified lines (multi_cell) stretch their spaces, which extraction doubles.
            right = tm[4] + metrics.get_string_width(" ".join(text.split())) * 72 / 25.4
            if right > limit_pt:
                page_found.append(f"{text[:40]!r} ends at {right:.0f} pt")

        page.extract_text(visitor_text=visit)
    return found


def test_pdf_timeline_wraps_long_values_inside_the_page() -> None:
    """Issue 14 item 19: long actors, types and data (hashes, addresses) wrap inside their column."""
    long_actor = "staff:" + "someone.with.a.very.long.name@" + "sub." * 8 + "agency.example"
    entries = decoded(CASES["full"]())
    entries = [(i, {**doc, "actor": long_actor}) for i, doc in entries]
    report = build_report(entries, origin=ORIGIN, checkpoint_size=99)
    pdf = render_pdf(report, datetime(2026, 11, 21, 12, tzinfo=UTC))
    assert _runs_past_the_right_margin(pdf) == []
    # The actor is wrapped onto further lines of its column, not cut at the column's edge.
    text = "".join("".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "someone.with.a.very.long.name@sub.sub." in text
