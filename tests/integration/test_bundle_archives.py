"""Archive handling through `offboard verify`: a genuine bundle re-zipped stored or deflated, by Info-ZIP's
zip or by Python, verifies whatever its compression ratio; a member inflating past its declared size
fails; the archive cap and its option; and files that are no bundle (empty, cut short, another format,
missing, a directory) fail with one line and exit 1.

Built once, on SQLite + local folder: verification is offline and backend-independent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import run_cli
from tests.integration.bundle_corpus import Built, build_case, build_services_at
from tests.integration.bundle_rezip import (
    bundle_with_log,
    highest_ratio,
    lying_member,
    not_bundles,
    rezip_with_python,
    rezip_with_zip,
)

NOT_BUNDLES = (
    "empty.zip",
    "zero-bytes.zip",
    "cut-in-member.zip",
    "cut-in-directory.zip",
    "report.pdf",
    "random.bin",
    "missing",
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    services = build_services_at(tmp_path_factory.mktemp("bundle-home"))
    try:
        yield build_case(services, timestamp=False)
    finally:
        services.close()


@pytest.fixture(scope="module")
def bundle(built: Built) -> bytes:
    return bundle_with_log(built)


@pytest.fixture(scope="module")
def rezipped(bundle: bytes, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    original = tmp_path_factory.mktemp("original") / "case.zip"
    original.write_bytes(bundle)
    return {
        "original": original,
        "zip-stored": rezip_with_zip(bundle, tmp_path_factory.mktemp("zip-stored"), stored=True),
        "zip-deflated": rezip_with_zip(bundle, tmp_path_factory.mktemp("zip-deflated"), stored=False),
        "python-deflated": rezip_with_python(bundle, tmp_path_factory.mktemp("python")),
    }


@pytest.fixture(scope="module")
def broken(bundle: bytes, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    return not_bundles(bundle, tmp_path_factory.mktemp("not-bundles"))


@pytest.mark.parametrize("name", ["original", "zip-stored", "zip-deflated", "python-deflated"])
def test_a_rezipped_bundle_verifies(
    name: str, rezipped: dict[str, Path], built: Built, capsys: pytest.CaptureFixture[str]
) -> None:
    path = rezipped[name]
    if name.endswith("deflated"):
        assert highest_ratio(path) > 250  # the log: refused as a "compression bomb" by the old rule
    code, out, err = run_cli(capsys, "verify", str(path), "--key", built.vkey)
    assert code == 0, out + err
    assert "VERIFIED: all" in out and "FAIL" not in out and err == ""


def test_the_archive_cap_and_its_option(
    rezipped: dict[str, Path], built: Built, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = rezipped["zip-deflated"]
    code, out, err = run_cli(capsys, "verify", str(path), "--key", built.vkey, "--max-archive-bytes", "1MiB")
    assert code == 1 and out == ""
    (line,) = err.splitlines()
    assert line.startswith("not a bundle: refusing zip-deflated.zip: the members declare ")
    assert line.endswith("bytes uncompressed in all, above the limit of 1048576 bytes"), line
    monkeypatch.setenv("OFFBOARD_VERIFY_MAX_ARCHIVE_BYTES", "2097152")
    code, _, err = run_cli(capsys, "verify", str(path), "--key", built.vkey)
    assert code == 1 and "above the limit of 2097152 bytes" in err
    # The option wins over the variable; units are binary and any case; plain bytes work too.
    for size in ("64GiB", "500 mib", "68719476736"):
        code, out, err = run_cli(capsys, "verify", str(path), "--key", built.vkey, "--max-archive-bytes", size)
        assert code == 0 and "VERIFIED" in out, size + err
    for bad in ("12XB", "0", "-5", "1.5GiB", ""):
        code, out, err = run_cli(capsys, "verify", str(path), "--max-archive-bytes", bad)
        assert code == 1 and out == ""
        assert err == (
            "error: --max-archive-bytes (or $OFFBOARD_VERIFY_MAX_ARCHIVE_BYTES): expected a positive number of "
            f"bytes such as 68719476736 or 64GiB, found {bad!r}\n"
        )
    monkeypatch.setenv("OFFBOARD_VERIFY_MAX_ARCHIVE_BYTES", "lots")
    code, _, err = run_cli(capsys, "verify", str(path))
    assert code == 1 and "found 'lots'" in err


@pytest.mark.parametrize("name", NOT_BUNDLES)
def test_no_bundle_fails_with_one_line(
    name: str, broken: dict[str, tuple[Path, str]], built: Built, capsys: pytest.CaptureFixture[str]
) -> None:
    path, says = broken[name]
    code, out, err = run_cli(capsys, "verify", str(path), "--key", built.vkey)
    assert code == 1 and out == ""
    (line,) = err.splitlines()
    assert line.startswith("not a bundle: ") and says in line, line
    code, out, err = run_cli(capsys, "verify", str(path), "--json")
    report = json.loads(out)
    assert code == 1 and not report["ok"] and says in report["refused"]
    assert [f["kind"] for f in report["failures"]] == ["archive"]
    assert err.startswith("not a bundle: ") and len(err.splitlines()) == 1


def test_a_member_inflating_past_its_declared_size_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "verify", str(lying_member(tmp_path / "liar.zip")))
    assert code == 1
    assert "FAIL [archive] data/zeros: data/zeros: produces more than the 262144 bytes it declares\n" in out


def test_a_directory_is_no_bundle(rezipped: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    folder = rezipped["zip-stored"].parent / "tree"
    code, out, err = run_cli(capsys, "verify", str(folder))
    assert code == 1 and out == ""
    assert err == f"not a bundle: {folder} is a directory, not a regular file (a bundle is one ZIP file)\n"


def test_the_console_script_prints_no_traceback(broken: dict[str, tuple[Path, str]]) -> None:
    """The empty ZIP (which once escaped as a ValueError) through the entry point, in a process of its own.

    One case only: importing the CLI takes seconds; the in-process tests above cover the others.
    """
    path, says = broken["empty.zip"]
    script = "import sys; from vault.cli import main; sys.exit(main())"
    result = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script, "verify", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == f"not a bundle: {says}\n"
