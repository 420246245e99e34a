"""Court-ready packaging: the files of a bundle's ``data/legal/`` (``docs/bundle.md``, "Legal packaging").

All of them are generated from the case's entries the bundle carries and the bundle's checkpoint, never from
the database and never typed: the chain of custody (``legal_custody.py``), the e-discovery load file
(``legal_loadfile.py``) and two draft declarations (``legal_declarations.py``). The only value not read from
the entries is each evidence file's MD5 in the load file, computed from its bytes at export. A bundle carries
them when its own ``bundle.exported`` entry says ``"legal": "offboard-legal/1"``; verifiers render them again
and compare (``legal_checks.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from vault.bundle import layout
from vault.bundle.legal_custody import custody_files
from vault.bundle.legal_declarations import declaration_facts, declaration_files
from vault.bundle.legal_loadfile import load_files, loadfile_rows
from vault.bundle.records import data_of
from vault.bundle.report_cells import Entry


def legal_format(entries: Sequence[Entry]) -> object:
    """The ``legal`` field of the bundle's own export entry (the last entry, when it is one), else ``None``."""
    if not entries or entries[-1][1].get("type") != "bundle.exported":
        return None
    return data_of(entries[-1][1]).get("legal")


def legal_files(
    entries: Sequence[Entry],
    *,
    case_id: str,
    origin: str,
    checkpoint_size: int,
    root: bytes,
    md5: Mapping[str, str] | None,
) -> dict[str, bytes]:
    """Every file of ``data/legal/`` by bag path; ``md5`` by evidence path (``None``: the load files' MD5
    column holds placeholders of the same size, for the exporter to count before it has the digests)."""
    client = next((data_of(d).get("client_name") for _, d in entries if d.get("type") == "case.opened"), None)
    files = custody_files(
        entries, case_id=case_id, client=client if isinstance(client, str) else None, checkpoint_size=checkpoint_size
    )
    files.update(load_files(loadfile_rows(entries, case_id, md5)))
    facts = declaration_facts(entries, case_id=case_id, origin=origin, size=checkpoint_size, root=root)
    files.update(declaration_files(facts))
    return {path: files[path] for path in layout.LEGAL_FILES}
