"""Where each record sits in an evidence bundle (``docs/bundle.md``, "Layout"); shared by export and verify.

Every path is relative to the bag's base directory, the one top-level folder of the ZIP. Payload paths
start with ``data/`` (RFC 8493 section 2.1.2); names derived from user input pass through
``safe_path_component`` so they are ASCII letters, digits and ``.-_`` only.
"""

from __future__ import annotations

import re

from vault.evidence.filenames import safe_path_component

#: The value of ``format`` in ``data/bundle.json``; bumped on any incompatible layout change. Format 4 (the one
#: written) carries the SHA-256 manifests only, and the SHA-512 pair on request (``docs/bundle.md``, "Formats").
FORMAT = "offboard-bundle/4"
#: The format that always carried ``manifest-sha512.txt`` and named a consistency proof's sizes
#: ``first``/``second``, as the API does: still verified.
FORMAT_3 = "offboard-bundle/3"
#: The format with its own ``bundle.exported`` entry and case links (``docs/bundle.md``, "Completeness"), whose
#: consistency proofs say ``first_size``/``second_size``: still verified.
FORMAT_2 = "offboard-bundle/2"
#: The format before case links: still verified, its completeness reported as not provable.
FORMAT_1 = "offboard-bundle/1"
FORMATS = (FORMAT_1, FORMAT_2, FORMAT_3, FORMAT)
#: The formats whose ``<n>.consistency.json`` is ``{"first_size", "second_size", "hashes"}``.
LEGACY_CONSISTENCY_FORMATS = (FORMAT_1, FORMAT_2)

BAGIT_TXT = "bagit.txt"
BAG_INFO_TXT = "bag-info.txt"
MANIFEST_SHA256 = "manifest-sha256.txt"
MANIFEST_SHA512 = "manifest-sha512.txt"
TAGMANIFEST_SHA256 = "tagmanifest-sha256.txt"
TAGMANIFEST_SHA512 = "tagmanifest-sha512.txt"
#: Payload manifests: each one present lists every payload file (RFC 8493 section 3).
PAYLOAD_MANIFESTS = {MANIFEST_SHA256: "sha256", MANIFEST_SHA512: "sha512"}
#: Tag manifests: each one present lists every tag file but the tag manifests.
TAG_MANIFESTS = {TAGMANIFEST_SHA256: "sha256", TAGMANIFEST_SHA512: "sha512"}
#: Every bag carries these; the SHA-512 pair is optional (the SHA-256 tag manifest lists
#: ``manifest-sha512.txt`` when the bag has one, so it cannot be dropped unnoticed).
REQUIRED_MANIFESTS = frozenset({MANIFEST_SHA256, TAGMANIFEST_SHA256})
TAG_FILES = (BAGIT_TXT, BAG_INFO_TXT, MANIFEST_SHA256, MANIFEST_SHA512, TAGMANIFEST_SHA256, TAGMANIFEST_SHA512)


def manifest_algorithms(names: set[str] | frozenset[str]) -> tuple[str, ...]:
    """The hash algorithms the manifests among ``names`` (and the required ones) use, SHA-256 first."""
    present = REQUIRED_MANIFESTS | (names & (PAYLOAD_MANIFESTS.keys() | TAG_MANIFESTS.keys()))
    used = {PAYLOAD_MANIFESTS.get(name) or TAG_MANIFESTS[name] for name in present}
    return tuple(sorted(used, key=lambda algorithm: algorithm != "sha256"))


INDEX = "data/bundle.json"
CHECKPOINT = "data/ledger/checkpoint"
#: The latest cosigned checkpoint: the log's signed note, then the witnesses' cosignature lines (optional).
WITNESSED = "data/ledger/witnessed.checkpoint"
ENTRIES_DIR = "data/ledger/entries/"
PROOFS_DIR = "data/ledger/proofs/"
EARLIER_DIR = "data/ledger/checkpoints/"
EVIDENCE_DIR = "data/evidence/"
KEYS_DIR = "data/keys/"
KEYS_INDEX = "data/keys/keys.json"
RECEIPTS_DIR = "data/receipts/"
TIMESTAMPS_DIR = "data/timestamps/"
#: The certificate of completion of the case's latest closing (``docs/certificate.md``), when issued.
CERTIFICATE_DIR = "data/certificate/"
CERTIFICATE_JSON = "data/certificate/certificate.json"
CERTIFICATE_SIG = "data/certificate/certificate.sig"
CERTIFICATE_PDF = "data/certificate/certificate.pdf"
REPORT_HTML = "data/report.html"
REPORT_PDF = "data/report.pdf"
VERIFY_HTML = "data/verify.html"

#: Court-ready packaging (``docs/bundle.md``, "Legal packaging"), generated from the case's entries. An export
#: entry whose ``data.legal`` is ``LEGAL_FORMAT`` says the bundle carries exactly ``LEGAL_FILES``; one without
#: it (every bundle exported before them) carries none.
LEGAL_DIR = "data/legal/"
LEGAL_FORMAT = "offboard-legal/1"
CUSTODY_JSON = "data/legal/chain-of-custody.json"
CUSTODY_TXT = "data/legal/chain-of-custody.txt"
CUSTODY_CSV = "data/legal/chain-of-custody.csv"
LOADFILE_DAT = "data/legal/loadfile.dat"
LOADFILE_CSV = "data/legal/loadfile.csv"
DECLARATION_902 = "data/legal/declaration-902-14.txt"
DECLARATION_NEUTRAL = "data/legal/declaration-neutral.txt"
#: The load files carry each evidence file's MD5, computed as its bytes stream into the ZIP, so the exporter
#: writes them after the evidence (their size, which Payload-Oxum needs first, does not depend on the MD5s).
LOAD_FILES = (LOADFILE_DAT, LOADFILE_CSV)
LEGAL_FILES = (CUSTODY_JSON, CUSTODY_TXT, CUSTODY_CSV, *LOAD_FILES, DECLARATION_902, DECLARATION_NEUTRAL)

_INDEXED = re.compile(r"^(0|[1-9][0-9]{0,19})$")


def bag_root(case_id: str) -> str:
    """The bag's base directory, which is also the ZIP's single top-level folder."""
    return f"offboard-case-{safe_path_component(case_id, limit=64)}"


def entry_path(index: int) -> str:
    return f"{ENTRIES_DIR}{index}.json"


def proof_path(index: int) -> str:
    return f"{PROOFS_DIR}{index}.tlog-proof"


def earlier_checkpoint_path(size: int) -> str:
    return f"{EARLIER_DIR}{size}.checkpoint"


def consistency_path(size: int) -> str:
    return f"{EARLIER_DIR}{size}.consistency.json"


def evidence_path(evidence_id: str, filename: str) -> str:
    return f"{EVIDENCE_DIR}{safe_path_component(evidence_id, limit=64)}-{safe_path_component(filename)}"


def key_path(key_id: str) -> str:
    return f"{KEYS_DIR}{key_id}.vkey"


def receipt_paths(receipt_id: str) -> tuple[str, str, str]:
    """(signed JSON, detached signature, PDF) of one receipt."""
    stem = f"{RECEIPTS_DIR}{safe_path_component(receipt_id, limit=64)}"
    return f"{stem}.json", f"{stem}.sig", f"{stem}.pdf"


def timestamp_path(size: int) -> str:
    """RFC 3161 token (DER) over the checkpoint note of tree size ``size``."""
    return f"{TIMESTAMPS_DIR}{size}.tst"


def timestamp_chain_path(size: int) -> str:
    return f"{TIMESTAMPS_DIR}{size}.chain.pem"


def parse_indexed(path: str, prefix: str, suffix: str) -> int | None:
    """The decimal number in ``<prefix><n><suffix>``, or ``None`` when ``path`` is not of that shape."""
    if not path.startswith(prefix) or not path.endswith(suffix):
        return None
    middle = path[len(prefix) : len(path) - len(suffix)]
    return int(middle) if _INDEXED.match(middle) else None
