"""C2SP tlog-tiles paths: ``<N>`` in 3-digit groups, partial widths, one canonical spelling."""

from __future__ import annotations

import pytest

from vault.errors import NotFound
from vault.ledger.tiles import Tile, encode_index, parse_tile_path


@pytest.mark.parametrize(
    ("index", "text"),
    [
        (0, "000"),
        (5, "005"),
        (999, "999"),
        (1000, "x001/000"),
        (1234067, "x001/x234/067"),
        (10**9, "x001/x000/x000/000"),
    ],
)
def test_indexes_are_written_in_groups_of_three(index: int, text: str) -> None:
    assert encode_index(index) == text
    assert parse_tile_path(f"0/{text}") == Tile(0, index)


def test_paths_of_every_kind_round_trip() -> None:
    for tile in (Tile(0, 0), Tile(2, 1234067, 17), Tile(None, 3), Tile(None, 1000, 255), Tile(63, 1, 1)):
        assert parse_tile_path(tile.path()) == tile
    assert Tile(1, 0, 17).path() == "1/000.p/17" and Tile(None, 1234067).path() == "entries/x001/x234/067"


@pytest.mark.parametrize(
    "path",
    [
        "",
        "0",
        "0/",
        "64/000",
        "01/000",
        "-1/000",
        "x/000",
        "0/5",
        "0/0005",
        "0/x000/005",
        "0/001/000",
        "0/x1/000",
        "0/000.p/0",
        "0/000.p/256",
        "0/000.p/07",
        "0/000.p/",
        "0/000.p",
        "entries/000.p/999",
        "entry/000",
        "0/abc",
        "0/00a",
    ],
)
def test_anything_else_is_not_a_tile(path: str) -> None:
    with pytest.raises(NotFound):
        parse_tile_path(path)


def test_full_tiles_keeps_full_tiles_only_and_drops_the_least_recently_used() -> None:
    from vault.ledger.tiles import FullTiles, Tile

    kept = FullTiles(max_bytes=3 * 8192)
    a, b, c, d = (Tile(0, n) for n in range(4))
    for tile in (a, b, c):
        kept.keep("org", tile, bytes([tile.index]) * 8192)
    assert kept.get("org", a) == b"\x00" * 8192  # a is now the most recently used
    kept.keep("org", d, b"\x03" * 8192)  # over the bound: b, the least recently used, goes
    assert kept.get("org", b) is None and kept.get("org", c) == b"\x02" * 8192 and kept.get("org", d) is not None
    assert kept.get("another org", a) is None  # keyed by organization
    partial = Tile(0, 9, width=17)
    kept.keep("org", partial, b"\x09" * 17 * 32)
    assert kept.get("org", partial) is None  # a partial tile grows: never kept
    entries = Tile(None, 0)
    kept.keep("org", entries, b"x" * (4 * 8192))  # larger than the whole bound: not kept
    assert kept.get("org", entries) is None and kept.get("org", a) is not None
