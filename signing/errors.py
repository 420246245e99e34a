"""The errors of the ``signing`` package.

``signing`` never imports ``vault``, so it has its own small tree rooted at ``SigningError``; the vault
wraps these into its own ``OffboardError`` subclasses where they cross into the domain.
"""

from __future__ import annotations


class SigningError(Exception):
    """Root of every error the signing package raises on purpose."""


class InvalidArgument(SigningError):
    """A caller passed a value the function cannot work with (no signers, a naive time, a zero interval)."""


class InvalidKey(SigningError):
    """A key name, key string (vkey or private key string) or raw key is malformed."""


class KeyFileError(SigningError):
    """A private key file is missing, unreadable, malformed or could not be written."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class UnsafeKeyFile(KeyFileError):
    """A private key file is readable or writable by its group or by others."""

    def __init__(self, message: str, *, path: str, mode: int) -> None:
        super().__init__(message, path=path)
        self.mode = mode


class MalformedNote(SigningError):
    """Text that is not a well-formed C2SP signed note (or note text that cannot be signed)."""


class MalformedSignature(SigningError):
    """A detached signature record (``signing.detached``) that breaks its JSON shape."""


class BadSignature(SigningError):
    """A signature from a known key did not verify."""


class UnverifiedNote(BadSignature):
    """No signature on the note is from a known key, so nothing vouches for its text."""


class TimestampError(SigningError):
    """An RFC 3161 timestamp could not be obtained, or a token does not verify. The message says why."""


class SealBroken(SigningError):
    """A sealed secret does not open: another key, or altered bytes or associated data."""


class LongTermError(SigningError):
    """A long-term (PAdES B-LTA) signature or document timestamp could not be made: the validation material
    of a certificate (its chain or revocation data) could not be gathered, or the PDF has no timestamp to
    extend. The message says which."""
