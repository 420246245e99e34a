"""The member names of one bundle, indexed once (``docs/bundle.md``, "Layout" and "Verifying", step 10).

A bundle holds tens of thousands of names, and the content checks ask about them folder by folder:
the names are sorted once, a folder's names are found by bisection, and the ledger's entry and proof
files are parsed once with their indexes.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass

from vault.bundle import layout

#: Files the layout names one by one.
FIXED = frozenset(
    {layout.INDEX, layout.CHECKPOINT, layout.KEYS_INDEX, layout.REPORT_HTML, layout.REPORT_PDF, layout.VERIFY_HTML}
)
#: Files the layout names that a bundle may lack (no witness had cosigned a checkpoint at export).
OPTIONAL = frozenset({layout.WITNESSED})
#: The only files of ``data/certificate/``.
CERTIFICATE_FILES = frozenset({layout.CERTIFICATE_JSON, layout.CERTIFICATE_SIG, layout.CERTIFICATE_PDF})
#: Folders the layout allows under ``data/``.
FOLDERS = (
    layout.ENTRIES_DIR,
    layout.PROOFS_DIR,
    layout.EARLIER_DIR,
    layout.EVIDENCE_DIR,
    layout.KEYS_DIR,
    layout.RECEIPTS_DIR,
    layout.TIMESTAMPS_DIR,
    layout.CERTIFICATE_DIR,
    layout.LEGAL_DIR,
)


@dataclass(frozen=True, slots=True)
class BagNames:
    """Bag-relative member names: ``ordered`` is sorted; ``entries`` and ``proofs`` map the names of the
    form ``entries/<i>.json`` and ``proofs/<i>.tlog-proof`` to ``i``."""

    ordered: list[str]
    entries: dict[str, int]
    proofs: dict[str, int]

    @classmethod
    def index(cls, names: set[str]) -> BagNames:
        entries, proofs = {}, {}
        for name in names:
            if name.startswith(layout.ENTRIES_DIR):
                index = layout.parse_indexed(name, layout.ENTRIES_DIR, ".json")
                if index is not None:
                    entries[name] = index
            elif name.startswith(layout.PROOFS_DIR):
                index = layout.parse_indexed(name, layout.PROOFS_DIR, ".tlog-proof")
                if index is not None:
                    proofs[name] = index
        return cls(sorted(names), entries, proofs)

    def span(self, folder: str) -> tuple[int, int]:
        """Where the names starting with ``folder`` (ending in ``/``) are in ``ordered``: they sort
        together, from ``folder`` up to the same name with ``0``, the character after ``/``."""
        return bisect_left(self.ordered, folder), bisect_left(self.ordered, folder[:-1] + chr(ord(folder[-1]) + 1))

    def under(self, folder: str) -> list[str]:
        """The names starting with ``folder`` (ending in ``/``), sorted."""
        start, end = self.span(folder)
        return self.ordered[start:end]

    def unexpected(self) -> Iterator[tuple[str, str]]:
        """Each name outside the layout, sorted, with why."""
        for path in self.ordered:
            if path.startswith("data/") and path not in FIXED | OPTIONAL and not path.startswith(FOLDERS):
                yield path, "unexpected payload file (not part of the bundle format)"
            elif path.startswith((layout.ENTRIES_DIR, layout.PROOFS_DIR)) and not self._ledger_file(path):
                yield path, "unexpected file among the ledger entries and proofs"
            elif path.startswith(layout.KEYS_DIR) and path != layout.KEYS_INDEX and not path.endswith(".vkey"):
                yield path, "unexpected file among the keys"
            elif path.startswith(layout.CERTIFICATE_DIR) and path not in CERTIFICATE_FILES:
                yield path, "unexpected file beside the certificate of completion"

    def _ledger_file(self, path: str) -> bool:
        return path in self.entries or path in self.proofs


__all__ = ["FIXED", "FOLDERS", "OPTIONAL", "BagNames"]
