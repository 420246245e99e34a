"""``ledger verify``: recompute an organization's tree from the stored entry bytes and check everything
stored against it: leaf hashes, the perfect-subtree nodes each row stores, each entry's own fields against
its row and organization, contiguity, and every signed checkpoint (signature by a known key, origin, root
at its size, consistency with the latest, and no checkpoint covering entries that are gone).

The recomputation streams entries in index order keeping only the O(log n) right-edge subtrees, so it
needs no more memory for a million entries than for ten. It reports every problem it finds; ``first_bad_index``
names the lowest entry index implicated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from signing.keys import Verifier
from vault.config import Settings
from vault.errors import OffboardError
from vault.ledger import keyring, log
from vault.ledger.checkpoint import open_checkpoint
from vault.ledger.entries import CaseLink, decode_entry, entry_mismatch, link_mismatch
from vault.ledger.hashing import EMPTY_ROOT, leaf_hash, node_hash
from vault.ledger.tree import consistency_nodes_needed, consistency_proof
from vault.ledger.verifiers import verify_consistency
from vault.models import Checkpoint, LedgerEntry, Organization

BATCH = 5000


@dataclass(frozen=True, slots=True)
class LedgerProblem:
    #: Lowest entry index the problem implicates, or ``None`` when it is about a checkpoint as a whole.
    index: int | None
    detail: str


@dataclass(frozen=True, slots=True)
class LedgerReport:
    organization: str
    size: int
    checkpoints_checked: int
    problems: tuple[LedgerProblem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_index(self) -> int | None:
        indexes = [p.index for p in self.problems if p.index is not None]
        return min(indexes) if indexes else None


class _Compact:
    """The right edge of a growing tree: perfect subtrees (level, index, hash), largest first."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, int, bytes]] = []
        self.size = 0

    def push(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Append a leaf; returns every perfect subtree it completed, bottom up."""
        completed = [(0, self.size, leaf)]
        level, idx, value = 0, self.size, leaf
        while self.stack and self.stack[-1][0] == level:
            _, left_idx, left = self.stack.pop()
            value = node_hash(left, value)
            level, idx = level + 1, left_idx // 2
            completed.append((level, idx, value))
        self.stack.append((level, idx, value))
        self.size += 1
        return completed

    def root(self) -> bytes:
        if not self.stack:
            return EMPTY_ROOT
        value = self.stack[-1][2]
        for _, _, left in reversed(self.stack[:-1]):
            value = node_hash(left, value)
        return value


def verify_ledger(session: Session, settings: Settings, org: Organization) -> LedgerReport:
    """Recompute the tree from the stored entries in ``session`` (a read session) and check every checkpoint."""
    size = log.size(session, org.id)
    checkpoints = list(
        session.exec(
            select(Checkpoint).where(Checkpoint.organization_id == org.id).order_by(col(Checkpoint.size))
        ).all()
    )
    verifiers = keyring.verifiers(session, org.id)
    replay = _Replay(org.id, {c.size for c in checkpoints})
    if not replay.run(session):
        return _report(org, size, checkpoints, replay.problems)  # a gap: nothing after it can be checked
    signed, stored = max(replay.roots_wanted, default=0), replay.expected
    if signed > stored:
        replay.problems.append(
            LedgerProblem(stored, f"a checkpoint covers {signed} entries but only {stored} are stored")
        )
    _check_checkpoints(session, settings, org, checkpoints, replay.roots, verifiers, replay.problems)
    return _report(org, size, checkpoints, replay.problems)


@dataclass(slots=True)
class _Replay:
    """The stored entries replayed in index order into a ``_Compact`` tree, each row checked as it comes."""

    organization_id: str
    #: The sizes the signed checkpoints name: the tree's root is kept at each.
    roots_wanted: set[int]
    problems: list[LedgerProblem] = field(default_factory=list)
    roots: dict[int, bytes] = field(default_factory=lambda: {0: EMPTY_ROOT})
    tree: _Compact = field(default_factory=_Compact)
    #: Tree nodes (level, index) already found wrong: a mismatch above one is its consequence.
    tainted: set[tuple[int, int]] = field(default_factory=set)
    #: The next index expected (after the run: how many contiguous entries are stored).
    expected: int = 0
    #: Each case's last entry so far: every case entry must link to it (``entries.CaseLink``).
    case_heads: dict[str, CaseLink] = field(default_factory=dict)

    def run(self, session: Session) -> bool:
        """Replay every entry, in batches; ``False`` when one is missing (the replay stops there)."""
        while True:
            rows = session.exec(
                select(LedgerEntry)
                .where(LedgerEntry.organization_id == self.organization_id, col(LedgerEntry.idx) >= self.expected)
                .order_by(col(LedgerEntry.idx))
                .limit(BATCH)
            ).all()
            if not rows:
                return True
            for row in rows:
                if row.idx != self.expected:
                    self.problems.append(
                        LedgerProblem(self.expected, f"entries {self.expected}..{row.idx - 1} are missing")
                    )
                    return False
                self._entry(row)

    def _entry(self, row: LedgerEntry) -> None:
        recomputed = leaf_hash(bytes(row.body))
        if recomputed != bytes(row.leaf_hash):
            self.tainted.add((0, row.idx))
            self.problems.append(LedgerProblem(row.idx, f"entry {row.idx}: bytes do not hash to the stored leaf hash"))
        self._fields(row, recomputed)
        self._nodes(row, self.tree.push(recomputed)[1:])
        self.expected += 1
        if self.expected in self.roots_wanted:
            self.roots[self.expected] = self.tree.root()

    def _fields(self, row: LedgerEntry, recomputed: bytes) -> None:
        """The entry's own fields against its row and organization, and its link to its case's previous entry."""
        mismatch = entry_mismatch(bytes(row.body), self.organization_id, row.entry_type, row.case_id)
        if mismatch is not None:
            self.problems.append(LedgerProblem(row.idx, f"entry {row.idx}: {mismatch}"))
        elif row.case_id is not None:
            broken = link_mismatch(decode_entry(bytes(row.body)), self.case_heads.get(row.case_id))
            if broken is not None:
                self.problems.append(LedgerProblem(row.idx, f"entry {row.idx}: {broken}"))
            self.case_heads[row.case_id] = CaseLink(row.idx, recomputed)

    def _nodes(self, row: LedgerEntry, completed: list[tuple[int, int, bytes]]) -> None:
        """The perfect-subtree nodes the row stores against those its append completes."""
        parents = bytes(row.parents)
        if len(parents) != 32 * len(completed):
            self.problems.append(
                LedgerProblem(
                    row.idx,
                    f"entry {row.idx}: stores {len(parents) // 32} tree node(s), its append completes {len(completed)}",
                )
            )
            self.tainted.update((level, idx) for level, idx, _ in completed)
            return  # the row is malformed; its slices mean nothing
        for level, idx, value in completed:
            if parents[32 * (level - 1) : 32 * level] == value:
                continue
            self.tainted.add((level, idx))
            if {(level - 1, 2 * idx), (level - 1, 2 * idx + 1)} & self.tainted:
                continue  # a consequence of the mismatch below it, already reported
            self.problems.append(
                LedgerProblem(idx << level, f"stored tree node ({level}, {idx}) does not match the entries")
            )


def _check_checkpoints(
    session: Session,
    settings: Settings,
    org: Organization,
    checkpoints: list[Checkpoint],
    roots: dict[int, bytes],
    verifiers: list[Verifier],
    problems: list[LedgerProblem],
) -> None:
    origin = keyring.origin_of(settings, org)
    for cp in checkpoints:
        try:
            signed = open_checkpoint(cp.note, verifiers, origin=origin)
        except OffboardError as exc:
            problems.append(LedgerProblem(None, f"checkpoint of size {cp.size} (id {cp.id}): {exc.message}"))
            continue
        if signed.body.size != cp.size or signed.body.root_hash != bytes(cp.root_hash):
            problems.append(LedgerProblem(None, f"checkpoint {cp.id}: stored size/root differ from its signed note"))
        recomputed = roots.get(signed.body.size)
        if recomputed is not None and recomputed != signed.body.root_hash:
            # Without entry-level findings, the change lies after the last checkpoint that still matched.
            entry_level = any(p.index is not None for p in problems)
            problems.append(
                LedgerProblem(
                    None if entry_level else _first_leaf_of_size(signed.body.size, roots),
                    f"checkpoint of size {signed.body.size}: signed root differs from the root of the stored entries",
                )
            )
    if len(checkpoints) > 1:
        latest = checkpoints[-1]
        for cp in checkpoints[:-1]:
            if cp.size == 0 or cp.size == latest.size:
                continue
            try:
                nodes = log.fetch_nodes(session, org.id, consistency_nodes_needed(cp.size, latest.size))
                proof = consistency_proof(cp.size, latest.size, nodes)
                verify_consistency(cp.size, latest.size, proof, bytes(cp.root_hash), bytes(latest.root_hash))
            except OffboardError as exc:
                problems.append(
                    LedgerProblem(None, f"checkpoint {cp.size} is not consistent with {latest.size}: {exc.message}")
                )


def _first_leaf_of_size(size: int, roots: dict[int, bytes]) -> int:
    # The tampered entry lies after the largest earlier checkpoint whose root still matched.
    earlier = [s for s in roots if s < size]
    return max(earlier) if earlier else 0


def _report(org: Organization, size: int, checkpoints: list[Checkpoint], problems: list[LedgerProblem]) -> LedgerReport:
    return LedgerReport(org.slug, size, len(checkpoints), tuple(problems))
