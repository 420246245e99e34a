"""RFC 8785 (JSON Canonicalization Scheme): are these bytes the canonical form of the JSON they hold?

Every ledger entry in a bundle must be canonical, and ``rfc8785.dumps`` (pure Python) re-serializes a
document several times slower than the standard library's C encoder. For most documents the two agree
exactly: with no floats (section 3.2.2.3 needs ECMAScript number formatting, which ``json`` does not
do), integers inside the I-JSON safe range, and no characters outside the Basic Multilingual Plane
(section 3.2.3 sorts keys by UTF-16 code units, which equals ``json``'s code point order only there),
``json.dumps`` with sorted keys and no whitespace writes the JCS bytes: both escape only ``"``, ``\\``
and control characters, with the same short forms and lowercase ``\\u00xx``. So when those conditions
hold and the bytes match, the document is canonical; in every other case ``rfc8785`` decides.
"""

from __future__ import annotations

import json
import re
from typing import Any

import rfc8785

#: Sixteen digits in a row may be an integer outside +-(2^53 - 1) (or just part of a string: then the
#: exact path merely runs for nothing).
_LONG_NUMBER = re.compile(rb"[0-9]{16}")
#: A lead byte of a four-byte UTF-8 sequence: a character outside the Basic Multilingual Plane.
_NON_BMP = re.compile(rb"[\xf0-\xff]")


class _NotPlain(Exception):
    """The document holds a float or a non-finite constant: only the exact path can judge it."""


def _refuse(_text: str) -> Any:
    raise _NotPlain


_PLAIN = json.JSONDecoder(parse_float=_refuse, parse_constant=_refuse)


def _exact(body: bytes) -> tuple[Any, bool]:
    try:
        document = json.loads(body)
        return document, bytes(rfc8785.dumps(document)) == body
    except (ValueError, rfc8785.CanonicalizationError):
        return None, False


def parse_canonical(body: bytes) -> tuple[Any, bool]:
    """``(document, canonical)``: the parsed JSON (``None`` if it is not JSON or cannot be canonical)
    and whether ``body`` is exactly its RFC 8785 serialization (``rfc8785.dumps(document) == body``)."""
    if _LONG_NUMBER.search(body) or _NON_BMP.search(body):
        return _exact(body)
    try:
        document = _PLAIN.decode(body.decode("utf-8"))
        plain = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        if plain.encode("utf-8") == body:
            return document, True
    except (_NotPlain, ValueError):
        pass  # UnicodeError, JSONDecodeError and lone surrogates are all ValueError: let rfc8785 judge
    return _exact(body)


__all__ = ["parse_canonical"]
