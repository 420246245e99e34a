"""Offline verification of an evidence bundle ZIP (``docs/bundle.md``, "Verifying").

Reads straight from the archive, never extracting to disk, after ``SafeZip`` has refused hostile
archives. Every file is hashed once (SHA-256 and SHA-512, in parallel across files); then every check
of the bag (RFC 8493 section 3: complete and valid) and of the content (``vault.bundle.checks``: keys,
checkpoint, inclusion and consistency proofs, evidence against its ledger entries, receipts,
timestamps) runs and is reported. ``ok`` is true only when every check passed; nothing stops at the
first failure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from signing.keys import Verifier
from vault.bundle import bagit, layout
from vault.bundle.checks import ContentChecks
from vault.bundle.zipsafe import HostileArchive, MemberUnreadable, SafeZip

#: Members at most this large are kept in memory for the content checks (evidence never is).
KEEP_LIMIT = 64 * 1024 * 1024
#: Members at least this large are hashed on the thread pool.
PARALLEL_FROM = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Check:
    """One verdict on one item."""

    #: The area: archive, bag, manifest, keys, index, checkpoint, entry, evidence, consistency, receipt,
    #: timestamp.
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

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

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
            "checks": len(self.checks),
            "failures": [{"kind": c.kind, "item": c.item, "detail": c.detail} for c in self.failures],
            "passed_by_kind": _counts(self.checks),
        }


def _counts(checks: Sequence[Check]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for check in checks:
        if check.ok:
            counts[check.kind] = counts.get(check.kind, 0) + 1
    return counts


@dataclass(slots=True)
class _Hashed:
    sha256: dict[str, str] = field(default_factory=dict)
    sha512: dict[str, str] = field(default_factory=dict)
    kept: dict[str, bytes] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)


def _hash_member(archive: SafeZip, name: str) -> tuple[str, str, str, bytes | None, str | None]:
    h256, h512 = hashlib.sha256(), hashlib.sha512()
    keep = archive.size(name) <= KEEP_LIMIT and not name.startswith(layout.EVIDENCE_DIR)
    parts: list[bytes] = []
    try:
        for chunk in archive.chunks(name):
            h256.update(chunk)
            h512.update(chunk)
            if keep:
                parts.append(chunk)
    except MemberUnreadable as exc:
        return name, "", "", None, exc.message
    return name, h256.hexdigest(), h512.hexdigest(), b"".join(parts) if keep else None, None


def _hash_all(archive: SafeZip) -> _Hashed:
    hashed = _Hashed()
    names = sorted(archive.members)
    large = [n for n in names if archive.size(n) >= PARALLEL_FROM]
    small = [n for n in names if archive.size(n) < PARALLEL_FROM]
    # hashlib releases the GIL on large updates, so two workers hash two large members at once; small
    # members are hashed inline, where a thread hand-off would cost more than the hashing.
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda n: _hash_member(archive, n), large))
    results.extend(_hash_member(archive, n) for n in small)
    for name, d256, d512, data, problem in results:
        if problem is not None:
            hashed.unreadable[name] = problem
            continue
        hashed.sha256[name], hashed.sha512[name] = d256, d512
        if data is not None:
            hashed.kept[name] = data
    return hashed


def _bag_checks(archive: SafeZip, hashed: _Hashed) -> list[Check]:
    checks = [Check("archive", name, False, problem) for name, problem in sorted(hashed.unreadable.items())]
    kept = hashed.kept
    bagit_txt = kept.get(layout.BAGIT_TXT)
    checks.append(
        Check(
            "bag",
            layout.BAGIT_TXT,
            bagit_txt == bagit.BAGIT_TXT_BODY,
            "BagIt-Version 1.0, UTF-8" if bagit_txt == bagit.BAGIT_TXT_BODY else f"found {bagit_txt!r}",
        )
    )
    payload = {name for name in archive.members if name.startswith("data/")}
    for manifest, algorithm in layout.PAYLOAD_MANIFESTS.items():
        digests = hashed.sha256 if algorithm == "sha256" else hashed.sha512
        checks.extend(_manifest_checks(manifest, algorithm, kept.get(manifest), payload, digests))
    tag_files = {name for name in archive.members if not name.startswith("data/")} - {layout.TAGMANIFEST_SHA256}
    for name in sorted(tag_files - set(layout.TAG_FILES)):
        checks.append(Check("bag", name, False, "unexpected tag file (not part of the bundle format)"))
    checks.extend(
        _manifest_checks(
            layout.TAGMANIFEST_SHA256, "sha256", kept.get(layout.TAGMANIFEST_SHA256), tag_files, hashed.sha256
        )
    )
    checks.append(_oxum_check(archive, kept.get(layout.BAG_INFO_TXT), payload))
    return checks


def _manifest_checks(
    manifest: str, algorithm: str, data: bytes | None, expected: set[str], digests: dict[str, str]
) -> list[Check]:
    if data is None:
        return [Check("manifest", manifest, False, "missing (every bag must carry it)")]
    try:
        listed = bagit.parse_manifest(data, algorithm, manifest)
    except bagit.MalformedBag as exc:
        return [Check("manifest", manifest, False, exc.message)]
    checks = []
    for path in sorted(expected | set(listed)):
        if path not in listed:
            checks.append(Check("manifest", path, False, f"present but not listed in {manifest}"))
        elif path not in expected:
            checks.append(Check("manifest", path, False, f"listed in {manifest} but missing from the bag"))
        elif path not in digests:
            checks.append(Check("manifest", path, False, "could not be read"))
        elif digests[path] != listed[path]:
            checks.append(
                Check("manifest", path, False, f"{algorithm} is {digests[path]}, {manifest} says {listed[path]}")
            )
        else:
            checks.append(Check("manifest", path, True, f"{algorithm} matches {manifest}"))
    return checks


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
    found = (sum(archive.size(name) for name in payload), len(payload))
    if (octets, count) != found:
        return Check("bag", layout.BAG_INFO_TXT, False, f"Payload-Oxum {oxum}, payload is {found[0]}.{found[1]}")
    return Check("bag", layout.BAG_INFO_TXT, True, f"Payload-Oxum {oxum} matches the payload")


def verify_bundle(
    path: Path | str,
    *,
    pinned: Sequence[Verifier] = (),
    tsa_roots: list[x509.Certificate] | None = None,
) -> BundleVerification:
    """Check the bundle ZIP at ``path``. ``pinned``: the signer keys the user trusts (out of band)."""
    try:
        archive = SafeZip.open(path)
    except HostileArchive as exc:
        problems = exc.details.get("problems") or [exc.message]
        return BundleVerification(
            tuple(Check("archive", Path(path).name, False, str(p)) for p in problems), pinned=bool(pinned)
        )
    with archive:
        hashed = _hash_all(archive)
        checks = _bag_checks(archive, hashed)
        content = ContentChecks(
            files=hashed.kept,
            sha256=hashed.sha256,
            names=set(archive.members),
            pinned=tuple(pinned),
            tsa_roots=tsa_roots,
        )
        for kind, item, ok, detail in content.run():
            checks.append(Check(kind, item, ok, detail))
    return BundleVerification(
        tuple(checks),
        pinned=bool(pinned),
        case_id=content.case_id,
        origin=content.origin,
        checkpoint_size=content.checkpoint_size,
    )
