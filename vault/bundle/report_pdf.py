"""``report.pdf``: the case report as a reproducible PDF (fpdf2, DejaVu fonts for full Unicode): a convenience
copy that proves nothing.

It shows the same ``ReportData`` as ``report.html`` (built from the bundle's entries alone), but no verifier
renders it again, since a PDF cannot be compared byte for byte across implementations; its first page and
``docs/bundle.md`` say so, and point to ``report.html``, which is checked.

Reproducible: the creation date is the export time and nothing else varies, so the same case exported
at the same moment gives the same bytes. Tables are wrapped text rows rather than fpdf2 tables, and the
timeline is one row per entry with every value wrapped inside its column (the data to a few lines; its full
data is in the entry files and report.html), which keeps a 10,000-entry timeline fast and on the page.
The bundled Unicode font (DejaVu, Debian's fonts-dejavu-core) renders any client name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from fpdf import FPDF

from vault.bundle.report import ReportData
from vault.bundle.report_cells import ABSENT, Cell, Section
from vault.errors import ConfigurationError

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT = "DejaVu"
#: Printed first, on the first page.
CONVENIENCE = (
    "Convenience copy: this PDF proves nothing; report.html is checked by the verifiers "
    "(offboard verify and verify.html render it again from the signed ledger entries)."
)


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


#: Characters of one value the PDF keeps: fpdf2 wraps some tens of thousands of characters a second, and the full text
#: is in report.html (and the entries) anyway.
_VALUE_CHARS = 2000


def _v(value: Cell) -> str:
    if value is None:
        return ABSENT
    return value if len(value) <= _VALUE_CHARS else value[: _VALUE_CHARS - 1] + "… (clipped; in full in report.html)"


#: Rows a table may have and still be wrapped; longer ones get one clipped line per row, like the timeline.
_WRAPPED_ROWS = 200
#: The height of one clipped row of a long table (mm).
_ROW_MM = 3.6


def _rows(pdf: FPDF, header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> None:
    if not rows:
        pdf.multi_cell(0, 5, "absent", new_x="LMARGIN", new_y="NEXT")
        return
    if len(rows) > _WRAPPED_ROWS:
        pdf.set_font(FONT, "", 6.5)
        measure = _Widths(pdf)
        baseline = _ROW_MM / 2 + 0.3 * pdf.font_size  # as in ``_timeline``
        for row in rows:
            line = "   ".join(f"{label}: {_v(value)}" for label, value in zip(header, row, strict=True))
            (fitted,) = _wrap(measure, line, pdf.w - pdf.l_margin - pdf.r_margin - 2 * pdf.c_margin, 1)
            if pdf.get_y() + _ROW_MM > pdf.page_break_trigger:
                pdf.add_page()
            top = pdf.get_y()
            pdf.text(pdf.l_margin + pdf.c_margin, top + baseline, fitted)
            pdf.set_y(top + _ROW_MM)
        return
    for row in rows:
        pdf.set_font(FONT, "B", 8)
        pdf.multi_cell(0, 4.5, f"{header[0]}: {_v(row[0])}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 8)
        rest = "   ".join(f"{label}: {_v(value)}" for label, value in zip(header[1:], row[1:], strict=True))
        pdf.multi_cell(0, 4.5, rest, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)


#: Timeline columns (label, width in mm, lines a value may wrap to); the data column takes the rest of the line.
_TIMELINE = (("Index", 12, 1), ("Time (server clock)", 30, 2), ("Actor", 36, 3), ("Type", 32, 2))
_DATA_LINES = 4
_LINE_MM = 3.2
_GAP_MM = 1.5


class _Widths:
    """Text widths in mm at the current font, from fpdf2's own width of each character, measured once.

    Glyph widths add up (no kerning without text shaping, as fpdf2's ``get_text_width`` itself sums them),
    and fpdf2's ``get_string_width`` costs some tens of microseconds a call: too slow for 10,000 rows."""

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf
        self.chars: dict[str, float] = {}

    def __call__(self, text: str) -> float:
        try:
            return sum(map(self.chars.__getitem__, text))
        except KeyError:  # a character not met before: measure the new ones once
            for char in set(text).difference(self.chars):
                self.chars[char] = self.pdf.get_string_width(char)
            return sum(map(self.chars.__getitem__, text))


def _wrap(measure: _Widths, text: str, width: float, max_lines: int) -> list[str]:
    """Lines of ``text`` no wider than ``width`` mm: words where they fit, long words (hashes, addresses)
    broken anywhere, and an ellipsis when more than ``max_lines`` would be needed. By hand rather than
    ``multi_cell``: fpdf2's line breaking is far too slow for 10,000 rows."""
    space = measure(" ")
    lines: list[str] = []
    line, used = "", 0.0
    for word in text.split():
        wide = measure(word)
        if line and used + space + wide <= width:
            line, used = f"{line} {word}", used + space + wide
            continue
        if line:
            lines.append(line)
        while wide > width:  # break a word wider than the column
            head, taken = "", 0.0
            for char in word:
                char_wide = measure(char)
                if taken + char_wide > width:
                    break
                head, taken = head + char, taken + char_wide
            lines.append(head)
            word = word[len(head) :]
            wide = measure(word)
        line, used = word, wide
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and measure(last + "…") > width:
            last = last[:-1]
        lines[-1] = last + "…"
    return lines or [""]


def _timeline(pdf: FPDF, rows: Sequence[Sequence[Cell]]) -> None:
    """One row per entry, every value wrapped inside its column (the data to a few lines, then clipped: the
    full entry is in data/ledger/entries and report.html), so nothing runs off the page."""
    left = pdf.l_margin
    data_width = pdf.w - pdf.r_margin - left - sum(width for _, width, _ in _TIMELINE)
    columns: list[tuple[float, int]] = [*((float(w), n) for _, w, n in _TIMELINE), (data_width, _DATA_LINES)]
    pdf.set_font(FONT, "B", 6.5)
    for (label, _, _), (column, _) in zip(_TIMELINE, columns[:-1], strict=True):
        pdf.cell(column, 4, label)
    pdf.cell(data_width, 4, "Data (abbreviated)", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 6.5)
    measure = _Widths(pdf)
    baseline = _LINE_MM / 2 + 0.3 * pdf.font_size  # where fpdf2's ``cell`` puts the baseline in a line this high
    for row in rows:
        cells = [
            _wrap(measure, " ".join(_v(value).split()), width - 1, lines)
            for (width, lines), value in zip(columns, row, strict=True)
        ]
        height = max(len(c) for c in cells) * _LINE_MM
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
        top, x = pdf.get_y(), float(left)
        for (width, _), lines in zip(columns, cells, strict=True):
            for n, line in enumerate(lines):
                if line:
                    # ``text`` at the baseline a cell of this height would use: a quarter of ``cell``'s cost,
                    # which decided the export time of a 10,000-entry case.
                    pdf.text(x + pdf.c_margin, top + n * _LINE_MM + baseline, line)
            x += width
        pdf.set_xy(left, top + height + _GAP_MM / 2)


def _section(pdf: FPDF, section: Section) -> None:
    if section.id == "timeline":
        _heading(pdf, f"{section.title}; full entries in data/ledger/entries and report.html")
        _timeline(pdf, section.rows)
    elif section.id == "claims":
        _heading(pdf, section.title)
        for record, proves, limits in section.rows:
            pdf.set_font(FONT, "B", 8)
            pdf.multi_cell(0, 4.5, _v(record), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font(FONT, "", 8)
            pdf.multi_cell(0, 4.5, f"Proves: {_v(proves)}", new_x="LMARGIN", new_y="NEXT")
            pdf.multi_cell(0, 4.5, f"Does not prove: {_v(limits)}", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
    else:
        _heading(pdf, section.title)
        _rows(pdf, section.header, section.rows)


def render_pdf(data: ReportData, created: datetime) -> bytes:
    pdf = _pdf(created)
    pdf.set_font(FONT, "B", 10)
    pdf.set_text_color(160, 0, 0)
    pdf.multi_cell(0, 5, CONVENIENCE, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(2)
    pdf.set_font(FONT, "B", 15)
    pdf.multi_cell(0, 8, data.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    for label, value in data.facts:
        pdf.multi_cell(0, 5, f"{label}: {_v(value)}", new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, "Final state")
    for label, value in data.final_state:
        pdf.multi_cell(0, 5, f"{label}: {_v(value)}", new_x="LMARGIN", new_y="NEXT")
    for section in data.sections:
        _section(pdf, section)
    return bytes(pdf.output())
