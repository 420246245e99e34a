"""``report.pdf``: the case report as a reproducible PDF (fpdf2, DejaVu fonts for full Unicode).

Reproducible: the creation date is the export time and nothing else varies, so the same case exported
at the same moment gives the same bytes. Tables are wrapped text rows rather than fpdf2 tables, and the
timeline is one clipped line per entry (its full data is in the entry files and report.html), which
keeps a 10,000-entry timeline fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fpdf import FPDF

from vault.bundle.report import FONT_DIR, ReportData
from vault.errors import ConfigurationError

FONT = "DejaVu"


def _pdf(created: datetime) -> FPDF:
    regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
    if not regular.is_file() or not bold.is_file():
        raise ConfigurationError(f"the report needs the DejaVu fonts in {FONT_DIR} (Debian package fonts-dejavu-core)")
    pdf = FPDF(format="A4")
    pdf.set_creation_date(created)
    pdf.set_title("Offboarding evidence report")
    pdf.set_producer("Offboard")
    pdf.add_font(FONT, "", str(regular))
    pdf.add_font(FONT, "B", str(bold))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_margins(12, 12, 12)
    pdf.add_page()
    return pdf


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font(FONT, "B", 12)
    pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 8)


def _rows(pdf: FPDF, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    if not rows:
        pdf.multi_cell(0, 5, "absent", new_x="LMARGIN", new_y="NEXT")
        return
    for row in rows:
        pdf.set_font(FONT, "B", 8)
        pdf.multi_cell(0, 4.5, f"{header[0]}: {row[0]}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 8)
        rest = "   ".join(f"{label}: {value}" for label, value in zip(header[1:], row[1:], strict=True))
        pdf.multi_cell(0, 4.5, rest, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)


#: Timeline columns (label, width in mm, characters kept); the data column takes the rest of the line.
_TIMELINE = (("Index", 14, 12), ("Time (server clock)", 44, 30), ("Actor", 40, 30), ("Type", 36, 26))
_DATA_CHARS = 70


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _timeline(pdf: FPDF, rows: Sequence[Sequence[str]]) -> None:
    """One line per entry with ``cell``: fpdf2's ``multi_cell`` line breaking is far too slow for 10,000 rows."""
    pdf.set_font(FONT, "B", 6.5)
    for label, width, _ in _TIMELINE:
        pdf.cell(width, 4, label)
    pdf.cell(0, 4, "Data (abbreviated)", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 6.5)
    for row in rows:
        for (_, width, chars), value in zip(_TIMELINE, row[:4], strict=True):
            pdf.cell(width, 3.6, _clip(value, chars))
        pdf.cell(0, 3.6, _clip(row[4], _DATA_CHARS), new_x="LMARGIN", new_y="NEXT")


def render_pdf(data: ReportData, created: datetime) -> bytes:
    pdf = _pdf(created)
    pdf.set_font(FONT, "B", 15)
    pdf.multi_cell(0, 8, data.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    for label, value in data.facts:
        pdf.multi_cell(0, 5, f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, "Final state")
    for label, value in data.final_state:
        pdf.multi_cell(0, 5, f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, "Deliverables and evidence")
    _rows(pdf, ("File", "Kind", "Bytes", "SHA-256", "Ledger index", "Path"), data.deliverables)
    _heading(pdf, "Steps")
    _rows(pdf, ("Step", "Status", "Completed", "By", "Ledger index"), data.steps)
    _heading(pdf, "Access revocations")
    _rows(pdf, ("System", "Status", "Revoked", "Method", "Verified", "Ledger index"), data.access)
    _heading(pdf, "Acknowledgment record")
    _rows(pdf, ("Receipt", "Status"), data.acknowledgments)
    _heading(pdf, "Notes and disputes")
    _rows(pdf, ("Written", "Kind", "Author", "Text"), data.notes)
    _heading(pdf, "Timeline (ledger entries; full entries in data/ledger/entries and report.html)")
    _timeline(pdf, data.timeline)
    _heading(pdf, "What each record proves, and what it does not")
    for record, proves, limits in data.claims:
        pdf.set_font(FONT, "B", 8)
        pdf.multi_cell(0, 4.5, record, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 8)
        pdf.multi_cell(0, 4.5, f"Proves: {proves}", new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(0, 4.5, f"Does not prove: {limits}", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    return bytes(pdf.output())
