"""A genuine bundle re-zipped the ways people re-zip, and files that are no bundle at all.

Shared by the CLI tests (``test_bundle_archives.py``) and the browser tests of verify.html. The bundle
carries a 3 MiB repetitive log as evidence, which deflate compresses about 290:1: the case a rule on
the compression ratio refused. It is unzipped and zipped again with Info-ZIP's ``zip`` (stored and
deflated, as ``cd folder && zip -r`` does) and with Python's ``zipfile`` (deflate, level 9).
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

from tests.integration.bundle_corpus import Built, export, upload
from tests.services import unavailable
from vault.bundle import layout
from vault.orgs.organizations import Principal, Role
from vault.setup import initialize

LOG_LINE = b"2026-11-25T10:00:00Z INFO ledger: appended entry, batch committed\n"
#: 3 MiB of one repeated line: above the 1 MiB floor of the old ratio rule, and far above 200:1.
LOG = LOG_LINE * (3 * 1024 * 1024 // len(LOG_LINE))


def bundle_with_log(built: Built) -> bytes:
    """A fresh export of ``built``'s case after adding the log as evidence."""
    services = built.services
    principal = Principal(initialize(services).organization_id, Role.ADMIN, "test:rezip")
    upload(services, principal, built.case_id, LOG, "ledger.log")
    data, _ = export(services, principal, built.case_id)
    return data


def _extract(bundle: bytes, folder: Path) -> str:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        archive.extractall(folder)
    (root,) = os.listdir(folder)
    return root


def rezip_with_zip(bundle: bytes, folder: Path, *, stored: bool) -> Path:
    """``cd folder && zip -r [-0] out.zip <bag>``: directory entries, extra fields and all."""
    if shutil.which("zip") is None:
        unavailable("Info-ZIP's zip is missing (apt-get install zip)")
    tree = folder / "tree"
    root = _extract(bundle, tree)
    target = folder / ("zip-stored.zip" if stored else "zip-deflated.zip")
    command = ["zip", "-q", "-r", *(["-0"] if stored else []), str(target), root]
    subprocess.run(command, cwd=tree, check=True)  # noqa: S603 - a fixed command line
    return target


def rezip_with_python(bundle: bytes, folder: Path) -> Path:
    """Every member written again with ``zipfile``, deflate at level 9."""
    target = folder / "python-deflated.zip"
    with zipfile.ZipFile(io.BytesIO(bundle)) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            out.writestr(info.filename, source.read(info), zipfile.ZIP_DEFLATED, compresslevel=9)
    return target


def highest_ratio(path: Path) -> float:
    """The largest declared-to-compressed size ratio among the members of at least 1 MiB."""
    with zipfile.ZipFile(path) as archive:
        return max(i.file_size / max(i.compress_size, 1) for i in archive.infolist() if i.file_size >= 1 << 20)


def not_bundles(bundle: bytes, folder: Path) -> dict[str, tuple[Path, str]]:
    """Files that are no readable bundle, each with the words its one-line refusal must contain."""
    folder.mkdir(parents=True, exist_ok=True)
    cases: dict[str, tuple[Path, str]] = {}

    def write(name: str, data: bytes, says: str) -> None:
        path = folder / name
        path.write_bytes(data)
        cases[name] = (path, says)

    empty = io.BytesIO()
    zipfile.ZipFile(empty, "w").close()
    write("empty.zip", empty.getvalue(), "empty.zip is an empty ZIP archive (no members)")
    write("zero-bytes.zip", b"", "zero-bytes.zip is empty (0 bytes), not a ZIP archive")
    truncated = "is a truncated ZIP archive (it ends before its end-of-central-directory record)"
    write("cut-in-member.zip", bundle[: len(bundle) // 2], f"cut-in-member.zip {truncated}")
    directory = bundle.rfind(b"PK\x05\x06") - 2000  # well inside the central directory
    assert bundle[directory:].count(b"PK\x01\x02") > 5
    write("cut-in-directory.zip", bundle[:directory], f"cut-in-directory.zip {truncated}")
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        root = archive.namelist()[0].split("/", 1)[0]
        pdf = archive.read(f"{root}/{layout.REPORT_PDF}")
    write("report.pdf", pdf, "report.pdf is a PDF document, not a ZIP archive")
    write("random.bin", os.urandom(64 * 1024).replace(b"PK", b"pk"), "random.bin is not a ZIP archive")
    cases["missing"] = (folder / "missing" / "case.zip", "missing/case.zip does not exist")
    return cases


def lying_member(path: Path, *, mib: int = 64, declared: int = 256 * 1024) -> Path:
    """A ZIP whose ``bag/data/zeros`` inflates to ``mib`` MiB of zeros while its directory declares ``declared``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("bag/bagit.txt", b"BagIt-Version: 1.0\n")
        info = zipfile.ZipInfo("bag/data/zeros")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w") as member:
            for _ in range(mib):
                member.write(bytes(1 << 20))
    raw = bytearray(path.read_bytes())
    at = raw.rfind(b"PK\x01\x02")  # the last directory entry: the zeros
    assert raw[at + 46 : at + 60] == b"bag/data/zeros"
    raw[at + 24 : at + 28] = struct.pack("<I", declared)
    path.write_bytes(bytes(raw))
    return path
