"""Reading a bundle ZIP without trusting it (PKWARE APPNOTE 4.3): hostile archives are refused up front.

Before a single member is read, ``SafeZip.open`` checks the end-of-central-directory record's entry count
(so a directory of millions of entries is refused before it is parsed), then every entry of the central
directory: no absolute, ``..``, ``~``, backslash or control-character paths, no symlinks or other special
files, no encryption, only stored and deflated members, stored sizes that agree, no implausible
compression ratio, no overlapping members (the "overlapping files" bomb), one top-level folder, no
duplicates. Every problem is reported at once. While reading, the bytes produced are capped at the
member's declared size, so a lying header cannot inflate past what was checked.
"""

from __future__ import annotations

import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from vault.errors import VerificationFailed

MAX_ENTRIES = 100_000
#: Deflate cannot exceed about 1032:1; text members of a genuine bundle stay far below this.
MAX_RATIO = 200
#: Members smaller than this are never a bomb worth refusing, whatever their ratio.
RATIO_FLOOR = 1024 * 1024
CHUNK = 1024 * 1024
_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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
        tail_size = min(size, 22 + 65535 + 20)
        handle.seek(size - tail_size)
        tail = handle.read(tail_size)
        at = tail.rfind(_EOCD)
        if at < 0 or len(tail) - at < 22:
            raise HostileArchive(f"{path.name} is not a ZIP archive (no end-of-central-directory record)")
        (count,) = struct.unpack("<H", tail[at + 10 : at + 12])
        locator = tail[at - 20 : at] if at >= 20 else b""
        if locator.startswith(_ZIP64_LOCATOR):
            (offset,) = struct.unpack("<Q", locator[8:16])
            if offset + 56 > size:
                raise HostileArchive("the ZIP64 end-of-central-directory locator points past the end of the file")
            handle.seek(offset)
            record = handle.read(56)
            if not record.startswith(_ZIP64_EOCD):
                raise HostileArchive("the ZIP64 end-of-central-directory record is missing")
            (count64,) = struct.unpack("<Q", record[32:40])
            return int(count64)
        return int(count)


def path_problem(name: str) -> str | None:
    """Why a member name is unsafe, or ``None``. Directory names end in ``/``."""
    if not name:
        return "empty name"
    if _CONTROL.search(name):
        return "control character in the name"
    if "\\" in name:
        return "backslash in the name"
    if name.startswith("/") or _DRIVE.match(name):
        return "absolute path"
    parts = name.removesuffix("/").split("/")
    if ".." in parts:
        return "'..' path component"
    if any(part in ("", ".") for part in parts):
        return "empty or '.' path component"
    if any(part.startswith("~") for part in parts):
        return "'~' path component"
    return None


def _member_problems(info: zipfile.ZipInfo) -> list[str]:
    name = info.orig_filename
    problems: list[str] = []
    reason = path_problem(name)
    if reason is not None:
        problems.append(f"{name!r}: {reason}")
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        problems.append(f"{name!r}: symbolic link")
    elif kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        problems.append(f"{name!r}: special file (mode {mode:o})")
    if info.flag_bits & 0x1:
        problems.append(f"{name!r}: encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        problems.append(f"{name!r}: compression method {info.compress_type} (only stored and deflate)")
    elif info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
        problems.append(f"{name!r}: stored member declares {info.file_size} bytes but holds {info.compress_size}")
    if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        problems.append(
            f"{name!r}: compression bomb ({info.compress_size} bytes declare {info.file_size}, ratio above {MAX_RATIO})"
        )
    return problems


def _overlaps(infos: list[zipfile.ZipInfo], directory_start: int) -> list[str]:
    ordered = sorted(infos, key=lambda i: i.header_offset)
    problems = []
    for current, following in zip(ordered, [*ordered[1:], None], strict=True):
        end = current.header_offset + 30 + len(current.orig_filename.encode("utf-8")) + current.compress_size
        limit = following.header_offset if following is not None else directory_start
        if end > limit:
            problems.append(f"{current.orig_filename!r}: overlaps the next member or the central directory")
    return problems


@dataclass(slots=True)
class SafeZip:
    """An opened, checked bundle archive. ``members`` maps bag-relative paths to their entries."""

    path: Path
    root: str
    members: dict[str, zipfile.ZipInfo]
    _zip: zipfile.ZipFile

    @classmethod
    def open(cls, path: Path | str) -> SafeZip:
        target = Path(path)
        if target.is_symlink() or not target.is_file():
            raise HostileArchive(f"{target} is not a regular file")
        count = declared_entry_count(target)
        if count > MAX_ENTRIES:
            raise HostileArchive(f"the archive declares {count} entries; at most {MAX_ENTRIES} are accepted")
        try:
            archive = zipfile.ZipFile(target)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise HostileArchive(f"{target.name} is not a readable ZIP archive: {exc}") from exc
        try:
            return cls._checked(target, archive)
        except BaseException:
            archive.close()
            raise

    @classmethod
    def _checked(cls, target: Path, archive: zipfile.ZipFile) -> SafeZip:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise HostileArchive(f"the archive holds {len(infos)} entries; at most {MAX_ENTRIES} are accepted")
        problems: list[str] = []
        for info in infos:
            problems.extend(_member_problems(info))
        problems.extend(_overlaps(infos, archive.start_dir))
        names = [info.orig_filename for info in infos]
        duplicates = sorted({n for n in names if names.count(n) > 1}) if len(set(names)) != len(names) else []
        problems.extend(f"{name!r}: appears more than once" for name in duplicates)
        roots = {name.split("/", 1)[0] for name in names}
        if len(roots) != 1:
            problems.append(f"expected one top-level folder (the bag), found {len(roots)}: {sorted(roots)[:5]}")
        if problems:
            shown = "; ".join(problems[:20]) + (f"; and {len(problems) - 20} more" if len(problems) > 20 else "")
            raise HostileArchive(f"refusing a hostile archive: {shown}", details={"problems": problems})
        root = roots.pop()
        members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            relative = info.orig_filename[len(root) + 1 :]
            if relative and not info.is_dir():
                members[relative] = info
        return cls(target, root, members, archive)

    def size(self, name: str) -> int:
        return self.members[name].file_size

    def chunks(self, name: str, chunk_size: int = CHUNK) -> Iterator[bytes]:
        """The member's bytes; raises ``MemberUnreadable`` on corrupt data or more bytes than declared."""
        info = self.members[name]
        produced = 0
        try:
            with self._zip.open(info) as handle:
                while True:
                    chunk = handle.read(chunk_size)
                    if not chunk:
                        break
                    produced += len(chunk)
                    if produced > info.file_size:
                        raise MemberUnreadable(f"{name}: more bytes than the {info.file_size} declared")
                    yield chunk
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
            raise MemberUnreadable(f"{name}: cannot be read back: {exc}") from exc
        if produced != info.file_size:
            raise MemberUnreadable(f"{name}: {produced} bytes read, {info.file_size} declared")

    def read(self, name: str, limit: int = 64 * 1024 * 1024) -> bytes:
        """A whole (small) member; ``MemberUnreadable`` if it declares more than ``limit`` bytes."""
        if self.members[name].file_size > limit:
            raise MemberUnreadable(f"{name}: {self.members[name].file_size} bytes, expected at most {limit}")
        return b"".join(self.chunks(name))

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


__all__ = ["MAX_ENTRIES", "HostileArchive", "MemberUnreadable", "SafeZip"]
