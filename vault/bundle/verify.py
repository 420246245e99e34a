"""Offline verification of an evidence bundle ZIP (``docs/bundle.md``, "Verifying").

Reads straight from the archive, never extracting to disk, after ``SafeZip`` has refused hostile
archives. Every file is hashed once (SHA-256 and SHA-512, ``vault.bundle.digests``): the large ones on
two threads while this one hashes the small ones and checks the ledger entries; then every check
of the bag (RFC 8493 section 3: complete and valid) and of the content (``vault.bundle.checks``: keys,
checkpoint, inclusion and consistency proofs, evidence against its ledger entries, receipts,
timestamps) runs and is reported. ``ok`` is true only when every check passed; nothing stops at the
first failure.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from signing.keys import Verifier
from vault.bundle import bagit, layout
from vault.bundle.checks import ContentChecks, needed_before_evidence
from vault.bundle.digests import MemberDigests, hash_inline, start_large
from vault.bundle.witness_checks import WitnessPolicy
from vault.bundle.zipsafe import DEFAULT_MAX_ARCHIVE_BYTES, HostileArchive, SafeZip

#: Pool threads hashing large members at most, besides the calling thread, which joins them once its
#: own checks are done (``digests.start_large``): two keep a typical laptop busy.
HASH_WORKERS = 2
#: The interpreter's switch interval while verifying, in seconds. A hashing thread takes the GIL back
#: after each C call (read, CRC-32, SHA-256, SHA-512 of a chunk); while this thread runs Python it gets
#: it only when the interval expires (5 ms by default), which cost the hashing thread about 40 % of its
#: time during the ledger checks. At 0.5 ms the wait is about 5 to 10 %.
SWITCH_INTERVAL = 0.0005


@dataclass(frozen=True, slots=True)
class Check:
    """One verdict on one item."""

    #: The area: archive, bag, manifest, keys, index, checkpoint, entry, evidence, consistency, since,
    #: receipt, timestamp, report, verifier, legal.
    kind: str
    #: The bag-relative path (or other name) of what was checked.
    item: str
    #: Whether it passed.
    ok: bool
    #: What was expected and what was found.
    detail: str


@dataclass(frozen=True, slots=True)
class BundleVerification:
    """Every check of one bundle; ``ok`` only if there was at least one and all passed."""

    checks: tuple[Check, ...]
    #: Whether the signer's key came from the user (pinned) rather than from the bundle itself.
    pinned: bool
    case_id: str | None = None
    origin: str | None = None
    checkpoint_size: int | None = None
    #: Findings shown, never a pass, that do not change ``ok``: what could not be proven either way (a
    #: format 1 bundle's completeness, say) and a ``verify.html`` other than ours.
    warnings: tuple[Check, ...] = ()
    #: The ledger index from which the bundle proves it holds every entry of its case (``None``: not
    #: proven), and whether that is the case's first entry.
    complete_from: int | None = None
    proven_complete: bool = False
    #: Why the file was refused before any member was read (missing, not a ZIP, empty, truncated,
    #: hostile, over the size limit), in one sentence; ``checks`` then holds only ``archive`` checks.
    refused: str | None = None
    #: One sentence on the witnesses: how many of which keys cosigned, or that none was checked.
    witnesses: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    @property
    def complete(self) -> bool:
        """Whether the bundle proves it holds every entry of its case, from the case's first."""
        return self.ok and self.proven_complete

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if not check.ok)

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "pinned": self.pinned,
            "case": self.case_id,
            "origin": self.origin,
            "checkpoint_size": self.checkpoint_size,
            "complete": self.complete,
            "complete_from": self.complete_from,
            "refused": self.refused,
            "witnesses": self.witnesses,
            "checks": len(self.checks),
            "failures": [{"kind": c.kind, "item": c.item, "detail": c.detail} for c in self.failures],
            "warnings": [{"kind": c.kind, "item": c.item, "detail": c.detail} for c in self.warnings],
            "passed_by_kind": _counts(self.checks),
        }


def _counts(checks: Sequence[Check]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for check in checks:
        if check.ok:
            counts[check.kind] = counts.get(check.kind, 0) + 1
    return counts


@dataclass(slots=True)
class _ManifestChecks:
    """One manifest's verdict per path; paths can be judged in several rounds, as their digests arrive."""

    manifest: str
    algorithm: str
    expected: set[str]
    listed: dict[str, str]
    #: Set when the manifest is missing or malformed: then it is the only check.
    problem: Check | None = None
    verdicts: dict[str, Check] = field(default_factory=dict)

    @classmethod
    def parse(cls, manifest: str, algorithm: str, data: bytes | None, expected: set[str]) -> _ManifestChecks:
        if data is None:
            return cls(
                manifest,
                algorithm,
                expected,
                {},
                Check("manifest", manifest, False, "missing (every bag must carry it)"),
            )
        try:
            return cls(manifest, algorithm, expected, bagit.parse_manifest(data, algorithm, manifest))
        except bagit.MalformedBag as exc:
            return cls(manifest, algorithm, expected, {}, Check("manifest", manifest, False, exc.message))

    def judge(self, paths: set[str] | None, digests: dict[str, str]) -> None:
        """Judge ``paths`` (``None``: every path not judged yet, listed or expected)."""
        manifest, algorithm, listed, expected = self.manifest, self.algorithm, self.listed, self.expected
        every = expected | listed.keys()
        matches = f"{algorithm} matches {manifest}"
        for path in every - self.verdicts.keys() if paths is None else paths & every:
            want = listed.get(path)
            if want is not None and digests.get(path) == want and path in expected:
                # The usual verdict first, decided with fewer lookups; every failure goes down the chain.
                check = Check("manifest", path, True, matches)
            elif path not in listed:
                check = Check("manifest", path, False, f"present but not listed in {manifest}")
            elif path not in expected:
                check = Check("manifest", path, False, f"listed in {manifest} but missing from the bag")
            elif path not in digests:
                check = Check("manifest", path, False, "could not be read")
            else:
                check = Check(
                    "manifest", path, False, f"{algorithm} is {digests[path]}, {manifest} says {listed[path]}"
                )
            self.verdicts[path] = check

    def checks(self) -> list[Check]:
        if self.problem is not None:
            return [self.problem]
        return [self.verdicts[path] for path in sorted(self.verdicts)]


@dataclass(slots=True)
class _BagChecks:
    """RFC 8493 section 3 over the archive: started while large members are still being hashed.

    ``judge`` runs the manifest checks of the members already hashed; ``finish`` those of the rest
    (and of listed paths that are not in the bag), then returns every check in one fixed order.
    """

    archive: SafeZip
    hashed: MemberDigests
    manifests: list[_ManifestChecks] = field(default_factory=list)
    tag_files: set[str] = field(default_factory=set)
    payload: set[str] = field(default_factory=set)
    payload_manifests: int = 0

    def __post_init__(self) -> None:
        names, kept = set(self.archive.members), self.hashed.kept
        self.payload = {name for name in names if name.startswith("data/")}
        self.tag_files = names - self.payload - layout.TAG_MANIFESTS.keys()
        # Every manifest the bag carries is checked; the required ones are reported missing when absent.
        for manifest, algorithm in layout.PAYLOAD_MANIFESTS.items():
            if manifest in names or manifest in layout.REQUIRED_MANIFESTS:
                self.manifests.append(_ManifestChecks.parse(manifest, algorithm, kept.get(manifest), self.payload))
        self.payload_manifests = len(self.manifests)
        for manifest, algorithm in layout.TAG_MANIFESTS.items():
            if manifest in names or manifest in layout.REQUIRED_MANIFESTS:
                self.manifests.append(_ManifestChecks.parse(manifest, algorithm, kept.get(manifest), self.tag_files))

    def judge(self, paths: set[str] | None) -> None:
        for manifest in self.manifests:
            manifest.judge(paths, self.hashed.of(manifest.algorithm))

    def finish(self) -> list[Check]:
        self.judge(None)
        hashed, kept = self.hashed, self.hashed.kept
        checks = [Check("archive", name, False, problem) for name, problem in sorted(hashed.unreadable.items())]
        bagit_txt = kept.get(layout.BAGIT_TXT)
        good = bagit_txt == bagit.BAGIT_TXT_BODY
        checks.append(
            Check("bag", layout.BAGIT_TXT, good, "BagIt-Version 1.0, UTF-8" if good else f"found {bagit_txt!r}")
        )
        split = self.payload_manifests
        for manifest in self.manifests[:split]:
            checks.extend(manifest.checks())
        for name in sorted(self.tag_files - set(layout.TAG_FILES)):
            checks.append(Check("bag", name, False, "unexpected tag file (not part of the bundle format)"))
        for manifest in self.manifests[split:]:
            checks.extend(manifest.checks())
        checks.append(_oxum_check(self.archive, kept.get(layout.BAG_INFO_TXT), self.payload))
        return checks


#: The pages ``ContentChecks.pages_ahead`` judges before the large members are hashed.
PAGES = frozenset({layout.REPORT_HTML, layout.VERIFY_HTML})


def inline_first(path: str) -> bool:
    """Members hashed before the large ones: the tag files (manifests), what the ledger checks read, and
    the two pages (a case of 10,000 entries has a report of megabytes, a large member otherwise)."""
    return not path.startswith("data/") or needed_before_evidence(path) or path in PAGES


def _oxum_check(archive: SafeZip, data: bytes | None, payload: set[str]) -> Check:
    if data is None:
        return Check("bag", layout.BAG_INFO_TXT, False, "missing")
    try:
        oxum = bagit.BagInfo.parse(data).get("Payload-Oxum")
        if oxum is None:
            return Check("bag", layout.BAG_INFO_TXT, False, "no Payload-Oxum")
        octets, count = bagit.parse_oxum(oxum)
    except bagit.MalformedBag as exc:
        return Check("bag", layout.BAG_INFO_TXT, False, exc.message)
    members = archive.members
    found = (sum(members[name].file_size for name in payload), len(payload))
    if (octets, count) != found:
        return Check("bag", layout.BAG_INFO_TXT, False, f"Payload-Oxum {oxum}, payload is {found[0]}.{found[1]}")
    return Check("bag", layout.BAG_INFO_TXT, True, f"Payload-Oxum {oxum} matches the payload")


def _pool_threads() -> int:
    """Pool threads: one per core the calling thread leaves free, at least one, at most ``HASH_WORKERS``.

    On two cores that is one: the calling thread runs its checks (Python) on a core of its own while
    one thread hashes, instead of three busy threads sharing two cores; on more cores, two.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(HASH_WORKERS, cores - 1))


@contextmanager
def prompt_gil_handoff() -> Iterator[None]:
    """Lower the switch interval to ``SWITCH_INTERVAL`` (never raise it) and restore it afterwards."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(previous, SWITCH_INTERVAL))
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def verify_bundle(
    path: Path | str,
    *,
    pinned: Sequence[Verifier] = (),
    tsa_roots: list[x509.Certificate] | None = None,
    max_total_bytes: int = DEFAULT_MAX_ARCHIVE_BYTES,
    since: tuple[str, str] | None = None,
    witnesses: WitnessPolicy | None = None,
) -> BundleVerification:
    """Check the bundle ZIP at ``path``. ``pinned``: the signer keys the user trusts (out of band).

    ``since``: (name, text) of a checkpoint or tlog-proof the client kept, checked to be a prefix of the
    bundle's log (``since.py``). ``max_total_bytes`` caps the sum of the members' declared uncompressed
    sizes. Never raises on a bad file: a file that is not a readable bundle archive gives a failed report
    of ``archive`` checks. ``witnesses``: the witness keys whose cosignatures must be on the bundle's
    witnessed checkpoint (``witness_checks.py``); without them the report says no witness was checked.
    """
    try:
        archive = SafeZip.open(path, max_total_bytes=max_total_bytes)
    except HostileArchive as exc:
        problems = exc.details.get("problems") or [exc.message]
        return BundleVerification(
            tuple(Check("archive", Path(path).name, False, str(p)) for p in problems),
            pinned=bool(pinned),
            refused=exc.message,
        )
    threads = _pool_threads()
    with archive, prompt_gil_handoff(), ThreadPoolExecutor(max_workers=threads) as pool:
        # The large members (evidence) are hashed on the pool while this thread hashes the small ones
        # and checks the ledger, whose Python work would otherwise wait for the hashing; then this
        # thread hashes the rest alongside the pool.
        # SHA-512 only where the bag carries SHA-512 manifests (any format may; format 4 only on request).
        algorithms = layout.manifest_algorithms(set(archive.members))
        pending = start_large(archive, pool, threads + 1, skip=inline_first, algorithms=algorithms)
        hashed = hash_inline(archive, set(archive.members) - pending.names, algorithms)
        bag = _BagChecks(archive, hashed)
        bag.judge(set(archive.members) - pending.names)
        content = ContentChecks(
            files=hashed.kept,
            sha256=hashed.sha256,
            names=set(archive.members),
            pinned=tuple(pinned),
            tsa_roots=tsa_roots,
            since=since,
            witnesses=witnesses,
        )
        content.check_ledger()
        content.pages_ahead()  # Python that needs no evidence digest, while the pool still hashes
        # From here on ``hashed`` (and so ``files`` and ``sha256`` above) holds every member.
        hashed.merge(pending.result())
        checks = bag.finish()
        for kind, item, ok, detail in content.check_files():
            checks.append(Check(kind, item, ok, detail))
    return BundleVerification(
        tuple(checks),
        pinned=bool(pinned),
        case_id=content.case_id,
        origin=content.origin,
        checkpoint_size=content.checkpoint_size,
        warnings=tuple(Check(kind, item, False, detail) for kind, item, detail in content.warnings),
        complete_from=content.complete_from,
        proven_complete=content.complete,
        witnesses=content.witness_summary,
    )
