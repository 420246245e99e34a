"""C2SP tlog-tiles: an organization's log served as tiles of Merkle tree hashes and as entry bundles.

Hand-written, like the rest of the ledger (the product's core): the format is small and exact, and the
tiles must come from the very nodes the proofs are built from. Every hash here is read through
``log.fetch_nodes``, the proofs' own reader of stored nodes, never from a second tree.

- Tile ``<L>/<N>`` holds the hashes of the tree's nodes at height ``8 * L`` with indexes ``N * 256`` up to
  ``N * 256 + 255``: each the RFC 9162 hash of ``256 ** L`` consecutive entries. Full tiles are 256 hashes
  (8,192 bytes); a partial tile ``.p/<W>`` has the first ``W`` (1 to 255).
- Entry bundle ``entries/<N>`` holds entries ``N * 256`` on, each prefixed by its length as a big-endian
  uint16, so each entry hashes (with the leaf prefix) to the matching hash of tile ``0/<N>``.
- ``<N>`` is written in 3-digit groups, all but the last prefixed ``x``: 1234067 is ``x001/x234/067``.

A tile exists once the organization's latest signed checkpoint covers all its hashes; since the hashes of
a tree never change, every tile served (a partial one too) is immutable.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

from sqlmodel import Session, col, select

from vault.errors import IntegrityFailure, NotFound
from vault.ledger import log
from vault.models import LedgerEntry

#: Hashes per full tile, and the tree height a tile spans (C2SP tlog-tiles).
TILE_WIDTH = 256
TILE_HEIGHT = 8
#: The largest entry an entry bundle can frame (a uint16 length).
MAX_ENTRY_BYTES = 0xFFFF
_LEVEL = re.compile(r"^(0|[1-9][0-9]?)$")
_GROUP = re.compile(r"^[0-9]{3}$")
_WIDTH = re.compile(r"^[1-9][0-9]{0,2}$")


@dataclass(frozen=True, slots=True)
class Tile:
    """One tile resource: ``level`` ``None`` for an entry bundle; ``width`` 256 for a full tile."""

    level: int | None
    index: int
    width: int = TILE_WIDTH

    @property
    def partial(self) -> bool:
        return self.width < TILE_WIDTH

    def path(self) -> str:
        """The resource path under ``<prefix>/tile/``."""
        head = "entries" if self.level is None else str(self.level)
        suffix = f".p/{self.width}" if self.partial else ""
        return f"{head}/{encode_index(self.index)}{suffix}"


def encode_index(index: int) -> str:
    """``<N>`` as zero-padded 3-digit path elements, all but the last starting with ``x``."""
    assert index >= 0, "a tile index is not negative"  # noqa: S101 - callers pass parsed indexes
    groups = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        groups.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(groups))


def parse_tile_path(path: str) -> Tile:
    """``<L>/<N>[.p/<W>]`` or ``entries/<N>[.p/<W>]`` in their one canonical spelling, else ``NotFound``."""
    parts = path.split("/")
    width = TILE_WIDTH
    if len(parts) >= 3 and parts[-2].endswith(".p"):
        if not _WIDTH.match(parts[-1]) or int(parts[-1]) >= TILE_WIDTH:
            raise NotFound(f"no tile {path!r}: a partial tile's width is 1 to 255")
        width = int(parts[-1])
        parts = [*parts[:-2], parts[-2][: -len(".p")]]
    if len(parts) < 2:
        raise NotFound(f"no tile {path!r}: expected <L>/<N>[.p/<W>] or entries/<N>[.p/<W>]")
    head, groups = parts[0], parts[1:]
    if head != "entries" and not (_LEVEL.match(head) and int(head) <= 63):
        raise NotFound(f"no tile {path!r}: the level is 0 to 63 or 'entries'")
    digits = [g[1:] for g in groups[:-1] if g.startswith("x")] + [groups[-1]]
    canonical = len(digits) == len(groups) and all(_GROUP.match(d) for d in digits)
    if not canonical or (len(digits) > 1 and digits[0] == "000"):
        raise NotFound(f"no tile {path!r}: the index is written in 3-digit groups, all but the last after 'x'")
    index = int("".join(digits))
    return Tile(None if head == "entries" else int(head), index, width)


def _require_published(tile: Tile, size: int) -> None:
    """``NotFound`` unless the checkpoint of ``size`` covers every hash (or entry) of ``tile``."""
    height = TILE_HEIGHT * (tile.level or 0)
    covered = size >> height  # complete subtrees of that height
    if tile.index * TILE_WIDTH + tile.width > covered:
        raise NotFound(f"no tile {tile.path()}: the latest checkpoint (size {size}) does not cover it")


def tile_hashes(session: Session, organization_id: str, tile: Tile, size: int) -> bytes:
    """The concatenated hashes of a tile of levels, read from the stored tree nodes."""
    assert tile.level is not None, "an entry bundle is not a tile of hashes"  # noqa: S101 - the route chooses
    _require_published(tile, size)
    height = TILE_HEIGHT * tile.level
    first = tile.index * TILE_WIDTH
    wanted = [(height, first + i) for i in range(tile.width)]
    nodes = log.fetch_nodes(session, organization_id, wanted)
    return b"".join(nodes[node] for node in wanted)


def entry_bundle(session: Session, organization_id: str, tile: Tile, size: int) -> bytes:
    """The entries of a tile, each prefixed by its length (big-endian uint16)."""
    assert tile.level is None, "a tile of hashes is not an entry bundle"  # noqa: S101 - the route chooses
    _require_published(tile, size)
    first = tile.index * TILE_WIDTH
    query = (
        select(LedgerEntry.idx, LedgerEntry.body)
        .where(LedgerEntry.organization_id == organization_id)
        .where(col(LedgerEntry.idx) >= first, col(LedgerEntry.idx) < first + tile.width)
        .order_by(col(LedgerEntry.idx))
    )
    rows = session.exec(query).all()
    if [idx for idx, _ in rows] != list(range(first, first + tile.width)):
        raise IntegrityFailure(f"the stored ledger lacks entries of {tile.path()}")
    out = bytearray()
    for idx, body in rows:
        data = bytes(body)
        if len(data) > MAX_ENTRY_BYTES:
            raise IntegrityFailure(
                f"entry {idx} is {len(data)} bytes, more than the {MAX_ENTRY_BYTES} an entry bundle can frame"
            )
        out += len(data).to_bytes(2, "big") + data
    return bytes(out)


class FullTiles:
    """The full tiles (and full entry bundles) served lately, by organization: they never change once they
    exist, so a reader asking again is answered without reading the tree (``bench/witness.py``: a tile read
    from the stored nodes took about three times a static response). Bounded by ``max_bytes``, least
    recently used first out; one per deployment (``Services.tiles``), never shared between databases.
    Partial tiles are never kept: the next one of that index is wider."""

    def __init__(self, max_bytes: int = 32 * 1024 * 1024) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple[str, Tile], bytes] = OrderedDict()

    def get(self, organization_id: str, tile: Tile) -> bytes | None:
        with self._lock:
            body = self._kept.get((organization_id, tile))
            if body is not None:
                self._kept.move_to_end((organization_id, tile))
            return body

    def keep(self, organization_id: str, tile: Tile, body: bytes) -> None:
        if tile.partial or len(body) > self._max_bytes:
            return
        with self._lock:
            if self._kept.setdefault((organization_id, tile), body) is not body:
                return  # another request kept the same bytes first
            self._bytes += len(body)
            while self._bytes > self._max_bytes:
                _, dropped = self._kept.popitem(last=False)
                self._bytes -= len(dropped)
