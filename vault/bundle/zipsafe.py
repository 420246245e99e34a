"""Reading a bundle ZIP without trusting it (PKWARE APPNOTE 4.3): hostile archives are refused up front.

Before a single member is read, ``SafeZip.open`` says plainly what a file is when it is not a ZIP at all
(missing, a directory, empty, truncated, another format), checks the end-of-central-directory record's
entry count (so a directory of millions of entries is refused before it is parsed), refuses an empty
archive and one whose members declare more uncompressed bytes in all than a limit (64 GiB by default),
then runs the directory checks of ``vault.bundle.zipcheck`` on every entry and reports every problem at
once. There is no rule on the compression ratio: while reading, inflation is bounded chunk by chunk and
stops as soon as a member produces more than its declared size, so a lying header cannot inflate past
what was checked and an honest, highly compressible member is read like any other.

``zipfile`` parses the central directory; members are then read by offset (``preadv``) rather than through
``ZipFile.open``, which moves one shared file position under a lock and cost more per member than
hashing 20,000 small ones: reading by offset lets the hashing threads read different members at once.
"""

from __future__ import annotations

import os
import struct
import threading
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# The same CRC-32 as zlib's, several times faster (carry-less multiplication): in a verify of a large bundle
# the CRC of every member costs nearly as much as its SHA-256 otherwise.
from zlib_ng.zlib_ng import crc32

from vault.bundle.zipcheck import (
    DEFAULT_MAX_ARCHIVE_BYTES,
    file_problem,
    member_problems,
    overlaps,
    path_problem,
    total_problem,
    without_end_record,
)
from vault.errors import VerificationFailed

MAX_ENTRIES = 100_000
CHUNK = 1024 * 1024
#: Small members are read this many archive bytes at a time (``SafeZip.read_many``).
BLOCK = 4 * 1024 * 1024
_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"
#: Local file header (APPNOTE 4.3.7): signature, then (skipped) version, the flags, (skipped) method,
#: time, date, CRC-32 and sizes, then the name and extra field lengths.
_LOCAL_HEADER = "<4s2xH18xHH"
_LOCAL_HEADER_SIZE = 30
_LOCAL_SIGNATURE = b"PK\x03\x04"
_UTF8 = 0x800
_PATCHED = 0x20
_STRONG_ENCRYPTION = 0x40
_PREADV = hasattr(os, "preadv")
#: Room for a local extra field read together with the header (a ZIP64 field is 20 bytes).
_EXTRA_ROOM = 64


class HostileArchive(VerificationFailed):
    """The archive is unsafe to read or not a ZIP at all; nothing in it was extracted."""

    code = "hostile-archive"


class MemberUnreadable(VerificationFailed):
    """One member could not be read back as declared (corrupt data, CRC error, size overrun)."""

    code = "member-unreadable"


def declared_entry_count(path: Path) -> int:
    """The entry count the end-of-central-directory record (or its ZIP64 form) declares."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(4)
        tail_size = min(size, 22 + 65535 + 20)
        handle.seek(size - tail_size)
        tail = handle.read(tail_size)
        at = tail.rfind(_EOCD)
        if at < 0 or len(tail) - at < 22:
            raise HostileArchive(without_end_record(path.name, head))
        (count,) = struct.unpack("<H", tail[at + 10 : at + 12])
        locator = tail[at - 20 : at] if at >= 20 else b""
        if locator.startswith(_ZIP64_LOCATOR):
            (offset,) = struct.unpack("<Q", locator[8:16])
            if offset + 56 > size:
                raise HostileArchive(
                    f"{path.name} is a damaged ZIP archive: its ZIP64 end-of-central-directory locator points "
                    "past the end of the file"
                )
            handle.seek(offset)
            record = handle.read(56)
            if not record.startswith(_ZIP64_EOCD):
                raise HostileArchive(f"{path.name} is a damaged ZIP archive: its ZIP64 end record is missing")
            (count64,) = struct.unpack("<Q", record[32:40])
            return int(count64)
        return int(count)


@dataclass(slots=True)
class SafeZip:
    """An opened, checked bundle archive. ``members`` maps bag-relative paths to their entries.

    Members are read by offset from the one open file (``zipfile`` only parses the central directory):
    opening tens of thousands of small members through ``ZipFile.open`` costs more than reading them,
    and large members are read by several threads at once into reused buffers.
    """

    path: Path
    root: str
    members: dict[str, zipfile.ZipInfo]
    _zip: zipfile.ZipFile
    #: Per member, the offset its data must end before: the next member's local header or the directory.
    _limits: dict[str, int]
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, path: Path | str, *, max_total_bytes: int = DEFAULT_MAX_ARCHIVE_BYTES) -> SafeZip:
        """Open and check the archive; ``HostileArchive`` saying why when it is refused.

        ``max_total_bytes`` caps the sum of the members' declared uncompressed sizes: reading never
        produces more than a member declares, so this bounds the whole verification's work.
        """
        target = Path(path)
        problem = file_problem(target)
        if problem is not None:
            raise HostileArchive(problem)
        try:
            count = declared_entry_count(target)
        except OSError as exc:
            raise HostileArchive(f"{target} cannot be read: {exc.strerror or exc}") from exc
        if count > MAX_ENTRIES:
            raise HostileArchive(f"the archive declares {count} entries; at most {MAX_ENTRIES} are accepted")
        try:
            archive = zipfile.ZipFile(target)
        # Besides BadZipFile, zipfile's parser raises NotImplementedError for an entry needing a newer
        # version to extract (found by fuzzing) and ValueError for a name that is not the UTF-8 its flag
        # claims; OSError, struct.error and EOFError too: a damaged file must never escape as a traceback.
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, struct.error, EOFError) as exc:
            raise HostileArchive(f"{target.name} is a damaged or truncated ZIP archive: {exc}") from exc
        try:
            return cls._checked(target, archive, max_total_bytes)
        except BaseException:
            archive.close()
            raise

    @classmethod
    def _checked(cls, target: Path, archive: zipfile.ZipFile, max_total_bytes: int) -> SafeZip:
        infos = archive.infolist()
        if not infos:
            raise HostileArchive(f"{target.name} is an empty ZIP archive (no members)")
        if len(infos) > MAX_ENTRIES:
            raise HostileArchive(f"the archive holds {len(infos)} entries; at most {MAX_ENTRIES} are accepted")
        too_large = total_problem(infos, max_total_bytes)
        if too_large is not None:
            raise HostileArchive(f"refusing {target.name}: {too_large}")
        problems: list[str] = []
        for info in infos:
            problems.extend(member_problems(info))
        ordered = sorted(infos, key=lambda i: i.header_offset)
        problems.extend(overlaps(ordered, archive.start_dir))
        names = [info.orig_filename for info in infos]
        # Counted in one pass: names.count per name took quadratic time on an archive of duplicates.
        duplicates = sorted(n for n, k in Counter(names).items() if k > 1) if len(set(names)) != len(names) else []
        problems.extend(f"{name!r}: appears more than once" for name in duplicates)
        roots = {name.split("/", 1)[0] for name in names}
        if len(roots) != 1:
            problems.append(f"expected one top-level folder (the bag), found {len(roots)}: {sorted(roots)[:5]}")
        if problems:
            shown = "; ".join(problems[:20]) + (f"; and {len(problems) - 20} more" if len(problems) > 20 else "")
            raise HostileArchive(f"refusing a hostile archive: {shown}", details={"problems": problems})
        root = roots.pop()
        ends = {id(i): n.header_offset for i, n in zip(ordered, ordered[1:], strict=False)}
        members: dict[str, zipfile.ZipInfo] = {}
        limits: dict[str, int] = {}
        for info in infos:
            relative = info.orig_filename[len(root) + 1 :]
            if relative and not info.is_dir():
                members[relative] = info
                limits[relative] = ends.get(id(info), archive.start_dir)
        return cls(target, root, members, archive, limits)

    def size(self, name: str) -> int:
        return self.members[name].file_size

    def _read_at(self, offset: int, buffer: memoryview) -> int:
        """Fill ``buffer`` from ``offset`` of the archive; fewer bytes only at the end of the file."""
        try:
            return self._read_into(offset, buffer)
        except OSError as exc:
            raise MemberUnreadable(f"the archive cannot be read at offset {offset}: {exc}") from exc

    def _read_into(self, offset: int, buffer: memoryview) -> int:
        fp = self._zip.fp
        if fp is None:
            raise MemberUnreadable("the archive is closed")
        done = 0
        if _PREADV:
            # preadv reads into the caller's buffer at an offset without moving a shared file position,
            # so threads read different members of one open file at once, copying each byte once.
            while done < len(buffer):
                count = os.preadv(fp.fileno(), [buffer[done:]], offset + done)
                if count == 0:
                    break
                done += count
            return done
        with self._lock:
            fp.seek(offset)
            while done < len(buffer):
                data = fp.read(len(buffer) - done)
                if not data:
                    break
                buffer[done : done + len(data)] = data
                done += len(data)
        return done

    def _data_start(self, name: str, head: bytes | memoryview) -> int:
        """Where the member's data starts, checking its local header (``head``: the bytes at its offset)."""
        info = self.members[name]
        if info.flag_bits & (_PATCHED | _STRONG_ENCRYPTION):
            raise MemberUnreadable(f"{name}: patched data or strong encryption (general purpose flags)")
        if len(head) < _LOCAL_HEADER_SIZE:
            raise MemberUnreadable(f"{name}: truncated local file header")
        signature, flags, name_length, extra_length = struct.unpack_from(_LOCAL_HEADER, head)
        if signature != _LOCAL_SIGNATURE:
            raise MemberUnreadable(f"{name}: cannot be read back: bad magic number for its local file header")
        local_name = bytes(head[_LOCAL_HEADER_SIZE : _LOCAL_HEADER_SIZE + name_length])
        try:
            decoded = local_name.decode("utf-8" if flags & _UTF8 else "cp437")
        except UnicodeDecodeError:
            decoded = None
        if decoded != info.orig_filename:
            raise MemberUnreadable(f"{name}: the local header names {local_name!r}, the directory another file")
        start: int = info.header_offset + _LOCAL_HEADER_SIZE + name_length + extra_length
        if start + info.compress_size > self._limits[name]:
            raise MemberUnreadable(f"{name}: its data overlaps the next member or the central directory")
        return start

    def _head_size(self, name: str) -> int:
        # Enough for the local header and its name in any encoding; the extra field usually fits too.
        return _LOCAL_HEADER_SIZE + 4 * len(self.members[name].orig_filename) + _EXTRA_ROOM

    def _span(self, name: str) -> tuple[int, int]:
        """(offset, length) of the member's stored or compressed data, after checking its local header."""
        info = self.members[name]
        head = bytearray(self._head_size(name))
        got = self._read_at(info.header_offset, memoryview(head))
        return self._data_start(name, memoryview(head)[:got]), info.compress_size

    def feed(
        self,
        name: str,
        consumers: Sequence[Callable[[memoryview], object]],
        *,
        check_crc: bool = True,
        chunk_size: int = CHUNK,
    ) -> None:
        """Read the member once, passing each chunk to every consumer in turn.

        A chunk is a view of a buffer that is reused for the next one: consumers must copy what they
        keep. Raises ``MemberUnreadable`` on corrupt data, more or fewer bytes than declared or, with
        ``check_crc``, a CRC-32 that disagrees with the directory.
        """
        info = self.members[name]
        start, length = self._span(name)
        buffer = memoryview(bytearray(max(1, min(chunk_size, length))))
        crc = 0
        produced = 0
        inflate = zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type == zipfile.ZIP_DEFLATED else None
        position = 0
        try:
            while position < length:
                count = self._read_at(start + position, buffer[: min(len(buffer), length - position)])
                if count == 0:
                    raise MemberUnreadable(f"{name}: cannot be read back: the archive ends inside its data")
                position += count
                pieces: Iterator[memoryview | bytes] = (
                    iter((buffer[:count],)) if inflate is None else _inflated(inflate, buffer[:count], info, chunk_size)
                )
                for piece in pieces:
                    produced += len(piece)
                    if produced > info.file_size:
                        raise MemberUnreadable(f"{name}: produces more than the {info.file_size} bytes it declares")
                    if check_crc:
                        crc = crc32(piece, crc)
                    for consume in consumers:
                        consume(piece if isinstance(piece, memoryview) else memoryview(piece))
        except zlib.error as exc:
            raise MemberUnreadable(f"{name}: cannot be read back: {exc}") from exc
        if produced != info.file_size:
            raise MemberUnreadable(f"{name}: {produced} bytes read, {info.file_size} declared")
        if check_crc and crc != info.CRC:
            raise MemberUnreadable(f"{name}: cannot be read back: CRC-32 {crc:08x}, the directory says {info.CRC:08x}")

    def read(self, name: str, limit: int = 64 * 1024 * 1024) -> bytes:
        """A whole (small) member; ``MemberUnreadable`` if it declares more than ``limit`` bytes."""
        info = self.members[name]
        if info.file_size > limit:
            raise MemberUnreadable(f"{name}: {info.file_size} bytes, expected at most {limit}")
        if info.compress_size > CHUNK:
            parts: list[bytes] = []
            self.feed(name, [lambda chunk: parts.append(bytes(chunk))])
            return b"".join(parts)
        # Header and data in one read.
        block = bytearray(self._head_size(name) + info.compress_size)
        got = self._read_at(info.header_offset, memoryview(block))
        return self._from_block(name, memoryview(block)[:got])

    def read_many(self, names: Iterable[str]) -> Iterator[tuple[str, bytes | MemberUnreadable]]:
        """Each of ``names`` (small members) with its bytes or why it is unreadable, in archive order.

        A bundle holds tens of thousands of small members, stored one after the other: they are read
        in blocks of up to ``BLOCK`` bytes, then each is checked exactly as ``read`` checks it.
        """
        ordered = sorted(names, key=lambda n: self.members[n].header_offset)
        buffer = memoryview(bytearray(BLOCK))
        at = 0
        while at < len(ordered):
            start = self.members[ordered[at]].header_offset
            end = at
            while end < len(ordered):
                info = self.members[ordered[end]]
                if info.header_offset + self._head_size(ordered[end]) + info.compress_size - start > BLOCK:
                    break
                end += 1
            if end == at:  # one member larger than a block: on its own
                yield ordered[at], self._read_or_error(ordered[at])
                at += 1
                continue
            last = self.members[ordered[end - 1]]
            try:
                got = self._read_at(
                    start, buffer[: last.header_offset + self._head_size(ordered[end - 1]) + last.compress_size - start]
                )
            except MemberUnreadable as exc:  # the file failed under the block: each member in it is unreadable
                for name in ordered[at:end]:
                    yield name, MemberUnreadable(f"{name}: {exc.message}")
                at = end
                continue
            block = buffer[:got]
            for name in ordered[at:end]:
                offset = self.members[name].header_offset - start
                try:
                    yield name, self._from_block(name, block[offset:])
                except MemberUnreadable as exc:
                    yield name, exc
            at = end

    def _read_or_error(self, name: str) -> bytes | MemberUnreadable:
        try:
            return self.read(name)
        except MemberUnreadable as exc:
            return exc

    def _from_block(self, name: str, block: memoryview) -> bytes:
        """The member's bytes from ``block``, which starts at its local header (and may hold more)."""
        info = self.members[name]
        start = self._data_start(name, block[: self._head_size(name)]) - info.header_offset
        if start + info.compress_size > len(block):
            # The archive ends inside the data, or a long extra field pushed it out of the block.
            whole = bytearray(start + info.compress_size)
            if self._read_at(info.header_offset, memoryview(whole)) < len(whole):
                raise MemberUnreadable(f"{name}: cannot be read back: the archive ends inside its data")
            block = memoryview(whole)
        raw = block[start : start + info.compress_size]
        if info.compress_type == zipfile.ZIP_DEFLATED:
            try:
                data = zlib.decompressobj(-zlib.MAX_WBITS).decompress(raw, info.file_size + 1)
            except zlib.error as exc:
                raise MemberUnreadable(f"{name}: cannot be read back: {exc}") from exc
        else:
            data = bytes(raw)
        if len(data) > info.file_size:
            raise MemberUnreadable(f"{name}: produces more than the {info.file_size} bytes it declares")
        if len(data) != info.file_size:
            raise MemberUnreadable(f"{name}: {len(data)} bytes read, {info.file_size} declared")
        crc = crc32(data)
        if crc != info.CRC:
            raise MemberUnreadable(f"{name}: cannot be read back: CRC-32 {crc:08x}, the directory says {info.CRC:08x}")
        return data

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _inflated(inflate: zlib._Decompress, data: memoryview, info: zipfile.ZipInfo, chunk_size: int) -> Iterator[bytes]:
    """Raw deflate output of ``data``, never more than one byte past the declared size in all."""
    # max_length bounds what one call may produce, so a bomb is stopped soon after the declared size
    # instead of being inflated in full; 0 would mean "unbounded", hence the + 1.
    limit = min(chunk_size, info.file_size + 1)
    pending: bytes | memoryview = data
    while True:
        out = inflate.decompress(pending, limit)
        pending = inflate.unconsumed_tail
        if out:
            yield out
        # Done when the input is used up and the output was not cut short by the limit (else drain it).
        if (not pending and len(out) < limit) or (not out and pending):
            return


__all__ = [
    "DEFAULT_MAX_ARCHIVE_BYTES",
    "MAX_ENTRIES",
    "HostileArchive",
    "MemberUnreadable",
    "SafeZip",
    "path_problem",
]
