"""RFC 8785 (JSON Canonicalization Scheme): are these bytes the canonical form of the JSON they hold?

Every ledger entry in a bundle must be canonical, and ``rfc8785.dumps`` (pure Python) re-serializes a
document several times slower than the standard library's C encoder. For most documents the two agree
exactly: with no floats (section 3.2.2.3 needs ECMAScript number formatting, which ``json`` does not
do), integers inside the I-JSON safe range, and no characters outside the Basic Multilingual Plane
(section 3.2.3 sorts keys by UTF-16 code units, which equals ``json``'s code point order only there),
``json`` with sorted keys and no whitespace writes the JCS bytes: both escape only ``"``, ``\\``
and control characters, with the same short forms and lowercase ``\\u00xx``. So when those conditions
hold and the bytes match, the document is canonical; in every other case ``rfc8785`` decides.
"""

from __future__ import annotations

import json
import re
from typing import Any

import rfc8785

#: A lead byte of a four-byte UTF-8 sequence: a character outside the Basic Multilingual Plane.
_NON_BMP = re.compile(rb"[\xf0-\xff]")
#: Integer literals longer than this may fall outside +-(2^53 - 1) (sign included: conservative).
_SAFE_DIGITS = 15


class _NotPlain(Exception):
    """A float, a non-finite constant or a long integer: only the exact path can judge it."""


def _refuse(_text: str) -> Any:
    raise _NotPlain


def _short_int(text: str) -> int:
    if len(text) > _SAFE_DIGITS:
        raise _NotPlain
    return int(text)


_PLAIN = json.JSONDecoder(parse_float=_refuse, parse_constant=_refuse, parse_int=_short_int)
_SORTED = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _exact(body: bytes) -> tuple[Any, bool]:
    try:
        document = json.loads(body)
        return document, bytes(rfc8785.dumps(document)) == body
    except (ValueError, rfc8785.CanonicalizationError):
        return None, False


def parse_canonical(body: bytes) -> tuple[Any, bool]:
    """``(document, canonical)``: the parsed JSON (``None`` if it is not JSON or cannot be canonical)
    and whether ``body`` is exactly its RFC 8785 serialization (``rfc8785.dumps(document) == body``)."""
    if not body.isascii() and _NON_BMP.search(body):
        return _exact(body)
    try:
        document = _PLAIN.decode(body.decode("utf-8"))
        if _SORTED.encode(document).encode("utf-8") == body:
            return document, True
    except (_NotPlain, ValueError):
        pass  # UnicodeError, JSONDecodeError and lone surrogates are all ValueError: let rfc8785 judge
    return _exact(body)


__all__ = ["parse_canonical"]
