"""The tamper corpus through `offboard verify`: the untouched bundle passes (pinned and unpinned), bagit's
validator accepts it, and every tampered bundle fails naming the item. Verification is offline and
backend-independent, so the corpus is built once, on SQLite + local folder."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import bagit
import pytest

from signing.keys import parse_vkey
from tests.helpers import run_cli
from tests.integration.bundle_corpus import (
    ALWAYS_PASS_PAGE,
    CORPUS_NAMES,
    Built,
    Tamper,
    as_format_2,
    as_format_3,
    build_case,
    build_services_at,
    corpus,
    entry_count,
    with_sha512,
    with_verify_page,
)
from tests.integration.certificate_corpus import Certified, build_certified, certificate_corpus
from vault.bundle import layout
from vault.bundle.verifier_page import verify_page_sha256
from vault.bundle.verify import verify_bundle


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    services = build_services_at(tmp_path_factory.mktemp("bundle-home"))
    try:
        yield build_case(services)
    finally:
        services.close()


@pytest.fixture(scope="module")
def tampered(built: Built, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Tamper]]:
    folder = tmp_path_factory.mktemp("tampered")
    out = {}
    for case in corpus(built):
        path = folder / f"{case.name}.zip"
        path.write_bytes(case.data)
        out[case.name] = (path, case)
    return out


@pytest.fixture(scope="module")
def good(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("good") / "case.zip"
    path.write_bytes(built.zip_bytes)
    return path


def test_untouched_bundle_passes_pinned(good: Path, built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "verify", str(good), "--key", built.vkey)
    assert code == 0, out + err
    assert "VERIFIED: all" in out and "signer pinned" in out and "NOT PINNED" not in err
    kinds = {"manifest", "entry", "evidence", "checkpoint", "consistency", "receipt", "timestamp", "keys", "bag"}
    assert all(f"{kind} " in out for kind in kinds | {"report", "verifier"}), out
    assert "WARNING" not in out + err


def test_unpinned_says_so_prominently(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "verify", str(good))
    assert code == 0
    assert "SIGNER NOT PINNED" in err and "signer NOT pinned" in out


def test_json_and_key_file_and_tsa_roots(
    good: Path, built: Built, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text(f"# the organization's key\n{built.vkey}\n")
    roots = tmp_path / "roots.pem"
    roots.write_bytes(built.tsa_root_pem)
    code, out, _ = run_cli(capsys, "verify", str(good), "--key-file", str(keys), "--tsa-roots", str(roots), "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["pinned"] and report["failures"] == []
    assert report["case"] == built.case_id and report["passed_by_kind"]["timestamp"] == 1
    direct = verify_bundle(good, pinned=[parse_vkey(built.vkey)])
    assert direct.ok and any("TSA signature NOT checked" in c.detail for c in direct.checks if c.kind == "timestamp")


def test_bagit_python_validates_the_extracted_bag(good: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(good) as archive:
        archive.extractall(tmp_path)
        names = {n.split("/", 1)[1] for n in archive.namelist()}
    # Format 4 bags one complete payload manifest (RFC 8493 section 3), SHA-256, unless asked for SHA-512.
    assert {layout.MANIFEST_SHA256, layout.TAGMANIFEST_SHA256} <= names
    assert not names & {layout.MANIFEST_SHA512, layout.TAGMANIFEST_SHA512}
    (bag_dir,) = list(tmp_path.iterdir())
    bag = bagit.Bag(str(bag_dir))
    bag.validate()
    assert bag.version_info == (1, 0) and bag.info["External-Identifier"] and bag.algorithms == ["sha256"]


@pytest.mark.parametrize("variant", ["sha512", "format-3"])
def test_bags_with_the_sha512_pair_verify_and_validate(
    variant: str, built: Built, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--sha512`` bags (both pairs) and format 3 bundles (which always carried SHA-512) pass every
    verifier; every manifest present is checked."""
    path = tmp_path / f"{variant}.zip"
    path.write_bytes(with_sha512(built) if variant == "sha512" else as_format_3(built))
    code, out, err = run_cli(capsys, "verify", str(path), "--key", built.vkey, "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["failures"] == [], (out, err)
    checked = verify_bundle(path, pinned=[parse_vkey(built.vkey)])
    manifests = {c.detail.split(" matches ")[-1] for c in checked.checks if " matches " in c.detail}
    assert {layout.MANIFEST_SHA512, layout.TAGMANIFEST_SHA512, layout.MANIFEST_SHA256} <= manifests
    with zipfile.ZipFile(path) as archive:
        archive.extractall(tmp_path / variant)
    (bag_dir,) = list((tmp_path / variant).iterdir())
    bag = bagit.Bag(str(bag_dir))
    bag.validate()
    assert sorted(bag.algorithms) == ["sha256", "sha512"]


def test_corpus_names_are_the_cases_built(tampered: dict[str, tuple[Path, Tamper]]) -> None:
    assert tuple(tampered) == CORPUS_NAMES


@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_tampered_bundle_fails_naming_the_item(
    name: str, tampered: dict[str, tuple[Path, Tamper]], built: Built, capsys: pytest.CaptureFixture[str]
) -> None:
    path, case = tampered[name]
    code, out, _ = run_cli(capsys, "verify", str(path), "--key", built.vkey)
    assert code == 1, out
    failures = [line for line in out.splitlines() if line.startswith("FAIL ")]
    assert failures and "FAILED:" in out
    assert any(case.names in line for line in failures), f"{name}: no failure names {case.names}:\n{out}"
    if case.kind is not None:
        wanted = f"FAIL [{case.kind}] "
        assert any(line.startswith(wanted) and case.names in line for line in failures), f"{name}: {wanted}:\n{out}"


def test_every_corpus_case_is_covered(tampered: dict[str, tuple[Path, Tamper]]) -> None:
    assert len(tampered) == 66


def test_resigned_bundle_is_caught_unpinned_only_by_the_timestamp(tampered: dict[str, tuple[Path, Tamper]]) -> None:
    """Why pinning matters: re-signed with the forger's own key shipped inside, every signature check passes
    unpinned; only the RFC 3161 token (over the original note) and the receipt (signed by the real key, which
    the forger cannot re-sign) still disagree."""
    path, _ = tampered["resign-other-key"]
    report = verify_bundle(path)
    assert not report.ok and {c.kind for c in report.failures} == {"timestamp", "receipt"}
    assert all(c.ok for c in report.checks if c.kind in ("checkpoint", "entry", "consistency"))


def test_bad_key_arguments(good: Path, built: Built, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "verify", str(good), "--key", "not-a-key")
    assert code == 1 and "not a verifier key" in err
    keys = tmp_path / "k"
    keys.write_text(built.vkey)
    code, _, err = run_cli(capsys, "verify", str(good), "--key", built.vkey, "--key-file", str(keys))
    assert code == 1 and "not both" in err
    empty = tmp_path / "empty"
    empty.write_text("# nothing\n")
    code, _, err = run_cli(capsys, "verify", str(good), "--key-file", str(empty))
    assert code == 1 and "holds no verifier key" in err
    code, _, err = run_cli(capsys, "verify", str(good), "--key-file", str(tmp_path / "missing"))
    assert code == 1 and "cannot read the key file" in err
    code, _, err = run_cli(capsys, "verify", str(good), "--tsa-roots", str(empty))
    assert code == 1 and "cannot read TSA roots" in err


def test_a_non_zip_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "case.zip"
    bogus.write_bytes(b"not a zip at all")
    code, out, err = run_cli(capsys, "verify", str(bogus))
    assert code == 1 and out == ""
    assert err == "not a bundle: case.zip is not a ZIP archive (no end-of-central-directory record)\n"


def test_rewritten_report_fails_naming_the_report_and_the_line(
    tampered: dict[str, tuple[Path, Tamper]], built: Built
) -> None:
    path, _ = tampered["report-rewritten"]
    report = verify_bundle(path)
    # Manifests, proofs, entries and evidence all still hold: only rendering the report again catches it.
    assert [(c.kind, c.item) for c in report.failures] == [("report", layout.REPORT_HTML)]
    (failure,) = report.failures
    n = entry_count(built)
    assert (
        f"differs from the report rendered from the {n} verified ledger entries, at line 7: expected " in failure.detail
    )
    assert "Globex" in failure.detail and "Initech" in failure.detail


def test_untouched_report_check_passes(good: Path, built: Built) -> None:
    report = verify_bundle(good)
    (check,) = [c for c in report.checks if c.kind == "report"]
    assert check.ok and check.item == layout.REPORT_HTML
    assert check.detail == f"identical to the report rendered from the {entry_count(built)} verified ledger entries"
    (page,) = [c for c in report.checks if c.kind == "verifier"]
    assert page.ok and page.detail == f"the verifier page this offboard ships (SHA-256 {verify_page_sha256()})"
    assert report.warnings == ()


def test_replaced_verifier_page_is_reported(built: Built, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A page that always says PASS, manifests rebuilt: the records are still genuine, so the verdict stands,
    and offboard verify says plainly that the bundled page is not the one it ships (a warning: see _pages)."""
    path = tmp_path / "always-pass.zip"
    path.write_bytes(with_verify_page(built, ALWAYS_PASS_PAGE))
    found = hashlib.sha256(ALWAYS_PASS_PAGE).hexdigest()
    expected = (
        f"WARNING [verifier] data/verify.html: data/verify.html differs from the verifier page this offboard ships "
        f"(SHA-256 {found}, expected {verify_page_sha256()}): do not rely on it; use an independently obtained copy"
    )
    code, out, err = run_cli(capsys, "verify", str(path), "--key", built.vkey)
    assert code == 0, out
    assert expected in out and expected in " ".join(err.split())
    assert "VERIFIED: all" in out and "1 warning(s) above" in out
    code, out, _ = run_cli(capsys, "verify", str(path), "--key", built.vkey, "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["failures"] == []
    detail = expected.split(": ", 1)[1]
    assert report["warnings"] == [{"kind": "verifier", "item": layout.VERIFY_HTML, "detail": detail}]


def test_format_2_bundle_still_verifies(built: Built, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bundle of the previous format (consistency proofs with first_size/second_size) passes as before."""
    path = tmp_path / "format-2.zip"
    path.write_bytes(as_format_2(built))
    with zipfile.ZipFile(path) as archive:
        proofs = [archive.read(n) for n in archive.namelist() if n.endswith(".consistency.json")]
        assert proofs and all(set(json.loads(p)) == {"first_size", "second_size", "hashes"} for p in proofs)
    code, out, err = run_cli(capsys, "verify", str(path), "--key", built.vkey, "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["failures"] == [], (out, err)
    assert report["passed_by_kind"]["consistency"] == len(proofs)


# --- the certificate of completion (issue 17, requirement 3) -------------------------------------------


@pytest.fixture(scope="module")
def certified(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Certified]:
    built_case = build_certified(tmp_path_factory.mktemp("certified-home"))
    try:
        yield built_case
    finally:
        built_case.services.close()


def test_a_closed_cases_bundle_carries_its_certificate_and_verifies(
    certified: Certified, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "closed.zip"
    path.write_bytes(certified.zip_bytes)
    report = verify_bundle(path, pinned=[parse_vkey(certified.vkey)])
    assert report.ok, [(c.kind, c.item, c.detail) for c in report.failures]
    checks = [c for c in report.checks if c.kind == "certificate"]
    assert len(checks) == 5 and any("every statement matches" in c.detail for c in checks)
    code, out, _ = run_cli(capsys, "verify", str(path), "--key", certified.vkey)
    assert code == 0 and "certificate " in out
    with zipfile.ZipFile(path) as archive:
        archive.extractall(tmp_path / "bag")
        names = {n.split("/", 1)[1] for n in archive.namelist()}
    assert {layout.CERTIFICATE_JSON, layout.CERTIFICATE_SIG, layout.CERTIFICATE_PDF} <= names
    (bag_dir,) = list((tmp_path / "bag").iterdir())
    bagit.Bag(str(bag_dir)).validate()


def test_a_certificate_that_contradicts_the_ledger_fails_naming_it(
    certified: Certified, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = certificate_corpus(certified)
    assert [c.name for c in cases] == [
        "certificate-obligation-earlier",
        "certificate-deliverable-missing",
        "certificate-other-acknowledger",
        "certificate-removed",
    ]
    for case in cases:
        path = tmp_path / f"{case.name}.zip"
        path.write_bytes(case.data)
        report = verify_bundle(path, pinned=[parse_vkey(certified.vkey)])
        failed = [c for c in report.failures if c.kind == case.kind]
        assert failed and any(case.names in c.detail for c in failed), (case.name, report.failures)
        code, out, _ = run_cli(capsys, "verify", str(path), "--key", certified.vkey)
        assert code == 1 and f"FAIL [{case.kind}] " in out and case.names in out, case.name
