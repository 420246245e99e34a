"""The PDF report renders on a thread while the evidence streams: the evidence comes before ``bag-info.txt``
in the ZIP (whose Payload-Oxum counts the report), the bundle verifies, and a render that fails fails the
export with its error instead of leaving a bundle without its report."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

import vault.bundle.export as export_module
from bench.bundle import seed
from vault.bundle import layout
from vault.bundle.export import BundleStream, prepare
from vault.bundle.verify import verify_bundle


def test_the_evidence_streams_before_bag_info_and_the_bundle_verifies(tmp_path: Path) -> None:
    seeded = seed(tmp_path, total=2 * (2 << 20), entries=30, files=2)
    try:
        services = seeded.services
        plan = prepare(services.transact, services.settings, seeded.principal, seeded.case_id)
        assert layout.REPORT_PDF in plan.rendering  # still rendering when the stream starts
        data = b"".join(BundleStream(services.transact, services.store, plan))
    finally:
        seeded.services.close()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [name.split("/", 1)[1] for name in archive.namelist()]
        pdf = archive.read(f"{archive.namelist()[0].split('/')[0]}/{layout.REPORT_PDF}")
    assert names[0] == layout.BAGIT_TXT
    evidence = [n for n in names if n.startswith(layout.EVIDENCE_DIR)]
    assert len(evidence) == 2 and names.index(layout.BAG_INFO_TXT) > max(names.index(n) for n in evidence)
    assert pdf.startswith(b"%PDF-")
    (tmp_path / "case.zip").write_bytes(data)
    assert verify_bundle(tmp_path / "case.zip").ok


def test_a_report_that_fails_to_render_fails_the_export(tmp_path: Path, monkeypatch: Any) -> None:
    def broken(*_args: object) -> bytes:
        raise RuntimeError("the PDF layout failed")

    monkeypatch.setattr(export_module, "render_pdf", broken)
    seeded = seed(tmp_path, total=2 << 20, entries=20, files=1)
    try:
        services = seeded.services
        plan = prepare(services.transact, services.settings, seeded.principal, seeded.case_id)
        with pytest.raises(RuntimeError, match="the PDF layout failed"):
            b"".join(BundleStream(services.transact, services.store, plan))
    finally:
        seeded.services.close()


def test_a_bundle_whose_pages_are_large_members_verifies(tmp_path: Path, monkeypatch: Any) -> None:
    # Verify judges report.html and verify.html before the large members are hashed (``pages_ahead``), so
    # both must be read in the first pass whatever their size: a case with 10,000 entries has a report of
    # megabytes. Here every member over 1 KiB counts as large, so the pages are among them.
    import vault.bundle.digests as digests

    seeded = seed(tmp_path, total=2 << 20, entries=40, files=1)
    try:
        services = seeded.services
        plan = prepare(services.transact, services.settings, seeded.principal, seeded.case_id)
        data = b"".join(BundleStream(services.transact, services.store, plan))
    finally:
        seeded.services.close()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sizes = {info.filename.split("/", 1)[1]: info.file_size for info in archive.infolist()}
    assert sizes[layout.REPORT_HTML] > 1024 and sizes[layout.VERIFY_HTML] > 1024
    monkeypatch.setattr(digests, "LARGE", 1024)
    (tmp_path / "case.zip").write_bytes(data)
    report = verify_bundle(tmp_path / "case.zip")
    assert report.ok, report.failures
    assert any(c.item == layout.REPORT_HTML and c.ok for c in report.checks)
