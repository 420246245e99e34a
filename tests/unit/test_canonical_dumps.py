"""``vault.canonical.dumps`` writes exactly what rfc8785 writes and refuses what it refuses; ledger entries
turn a refusal into a 400-class error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from vault.canonical import CanonicalizationError, dumps
from vault.errors import InvalidInput
from vault.ledger.entries import EntryDraft, encode_entry

# Keys and strings from all of Unicode (surrogates excluded: Python str cannot encode them as UTF-8), with
# control characters, quotes, backslashes and characters beyond the BMP well represented.
text = st.text(
    st.one_of(
        st.characters(blacklist_categories=("Cs",)),
        st.sampled_from(['"', "\\", "\x00", "\x1f", "\x7f", "\u2028", "\ue000", "\U0001f600", "/"]),
    ),
    max_size=12,
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    text,
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(text, inner, max_size=5)),
    max_leaves=25,
)


@settings(max_examples=600, deadline=None)
@given(documents)
def test_same_bytes_as_rfc8785(document: Any) -> None:
    try:
        expected = rfc8785.dumps(document)
    except rfc8785.CanonicalizationError:
        with pytest.raises(CanonicalizationError):
            dumps(document)
        return
    assert dumps(document) == expected


def test_key_order_is_utf16_order_beyond_the_bmp() -> None:
    # U+E000 sorts after U+1F600 by code point but before it by UTF-16 code unit (0xD83D): RFC 8785 wants the latter.
    document = {"\ue000": 1, "\U0001f600": 2}
    assert dumps(document) == rfc8785.dumps(document)
    assert dumps(document).index("\U0001f600".encode()) < dumps(document).index("\ue000".encode())


@pytest.mark.parametrize("bad", [2**53 + 1, float("nan"), {"a": "\ud800"}, {1: "int key"}, b"bytes"])
def test_what_rfc8785_refuses_is_refused(bad: Any) -> None:
    with pytest.raises(CanonicalizationError):
        dumps(bad)
    with pytest.raises(InvalidInput, match="not canonicalizable"):
        encode_entry(EntryDraft("t", "org", None, "actor", {"value": bad}), datetime.now(UTC))
