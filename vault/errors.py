"""The one error tree of Offboard.

Every failure a user can cause or meet is an ``OffboardError`` subclass. The API maps each class to an
HTTP status in one handler (``api/errors.py``); the CLI catches ``OffboardError`` in one place and exits
non-zero with the message. Messages say what was expected and what was found.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Any


class OffboardError(Exception):
    """Root of every error Offboard raises on purpose."""

    #: A short machine-readable slug used as the RFC 9457 problem ``type`` suffix.
    code = "error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}


class InvalidInput(OffboardError):
    """The request or command was malformed or violated a rule of the domain."""

    code = "invalid-input"


class UnacceptableUpload(InvalidInput):
    """A well-formed upload that cannot be evidence: an empty file, or a file name with a control character
    or longer than 255 bytes."""

    code = "unacceptable-upload"


class UnacceptableWebhookUrl(InvalidInput):
    """A webhook endpoint URL that Offboard will not call: not https, or plain http off loopback or without
    the explicit loopback permission."""

    code = "unacceptable-webhook-url"


class UnacceptableWitness(InvalidInput):
    """A witness that cannot be configured as given: a malformed cosigner vkey, a URL that is not http(s) with
    a host, or a policy that is neither ``all`` nor a number in range."""

    code = "unacceptable-witness"


class NotFound(OffboardError):
    """The thing does not exist, or exists in another organization (never said which)."""

    code = "not-found"


class Conflict(OffboardError):
    """The request is well formed but the current state forbids it."""

    code = "conflict"


class PayloadTooLarge(InvalidInput):
    """An upload exceeded the configured size limit."""

    code = "payload-too-large"


class Unauthorized(OffboardError):
    """No credential, or a credential that matches nothing."""

    code = "unauthorized"


class Forbidden(OffboardError):
    """The credential is valid but its role does not allow the action."""

    code = "forbidden"


class RateLimited(OffboardError):
    """Too many attempts from one source."""

    code = "rate-limited"


class VerificationFailed(OffboardError):
    """A hash, proof, signature or stored object did not verify."""

    code = "verification-failed"


class IntegrityFailure(OffboardError):
    """Offboard's own stored records are inconsistent (a ledger node or row is missing or damaged).

    Not the caller's fault and not a bad upload: the server's data needs an operator (``offboard ledger
    verify``, ``offboard audit``). One class for every such finding, wherever it is made.
    """

    code = "integrity-failure"


class WritePathMisuse(OffboardError):
    """Code broke the write path's rules: a change made in a read session, an append outside a unit of
    work, or a unit of work started inside another. A programming error, never the caller's input."""

    code = "write-path-misuse"


class StorageError(OffboardError):
    """The object store failed or returned something other than what was written."""

    code = "storage-error"


class MailError(OffboardError):
    """The SMTP server refused or could not be reached: the message was not handed over."""

    code = "mail-failed"


class DatabaseUnavailable(OffboardError):
    """The database could not be reached or used (a server down, a wrong address, a lock held too long):
    the transaction did not commit, so nothing was written. Made from the driver's error by
    ``database_unavailable``, at the adapters' one error handler each."""

    code = "database-unavailable"


def database_unavailable(exc: BaseException) -> DatabaseUnavailable | None:
    """The domain error for a database failure raised through SQLAlchemy (``OperationalError``: connection
    refused, authentication failed, database locked; ``InterfaceError``: a dropped connection), else
    ``None``. The driver's first line is kept: it names the host and port, never the password."""
    sqlalchemy_errors = sys.modules.get("sqlalchemy.exc")  # not imported: cannot be one of its errors
    if sqlalchemy_errors is None:
        return None
    if not isinstance(exc, sqlalchemy_errors.OperationalError | sqlalchemy_errors.InterfaceError):
        return None
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines() or [type(cause).__name__]
    return DatabaseUnavailable(f"the database could not be used: {lines[0].strip()}")


class ConfigurationError(OffboardError):
    """Settings, keys or files on disk are missing or unsafe; the service refuses to start."""

    code = "configuration-error"


class NotInitialized(ConfigurationError):
    """The home holds no ``offboard.env``: ``offboard init`` never ran there (or another home was meant)."""

    code = "not-initialized"


class JobOutcome(OffboardError):
    """Raised by a job's handler (``vault/jobs``) to say how its job ends this time; never meant for a user."""

    code = "job-outcome"


class RetryLater(JobOutcome):
    """The job could not run now (a server down, something not ready yet): run it again after ``delay``.

    Any other ``OffboardError`` from a handler also retries, after the kind's exponential backoff."""

    code = "job-retry-later"

    def __init__(self, delay: timedelta, message: str = "") -> None:
        super().__init__(message or f"retry in {delay}")
        self.delay = delay


class GiveUp(JobOutcome):
    """The job can never succeed (its case is gone, its recipient refused for good): fail it, no retry."""

    code = "job-given-up"
