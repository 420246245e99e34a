"""The report's two renderers agree byte for byte: ``vault.bundle.report_html`` (Python, used by the export and
``offboard verify``) and ``renderReport`` in ``verify.html`` (JavaScript, in Chromium), on crafted entry sets
with awkward text (``tests/report_entries.py``). Both parse the same entry JSON, as verifiers read entry files;
the page hashes its output's UTF-8 bytes (``TextEncoder``, as its check does) so the comparison is of bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests.report_entries import CASES, ORIGIN, decoded
from vault.bundle.report_html import first_difference, render_report_html

PAGE = (Path(__file__).resolve().parents[2] / "templates" / "bundle" / "verify.html").as_uri()

RENDER = """async ([texts, origin, size]) => {
    const entries = texts.map(([index, text]) => [index, JSON.parse(text)]);
    const html = window.offboardVerify.renderReport(entries, origin, size);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(html)));
    return [html, Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")];
}"""


def render_in_page(page: Any, case: list[tuple[int, str]], size: int) -> tuple[str, str]:
    html, digest = page.evaluate(RENDER, [[list(pair) for pair in case], ORIGIN, size])
    return str(html), str(digest)


@pytest.mark.parametrize("name", sorted(CASES))
def test_python_and_javascript_render_the_same_bytes(page: Any, name: str) -> None:
    case = CASES[name]()
    expected = render_report_html(decoded(case), origin=ORIGIN, checkpoint_size=12345)
    page.goto(PAGE)
    html, digest = render_in_page(page, case, 12345)
    found = html.encode("utf-8")
    assert found == expected, first_difference(expected, found)
    assert digest == hashlib.sha256(expected).hexdigest()


def test_each_entry_alone_renders_the_same(page: Any) -> None:
    """One entry at a time, so a divergence names the entry type that causes it."""
    page.goto(PAGE)
    for name in ("full", "odd"):
        for pair in CASES[name]():
            expected = render_report_html(decoded([pair]), origin=ORIGIN, checkpoint_size=1)
            html, _ = render_in_page(page, [pair], 1)
            assert html.encode("utf-8") == expected, (pair[1][:200], first_difference(expected, html.encode("utf-8")))
