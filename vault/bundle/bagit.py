"""RFC 8493 (BagIt 1.0): the tag files of a bag, written and parsed.

Hand-written on purpose: bagit-python writes ``BagIt-Version: 0.97`` and only builds bags from folders on
disk, while a bundle is streamed straight into a ZIP. bagit-python is used in the tests as an independent
validator of what this module writes.

- ``bagit.txt`` (section 2.1.1) is exactly two lines: version 1.0 and UTF-8 tag encoding.
- ``bag-info.txt`` (section 2.2.2) is ``Label: value`` lines; ``Payload-Oxum`` is ``<octets>.<files>``.
- manifests (sections 2.1.3, 2.2.1) are ``<hex digest>  <path>`` lines (two spaces here, which parsers
  must accept as "one or more linear whitespace"); CR, LF and ``%`` in paths are percent-encoded.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vault.errors import InvalidInput

_HEX = re.compile(r"^[0-9a-fA-F]+$")
BAGIT_TXT_BODY = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"


class MalformedBag(InvalidInput):
    """A tag file of the bag breaks RFC 8493."""

    code = "malformed-bag"


def encode_path(path: str) -> str:
    """Section 2.1.3: percent-encode ``%``, CR and LF (``%`` first, so encoding is reversible)."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def decode_path(text: str) -> str:
    return text.replace("%0A", "\n").replace("%0a", "\n").replace("%0D", "\r").replace("%0d", "\r").replace("%25", "%")


def manifest_text(digests: Mapping[str, str]) -> bytes:
    """Manifest lines for ``{path: hex digest}``, sorted by path so the output is reproducible."""
    return "".join(f"{digests[path]}  {encode_path(path)}\n" for path in sorted(digests)).encode("utf-8")


def parse_manifest(data: bytes, algorithm: str, what: str) -> dict[str, str]:
    """``{path: hex digest}``; refuses malformed lines, wrong digest lengths and duplicate paths."""
    length = hashlib.new(algorithm).digest_size * 2
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedBag(f"{what} is not UTF-8") from exc
    out: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        digest, _, rest = line.partition(" ")
        path = decode_path(rest.lstrip(" \t"))
        if len(digest) != length or not _HEX.match(digest) or not path:
            raise MalformedBag(f"{what} line {number}: expected '<{length} hex digits>  <path>', found {line!r}")
        if path in out:
            raise MalformedBag(f"{what} lists {path!r} twice")
        out[path] = digest.lower()
    return out


def payload_oxum(sizes: Iterable[int]) -> str:
    values = list(sizes)
    return f"{sum(values)}.{len(values)}"


def clean_value(value: str) -> str:
    """A ``bag-info.txt`` value as written: one line of printable characters, runs of spaces collapsed."""
    # A label value is one line; a newline in a client name must not start a forged label.
    return " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())


def bag_info_text(fields: Iterable[tuple[str, str]]) -> bytes:
    return "".join(f"{label}: {clean_value(value)}\n" for label, value in fields).encode("utf-8")


@dataclass(frozen=True, slots=True)
class BagInfo:
    """``bag-info.txt`` as ordered (label, value) pairs; labels may repeat (section 2.2.2)."""

    fields: tuple[tuple[str, str], ...]

    def get(self, label: str) -> str | None:
        return next((value for name, value in self.fields if name.lower() == label.lower()), None)

    @classmethod
    def parse(cls, data: bytes) -> BagInfo:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedBag("bag-info.txt is not UTF-8") from exc
        fields: list[tuple[str, str]] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line[:1] in (" ", "\t") and fields:
                # A continuation line folds into the previous value (section 2.2.2).
                label, value = fields[-1]
                fields[-1] = (label, f"{value} {line.strip()}")
                continue
            label, colon, value = line.partition(":")
            if not colon or not label.strip():
                raise MalformedBag(f"bag-info.txt line {number}: expected 'Label: value', found {line!r}")
            fields.append((label.strip(), value.strip()))
        return cls(tuple(fields))


def parse_oxum(value: str) -> tuple[int, int]:
    octets, dot, count = value.partition(".")
    if not dot or not octets.isdigit() or not count.isdigit():
        raise MalformedBag(f"expected Payload-Oxum '<octets>.<files>', found {value!r}")
    return int(octets), int(count)
