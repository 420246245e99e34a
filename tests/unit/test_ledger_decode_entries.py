"""``decode_entries``: the same documents as ``decode_entry``, with repeated strings held once."""

from __future__ import annotations

import pytest

from vault.errors import InvalidInput
from vault.ledger.entries import decode_entries, decode_entry

BODIES = [
    b'{"actor":"bench","case":"c-1","data":{"note":"%d","text":"%s"},"type":"case.note","v":2}' % (n, b"x" * n)
    for n in range(60)
] + ['{"actor":"Bénch","data":{"list":[1,"a",{"k":null}]},"type":"t","v":2}'.encode()]


def test_decode_entries_gives_what_decode_entry_gives() -> None:
    assert decode_entries(BODIES) == [decode_entry(body) for body in BODIES]


def test_repeated_keys_and_short_values_are_one_object() -> None:
    first, second = decode_entries(BODIES[:2])
    assert next(iter(first)) is next(iter(second))  # the key "actor"
    assert first["actor"] is second["actor"] and first["type"] is second["type"]
    assert first["data"]["text"] == "" and second["data"]["text"] == "x"


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"'])
def test_a_body_that_is_not_an_object_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidInput, match="not a JSON object"):
        decode_entries([BODIES[0], body])
