"""The fast canonical-JSON check answers exactly as rfc8785 does, for canonical and other encodings."""

from __future__ import annotations

import json
from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from vault.canonical import parse_canonical

KEYS = st.text(max_size=6) | st.sampled_from(["a", "b", "\ue000", "\U0001f600", "A", "é", "\x7f", "\x00"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.sampled_from([2**53 - 1, -(2**53) + 1, 2**53, 10**15, 0, -0])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=20,
)


def reference(body: bytes) -> tuple[Any, bool]:
    try:
        document = json.loads(body)
        return document, bytes(rfc8785.dumps(document)) == body
    except (ValueError, rfc8785.CanonicalizationError):
        return None, False


def encodings(document: Any) -> list[bytes]:
    out = []
    try:
        out.append(bytes(rfc8785.dumps(document)))
    except rfc8785.CanonicalizationError:
        pass
    for ascii_only in (False, True):
        for sort_keys in (False, True):
            text = json.dumps(document, ensure_ascii=ascii_only, sort_keys=sort_keys, separators=(",", ":"))
            out.append(text.encode("utf-8", "surrogatepass"))
    out.append(json.dumps(document, sort_keys=True).encode("utf-8", "surrogatepass"))
    return out


def same(left: tuple[Any, bool], right: tuple[Any, bool]) -> bool:
    # NaN-free documents compare by value; the flags must agree exactly.
    return left[1] == right[1] and json.dumps(left[0], sort_keys=True) == json.dumps(right[0], sort_keys=True)


@settings(max_examples=400)
@given(DOCUMENTS)
def test_agrees_with_rfc8785_on_every_encoding(document: Any) -> None:
    for body in encodings(document):
        assert same(parse_canonical(body), reference(body)), body


def test_known_cases() -> None:
    assert parse_canonical(b'{"a":1,"b":[true,null,"x"]}') == ({"a": 1, "b": [True, None, "x"]}, True)
    assert parse_canonical(b'{"b":1,"a":2}')[1] is False  # key order
    assert parse_canonical(b'{"a": 1}')[1] is False  # whitespace
    assert parse_canonical(b'{"a":1.0}')[1] is False  # JCS writes 1
    assert parse_canonical(b'{"a":1.5}')[1] is True
    assert parse_canonical(b'{"a":NaN}') == (None, False)
    assert parse_canonical(b'{"a":9007199254740992}') == (None, False)  # beyond 2^53 - 1
    assert parse_canonical(b'{"a":9007199254740991}')[1] is True
    assert parse_canonical(b'{"a":"\\u00e9"}')[1] is False  # JCS writes the character itself
    assert parse_canonical('{"a":"é"}'.encode())[1] is True
    assert parse_canonical(b'{"a":"\\ud800"}') == (None, False)  # a lone surrogate is not UTF-8
    assert parse_canonical(b'{"a":"\\u001f\\n"}')[1] is True
    # U+E000 sorts after U+1F600 in UTF-16 (surrogates D83D...) but before it by code point.
    assert parse_canonical('{"\U0001f600":1,"\ue000":2}'.encode())[1] is True
    assert parse_canonical('{"\ue000":2,"\U0001f600":1}'.encode())[1] is False
    assert parse_canonical(b"\xef\xbb\xbf{}") == ({}, False)  # a BOM is not canonical
    assert parse_canonical(b"not json") == (None, False)
