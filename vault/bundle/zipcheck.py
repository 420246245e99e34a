"""The checks that decide whether a bundle ZIP is read at all (PKWARE APPNOTE 4.3.12, 4.3.16).

First what the file is, in one sentence when it cannot be a ZIP: missing, a directory, empty, cut
short before its end-of-central-directory record, a PDF, something else. Then functions over the
central directory's ``zipfile.ZipInfo`` entries, each returning the problems it found as sentences
(``SafeZip.open`` reports them all at once): unsafe names, special files, encryption, methods, stored
sizes, overlapping members, and the total of the declared uncompressed sizes against a limit. There is
no rule on the compression ratio: deflate reaches about 1032:1 on repetitive text, which a genuine
bundle re-zipped by a common tool does produce, and a member that inflates beyond its declared size is
stopped there while it is read (``SafeZip.feed``), so the declared sizes are what bounds the work.
"""

from __future__ import annotations

import re
import stat
import zipfile
from pathlib import Path

#: The default cap on the sum of the members' declared uncompressed sizes.
DEFAULT_MAX_ARCHIVE_BYTES = 64 << 30

_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Components of ASCII letters, digits and ``._-`` not starting with a dot, with an optional final ``/``.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)*/?")
#: How a ZIP file starts: a local file header, an end record (no members), or a spanning marker.
_ZIP_STARTS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
#: The local file header's fixed part (APPNOTE 4.3.7), which precedes each member's name.
LOCAL_HEADER_SIZE = 30


def without_end_record(name: str, head: bytes) -> str:
    """Why a file with no end-of-central-directory record is refused; ``head``: its first 4 bytes."""
    if head in _ZIP_STARTS:
        # The end record is the last thing in a ZIP: a file that starts like one but has none was cut short.
        return f"{name} is a truncated ZIP archive (it ends before its end-of-central-directory record)"
    if head == b"%PDF":
        return f"{name} is a PDF document, not a ZIP archive (no end-of-central-directory record)"
    return f"{name} is not a ZIP archive (no end-of-central-directory record)"


def file_problem(target: Path) -> str | None:
    """Why ``target`` is not a file that could hold a bundle, or ``None``."""
    try:
        status = target.lstat()
    except FileNotFoundError:
        return f"{target} does not exist"
    except OSError as exc:
        return f"{target} cannot be read: {exc.strerror or exc}"
    if stat.S_ISLNK(status.st_mode):
        return f"{target} is a symbolic link, not a regular file"
    if stat.S_ISDIR(status.st_mode):
        return f"{target} is a directory, not a regular file (a bundle is one ZIP file)"
    if not stat.S_ISREG(status.st_mode):
        return f"{target} is not a regular file"
    if status.st_size == 0:
        return f"{target.name} is empty (0 bytes), not a ZIP archive"
    return None


def path_problem(name: str) -> str | None:
    """Why a member name is unsafe, or ``None``. Directory names end in ``/``."""
    if _PLAIN_NAME.fullmatch(name):
        return None  # the shape of every name a bundle writes: none of the problems below can apply
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


def member_problems(info: zipfile.ZipInfo) -> list[str]:
    """What is wrong with one directory entry, judged from the directory alone."""
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
    return problems


def overlaps(ordered: list[zipfile.ZipInfo], directory_start: int) -> list[str]:
    """Members whose data runs into the next member or the directory; ``ordered``: the entries by offset."""
    problems = []
    # Paired with the next entry, the last with ``None`` (the directory); not zip(strict=True) over
    # ``[*ordered[1:], None]``, which raised ValueError on an archive of no entries.
    for at, current in enumerate(ordered):
        following = ordered[at + 1] if at + 1 < len(ordered) else None
        end = (
            current.header_offset
            + LOCAL_HEADER_SIZE
            + len(current.orig_filename.encode("utf-8"))
            + current.compress_size
        )
        limit = following.header_offset if following is not None else directory_start
        if end > limit:
            problems.append(f"{current.orig_filename!r}: overlaps the next member or the central directory")
    return problems


def total_problem(infos: list[zipfile.ZipInfo], limit: int) -> str | None:
    """Why the declared uncompressed sizes are refused in all, or ``None`` when their sum is within ``limit``."""
    total = sum(info.file_size for info in infos)
    if total <= limit:
        return None
    return f"the members declare {total} bytes uncompressed in all, above the limit of {limit} bytes"


__all__ = [
    "DEFAULT_MAX_ARCHIVE_BYTES",
    "file_problem",
    "member_problems",
    "overlaps",
    "path_problem",
    "total_problem",
    "without_end_record",
]
