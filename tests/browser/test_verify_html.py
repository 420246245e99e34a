"""verify.html in Chromium: the untouched bundle passes (WebCrypto and the pure-JS Ed25519 fallback), every
bundle of the tamper corpus shows fail (the rewritten report among them, caught by rendering it again), and
the fallback agrees with RFC 8032's test vectors. Archives: the bundle re-zipped with deflate passes whatever
its compression ratio, a member inflating past its declared size is stopped there, and files that are no
bundle (empty, cut short, another format) show fail."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nacl.signing
import pytest

from signing.cosignature import cosign, cosigner_of
from signing.keys import generate_key
from signing.note import parse_note
from tests.integration.bundle_corpus import (
    ALWAYS_PASS_PAGE,
    CORPUS_NAMES,
    Built,
    as_format_2,
    as_format_3,
    build_case,
    build_services_at,
    corpus,
    entry_count,
    rebag,
    rezip,
    unzip,
    with_sha512,
    with_verify_page,
)
from tests.integration.bundle_rezip import (
    bundle_with_log,
    highest_ratio,
    lying_member,
    not_bundles,
    rezip_with_python,
    rezip_with_zip,
)
from vault.bundle import layout
from vault.bundle.verify import verify_bundle
from vault.bundle.witness_checks import WitnessPolicy
from vault.witnessing.cosigners import parse_witness_key

PAGE = (Path(__file__).resolve().parents[2] / "templates" / "bundle" / "verify.html").as_uri()

# RFC 8032 section 7.1, TEST 1 to 3: (secret key, public key, message, signature), hex.
RFC8032 = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    services = build_services_at(tmp_path_factory.mktemp("bundle-home"))
    try:
        # Playwright's sync API keeps an event loop running in this thread, and signing the receipt PDF
        # uses asyncio.run: build the case in a thread of its own.
        with ThreadPoolExecutor(max_workers=1) as pool:
            yield pool.submit(build_case, services).result()
    finally:
        services.close()


@pytest.fixture(scope="module")
def bundles(built: Built, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    folder = tmp_path_factory.mktemp("bundles")
    out = {"untouched": (folder / "untouched.zip", "")}
    out["untouched"][0].write_bytes(built.zip_bytes)
    for case in corpus(built):
        path = folder / f"{case.name}.zip"
        path.write_bytes(case.data)
        out[case.name] = (path, case.names)
    return out


def run_page(
    page: Any, bundle: Path, key: str, *, fallback: bool = False, witness_keys: str = "", required: str = ""
) -> str:
    page.goto(PAGE)
    if fallback:
        page.evaluate("window.offboardForceFallback = true")
    if key:
        page.fill("#key", key)
    if witness_keys:
        page.fill("#witness-keys", witness_keys)
    if required:
        page.fill("#witnesses-required", required)
    page.set_input_files("#bundle", str(bundle))
    page.wait_for_selector("body[data-verdict]", timeout=60_000)
    return str(page.get_attribute("body", "data-verdict"))


def test_untouched_bundle_passes_pinned(page: Any, bundles: dict[str, tuple[Path, str]], built: Built) -> None:
    assert run_page(page, bundles["untouched"][0], built.vkey) == "pass"
    assert page.inner_text("#verdict").startswith("PASS: all")
    assert "Signer pinned" in page.inner_text("#pinned")
    table = page.inner_text("#checks")
    for kind in ("entry", "evidence", "consistency", "receipt", "timestamp", "checkpoint", "manifest", "report"):
        assert f"\t{kind}\t" in table, kind
    assert "FAIL" not in table
    n = entry_count(built)
    report = f"pass\treport\tdata/report.html\tidentical to the report rendered from the {n} verified ledger entries"
    assert report in table


def test_format_2_bundle_still_passes(page: Any, built: Built, tmp_path: Path) -> None:
    """The previous bundle format (consistency proofs with first_size/second_size) passes as before."""
    path = tmp_path / "format-2.zip"
    path.write_bytes(as_format_2(built))
    assert run_page(page, path, built.vkey) == "pass", page.inner_text("#checks")
    proven = [r for r in page.inner_text("#checks").splitlines() if r.startswith("pass\tconsistency\t")]
    assert proven and all("is a prefix of size" in row for row in proven), proven


@pytest.mark.parametrize("variant", ["sha512", "format-3"])
def test_bags_with_the_sha512_pair_pass_and_every_manifest_is_checked(
    page: Any, built: Built, tmp_path: Path, variant: str
) -> None:
    """A ``--sha512`` bag and a format 3 bundle (always both pairs) pass; the SHA-512 manifests are checked."""
    path = tmp_path / f"{variant}.zip"
    path.write_bytes(with_sha512(built) if variant == "sha512" else as_format_3(built))
    assert run_page(page, path, built.vkey) == "pass", page.inner_text("#checks")
    table = page.inner_text("#checks")
    assert "matches manifest-sha512.txt" in table and "matches tagmanifest-sha512.txt" in table


def test_unpinned_passes_with_a_warning(page: Any, bundles: dict[str, tuple[Path, str]]) -> None:
    assert run_page(page, bundles["untouched"][0], "") == "pass"
    assert "SIGNER NOT PINNED" in page.inner_text("#pinned")


def test_pure_javascript_ed25519_verifies_the_bundle(
    page: Any, bundles: dict[str, tuple[Path, str]], built: Built
) -> None:
    assert run_page(page, bundles["untouched"][0], built.vkey, fallback=True) == "pass"
    assert run_page(page, bundles["resign-other-key"][0], built.vkey, fallback=True) == "fail"


def test_unzipped_folder_is_accepted(
    page: Any, bundles: dict[str, tuple[Path, str]], built: Built, tmp_path: Path
) -> None:
    with zipfile.ZipFile(bundles["untouched"][0]) as archive:
        archive.extractall(tmp_path)
    (folder,) = list(tmp_path.iterdir())
    page.goto(PAGE)
    page.fill("#key", built.vkey)
    page.set_input_files("#folder", str(folder))
    page.wait_for_selector("body[data-verdict]", timeout=60_000)
    assert page.get_attribute("body", "data-verdict") == "pass"


def test_fallback_matches_rfc8032_vectors(page: Any) -> None:
    page.goto(PAGE)
    for secret, public, message, signature in RFC8032:
        # The vectors as transcribed are what libsodium produces from the secret: they are the RFC's.
        key = nacl.signing.SigningKey(bytes.fromhex(secret))
        assert bytes(key.verify_key).hex() == public
        assert key.sign(bytes.fromhex(message)).signature.hex() == signature
        bad_sig = signature[:10] + ("0" if signature[10] != "0" else "1") + signature[11:]
        s_too_big = signature[:64] + "ff" * 31 + "1f"
        script = """async ([pk, msg, sig, bad, big]) => {
            const h = (t) => Uint8Array.from(t.match(/../g) || [], (b) => parseInt(b, 16));
            const v = window.offboardVerify;
            const f = v.ed25519Fallback;
            return [await f(h(pk), h(msg), h(sig)), await f(h(pk), h(msg + "00"), h(sig)),
                    await f(h(pk), h(msg), h(bad)), await f(h(pk), h(msg), h(big)),
                    await v.ed25519Verify(h(pk), h(msg), h(sig))];
        }"""
        result = page.evaluate(script, [public, message, signature, bad_sig, s_too_big])
        assert result == [True, False, False, False, True], (message, result)


@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_tampered_bundle_shows_fail(name: str, page: Any, bundles: dict[str, tuple[Path, str]], built: Built) -> None:
    path, names = bundles[name]
    assert run_page(page, path, built.vkey) == "fail"
    failed = [row for row in page.inner_text("#checks").splitlines() if row.startswith("FAIL")]
    assert failed and any(names in row for row in failed), f"{name}: no failure names {names}: {failed}"


def test_rewritten_report_fails_naming_its_line(page: Any, bundles: dict[str, tuple[Path, str]], built: Built) -> None:
    assert run_page(page, bundles["report-rewritten"][0], built.vkey) == "fail"
    failed = [row for row in page.inner_text("#checks").splitlines() if row.startswith("FAIL")]
    assert failed == [
        "FAIL\treport\tdata/report.html\tdiffers from the report rendered from the "
        f"{entry_count(built)} verified ledger entries, at line 7"
    ]


def test_an_independent_copy_verifies_a_bundle_whose_page_was_replaced(page: Any, built: Built, tmp_path: Path) -> None:
    """A page cannot vouch for itself: this copy (the independent one) checks the records, which are genuine,
    so it passes like offboard verify, which also warns that the bundled page is not its own."""
    path = tmp_path / "always-pass.zip"
    path.write_bytes(with_verify_page(built, ALWAYS_PASS_PAGE))
    assert run_page(page, path, built.vkey) == "pass"


# --- archives --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def with_log(built: Built) -> bytes:
    with ThreadPoolExecutor(max_workers=1) as pool:  # as for ``built``: export signs with asyncio.run
        return pool.submit(bundle_with_log, built).result()


@pytest.mark.parametrize("tool", ["zip", "zipfile"])
def test_a_bundle_rezipped_with_deflate_passes(
    tool: str, page: Any, with_log: bytes, built: Built, tmp_path: Path
) -> None:
    path = rezip_with_zip(with_log, tmp_path, stored=False) if tool == "zip" else rezip_with_python(with_log, tmp_path)
    assert highest_ratio(path) > 250  # the log, once refused as a "compression bomb"
    assert run_page(page, path, built.vkey) == "pass", page.inner_text("#checks")


def test_a_member_inflating_past_its_declared_size_is_stopped(page: Any, tmp_path: Path) -> None:
    """64 MiB of zeros declared as 256 KiB: the page says so, having written only a few KiB of the 64 KiB
    of deflate data to the inflater (so it never produced much more than the declared size)."""
    written = """() => {
        window.inflaterInput = 0;
        const write = WritableStreamDefaultWriter.prototype.write;
        WritableStreamDefaultWriter.prototype.write = function (chunk) {
            window.inflaterInput += chunk.length;
            return write.call(this, chunk);
        };
    }"""
    page.add_init_script(script=f"({written})()")
    path = lying_member(tmp_path / "liar.zip")
    assert run_page(page, path, "") == "fail"
    rows = [row for row in page.inner_text("#checks").splitlines() if row.startswith("FAIL\tarchive\tdata/zeros")]
    assert rows and "produces more than the 262144 bytes it declares" in rows[0], rows
    assert 256 * 1024 // 1032 < page.evaluate("window.inflaterInput") <= 4 * 1024


@pytest.mark.parametrize(
    "name", ["empty.zip", "zero-bytes.zip", "cut-in-member.zip", "cut-in-directory.zip", "report.pdf", "random.bin"]
)
def test_a_file_that_is_no_bundle_shows_fail(
    name: str, page: Any, with_log: bytes, built: Built, tmp_path: Path
) -> None:
    path, says = not_bundles(with_log, tmp_path)[name]
    assert run_page(page, path, built.vkey) == "fail"
    assert page.inner_text("#verdict") == "FAIL: 1 of 1 checks failed"
    (row,) = page.inner_text("#checks tbody").splitlines()
    assert row.startswith("FAIL\tarchive\tbundle\t") and says in row, row


def test_witness_keys_check_the_cosigned_checkpoint(page: Any, built: Built, tmp_path: Path) -> None:
    """The bundle's checkpoint cosigned by two witnesses (tlog-cosignature/v1, made here with their keys): the
    page checks each line against the keys pasted, as ``offboard verify --witness-key`` does."""
    root, files = unzip(built.zip_bytes)
    note = files[layout.CHECKPOINT].decode()
    witnesses = [generate_key("witness.test/w1"), generate_key("witness.test/w2")]
    body = parse_note(note).body
    lines = "".join(cosign(w, body, 1_800_000_000 + i).to_line() for i, w in enumerate(witnesses))
    files[layout.WITNESSED] = (note + lines).encode()
    path = tmp_path / "cosigned.zip"
    path.write_bytes(rezip(root, rebag(files)))
    v1, v2 = (cosigner_of(w).vkey() for w in witnesses)
    stranger = cosigner_of(generate_key("witness.test/w3")).vkey()

    assert run_page(page, path, built.vkey, witness_keys=f"{v1}\n{v2}") == "pass", page.inner_text("#checks")
    assert page.inner_text("#witnesses").startswith("Witnesses: 2 of 2 witness keys cosigned the checkpoint of size")
    # The Python verifier agrees, line for line.
    policy = WitnessPolicy.of([parse_witness_key(v1), parse_witness_key(v2)], None)
    assert verify_bundle(path, witnesses=policy).witnesses == page.inner_text("#witnesses").removeprefix("Witnesses: ")

    assert run_page(page, path, built.vkey, witness_keys=f"{v1}\n{stranger}") == "fail"
    failed = [row for row in page.inner_text("#checks").splitlines() if row.startswith("FAIL")]
    assert len(failed) == 1 and failed[0].startswith("FAIL\twitness\tdata/ledger/witnessed.checkpoint\t1 of 2"), failed
    assert "not cosigned by witness.test/w3" in failed[0]
    assert run_page(page, path, built.vkey, witness_keys=f"{v1}\n{stranger}", required="1") == "pass"

    assert run_page(page, path, built.vkey) == "pass"
    assert "no independent witness was checked" in page.inner_text("#witnesses")
