"""A local RFC 3161 timestamp authority for tests, served over HTTP on 127.0.0.1 (RFC 3161 section 3.4).

Every instance makes its own throwaway CA, optionally an intermediate, and a TSA certificate (RSA:
pyHanko's ``DummyTimeStamper`` signs with RSA only) and signs tokens with ``DummyTimeStamper``.
``mode`` makes it misbehave in the ways a real TSA or a hostile network can, so the client's error
paths are tested over real HTTP; ``delay`` makes it slow (seconds before each answer). With
``revocation=True`` the TSA certificate names a CRL distribution point on the same server (``GET /crl``,
the CA's CRL, RFC 5280 section 4.2.1.13), so long-term signatures can gather its revocation data;
``valid_for`` makes the TSA certificate short-lived, and ``name`` tells two TSAs of one test apart:

    with LocalTSA() as tsa:
        record = request_timestamp(tsa.url, data, roots=[tsa.root_certificate])

It never listens beyond loopback and never fetches anything.
"""

from __future__ import annotations

import enum
import hashlib
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped]
from asn1crypto import tsp as asn1_tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"


class Mode(enum.Enum):
    """How the local TSA answers the next requests."""

    GRANT = "grant"
    """A correct, signed token for the request."""
    OTHER_DATA = "other-data"
    """A correctly signed token, but over SHA-256 of other bytes (an imprint mismatch)."""
    WRONG_NONCE = "wrong-nonce"
    """A correctly signed token whose nonce is the request's plus one (a replayed or mixed-up answer)."""
    SHA512 = "sha512"
    """A correctly signed token whose imprint is SHA-512 of the data instead of the requested SHA-256."""
    REJECT = "reject"
    """A TimeStampResp with status ``rejection`` and no token (RFC 3161 section 2.4.2)."""
    GARBAGE = "garbage"
    """HTTP 200 with the right content type and bytes that are not DER."""
    HTTP_500 = "http-500"
    """An HTTP 500 error page."""
    WRONG_CONTENT_TYPE = "wrong-content-type"
    """A correct token sent as ``text/html``, as a captive portal or a misrouted proxy would."""
    OVERSIZED = "oversized"
    """Two MiB of zeros with the right content type, more than any TimeStampResp."""


@dataclass(frozen=True, slots=True)
class Issued:
    """A certificate with its private key."""

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(common_name: str = "Offboard test TSA root", *, issuer: Issued | None = None) -> Issued:
    """An RSA CA certificate, self-signed unless ``issuer`` is given, valid from a day ago for a year."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer_key = issuer.key if issuer is not None else key
    issuer_name = issuer.certificate.subject if issuer is not None else _name(common_name)
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()), critical=False)
        .sign(signer_key, hashes.SHA256())
    )
    return Issued(cert, key)


def make_tsa_certificate(
    ca: Issued,
    *,
    common_name: str = "Offboard test TSA",
    eku_critical: bool = True,
    valid_for: timedelta = timedelta(days=30),
    crl_url: str | None = None,
) -> Issued:
    """An RSA TSA certificate issued by ``ca`` with the id-kp-timeStamping EKU (RFC 3161 section 2.3)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + valid_for)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        # RFC 3161 section 2.3: the TSA certificate's only EKU is timeStamping and it must be critical.
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=eku_critical)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
    )
    if crl_url is not None:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


def make_crl(ca: Issued) -> bytes:
    """An empty CRL (nothing revoked) signed by ``ca``, valid from an hour ago for a week, in DER."""
    now = datetime.now(UTC)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.certificate.subject)
        .last_update(now - timedelta(hours=1))
        .next_update(now + timedelta(days=7))
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return crl.public_bytes(serialization.Encoding.DER)


def _asn1_certificate(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def _rejection(text: str) -> bytes:
    """A TimeStampResp with only a ``rejection`` status (asn1crypto insists on a token: wrap by hand)."""
    status: bytes = asn1_tsp.PKIStatusInfo(
        {
            "status": asn1_tsp.PKIStatus("rejection"),
            "status_string": [text],
            "fail_info": asn1_tsp.PKIFailureInfo({"bad_data_format"}),
        }
    ).dump()
    assert len(status) < 128  # short-form DER length is enough for these fixed texts
    return b"\x30" + bytes([len(status)]) + status


class LocalTSA:
    """An RFC 3161 TSA over HTTP on 127.0.0.1 with a free port; start/stop or use as a context manager.

    ``requests`` keeps every request body received, ``mode`` may be changed between requests.
    """

    def __init__(
        self,
        *,
        eku_critical: bool = True,
        intermediate: bool = False,
        fixed_time: datetime | None = None,
        mode: Mode = Mode.GRANT,
        delay: float = 0.0,
        revocation: bool = False,
        valid_for: timedelta = timedelta(days=30),
        name: str = "Offboard test TSA",
    ) -> None:
        self.ca = make_ca(f"{name} root")
        # Real TSAs usually sign under an intermediate CA and embed it in the token (certReq=True).
        self.intermediate = make_ca("Offboard test TSA intermediate", issuer=self.ca) if intermediate else None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        crl_url = None
        if revocation:
            # Bound now, served from start(): the certificate must name the CRL's address before it exists.
            self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
            crl_url = self.url.removesuffix("/tsa") + "/crl"
        issuer = self.intermediate or self.ca
        self.tsa = make_tsa_certificate(
            issuer, common_name=name, eku_critical=eku_critical, valid_for=valid_for, crl_url=crl_url
        )
        #: The issuer's CRL (DER), served at ``GET /crl``.
        self.crl = make_crl(issuer)
        self.mode = mode
        #: Seconds each request waits before it is answered (a slow TSA, a congested network).
        self.delay = delay
        #: Set when a request arrives, and when the first answer has been sent.
        self.received = threading.Event()
        self.answered = threading.Event()
        self.answered_at: float | None = None
        self.requests: list[bytes] = []
        key_der = self.tsa.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        embedded = [_asn1_certificate(self.intermediate.certificate)] if self.intermediate else []
        self._stamper = DummyTimeStamper(
            tsa_cert=_asn1_certificate(self.tsa.certificate),
            tsa_key=asn1_keys.PrivateKeyInfo.load(key_der),
            # Any iterable works (it is copied with list()); SimpleCertificateStore is untyped.
            certs_to_embed=embedded,  # type: ignore[arg-type]
            fixed_dt=fixed_time,
        )

    @property
    def root_certificate(self) -> x509.Certificate:
        return self.ca.certificate

    @property
    def tsa_certificate(self) -> x509.Certificate:
        return self.tsa.certificate

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the local TSA is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/tsa"

    def start(self) -> LocalTSA:
        if self._thread is not None:
            return self
        server = self._server or ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, name="local-tsa", daemon=True)
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        if self._thread is not None:
            self._server.shutdown()  # waits for serve_forever, so only once it runs
            self._thread.join(timeout=5)
        self._server.server_close()
        self._server, self._thread = None, None

    def __enter__(self) -> LocalTSA:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def answer(self, body: bytes) -> tuple[int, str, bytes]:
        """HTTP status, content type and body for one request body, according to ``mode``."""
        self.requests.append(body)
        mode = self.mode
        if mode is Mode.HTTP_500:
            return 500, "text/html", b"<h1>Internal Server Error</h1>"
        if mode is Mode.GARBAGE:
            return 200, REPLY_TYPE, b"this is not DER at all"
        if mode is Mode.OVERSIZED:
            return 200, REPLY_TYPE, bytes(2 * 1024 * 1024)
        if mode is Mode.REJECT:
            return 200, REPLY_TYPE, _rejection("request rejected by policy")
        try:
            request = asn1_tsp.TimeStampReq.load(body)
            request.native  # noqa: B018 - forces a full parse so malformed requests fail here
        except ValueError:
            return 200, REPLY_TYPE, _rejection("malformed request")
        request = self._doctor(request, mode)
        reply = self._stamper.request_tsa_response(request).dump()
        content_type = "text/html" if mode is Mode.WRONG_CONTENT_TYPE else REPLY_TYPE
        return 200, content_type, reply

    @staticmethod
    def _doctor(request: asn1_tsp.TimeStampReq, mode: Mode) -> asn1_tsp.TimeStampReq:
        """The request the TSA pretends it received, to produce a well-signed but wrong token."""
        if mode is Mode.OTHER_DATA:
            request = request.copy()
            request["message_imprint"] = asn1_tsp.MessageImprint(
                {
                    "hash_algorithm": {"algorithm": "sha256"},
                    "hashed_message": hashlib.sha256(b"some other checkpoint").digest(),
                }
            )
        elif mode is Mode.SHA512:
            request = request.copy()
            request["message_imprint"] = asn1_tsp.MessageImprint(
                {
                    "hash_algorithm": {"algorithm": "sha512"},
                    "hashed_message": hashlib.sha512(b"whatever").digest(),
                }
            )
        elif mode is Mode.WRONG_NONCE:
            request = request.copy()
            request["nonce"] = request["nonce"].native + 1
        return request


def _handler_for(tsa: LocalTSA) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
            found = self.path == "/crl"
            body = tsa.crl if found else b"not found"
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "application/pkix-crl" if found else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            tsa.received.set()
            if tsa.delay:
                time.sleep(tsa.delay)
            if self.headers.get_content_type() != QUERY_TYPE:
                status, content_type, reply = 415, "text/plain", b"expected application/timestamp-query"
            else:
                status, content_type, reply = tsa.answer(body)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            try:
                self.wfile.write(reply)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading (an oversized reply): not the server's failure
            if tsa.answered_at is None:
                tsa.answered_at = time.monotonic()
            tsa.answered.set()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
            """Silence per-request logging on stderr."""

    return Handler
