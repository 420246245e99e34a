"""The jinja2 templates of the acknowledgment page and emails: escaping, and a CSP that allows exactly
the inlined stylesheet."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime

from templates.render import Renderer

HOSTILE = '<script>alert("x")</script> & Co'
DOC = {
    "id": "r1",
    "issued_at": "2026-11-25T12:00:00.000000Z",
    "case": {"id": "c1", "client_name": HOSTILE},
    "deliverables": [{"evidence": "e1", "filename": '"><img src=x>.pdf', "size": 1234567, "sha256": "ab" * 32}],
    "obligations": [{"title": "Export data", "completed_at": None}],
    "access_revoked": [],
    "terms": "Line one\nLine <two>",
}


def test_page_escapes_everything_and_its_csp_allows_only_its_own_style() -> None:
    renderer = Renderer()
    html = renderer.page(
        "page",
        organization=HOSTILE,
        recipient="c@x.example",
        doc=DOC,
        shown="cd" * 32,
        expires_at=datetime(2026, 12, 9, tzinfo=UTC).strftime("%Y-%m-%d %H:%M"),
        csrf="t" * 43,
        base_path="/ack/" + "A" * 43,
        consent_text="I confirm.",
        error=None,
        name='Jane "J" <b>',
        dispute_open=False,
    )
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img src=x>" not in html and "Line &lt;two&gt;" in html
    assert 'value="Jane &#34;J&#34; &lt;b&gt;"' in html
    assert "1,234,567 bytes" in html and "ab" * 32 in html
    style = re.search(r"<style>(.*?)</style>", html, re.S)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in renderer.csp
    assert 'style="' not in html  # inline style attributes would need 'unsafe-inline'


def test_emails_have_a_one_line_subject_and_unescaped_text() -> None:
    email = Renderer().email(
        "ack_request",
        {
            "organization": "Smith & Jones",
            "accent": "#1f5fbf",
            "client_name": HOSTILE,
            "case_id": "c1",
            "receipt_id": "r1",
            "recipient": "c@x.example",
            "url": "https://offboard.example/ack/" + "A" * 43,
            "expires_at": "2026-12-09T12:00:00.000000Z",
            "deliverables": DOC["deliverables"],
            "base_url": "https://offboard.example",
        },
    )
    assert email.subject == "Smith & Jones: please confirm what we handed over"
    assert "\n" not in email.subject
    assert HOSTILE in email.text and "Smith & Jones" in email.text
    assert "&lt;script&gt;" in email.html and "<script>" not in email.html
    assert email.text.count("https://offboard.example/ack/") == 1


def test_the_pages_of_dead_links_and_limits_need_nothing_the_csp_refuses() -> None:
    renderer = Renderer()
    pages = [
        ("gone", {"state": state, "answer": answer, "used_at": "2026-11-25 12:00", "expires_at": "2026-12-09 12:00"})
        for state, answer in [("used", "acknowledged"), ("used", "disputed"), ("voided", ""), ("expired", "")]
    ] + [("limited", {"scope": "address"}), ("limited", {"scope": "link"})]
    headings = set()
    for template, context in pages:
        html = renderer.page(template, **context)
        assert "<script" not in html and 'style="' not in html and "<form" not in html, context
        heading = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
        assert heading is not None, context
        headings.add(re.sub(r"<[^>]+>", "", heading.group(1)))  # times are <time> elements
    assert headings == {
        "This link has already been used",
        "This link is no longer valid",
        "This link expired on 9 Dec 2026, 12:00 UTC",
        "Too many attempts",
    }
    assert "to dispute the handover receipt" in renderer.page("gone", **pages[1][1])
