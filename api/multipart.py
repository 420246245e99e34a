"""Streaming ``multipart/form-data`` for evidence uploads.

Starlette's ``request.form()`` spools every file to disk before the route sees it, which would read each
byte twice and apply the size limit late. This adapter feeds the ``file`` part straight into the ingest as
it arrives and keeps the small text fields (kind, description, filename) in memory, capped.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import Message

from python_multipart.multipart import MultipartParser, parse_options_header

from vault.errors import InvalidInput

MAX_FIELD_BYTES = 8 * 1024
FILE_FIELD = "file"


def _disposition(raw: bytes) -> tuple[str | None, str | None]:
    """(field name, filename) of a part's Content-Disposition, with RFC 2231/5987 ``filename*`` honoured."""
    message = Message()
    message["content-disposition"] = raw.decode("utf-8", "replace")
    name = message.get_param("name", header="content-disposition")
    filename = message.get_filename()
    return (str(name) if isinstance(name, str) else None, filename)


class MultipartUpload:
    """Feeds one multipart body; file bytes go to ``sink``, other fields are collected."""

    def __init__(self, content_type: str, sink: Callable[[bytes], None]) -> None:
        _, params = parse_options_header(content_type)
        boundary = params.get(b"boundary")
        if not boundary:
            raise InvalidInput("multipart/form-data body without a boundary parameter")
        self._sink = sink
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.file_content_type: str | None = None
        self.file_seen = False
        self._headers: dict[str, bytes] = {}
        self._header_field = b""
        self._header_value = b""
        self._current: str | None = None
        self._is_file = False
        self._buffer = bytearray()
        self._finished = False
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
                "on_header_field": self._header_field_cb,
                "on_header_value": self._header_value_cb,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_end": self._end,
            },
            max_header_count=16,
        )

    def write(self, data: bytes) -> None:
        try:
            self._parser.write(data)
        except InvalidInput:
            raise
        except Exception as exc:  # python_multipart raises its own parse errors
            if exc.__class__.__module__.startswith("python_multipart"):
                raise InvalidInput(f"malformed multipart body: {exc}") from exc
            raise

    def close(self) -> None:
        self._parser.finalize()
        if not self._finished:
            raise InvalidInput("multipart body ended before its closing boundary")
        if not self.file_seen:
            raise InvalidInput(f"multipart body has no {FILE_FIELD!r} part")

    def _part_begin(self) -> None:
        self._headers = {}
        self._current = None
        self._is_file = False
        self._buffer = bytearray()

    def _header_field_cb(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _header_value_cb(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_field.decode("latin-1").lower()] = self._header_value
        self._header_field = b""
        self._header_value = b""

    def _headers_finished(self) -> None:
        name, filename = _disposition(self._headers.get("content-disposition", b""))
        self._current = name
        if name == FILE_FIELD:
            if self.file_seen:
                raise InvalidInput("multipart body has more than one file part; upload one file per request")
            self.file_seen = True
            self._is_file = True
            self.filename = filename
            ctype = self._headers.get("content-type")
            self.file_content_type = ctype.decode("latin-1") if ctype else None

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._is_file:
            self._sink(bytes(data[start:end]))
            return
        self._buffer += data[start:end]
        if len(self._buffer) > MAX_FIELD_BYTES:
            raise InvalidInput(f"form field {self._current!r} exceeds {MAX_FIELD_BYTES} bytes")

    def _part_end(self) -> None:
        if not self._is_file and self._current:
            self.fields[self._current] = self._buffer.decode("utf-8", "replace")

    def _end(self) -> None:
        self._finished = True
