"""RFC 3161 time-stamp tokens over checkpoint notes (requests 2.4.1, responses 2.4.2, HTTP transport 3.4).

A checkpoint is anchored in time by asking a timestamp authority (TSA) to sign SHA-256 of the exact
checkpoint note bytes. ``request_timestamp`` asks over HTTP and verifies the answer before returning it;
``verify_token`` re-verifies a stored token offline. Verification checks the message imprint, the nonce
(online only), the signature, the chain to a caller-supplied root and the TSA certificate's critical
timeStamping EKU. ``rfc3161-client`` does the ASN.1 and CMS work; the imprint, algorithm and nonce are
compared here first so a failure says what was expected and what was found.
"""

from __future__ import annotations

import hashlib
import http.client
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    TimeStampResponse,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from signing.errors import TimestampError

QUERY_CONTENT_TYPE = "application/timestamp-query"
REPLY_CONTENT_TYPE = "application/timestamp-reply"
# Some older TSAs still answer with the draft's media type; the body is the same TimeStampResp.
_ACCEPTED_REPLY_TYPES = frozenset({REPLY_CONTENT_TYPE, "application/timestamp-response"})
SHA256_OID = x509.ObjectIdentifier("2.16.840.1.101.3.4.2.1")
# A TimeStampResp is a few kilobytes; a cap keeps a hostile or broken server from filling memory.
MAX_RESPONSE_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class TimestampRecord:
    """A verified RFC 3161 token and the facts read from it."""

    token_der: bytes
    """The TimeStampToken (a CMS ContentInfo, RFC 3161 section 2.4.2) as DER; this is what is stored."""
    gen_time: datetime
    """When the TSA says it signed (TSTInfo genTime), UTC-aware."""
    tsa_certificates: tuple[bytes, ...]
    """DER certificates embedded in the token, the signing TSA certificate first."""
    serial: int
    """The TSA's serial number for this token (TSTInfo serialNumber)."""


def build_request(data: bytes) -> tuple[bytes, int]:
    """A DER TimeStampReq over SHA-256(data) with a random nonce and certReq=True; returns (DER, nonce)."""
    try:
        request = (
            TimestampRequestBuilder()
            .data(data)
            .hash_algorithm(HashAlgorithm.SHA256)
            .nonce(nonce=True)
            .cert_request(cert_request=True)
            .build()
        )
    except (ValueError, TypeError) as exc:
        raise TimestampError(f"cannot build a timestamp request: {exc}") from exc
    nonce = request.nonce
    if nonce is None:  # the builder was told to add one; a missing nonce would disable replay protection
        raise TimestampError("timestamp request was built without a nonce")
    return request.as_bytes(), nonce


def request_timestamp(
    url: str, data: bytes, *, roots: list[x509.Certificate], timeout: float = 10.0
) -> TimestampRecord:
    """Ask the TSA at ``url`` to timestamp ``data`` and return the verified token.

    Raises ``TimestampError`` if the TSA cannot be reached, refuses, or answers with anything that does
    not verify against ``roots`` for exactly these bytes and this request's nonce.
    """
    if not roots:
        raise TimestampError("no trusted TSA roots given: a token could not be verified")
    request_der, nonce = build_request(data)
    reply = _post(url, request_der, timeout=timeout)
    try:
        response = decode_timestamp_response(reply)
    except ValueError as exc:
        raise TimestampError(f"TSA {url} answered with bytes that are not a TimeStampResp: {exc}") from exc
    return _verify_response(response, data, roots, nonce=nonce)


def verify_token(token_der: bytes, data: bytes, roots: list[x509.Certificate]) -> TimestampRecord:
    """Re-verify a stored TimeStampToken over ``data`` against ``roots``, offline.

    The nonce is not checked: it only binds a response to its request, which is over by now.
    """
    if not roots:
        raise TimestampError("no trusted TSA roots given: a token could not be verified")
    if not token_der or token_der[0] != 0x30:
        raise TimestampError("timestamp token is not a DER SEQUENCE (a CMS ContentInfo)")
    # rfc3161-client only parses whole responses, so wrap the token as TimeStampResp{granted, token}.
    wrapped = _der_sequence(_GRANTED_STATUS_INFO + token_der)
    try:
        response = decode_timestamp_response(wrapped)
        embedded = response.time_stamp_token()
    except ValueError as exc:
        raise TimestampError(f"timestamp token does not parse: {exc}") from exc
    if embedded != token_der:
        # The parser is strict DER today; this keeps "the bytes stored are the bytes verified" if it
        # ever accepts trailing data or BER.
        raise TimestampError(
            f"timestamp token is not exactly one DER ContentInfo: {len(token_der)} bytes stored, "
            f"{len(embedded)} bytes parsed"
        )
    return _verify_response(response, data, roots, nonce=None)


def load_pem_roots(pem: bytes) -> list[x509.Certificate]:
    """The certificates of a PEM bundle (``OFFBOARD_TSA_ROOTS_FILE``); at least one is required."""
    try:
        roots = x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise TimestampError(f"TSA roots file is not a PEM certificate bundle: {exc}") from exc
    return roots


# PKIStatusInfo ::= SEQUENCE { status INTEGER granted(0) }
_GRANTED_STATUS_INFO = bytes.fromhex("3003020100")


def _der_sequence(content: bytes) -> bytes:
    """DER SEQUENCE header (X.690 8.1.3 definite length) around ``content``."""
    length = len(content)
    if length < 0x80:
        return b"\x30" + bytes([length]) + content
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return b"\x30" + bytes([0x80 | len(octets)]) + octets + content


def _post(url: str, body: bytes, *, timeout: float) -> bytes:
    """POST a TimeStampReq per RFC 3161 section 3.4 and return the reply body."""
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise TimestampError(f"TSA URL must be http or https, found {url!r}")
    request = urllib.request.Request(  # noqa: S310 - scheme restricted to http(s) above
        url,
        data=body,
        method="POST",
        headers={"Content-Type": QUERY_CONTENT_TYPE, "Accept": REPLY_CONTENT_TYPE},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310 - scheme checked
            content_type = reply.headers.get_content_type()
            payload: bytes = reply.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise TimestampError(f"TSA {url} answered HTTP {exc.code} {exc.reason}, expected 200") from exc
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        raise TimestampError(f"could not reach TSA {url}: {exc}") from exc
    if content_type not in _ACCEPTED_REPLY_TYPES:
        raise TimestampError(f"TSA {url} answered Content-Type {content_type}, expected {REPLY_CONTENT_TYPE}")
    if len(payload) > MAX_RESPONSE_BYTES:
        raise TimestampError(f"TSA {url} answered more than {MAX_RESPONSE_BYTES} bytes")
    return payload


def _verify_response(
    response: TimeStampResponse, data: bytes, roots: list[x509.Certificate], *, nonce: int | None
) -> TimestampRecord:
    """Check status, algorithm, imprint and nonce here, then signature, chain and EKU in rfc3161-client."""
    status = response.status
    if status != PKIStatus.GRANTED:
        try:
            name = PKIStatus(status).name.lower()
        except ValueError:
            name = "unknown"
        text = "; ".join(response.status_string) or "no status text"
        raise TimestampError(f"TSA did not grant the timestamp: status {status} ({name}), expected 0 (granted): {text}")
    try:
        info = response.tst_info
        algorithm = info.message_imprint.hash_algorithm
        imprint = info.message_imprint.message
        found_nonce = info.nonce
    except ValueError as exc:
        raise TimestampError(f"timestamp token does not parse: {exc}") from exc
    if algorithm != SHA256_OID:
        expected = f"SHA-256 ({SHA256_OID.dotted_string})"
        raise TimestampError(f"timestamp imprint algorithm is {algorithm.dotted_string}, expected {expected}")
    digest = hashlib.sha256(data).digest()
    if imprint != digest:
        raise TimestampError(f"timestamp is over other data: imprint {imprint.hex()}, expected SHA-256 {digest.hex()}")
    if nonce is not None and found_nonce != nonce:
        raise TimestampError(f"timestamp nonce is {found_nonce}, expected {nonce} (the request's)")

    builder = VerifierBuilder(roots=list(roots))
    if nonce is not None:
        builder = builder.nonce(nonce)
    try:
        builder.build().verify(response, digest)
    except (VerificationError, ValueError) as exc:
        raise TimestampError(f"timestamp token does not verify: {exc}") from exc

    try:
        gen_time = info.gen_time
        serial = info.serial_number
        certificates = _leaf_first(response)
        token = response.time_stamp_token()
    except ValueError as exc:
        raise TimestampError(f"timestamp token does not parse: {exc}") from exc
    if gen_time.tzinfo is None:  # GeneralizedTime in a TSTInfo is UTC (RFC 3161 section 2.4.2)
        gen_time = gen_time.replace(tzinfo=UTC)
    return TimestampRecord(
        token_der=token,
        gen_time=gen_time.astimezone(UTC),
        tsa_certificates=certificates,
        serial=serial,
    )


def _leaf_first(response: TimeStampResponse) -> tuple[bytes, ...]:
    """Embedded certificates, the one named by the SignerInfo first, the rest in a stable order."""
    signer = next(iter(response.signed_data.signer_infos))
    ders = sorted(response.signed_data.certificates)
    leaf: list[bytes] = []
    rest: list[bytes] = []
    for der in ders:
        cert = x509.load_der_x509_certificate(der)
        is_leaf = cert.issuer == signer.issuer and cert.serial_number == signer.serial_number
        (leaf if is_leaf else rest).append(der)
    return (*leaf, *rest)
