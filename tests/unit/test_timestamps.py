"""RFC 3161 timestamps: real requests to a local TSA over HTTP, offline re-verification, mutation probes
on the token, every error a TSA or a network can cause, and ``openssl ts -verify``."""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms as asn1_cms  # type: ignore[import-untyped]
from asn1crypto import tsp as asn1_tsp
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from signing.errors import InvalidArgument, SigningError, TimestampError
from signing.timestamps import (
    TimestampRecord,
    build_request,
    load_pem_roots,
    request_timestamp,
    verify_token,
)
from tests.tsa import LocalTSA, Mode, make_ca

# The exact bytes Offboard timestamps: a signed C2SP checkpoint note.
NOTE = (
    "offboard.example/ledger/org-1\n"
    "3\n"
    "3XsCbU6OuuNq+d1nNAtvlDpZSlBqW7/QLUA8VtgLvmk=\n"
    "\n"
    "\u2014 offboard.example/ledger/org-1 Az3grlgtzHYzEJLhx4MxEyKt6y4mxfh6Cwcq6SX/XnS02fUbs3OKgZs=\n"
).encode()


@pytest.fixture(scope="module")
def shared_tsa() -> Iterator[LocalTSA]:
    with LocalTSA() as tsa:
        yield tsa


@pytest.fixture
def tsa(shared_tsa: LocalTSA) -> LocalTSA:
    shared_tsa.mode = Mode.GRANT
    shared_tsa.requests.clear()
    return shared_tsa


@pytest.fixture(scope="module")
def record(shared_tsa: LocalTSA) -> TimestampRecord:
    shared_tsa.mode = Mode.GRANT
    return request_timestamp(shared_tsa.url, NOTE, roots=[shared_tsa.root_certificate])


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(Encoding.DER)


# --- requests -------------------------------------------------------------------------------------------


def test_build_request_is_sha256_with_nonce_and_cert_req() -> None:
    request_der, nonce = build_request(NOTE)
    request = asn1_tsp.TimeStampReq.load(request_der).native
    assert request["version"] == "v1"
    assert request["message_imprint"]["hash_algorithm"]["algorithm"] == "sha256"
    assert request["message_imprint"]["hashed_message"] == hashlib.sha256(NOTE).digest()
    assert request["nonce"] == nonce
    assert request["cert_req"] is True


def test_build_request_draws_a_fresh_nonce_each_time() -> None:
    nonces = {build_request(NOTE)[1] for _ in range(8)}
    assert len(nonces) == 8


def test_build_request_refuses_empty_data() -> None:
    with pytest.raises(TimestampError, match="cannot build a timestamp request"):
        build_request(b"")


# --- a real request over HTTP ---------------------------------------------------------------------------


def test_request_over_http_returns_a_verified_record(tsa: LocalTSA) -> None:
    before = datetime.now(UTC)
    got = request_timestamp(tsa.url, NOTE, roots=[tsa.root_certificate])
    after = datetime.now(UTC)

    # GeneralizedTime from the dummy TSA has whole seconds: allow for the truncation.
    assert before - timedelta(seconds=1) <= got.gen_time <= after
    assert got.gen_time.utcoffset() == timedelta(0)
    assert got.tsa_certificates == (der(tsa.tsa_certificate),)
    assert got.serial > 0
    assert got.token_der[0] == 0x30

    sent = asn1_tsp.TimeStampReq.load(tsa.requests[-1]).native
    assert sent["message_imprint"]["hashed_message"] == hashlib.sha256(NOTE).digest()
    assert sent["cert_req"] is True


def test_token_is_the_cms_content_info_over_the_note(record: TimestampRecord) -> None:
    content_info = asn1_cms.ContentInfo.load(record.token_der)
    assert content_info["content_type"].native == "signed_data"
    tst_info = content_info["content"]["encap_content_info"]["content"].parsed.native
    assert tst_info["message_imprint"]["hashed_message"] == hashlib.sha256(NOTE).digest()
    assert tst_info["serial_number"] == record.serial


def test_chain_through_an_embedded_intermediate_verifies() -> None:
    with LocalTSA(intermediate=True) as tsa:
        got = request_timestamp(tsa.url, NOTE, roots=[tsa.root_certificate])
        assert tsa.intermediate is not None
        assert got.tsa_certificates == (der(tsa.tsa_certificate), der(tsa.intermediate.certificate))
        assert verify_token(got.token_der, NOTE, [tsa.root_certificate]) == got


def test_gen_time_is_the_tsa_time_not_ours() -> None:
    fixed = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    with LocalTSA(fixed_time=fixed) as tsa:
        got = request_timestamp(tsa.url, NOTE, roots=[tsa.root_certificate])
    assert got.gen_time == fixed


def test_gen_time_outside_the_tsa_certificate_validity_is_rejected() -> None:
    # The chain is checked at genTime; the throwaway TSA certificate starts an hour ago.
    with LocalTSA(fixed_time=datetime.now(UTC) - timedelta(days=2)) as tsa:
        with pytest.raises(TimestampError, match="does not verify"):
            request_timestamp(tsa.url, NOTE, roots=[tsa.root_certificate])


# --- what the TSA answers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        (
            Mode.OTHER_DATA,
            r"timestamp is over other data: imprint [0-9a-f]{64}, expected SHA-256 [0-9a-f]{64}",
        ),
        (Mode.WRONG_NONCE, r"timestamp nonce is \d+, expected \d+ \(the request's\)"),
        (Mode.SHA512, r"imprint algorithm is 2\.16\.840\.1\.101\.3\.4\.2\.3, expected SHA-256"),
        (Mode.REJECT, r"status 2 \(rejection\), expected 0 \(granted\): request rejected by policy"),
        (Mode.GARBAGE, r"answered with bytes that are not a TimeStampResp"),
        (Mode.HTTP_500, r"answered HTTP 500 Internal Server Error, expected 200"),
        (Mode.WRONG_CONTENT_TYPE, r"answered Content-Type text/html, expected application/timestamp-reply"),
        (Mode.OVERSIZED, r"answered more than 1048576 bytes"),
    ],
)
def test_bad_answers_raise_timestamp_error(tsa: LocalTSA, mode: Mode, message: str) -> None:
    tsa.mode = mode
    with pytest.raises(TimestampError, match=message):
        request_timestamp(tsa.url, NOTE, roots=[tsa.root_certificate])
    assert len(tsa.requests) == 1


def test_other_data_message_names_both_digests(tsa: LocalTSA) -> None:
    tsa.mode = Mode.OTHER_DATA
    with pytest.raises(TimestampError) as caught:
        request_timestamp(tsa.url, NOTE, roots=[tsa.root_certificate])
    assert hashlib.sha256(NOTE).hexdigest() in str(caught.value)
    assert hashlib.sha256(b"some other checkpoint").hexdigest() in str(caught.value)


def test_tsa_certificate_with_non_critical_eku_is_rejected() -> None:
    with LocalTSA(eku_critical=False) as tsa:
        # OpenSSL's chain check already refuses it as "unsuitable certificate purpose".
        with pytest.raises(TimestampError, match="does not verify"):
            request_timestamp(tsa.url, NOTE, roots=[tsa.root_certificate])


def test_response_from_a_tsa_of_another_root_is_rejected(tsa: LocalTSA) -> None:
    with pytest.raises(TimestampError, match="does not verify"):
        request_timestamp(tsa.url, NOTE, roots=[make_ca("Some other root").certificate])


def test_no_roots_is_refused_before_any_request(tsa: LocalTSA) -> None:
    with pytest.raises(TimestampError, match="no trusted TSA roots"):
        request_timestamp(tsa.url, NOTE, roots=[])
    assert tsa.requests == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/tsa", "127.0.0.1:9/tsa"])
def test_non_http_urls_are_refused(url: str) -> None:
    with pytest.raises(TimestampError, match="TSA URL must be http or https"):
        request_timestamp(url, NOTE, roots=[make_ca().certificate])


def test_unreachable_tsa_raises_timestamp_error() -> None:
    with socket.socket() as sock:  # bind then close: nothing listens on this port afterwards
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(TimestampError, match=f"could not reach TSA http://127.0.0.1:{port}/tsa"):
        request_timestamp(f"http://127.0.0.1:{port}/tsa", NOTE, roots=[make_ca().certificate])


def test_silent_tsa_times_out_as_timestamp_error() -> None:
    with socket.socket() as sock:  # accepts connections into the backlog and never answers
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        with pytest.raises(TimestampError, match="could not reach TSA.*timed out"):
            request_timestamp(f"http://127.0.0.1:{port}/tsa", NOTE, roots=[make_ca().certificate], timeout=0.3)


# --- offline re-verification ----------------------------------------------------------------------------


def test_verify_token_gives_back_the_same_record(record: TimestampRecord, shared_tsa: LocalTSA) -> None:
    assert verify_token(record.token_der, NOTE, [shared_tsa.root_certificate]) == record


def test_verify_token_accepts_any_matching_root(record: TimestampRecord, shared_tsa: LocalTSA) -> None:
    roots = [make_ca("Unrelated root").certificate, shared_tsa.root_certificate]
    assert verify_token(record.token_der, NOTE, roots) == record


def test_verify_token_rejects_other_data(record: TimestampRecord, shared_tsa: LocalTSA) -> None:
    other = NOTE.replace(b"\n3\n", b"\n4\n")
    with pytest.raises(TimestampError, match=f"expected SHA-256 {hashlib.sha256(other).hexdigest()}"):
        verify_token(record.token_der, other, [shared_tsa.root_certificate])


def test_verify_token_rejects_a_different_root(record: TimestampRecord) -> None:
    with pytest.raises(TimestampError, match="does not verify"):
        verify_token(record.token_der, NOTE, [make_ca("Some other root").certificate])


def test_verify_token_refuses_no_roots(record: TimestampRecord) -> None:
    with pytest.raises(TimestampError, match="no trusted TSA roots"):
        verify_token(record.token_der, NOTE, [])


def _regions(token: bytes, tsa_certificate: x509.Certificate) -> dict[str, range]:
    """Byte ranges of the token that its signature or chain covers."""
    signed_data = asn1_cms.ContentInfo.load(token)["content"]
    signer = signed_data["signer_infos"][0]
    parts = {
        "tst-info": signed_data["encap_content_info"]["content"].contents,
        "signed-attributes": signer["signed_attrs"].dump(),
        "signature": signer["signature"].contents,
        "tsa-certificate": der(tsa_certificate),
    }
    regions = {}
    for name, part in parts.items():
        start = token.find(part)
        assert start > 0, name
        regions[name] = range(start, start + len(part))
    return regions


@pytest.mark.parametrize("region", ["tst-info", "signed-attributes", "signature", "tsa-certificate"])
def test_every_flipped_byte_in_signed_parts_is_rejected(
    record: TimestampRecord, shared_tsa: LocalTSA, region: str
) -> None:
    offsets = _regions(record.token_der, shared_tsa.tsa_certificate)[region]
    accepted = []
    for offset in offsets:
        tampered = bytearray(record.token_der)
        tampered[offset] ^= 0x01
        try:
            verify_token(bytes(tampered), NOTE, [shared_tsa.root_certificate])
        except TimestampError:
            continue
        accepted.append(offset)
    assert accepted == [], f"{region}: flipped bytes at {accepted} still verified"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t + b"\x00", "does not parse"),
        (lambda t: t[:-1], "does not parse"),
        (lambda t: t[: len(t) // 2], "does not parse"),
        (lambda t: t[:0], "not a DER SEQUENCE"),
        (lambda t: t[:1] + b"\x00", "does not parse"),
        (lambda t: b"\x04" + t[1:], "not a DER SEQUENCE"),
        # BER, not DER: a padded long-form length and an indefinite length (0x3082 LLLL in the original)
        (lambda t: b"\x30\x83\x00" + t[2:], "does not parse"),
        (lambda t: b"\x30\x80" + t[4:] + b"\x00\x00", "does not parse"),
    ],
    ids=[
        "trailing-byte",
        "last-byte-cut",
        "half",
        "empty",
        "empty-sequence",
        "octet-string-tag",
        "ber-padded-length",
        "ber-indefinite-length",
    ],
)
def test_malformed_tokens_are_rejected(
    record: TimestampRecord, shared_tsa: LocalTSA, mutate: Callable[[bytes], bytes], message: str
) -> None:
    with pytest.raises(TimestampError, match=message):
        verify_token(mutate(record.token_der), NOTE, [shared_tsa.root_certificate])


# --- roots file -----------------------------------------------------------------------------------------


def test_load_pem_roots_reads_every_certificate() -> None:
    first, second = make_ca("Root one").certificate, make_ca("Root two").certificate
    pem = first.public_bytes(Encoding.PEM) + second.public_bytes(Encoding.PEM)
    assert load_pem_roots(pem) == [first, second]


@pytest.mark.parametrize("pem", [b"", b"not a certificate", b"-----BEGIN CERTIFICATE-----\nAAAA\n"])
def test_load_pem_roots_rejects_non_certificates(pem: bytes) -> None:
    with pytest.raises(TimestampError, match="not a PEM certificate bundle"):
        load_pem_roots(pem)


def test_timestamp_errors_are_signing_errors() -> None:
    """Callers that catch ``SigningError`` at the boundary also catch every timestamp failure."""
    assert issubclass(TimestampError, SigningError)
    assert issubclass(InvalidArgument, SigningError)
    with pytest.raises(SigningError, match="TSA URL must be http or https"):
        request_timestamp("ftp://127.0.0.1/tsa", NOTE, roots=[make_ca().certificate])


# --- an independent verifier ----------------------------------------------------------------------------


def _openssl_verify(
    tmp_path: Path, token: bytes, data: bytes, root: x509.Certificate
) -> subprocess.CompletedProcess[str]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("OPENSSL NOT ON PATH: independent `openssl ts -verify` check skipped")
    (tmp_path / "token.der").write_bytes(token)
    (tmp_path / "note.txt").write_bytes(data)
    (tmp_path / "root.pem").write_bytes(root.public_bytes(Encoding.PEM))
    return subprocess.run(
        [
            openssl,
            "ts",
            "-verify",
            "-token_in",
            "-in",
            "token.der",
            "-data",
            "note.txt",
            "-CAfile",
            "root.pem",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("intermediate", [False, True], ids=["direct", "intermediate"])
def test_openssl_ts_verify_accepts_the_token(tmp_path: Path, intermediate: bool) -> None:
    with LocalTSA(intermediate=intermediate) as tsa:
        got = request_timestamp(tsa.url, NOTE, roots=[tsa.root_certificate])
    result = _openssl_verify(tmp_path, got.token_der, NOTE, tsa.root_certificate)
    assert result.returncode == 0, result.stderr
    assert "Verification: OK" in result.stdout


def test_openssl_ts_verify_rejects_other_data(tmp_path: Path, record: TimestampRecord, shared_tsa: LocalTSA) -> None:
    result = _openssl_verify(tmp_path, record.token_der, NOTE + b"x", shared_tsa.root_certificate)
    assert result.returncode != 0
    assert "Verification: FAILED" in result.stdout
