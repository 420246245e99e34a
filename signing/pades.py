"""PAdES baseline signatures on PDF documents (ETSI EN 319 142-1, ``ETSI.CAdES.detached``) by pyHanko.

The signer is an ECDSA P-256 key with its X.509 certificate: Poppler's ``pdfsig`` does not accept Ed25519
PDF signatures, so PDFs use P-256 while receipts and checkpoints keep Ed25519. ``credentials`` loads a
configured pair or makes a self-signed one on first use (PKCS #8 PEM key, mode 0600, beside its
certificate); a key file open to group or others is refused, and half a pair is never replaced. When a TSA
URL is given, the signature carries an RFC 3161 timestamp (PAdES B-T). With ``ltv`` (a ``LongTerm``: the
trust roots and the known CRLs), the signer's chain and revocation data and those of the timestamp's TSA
go into the document security store (DSS), and a document timestamp follows (PAdES B-LTA, ETSI EN 319
142-1 section 6.3); ``retimestamp`` extends that chain later, before ``last_document_timestamp`` expires.
"""

from __future__ import annotations

import asyncio
import io
import os
import stat
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from signing.errors import KeyFileError, LongTermError, UnsafeKeyFile

if TYPE_CHECKING:
    from pyhanko_certvalidator import ValidationContext

CERT_YEARS = 10
_create_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class PdfCredentials:
    """The files of one PDF signer: its private key (PKCS #8 PEM, mode 0600) and its certificate (PEM)."""

    key_file: Path
    cert_file: Path
    chain: tuple[Path, ...] = ()
    """PEM certificates of the signer's issuers, embedded with the signature (none when self-signed)."""


@dataclass(frozen=True, slots=True)
class LongTerm:
    """What a long-term signature needs to gather validation material: trust anchors (the organization's
    issuing CA, the TSA roots) and CRLs already at hand (DER; the issuing CA's own). Revocation data of
    other certificates is fetched from the addresses they name."""

    trust_roots: tuple[x509.Certificate, ...]
    crls: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class SignatureFields:
    """What a signature says about itself in the PDF: its field, the reason and the signer's name."""

    field_name: str
    reason: str
    name: str


def check_private(path: Path) -> None:
    """Raise ``UnsafeKeyFile`` unless only the owner can read the key file."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise UnsafeKeyFile(f"the PDF signing key {path} has mode {mode:04o}; expected 0600", path=str(path), mode=mode)


def configured(key_file: Path, cert_file: Path) -> PdfCredentials:
    """A pair supplied by the operator: both files exist and the key is private."""
    for path in (key_file, cert_file):
        if not path.is_file():
            raise KeyFileError(f"PDF signing file {path} does not exist", path=str(path))
    check_private(key_file)
    return PdfCredentials(key_file, cert_file)


def self_signed(folder: Path, stem: str, *, subject: str, organization: str, now: datetime) -> PdfCredentials:
    """``<stem>.key`` and ``<stem>.crt`` in ``folder``, made on first use with a self-signed certificate."""
    key_path, cert_path = folder / f"{stem}.key", folder / f"{stem}.crt"
    with _create_lock:
        if key_path.exists() != cert_path.exists():
            # Never silently replace half of a pair: PDFs already signed name that certificate.
            raise KeyFileError(f"only one of {key_path} and {cert_path} exists; restore the other", path=str(key_path))
        if not key_path.exists():
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            key_pem, cert_pem = new_certificate(subject=subject, organization=organization, now=now)
            write_new(cert_path, cert_pem, 0o644)
            write_new(key_path, key_pem, 0o600)
    check_private(key_path)
    return PdfCredentials(key_path, cert_path)


def new_certificate(*, subject: str, organization: str, now: datetime) -> tuple[bytes, bytes]:
    """A new P-256 key and a self-signed certificate for signing documents: (key PEM, certificate PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, subject[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization[:64]),
        ]
    )
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * CERT_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def sign_pdf(
    pdf_bytes: bytes,
    credentials: PdfCredentials,
    fields: SignatureFields,
    *,
    tsa_url: str | None,
    ltv: LongTerm | None = None,
) -> bytes:
    """``pdf_bytes`` with a PAdES signature appended as an incremental update: B-B, B-T with ``tsa_url``,
    B-LTA with ``tsa_url`` and ``ltv`` (validation material in the DSS, then a document timestamp)."""
    # Imported here: pyHanko pulls in a large stack that only signing needs (start-up counts).
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields as pdf_fields
    from pyhanko.sign import signers
    from pyhanko.sign.timestamps import HTTPTimeStamper

    if ltv is not None and not tsa_url:
        raise LongTermError("a long-term signature needs a timestamp authority (a TSA URL)")
    signer = signers.SimpleSigner.load(  # type: ignore[no-untyped-call]
        str(credentials.key_file), str(credentials.cert_file), ca_chain_files=[str(p) for p in credentials.chain]
    )
    if signer is None:
        raise KeyFileError(
            f"cannot load the PDF signing key {credentials.key_file} with certificate {credentials.cert_file}",
            path=str(credentials.key_file),
        )
    meta = signers.PdfSignatureMetadata(
        field_name=fields.field_name,
        md_algorithm="sha256",
        subfilter=pdf_fields.SigSeedSubFilter.PADES,
        reason=fields.reason,
        name=fields.name,
        validation_context=validation_context(ltv) if ltv is not None else None,
        embed_validation_info=ltv is not None,
        use_pades_lta=ltv is not None,
    )
    timestamper = HTTPTimeStamper(tsa_url) if tsa_url else None

    def sign() -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes))
        return bytes(signers.sign_pdf(writer, meta, signer, timestamper=timestamper).getvalue())

    if ltv is None:
        return _outside_event_loop(sign)
    return _outside_event_loop(lambda: long_term_attempt(sign))


def validation_context(ltv: LongTerm) -> ValidationContext:
    """A pyHanko validation context that requires revocation data for every certificate but the roots,
    using the known CRLs first and fetching the rest."""
    from pyhanko_certvalidator import ValidationContext

    roots = [_asn1(cert) for cert in ltv.trust_roots]
    return ValidationContext(trust_roots=roots, crls=list(ltv.crls), allow_fetching=True, revocation_mode="require")


def retimestamp(pdf_bytes: bytes, *, tsa_url: str, ltv: LongTerm) -> bytes:
    """``pdf_bytes`` with a new document timestamp appended as an incremental update, after the validation
    material of its last document timestamp (the TSA's chain and revocation data) went into the DSS.

    Done before the last timestamp's TSA certificate expires, this keeps every earlier signature provable:
    the new timestamp proves the old one, and its material, existed while it was still valid.
    """
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
    from pyhanko.sign.timestamps import HTTPTimeStamper

    def stamp() -> bytes:
        reader = PdfFileReader(io.BytesIO(pdf_bytes))
        if not reader.embedded_timestamp_signatures:
            raise LongTermError("the PDF has no document timestamp to extend: it was not signed long-term")
        stamper = PdfTimeStamper(HTTPTimeStamper(tsa_url))
        out = stamper.update_archival_timestamp_chain(reader, validation_context(ltv), in_place=False)
        return bytes(out.getvalue())

    return _outside_event_loop(lambda: long_term_attempt(stamp))


@dataclass(frozen=True, slots=True)
class DocumentTimestamp:
    """A PDF's last document timestamp (RFC 3161 token in a ``/DocTimeStamp`` signature)."""

    at: datetime
    """The token's ``genTime``: when the TSA made it."""
    expires: datetime
    """When the TSA's certificate expires: the PDF must be re-timestamped before then."""


def last_document_timestamp(pdf_bytes: bytes) -> DocumentTimestamp:
    """When the last document timestamp of ``pdf_bytes`` was made and when its TSA certificate expires."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        stamps = PdfFileReader(io.BytesIO(pdf_bytes)).embedded_timestamp_signatures
        if not stamps:
            raise LongTermError("the PDF has no document timestamp: it was not signed long-term")
        last = stamps[-1]
        tst_info = last.signed_data["encap_content_info"]["content"].parsed
        return DocumentTimestamp(at=tst_info["gen_time"].native, expires=last.signer_cert.not_valid_after)
    except (PdfError, ValueError, KeyError) as exc:
        raise LongTermError(f"cannot read the PDF's document timestamp: {exc}") from exc


def long_term_attempt(work: Callable[[], bytes]) -> bytes:
    """``work()``, with pyHanko's failures to gather validation material as one ``LongTermError``."""
    from pyhanko.sign.general import SigningError as PyHankoSigningError
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError
    from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

    try:
        return work()
    except (PathBuildingError, PathValidationError, PyHankoSigningError) as exc:
        raise LongTermError(f"cannot gather the validation material for a long-term signature: {exc}") from exc
    except TimestampRequestError as exc:
        raise LongTermError(f"the timestamp authority did not answer with a timestamp: {exc}") from exc


def _asn1(cert: x509.Certificate) -> Any:
    from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]

    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _outside_event_loop(work: Callable[[], bytes]) -> bytes:
    """pyHanko's synchronous API calls ``asyncio.run``, which fails on a thread that already runs a loop
    (an async caller); such callers get the work done on a short-lived thread instead."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def write_new(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(fd, mode)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
