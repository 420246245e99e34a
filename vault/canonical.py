"""RFC 8785 (JSON Canonicalization Scheme), fast where that is provably exact: writing (``dumps``) and
checking (``parse_canonical``).

``rfc8785`` (pure Python) is the reference and decides every case this module does not prove. For most
documents the standard library's C encoder with sorted keys, no whitespace and raw UTF-8 writes the same
bytes: with no floats (section 3.2.2.3 needs ECMAScript number formatting, which ``json`` does not do),
integers inside the I-JSON safe range, and keys whose code point order equals their UTF-16 code unit order
(section 3.2.3; true when no key mixes characters beyond the Basic Multilingual Plane with U+E000..U+FFFF,
and so for ASCII keys), both escape only ``"``, ``\\`` and control characters, with the same short forms
and lowercase ``\\u00xx``. Property tests hold both functions to ``rfc8785``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import rfc8785

CanonicalizationError = rfc8785.CanonicalizationError

#: The C encoder set up as JCS writes: sorted keys, no whitespace, raw (not \\u-escaped) characters.
_SORTED = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))

# --- writing ---------------------------------------------------------------------------------------

#: Integers JSON numbers carry exactly (RFC 8785 serializes numbers as IEEE 754 doubles).
_SAFE_INT = 2**53 - 1


def _plain(value: object) -> bool:
    """Whether ``json.dumps`` is guaranteed to write ``value`` exactly as RFC 8785 does: objects with ASCII
    keys (so code point order is UTF-16 order), strings, booleans, null, and integers a double holds.
    Floats are left to ``rfc8785``, which implements the ECMAScript number format. Exact types only
    (subclasses such as enums go to ``rfc8785``); iterative, as this runs on every append."""
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if not -_SAFE_INT <= item <= _SAFE_INT:  # type: ignore[operator]
                return False
        elif kind is dict:
            for key, inner in item.items():  # type: ignore[attr-defined]
                if type(key) is not str or not key.isascii():
                    return False
                pending.append(inner)
        elif kind is list:
            pending.extend(item)  # type: ignore[arg-type]
        else:
            return False
    return True


def dumps(document: Any) -> bytes:
    """RFC 8785 bytes of ``document``: ``rfc8785.dumps``, through the C encoder when ``_plain`` proves the
    bytes identical (every ledger append runs this; ``rfc8785.dumps`` was its largest CPU cost)."""
    if _plain(document):
        try:
            return _SORTED.encode(document).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: let rfc8785 refuse it with its own message
    return bytes(rfc8785.dumps(document))  # raises rfc8785.CanonicalizationError for what JCS refuses


# --- checking --------------------------------------------------------------------------------------

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
