"""RFC 3161 tokens inside bundles: the embedded TSA certificates, and checking a token offline.

A stored token is a CMS ContentInfo (RFC 3161 section 2.4.2). ``rfc3161-client`` parses whole
TimeStampResp messages only, so the token is wrapped as ``TimeStampResp{status granted, token}``
(RFC 3161 section 2.4.2) to read its certificates. Full verification goes through
``signing.timestamps.verify_token`` and needs the TSA roots the verifier trusts; without them only the
message imprint is compared, and the report says so.
"""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from rfc3161_client import decode_timestamp_response

from signing.errors import TimestampError
from signing.timestamps import verify_token

# PKIStatusInfo ::= SEQUENCE { status INTEGER granted(0) }
_GRANTED = bytes.fromhex("3003020100")


def _sequence(content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return b"\x30" + bytes([length]) + content
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return b"\x30" + bytes([0x80 | len(octets)]) + octets + content


def certificates_pem(token: bytes) -> bytes:
    """The certificates embedded in ``token`` as one PEM bundle (empty when none or unparseable)."""
    try:
        response = decode_timestamp_response(_sequence(_GRANTED + token))
        ders = sorted(response.signed_data.certificates)
    except ValueError:
        return b""
    return b"".join(x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM) for der in ders)


def imprint_matches(token: bytes, note: bytes) -> bool:
    """Whether the token's SHA-256 message imprint is over ``note``: the DER OCTET STRING of the digest."""
    return b"\x04\x20" + hashlib.sha256(note).digest() in token


def check_token(token: bytes, note: bytes, roots: list[x509.Certificate] | None) -> tuple[bool, str]:
    """(ok, detail) for one token over one checkpoint note."""
    if not roots:
        if imprint_matches(token, note):
            return True, "imprint is SHA-256 of the checkpoint note; TSA signature NOT checked (no TSA roots given)"
        return False, "the token's imprint is not SHA-256 of the checkpoint note"
    try:
        record = verify_token(token, note, roots)
    except TimestampError as exc:
        return False, str(exc)
    return True, f"TSA signature and chain verify; genTime {record.gen_time.isoformat()}"
