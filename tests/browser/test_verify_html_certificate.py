"""verify.html in Chromium on a closed case's bundle (issue 17, requirement 3): the certificate of completion
passes with the same checks `offboard verify` makes, and each certificate of the tamper corpus (an obligation
dated earlier, a deliverable missing, another acknowledger, the certificate removed) fails naming it, in the
words `offboard verify` uses."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from signing.keys import parse_vkey
from tests.browser.test_verify_html import run_page
from tests.integration.certificate_corpus import Certified, build_certified, certificate_corpus
from vault.bundle.verify import verify_bundle


@pytest.fixture(scope="module")
def certified(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Certified]:
    # Playwright's sync API keeps an event loop running in this thread; PDF signing uses asyncio.run.
    with ThreadPoolExecutor(max_workers=1) as pool:
        built = pool.submit(build_certified, tmp_path_factory.mktemp("certified-home")).result()
    try:
        yield built
    finally:
        built.services.close()


def _rows(page: Any, verdict: str) -> list[str]:
    return [row for row in page.inner_text("#checks").splitlines() if row.startswith(f"{verdict}\tcertificate\t")]


def test_the_certificate_passes_as_offboard_verify_says(page: Any, certified: Certified, tmp_path: Path) -> None:
    path = tmp_path / "closed.zip"
    path.write_bytes(certified.zip_bytes)
    assert run_page(page, path, certified.vkey) == "pass", page.inner_text("#checks")
    expected = verify_bundle(path, pinned=[parse_vkey(certified.vkey)])
    python = sorted(f"pass\tcertificate\t{c.item}\t{c.detail}" for c in expected.checks if c.kind == "certificate")
    assert sorted(_rows(page, "pass")) == python and len(python) == 5


def test_each_forged_certificate_fails_naming_it(page: Any, certified: Certified, tmp_path: Path) -> None:
    for case in certificate_corpus(certified):
        path = tmp_path / f"{case.name}.zip"
        path.write_bytes(case.data)
        assert run_page(page, path, certified.vkey) == "fail", case.name
        failed = _rows(page, "FAIL")
        assert failed and any(case.names in row for row in failed), (case.name, failed)
        expected = verify_bundle(path, pinned=[parse_vkey(certified.vkey)])
        python = sorted(
            f"FAIL\tcertificate\t{c.item}\t{c.detail}" for c in expected.failures if c.kind == "certificate"
        )
        assert sorted(failed) == python, case.name
