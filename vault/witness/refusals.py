"""Why a witness refuses a submission: one error class per status the tlog-witness spec prescribes.

Each derives from the vault error of the same meaning, so the one error tree holds them; the witness's
HTTP adapter (``api/witness_app.py``) answers each with its spec status and a one-line text body.
"""

from __future__ import annotations

from vault.errors import Conflict, Forbidden, InvalidInput, NotFound, VerificationFailed


class MalformedSubmission(InvalidInput):
    """The add-checkpoint body breaks its format, or its old size exceeds the checkpoint's size (400)."""

    code = "witness-malformed-submission"


class UnknownLog(NotFound):
    """The checkpoint's origin is not a log this witness was started for (404)."""

    code = "witness-unknown-log"


class UntrustedCheckpoint(Forbidden):
    """No signature by a trusted key of the log, or a trusted key's signature fails (403)."""

    code = "witness-untrusted-checkpoint"


class SizeConflict(Conflict):
    """The old size is not the size of the last checkpoint this witness cosigned for the log (409)."""

    code = "witness-size-conflict"

    def __init__(self, message: str, *, size: int) -> None:
        super().__init__(message, details={"size": size})
        #: The size of the latest checkpoint cosigned for the log (0 when none): the 409 body.
        self.size = size


class InconsistentCheckpoint(VerificationFailed):
    """The consistency proof fails, or a same-size checkpoint has another root, or an empty one a root (422)."""

    code = "witness-inconsistent-checkpoint"
