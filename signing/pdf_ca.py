"""The organization's own issuing certificate for PDF signatures (RFC 5280): a small CA, the signer it issues,
and the CRL it signs.

A long-term (PAdES B-LTA) signature embeds its signer's chain and revocation data, so the signer needs an
issuer that publishes revocation data; a self-signed signer has none. Offboard makes, on first use, a P-256
CA key (PKCS #8 PEM, mode 0600, never served) with a self-signed CA certificate, a P-256 signing key with a
certificate issued by that CA, and signs CRLs with the CA key. The CA certificate and the current CRL are
public: they are what a verifier trusts and checks. Half a pair is never replaced (documents already signed
name those certificates).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from signing.errors import KeyFileError
from signing.pades import CERT_YEARS, PdfCredentials, check_private, write_new

CA_YEARS = 20
#: A CRL is valid this long; a new one is signed once less than half of it remains.
CRL_DAYS = 14
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class IssuingCA:
    """The files of the organization's PDF issuing CA: its private key (mode 0600) and its certificate."""

    key_file: Path
    cert_file: Path

    @property
    def crl_file(self) -> Path:
        """The last CRL it signed (DER), beside its certificate."""
        return self.cert_file.with_suffix(".crl")

    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_file.read_bytes())

    def _key(self) -> ec.EllipticCurvePrivateKey:
        check_private(self.key_file)
        key = serialization.load_pem_private_key(self.key_file.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise KeyFileError(f"{self.key_file} is not an ECDSA key", path=str(self.key_file))
        return key


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization[:64]),
        ]
    )


def _usage(*, sign_documents: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign_documents,
        content_commitment=sign_documents,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not sign_documents,
        crl_sign=not sign_documents,
        encipher_only=False,
        decipher_only=False,
    )


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _pair(key_path: Path, cert_path: Path, make: Callable[[], tuple[bytes, bytes]]) -> None:
    """Write ``make()``'s (key PEM, certificate PEM) unless the pair exists; refuse half a pair."""
    if key_path.exists() != cert_path.exists():
        raise KeyFileError(f"only one of {key_path} and {cert_path} exists; restore the other", path=str(key_path))
    if not key_path.exists():
        key_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key_pem, cert_pem = make()
        write_new(cert_path, cert_pem, 0o644)
        write_new(key_path, key_pem, 0o600)
    check_private(key_path)


def issuing_ca(folder: Path, stem: str, *, organization: str, now: datetime) -> IssuingCA:
    """``<stem>.key`` and ``<stem>.crt`` in ``folder``: the organization's PDF CA, made on first use."""

    def make() -> tuple[bytes, bytes]:
        key = ec.generate_private_key(ec.SECP256R1())
        name = _name(f"{organization} document signing CA", organization)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=365 * CA_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(sign_documents=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return _pem(key), cert.public_bytes(serialization.Encoding.PEM)

    ca = IssuingCA(folder / f"{stem}.key", folder / f"{stem}.crt")
    with _lock:
        _pair(ca.key_file, ca.cert_file, make)
    return ca


def issued_signer(
    ca: IssuingCA, folder: Path, stem: str, *, subject: str, organization: str, crl_url: str, now: datetime
) -> PdfCredentials:
    """``<stem>.key`` and ``<stem>.crt``: a PDF signer whose certificate ``ca`` issued, made on first use.

    Its certificate names ``crl_url`` (where Offboard publishes the CA's CRL) as its CRL distribution point.
    """

    def make() -> tuple[bytes, bytes]:
        ca_cert, ca_key = ca.certificate(), ca._key()  # noqa: SLF001 - the CA's own module
        key = ec.generate_private_key(ec.SECP256R1())
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(subject, organization))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(min(now + timedelta(days=365 * CERT_YEARS), ca_cert.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(sign_documents=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.CRLDistributionPoints([point]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        return _pem(key), cert.public_bytes(serialization.Encoding.PEM)

    key_path, cert_path = folder / f"{stem}.key", folder / f"{stem}.crt"
    with _lock:
        _pair(key_path, cert_path, make)
    return PdfCredentials(key_path, cert_path, chain=(ca.cert_file,))


def current_crl(ca: IssuingCA, *, now: datetime) -> bytes:
    """The CA's CRL (DER) valid at ``now``: the stored one, or a newly signed one once it is half-way spent.

    Offboard never revokes a PDF signer (a compromised key is replaced by a new CA), so the list is empty;
    what it proves is that the CA vouched, at ``thisUpdate``, that nothing it issued was revoked.
    """
    with _lock:
        if ca.crl_file.is_file():
            stored = x509.load_der_x509_crl(ca.crl_file.read_bytes())
            next_update = stored.next_update_utc
            if next_update is not None and now < next_update - timedelta(days=CRL_DAYS / 2):
                return ca.crl_file.read_bytes()
        ca_cert, ca_key = ca.certificate(), ca._key()  # noqa: SLF001 - the CA's own module
        crl = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(ca_cert.subject)
            .last_update(now - timedelta(minutes=5))
            .next_update(now + timedelta(days=CRL_DAYS))
            # RFC 5280 section 5.2.3: a monotonically increasing number; seconds since the epoch are.
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        der = crl.public_bytes(serialization.Encoding.DER)
        temp = ca.crl_file.with_suffix(".crl.tmp")
        temp.unlink(missing_ok=True)
        write_new(temp, der, 0o644)
        temp.replace(ca.crl_file)
        return der
