"""The SHA-256 of ``templates/bundle/verify.html`` published in README.md is the file's: whoever edits the page
must update the README in the same commit, so a verifier can check an independently obtained copy."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from vault.bundle.verifier_page import PAGE, verify_page_sha256

README = Path(__file__).resolve().parents[2] / "README.md"
PUBLISHED = re.compile(r"^verify\.html SHA-256: `([0-9a-f]{64})`$", re.MULTILINE)


def test_readme_publishes_the_pages_sha256() -> None:
    published = PUBLISHED.findall(README.read_text(encoding="utf-8"))
    actual = hashlib.sha256(PAGE.read_bytes()).hexdigest()
    assert len(published) == 1, "README.md must carry exactly one line 'verify.html SHA-256: `<hex>`'"
    assert published[0] == actual, (
        f"README.md publishes {published[0]} but {PAGE.name} hashes to {actual}: update README.md in the same commit"
    )
    assert verify_page_sha256() == actual
