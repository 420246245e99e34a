"""The offline verifier page copied into every bundle (``templates/bundle/verify.html``), its published
SHA-256, and the comparison of a bundle's copy with it (``docs/bundle.md``, "The verifier page").

A page inside a bundle proves nothing about the bundle: whoever could edit the bundle could replace it
with one that always says PASS. So ``offboard verify`` compares the bundled copy with the page it ships,
and a verifier is told to use a copy obtained independently, whose SHA-256 the README and
``/.well-known/offboard/verify.html.sha256`` publish.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from vault.errors import ConfigurationError

PAGE = Path(__file__).resolve().parents[2] / "templates" / "bundle" / "verify.html"


def verify_page() -> bytes:
    """The offline verifier page, copied verbatim into every bundle."""
    try:
        return PAGE.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"the verifier page {PAGE} is missing from the installation") from exc


def verify_page_sha256() -> str:
    """Hex SHA-256 of ``verify_page()``: the value published for verifiers."""
    return hashlib.sha256(verify_page()).hexdigest()


def check_verifier_page(bundled: bytes | None) -> tuple[bool, str]:
    """Whether the bundle's ``data/verify.html`` is, byte for byte, the page this installation ships."""
    expected = verify_page_sha256()
    if bundled is None:
        return False, f"missing (or unreadable): use an independently obtained copy (SHA-256 {expected})"
    found = hashlib.sha256(bundled).hexdigest()
    if found == expected:
        return True, f"the verifier page this offboard ships (SHA-256 {found})"
    return False, (
        f"data/verify.html differs from the verifier page this offboard ships (SHA-256 {found}, expected "
        f"{expected}): do not rely on it; use an independently obtained copy"
    )
