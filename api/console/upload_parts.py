"""The console's no-JavaScript upload: one ``multipart/form-data`` body carrying several files.

Each ``file`` part is streamed, as it arrives, into its own ``EvidenceIngest`` (the same ingest as the API's
upload, fed by the same ``api.upload_stream.pump``): nothing is buffered in memory or spooled to disk. The
form puts its small fields (``csrf``, ``kind``, ``description``) before the file input, and browsers send
parts in document order, so the CSRF token is checked before the first byte of a file is stored; a file
part that comes before a valid token is refused (403).

A file the domain refuses (an empty file, a bad name, too large) is reported with its reason and the next
file is still stored: each file is its own ledger entry, as with one request per file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from api.multipart import FILE_FIELD, MultipartUpload, _disposition
from api.upload_stream import begin_ingest, declared_type
from vault.errors import InvalidInput, OffboardError
from vault.evidence.ingest import EvidenceIngest
from vault.models import Evidence
from vault.orgs.organizations import Principal
from vault.services import Services


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What became of one uploaded file: its row, or the domain's reason for refusing it."""

    name: str
    evidence: Evidence | None = None
    duplicate: bool = False
    error: str | None = None


@dataclass
class FileIngests:
    """Receives the parts of one form: begins, feeds and finishes one ingest per file part."""

    services: Services
    principal: Principal
    case_id: str
    #: Raises ``Forbidden`` unless the form's ``csrf`` field is this session's token.
    check_token: Callable[[str | None], None]
    outcomes: list[FileOutcome] = field(default_factory=list)
    _checked: bool = False
    _ingest: EvidenceIngest | None = None
    _name: str = ""
    _type: str = ""
    _fields: dict[str, str] = field(default_factory=dict)
    _error: str | None = None

    def check(self, fields: dict[str, str]) -> None:
        if not self._checked:
            self.check_token(fields.get("csrf"))
            self._checked = True

    def start(self, filename: str | None, content_type: str | None, fields: dict[str, str]) -> None:
        self.check(fields)
        self._error = None
        if not filename:
            return  # the picker's empty part when no file was chosen
        self._name, self._type, self._fields = filename, declared_type(content_type, filename), dict(fields)
        self._ingest = begin_ingest(self.services, self.principal, self.case_id)

    def data(self, chunk: bytes) -> None:
        if self._ingest is None or self._error is not None:
            return
        try:
            self._ingest.feed(chunk)
        except OffboardError as exc:  # the ingest aborted itself; skip the rest of this part
            self._error = exc.message

    def end(self) -> None:
        ingest, self._ingest = self._ingest, None
        if ingest is None:
            return
        if self._error is not None:
            self.outcomes.append(FileOutcome(self._name, error=self._error))
            return
        description = self._fields.get("description", "").strip() or None
        try:
            result = ingest.finish(
                filename=self._name, kind=self._fields.get("kind"), content_type=self._type, description=description
            )
        except OffboardError as exc:
            self.outcomes.append(FileOutcome(self._name, error=exc.message))
            return
        self.outcomes.append(FileOutcome(self._name, evidence=result.evidence, duplicate=result.duplicate))

    def abort(self) -> None:
        if self._ingest is not None:
            self._ingest.abort()
            self._ingest = None


class FileParts(MultipartUpload):
    """A multipart parser that hands every ``file`` part to ``FileIngests`` instead of allowing only one."""

    def __init__(self, content_type: str, ingests: FileIngests) -> None:
        super().__init__(content_type, ingests.data)
        self._ingests = ingests

    def _headers_finished(self) -> None:
        name, filename = _disposition(self._headers.get("content-disposition", b""))
        self._current = name
        if name == FILE_FIELD:
            self.file_seen = True
            self._is_file = True
            ctype = self._headers.get("content-type")
            self._ingests.start(filename, ctype.decode("latin-1") if ctype else None, self.fields)

    def _part_end(self) -> None:
        if self._is_file:
            self._ingests.end()
        else:
            super()._part_end()

    def close(self) -> None:
        self._parser.finalize()
        if not self._finished:
            raise InvalidInput("multipart body ended before its closing boundary")
        self._ingests.check(self.fields)
