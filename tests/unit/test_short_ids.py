"""Short ids (issue 14, item 8): what may name a record, and the shortest unique prefix tables show."""

from __future__ import annotations

import pytest

from vault.errors import InvalidInput
from vault.ids import MIN_PREFIX, is_full_id, parse_id_text, shortest_prefixes

FULL = "3f2a9c1e-7b4d-4e8a-9c0f-1a2b3c4d5e6f"


@pytest.mark.parametrize("text", [FULL, FULL.upper(), FULL[:8], FULL[:9], FULL[:13], FULL[:20], f" {FULL[:10]} "])
def test_full_ids_and_prefixes_of_eight_or_more_are_accepted(text: str) -> None:
    value = parse_id_text(text)
    assert FULL.startswith(value) and is_full_id(value) == (len(value) == len(FULL))


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (FULL[:7], "too short"),
        ("", "too short"),
        ("zzzzzzzzzz", "is not an id"),
        ("3f2a9c1e7b4d", "is not an id"),  # the dash after 8 hex digits is part of the id
        (FULL + "0", "is not an id"),
        ("3f2a9c1e-7b4d-4e8a-9c0f-1a2b3c4d5e6g", "is not an id"),
        ("../../etc/passwd", "is not an id"),
    ],
)
def test_anything_else_is_refused_with_the_reason(text: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        parse_id_text(text)


def test_shortest_prefixes_are_eight_characters_unless_two_ids_share_more() -> None:
    ids = [
        "aaaaaaaa-0000-4000-8000-000000000001",
        "aaaaaaaa-0000-4000-8000-000000000002",
        "aaaaaaab-0000-4000-8000-000000000000",
        "bbbbbbbb-1111-4000-8000-000000000000",
        "bbbbbbbb-2222-4000-8000-000000000000",
    ]
    shown = shortest_prefixes(ids)
    assert shown == {
        ids[0]: ids[0],
        ids[1]: ids[1],
        ids[2]: "aaaaaaab",
        ids[3]: "bbbbbbbb-1",
        ids[4]: "bbbbbbbb-2",
    }
    for value, prefix in shown.items():
        assert len(prefix) >= MIN_PREFIX
        assert [other for other in ids if other.startswith(prefix)] == [value]
    assert shortest_prefixes([]) == {}
