"""``report.html``: the case report rendered from the bundle's ledger entries, and its check
(``docs/bundle.md``, "The report").

The rendering is deterministic and checked: ``offboard verify`` (``check_report``) and ``verify.html``
(``renderReport``, its JavaScript twin) render it again from the entries they verified and fail when the
bundled file differs by one byte. That is why it is written by hand as plain string building with one
escape function rather than with a template engine: it must be byte-identical to the JavaScript, which
cannot run jinja2, and every rule of it has to be visible to be ported (``tests/browser/test_report_twin.py``
holds the two equal). Values are escaped exactly alike in both: ``& < > " '`` and nothing else; lone
surrogates (never in a verified entry) become U+FFFD, as ``TextEncoder`` does.

The page carries its style inline and no script; its Content-Security-Policy forbids scripts outright.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from vault.bundle import layout
from vault.bundle.report import ReportData, build_report
from vault.bundle.report_cells import Cell, Entry, Section

_ABSENT = '<span class="absent">absent</span>'
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
#: Characters of a differing line quoted on each side of the first difference.
_CONTEXT = 60

#: The page up to its title, and from the title to the body (joined by concatenation, never by a
#: search-and-replace, whose JavaScript form would read ``$&`` in a title as a pattern).
_HEAD_START = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>"""
_HEAD_END = """</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5rem auto; max-width: 70rem; padding: 0 1rem; color: #111; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #ddd; padding: .25rem .4rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.code, .hash { font-family: ui-monospace, monospace; font-size: .85em; word-break: break-all; }
.text { white-space: pre-wrap; } .absent { color: #a00; font-style: italic; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; } dt { font-weight: 600; }
</style>
</head>
<body>
"""

_INTRO = (
    "<p>Rendered from this bundle's signed ledger entries alone: <code>offboard verify</code> and "
    "<code>verify.html</code> render it again from the entries they verified and fail if this file differs "
    "by one byte. It is a reading aid; the record is the entries in <code>data/ledger/entries</code>. What no "
    'entry records reads <span class="absent">absent</span>. <code>report.pdf</code> is a convenience '
    "copy that no verifier checks.</p>\n"
)


def escape(value: str) -> str:
    """HTML-escape ``& < > " '`` (as the JavaScript twin does), nothing else."""
    return value.translate(_ESCAPES)


def _cell(value: Cell) -> str:
    return _ABSENT if value is None else escape(value)


def _pairs(pairs: Sequence[tuple[str, Cell]]) -> str:
    rows = "".join(f"<dt>{escape(label)}</dt><dd>{_cell(value)}</dd>\n" for label, value in pairs)
    return f"<dl>\n{rows}</dl>\n"


def _section(section: Section) -> str:
    heading = f'<h2 id="{section.id}">{escape(section.title)}</h2>\n'
    if not section.rows:
        return heading + '<p class="absent">absent</p>\n'
    parts = [heading, "<table><tr>", *(f"<th>{escape(label)}</th>" for label in section.header), "</tr>\n"]
    # A timeline holds a row per entry: the cells are built inline, with each column's opening tag made once.
    opening = [f'<td class="{css}">' if css else "<td>" for css in section.classes]
    for row in section.rows:
        cells = [
            f"{tag}{_ABSENT if value is None else value.translate(_ESCAPES)}</td>"
            for tag, value in zip(opening, row, strict=True)
        ]
        parts.append(f"<tr>{''.join(cells)}</tr>\n")
    parts.append("</table>\n")
    return "".join(parts)


def report_html(report: ReportData) -> bytes:
    """The UTF-8 bytes of ``report.html``."""
    title = escape(report.title)
    parts = [_HEAD_START, title, _HEAD_END, f"<h1>{title}</h1>\n", _INTRO, _pairs(report.facts)]
    parts.append('<h2 id="final-state">Final state</h2>\n')
    parts.append(_pairs(report.final_state))
    parts.extend(_section(section) for section in report.sections)
    parts.append("</body>\n</html>\n")
    return _LONE_SURROGATE.sub("\ufffd", "".join(parts)).encode("utf-8")


def render_report_html(entries: Sequence[Entry], *, origin: str, checkpoint_size: int) -> bytes:
    """``report.html`` of the case whose entries (``(index, document)``, in index order) a bundle carries."""
    return report_html(build_report(entries, origin=origin, checkpoint_size=checkpoint_size))


def first_difference(expected: bytes, found: bytes) -> str:
    """Where ``found`` first departs from ``expected``: the line number and both lines around the spot."""
    want, got = expected.split(b"\n"), found.split(b"\n")
    for number in range(max(len(want), len(got))):
        line_want = want[number] if number < len(want) else None
        line_got = got[number] if number < len(got) else None
        if line_want == line_got:
            continue
        if line_want is None or line_got is None:
            side = "ends" if line_got is None else "goes on"
            return f"line {number + 1}: the file {side} where the rendering does not"
        column = next((i for i, pair in enumerate(zip(line_want, line_got, strict=False)) if pair[0] != pair[1]), None)
        column = min(len(line_want), len(line_got)) if column is None else column
        start = max(0, column - _CONTEXT)
        excerpt = [repr(line[start : column + _CONTEXT].decode("utf-8", "replace")) for line in (line_want, line_got)]
        return f"line {number + 1}: expected {excerpt[0]}, found {excerpt[1]}"
    return "no line"


def check_report(
    files: Mapping[str, bytes], entries: Sequence[Entry], origin: str | None, checkpoint_size: int | None
) -> tuple[bool, str]:
    """Render ``report.html`` again from the verified ``entries`` and compare it with the bundled bytes."""
    found = files.get(layout.REPORT_HTML)
    if found is None:
        return False, "missing, so the report cannot be checked"
    if origin is None or checkpoint_size is None:
        return False, "cannot be rendered again without a verified checkpoint"
    expected = render_report_html(entries, origin=origin, checkpoint_size=checkpoint_size)
    if found == expected:
        return True, f"identical to the report rendered from the {len(entries)} verified ledger entries"
    where = first_difference(expected, found)
    return False, f"differs from the report rendered from the {len(entries)} verified ledger entries, at {where}"
