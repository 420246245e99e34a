"""Playbooks: the standardized, versioned steps of a service type (format in ``docs/cases.md``).

A playbook is parsed once at the boundary (``parse_playbook``); every problem of a document is reported
at once, each with the path of the offending field. A published version is stored as RFC 8785 canonical
JSON with its SHA-256 and never changes: a case snapshots one version, so later edits never rewrite it.
The three shipped playbooks (``vault/cases/shipped_playbooks/*.yaml``) are installed into an organization on first use.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session, col, select

from vault import canonical as canonical_json
from vault.clock import Clock, system_clock
from vault.errors import Conflict, InvalidInput, NotFound
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.models import INT_COLUMN_MAX, Playbook, PlaybookVersion
from vault.orgs.organizations import Principal, Role

SHIPPED_DIR = Path(__file__).parent / "shipped_playbooks"
DEFAULT_SHIPPED_KEY = "web-agency-retainer"
MAX_DOCUMENT_BYTES = 256 * 1024
MAX_DUE_DAYS = 3650

EVIDENCE_KINDS = ("deliverable", "confirmation", "communication", "other", "any")
#: Every completion criterion a step may name; ``docs/cases.md`` says what each one demands.
CRITERIA = frozenset({*(f"evidence:{k}" for k in EVIDENCE_KINDS), "note", "access:all_revoked", "receipt:acknowledged"})

_KEY = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_TOP_FIELDS = {"key", "version", "title", "description", "steps"}
_STEP_FIELDS = {"key", "title", "description", "required", "depends_on", "criteria", "due_days"}


class InvalidPlaybook(InvalidInput):
    """A playbook document broke the format; ``details["errors"]`` lists every problem found."""

    code = "invalid-playbook"


@dataclass(frozen=True, slots=True)
class StepSpec:
    key: str
    title: str
    description: str
    required: bool
    depends_on: tuple[str, ...]
    criteria: tuple[str, ...]
    #: Days after the client's intent date by which the step is due.
    due_days: int


@dataclass(frozen=True, slots=True)
class PlaybookSpec:
    key: str
    version: int
    title: str
    description: str
    steps: tuple[StepSpec, ...]

    def to_document(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "version": self.version,
            "title": self.title,
            "description": self.description,
            "steps": [
                {
                    "key": s.key,
                    "title": s.title,
                    "description": s.description,
                    "required": s.required,
                    "depends_on": list(s.depends_on),
                    "criteria": list(s.criteria),
                    "due_days": s.due_days,
                }
                for s in self.steps
            ],
        }

    def canonical(self) -> bytes:
        return canonical_json.dumps(self.to_document())

    def sha256(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


def _text(errors: list[str], where: str, value: Any, *, required: bool, limit: int) -> str:
    if not required and (value is None or value == ""):
        return ""
    if not isinstance(value, str) or not value.strip():
        errors.append(f"{where}: expected a non-empty string, found {value!r}")
        return ""
    if len(value) > limit:
        errors.append(f"{where}: at most {limit} characters, found {len(value)}")
    return value.strip()


def _step(errors: list[str], where: str, raw: Any) -> StepSpec | None:
    if not isinstance(raw, dict):
        errors.append(f"{where}: expected a mapping with key, title, criteria..., found {type(raw).__name__}")
        return None
    for extra in sorted(set(map(str, raw)) - _STEP_FIELDS):
        errors.append(f"{where}.{extra}: unknown field (allowed: {', '.join(sorted(_STEP_FIELDS))})")
    key = raw.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        errors.append(f"{where}.key: expected lower-case letters, digits and dashes, found {key!r}")
        key = ""
    required = raw.get("required", True)
    if not isinstance(required, bool):
        errors.append(f"{where}.required: expected true or false, found {required!r}")
        required = True
    depends = raw.get("depends_on", [])
    if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
        errors.append(f"{where}.depends_on: expected a list of step keys, found {depends!r}")
        depends = []
    criteria = raw.get("criteria")
    if not isinstance(criteria, list) or not criteria:
        errors.append(f"{where}.criteria: expected a non-empty list such as [evidence:deliverable], found {criteria!r}")
        criteria = []
    for i, criterion in enumerate(criteria):
        if not isinstance(criterion, str) or criterion not in CRITERIA:
            errors.append(
                f"{where}.criteria[{i}]: unknown criterion {criterion!r} (allowed: {', '.join(sorted(CRITERIA))})"
            )
    due = raw.get("due_days")
    if isinstance(due, bool) or not isinstance(due, int) or not 0 <= due <= MAX_DUE_DAYS:
        errors.append(f"{where}.due_days: expected a whole number of days from 0 to {MAX_DUE_DAYS}, found {due!r}")
        due = 0
    return StepSpec(
        key=key,
        title=_text(errors, f"{where}.title", raw.get("title"), required=True, limit=200),
        description=_text(errors, f"{where}.description", raw.get("description"), required=False, limit=4000),
        required=required,
        depends_on=tuple(dict.fromkeys(depends)),
        criteria=tuple(dict.fromkeys(c for c in criteria if isinstance(c, str))),
        due_days=due,
    )


def _check_graph(errors: list[str], steps: list[StepSpec]) -> None:
    by_key: dict[str, StepSpec] = {}
    for i, step in enumerate(steps):
        if step.key and step.key in by_key:
            errors.append(f"steps[{i}].key: duplicate step key {step.key!r}")
        by_key.setdefault(step.key, step)
    for i, step in enumerate(steps):
        for dep in step.depends_on:
            if dep == step.key:
                errors.append(f"steps[{i}].depends_on: step {step.key!r} depends on itself")
            elif dep not in by_key:
                errors.append(f"steps[{i}].depends_on: unknown step {dep!r}")
            elif step.required and not by_key[dep].required:
                errors.append(
                    f"steps[{i}].depends_on: required step {step.key!r} cannot depend on optional step {dep!r}"
                )
    # Kahn's algorithm: whatever cannot be ordered lies on a cycle.
    pending = {s.key: {d for d in s.depends_on if d in by_key and d != s.key} for s in by_key.values()}
    while True:
        ready = [k for k, deps in pending.items() if not deps]
        if not ready:
            break
        for k in ready:
            del pending[k]
        for deps in pending.values():
            deps.difference_update(ready)
    # Peel off steps nothing left depends on (they only wait behind a cycle); the rest lie on one.
    while True:
        needed = set().union(*pending.values()) if pending else set()
        blocked = [k for k in pending if k not in needed]
        if not blocked:
            break
        for k in blocked:
            del pending[k]
    if pending:
        errors.append(f"steps: dependency cycle among {', '.join(sorted(pending))}")


def parse_playbook(raw: Any) -> PlaybookSpec:
    """Validate a decoded document; raise ``InvalidPlaybook`` listing every problem."""
    errors: list[str] = []
    if not isinstance(raw, dict):
        raise InvalidPlaybook(
            f"a playbook must be a mapping with key, version, title and steps; found {type(raw).__name__}",
            details={"errors": ["(document): not a mapping"]},
        )
    for extra in sorted(set(map(str, raw)) - _TOP_FIELDS):
        errors.append(f"{extra}: unknown field (allowed: {', '.join(sorted(_TOP_FIELDS))})")
    key = raw.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        errors.append(f"key: expected lower-case letters, digits and dashes, found {key!r}")
        key = ""
    version = raw.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= 1_000_000:
        errors.append(f"version: expected a whole number >= 1, found {version!r}")
        version = 1
    title = _text(errors, "title", raw.get("title"), required=True, limit=200)
    description = _text(errors, "description", raw.get("description"), required=False, limit=4000)
    raw_steps = raw.get("steps")
    steps: list[StepSpec] = []
    if not isinstance(raw_steps, list) or not raw_steps:
        errors.append(f"steps: expected a non-empty list of steps, found {raw_steps!r}")
    else:
        steps = [s for i, raw_step in enumerate(raw_steps) if (s := _step(errors, f"steps[{i}]", raw_step))]
        _check_graph(errors, steps)
        if steps and not any(s.required for s in steps):
            errors.append("steps: at least one step must be required")
    if errors:
        raise InvalidPlaybook(
            f"invalid playbook: {len(errors)} problem(s): " + "; ".join(errors), details={"errors": errors}
        )
    return PlaybookSpec(key=key, version=version, title=title, description=description, steps=tuple(steps))


def parse_yaml(text: str | bytes) -> PlaybookSpec:
    """Parse a playbook from YAML text (safe loader only)."""
    if len(text) > MAX_DOCUMENT_BYTES:
        raise InvalidPlaybook(f"a playbook must be at most {MAX_DOCUMENT_BYTES} bytes, found {len(text)}")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidPlaybook(
            f"not valid YAML{where}: {problem}", details={"errors": [f"yaml{where}: {problem}"]}
        ) from None
    return parse_playbook(raw)


def shipped_playbooks() -> list[PlaybookSpec]:
    return [parse_yaml(path.read_text(encoding="utf-8")) for path in sorted(SHIPPED_DIR.glob("*.yaml"))]


def spec_of(version: PlaybookVersion) -> PlaybookSpec:
    """The validated spec stored in a version row (stored documents were valid when published)."""
    return parse_playbook(json.loads(version.document))


def _playbook_row(session: Session, organization_id: str, key: str) -> Playbook | None:
    return session.exec(
        select(Playbook).where(Playbook.organization_id == organization_id, Playbook.key == key)
    ).first()


def _version_row(session: Session, organization_id: str, key: str, version: int) -> PlaybookVersion | None:
    if not 0 <= version <= INT_COLUMN_MAX:
        return None
    return session.exec(
        select(PlaybookVersion).where(
            PlaybookVersion.organization_id == organization_id,
            PlaybookVersion.key == key,
            PlaybookVersion.version == version,
        )
    ).first()


def _store(
    session: Session, organization_id: str, spec: PlaybookSpec, actor: str, clock: Clock
) -> tuple[PlaybookVersion, bool]:
    digest = spec.sha256()
    existing = _version_row(session, organization_id, spec.key, spec.version)
    if existing is not None:
        if existing.sha256 != digest:
            raise Conflict(
                f"playbook {spec.key!r} version {spec.version} already exists with different content "
                f"(sha256 {existing.sha256}); publish it as a higher version"
            )
        return existing, False
    playbook = _playbook_row(session, organization_id, spec.key)
    if playbook is not None and spec.version < playbook.latest_version:
        raise Conflict(
            f"playbook {spec.key!r} is at version {playbook.latest_version}; a new version must be higher, "
            f"found {spec.version}"
        )
    now = clock()
    if playbook is None:
        playbook = Playbook(
            organization_id=organization_id,
            key=spec.key,
            title=spec.title,
            latest_version=spec.version,
            created_at=now,
        )
    playbook.title, playbook.latest_version = spec.title, spec.version
    session.add(playbook)
    session.flush()
    row = PlaybookVersion(
        organization_id=organization_id,
        playbook_id=playbook.id,
        key=spec.key,
        version=spec.version,
        title=spec.title,
        document=spec.canonical().decode("utf-8"),
        sha256=digest,
        created_at=now,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    appended = log.append(
        session,
        EntryDraft(
            type="playbook.published",
            organization_id=organization_id,
            case_id=None,
            actor=actor,
            data={"playbook": spec.key, "version": spec.version, "sha256": digest, "steps": len(spec.steps)},
        ),
        clock=lambda: now,
    )
    row.ledger_index = appended.index
    session.add(row)
    return row, True


def ensure_shipped(session: Session, organization_id: str, *, clock: Clock = system_clock) -> None:
    """Install the shipped playbooks an organization does not have yet (the first one becomes its default)."""
    log.lock_log(session, organization_id)  # serializes concurrent first uses
    first_install = session.exec(select(Playbook).where(Playbook.organization_id == organization_id)).first() is None
    for spec in shipped_playbooks():
        current = _playbook_row(session, organization_id, spec.key)
        if current is None or current.latest_version < spec.version:
            _store(session, organization_id, spec, "system:shipped-playbooks", clock)
    if first_install:
        default = _playbook_row(session, organization_id, DEFAULT_SHIPPED_KEY)
        if default is not None:
            default.is_default = True
            session.add(default)
    session.flush()


def publish(
    session: Session, principal: Principal, spec: PlaybookSpec, *, clock: Clock = system_clock
) -> tuple[PlaybookVersion, bool]:
    """Publish ``spec`` as a new version (admins only); ``(row, False)`` when exactly this version exists."""
    principal.require(Role.ADMIN)
    ensure_shipped(session, principal.organization_id, clock=clock)
    return _store(session, principal.organization_id, spec, principal.actor, clock)


def list_playbooks(session: Session, organization_id: str, *, clock: Clock = system_clock) -> list[Playbook]:
    ensure_shipped(session, organization_id, clock=clock)
    query = select(Playbook).where(Playbook.organization_id == organization_id).order_by(col(Playbook.key))
    return list(session.exec(query).all())


def get_playbook(session: Session, organization_id: str, key: str, *, clock: Clock = system_clock) -> Playbook:
    ensure_shipped(session, organization_id, clock=clock)
    row = _playbook_row(session, organization_id, key)
    if row is None:
        raise NotFound(f"no playbook {key!r} in this organization")
    return row


def get_version(
    session: Session,
    organization_id: str,
    key: str,
    version: int | None = None,
    *,
    clock: Clock = system_clock,
) -> PlaybookVersion:
    """A published version (the latest when ``version`` is ``None``)."""
    playbook = get_playbook(session, organization_id, key, clock=clock)
    row = _version_row(session, organization_id, key, playbook.latest_version if version is None else version)
    if row is None:
        raise NotFound(f"playbook {key!r} has no version {version} in this organization")
    return row


def list_versions(
    session: Session, organization_id: str, key: str, *, clock: Clock = system_clock
) -> list[PlaybookVersion]:
    get_playbook(session, organization_id, key, clock=clock)
    query = (
        select(PlaybookVersion)
        .where(PlaybookVersion.organization_id == organization_id, PlaybookVersion.key == key)
        .order_by(col(PlaybookVersion.version))
    )
    return list(session.exec(query).all())


def default_playbook(session: Session, organization_id: str, *, clock: Clock = system_clock) -> Playbook:
    playbooks = list_playbooks(session, organization_id, clock=clock)
    for row in playbooks:
        if row.is_default:
            return row
    if not playbooks:
        raise NotFound("this organization has no playbooks; publish one first")
    return playbooks[0]


def set_default(session: Session, principal: Principal, key: str, *, clock: Clock = system_clock) -> Playbook:
    """Make ``key`` the organization's default playbook (admins only)."""
    principal.require(Role.ADMIN)
    chosen = get_playbook(session, principal.organization_id, key, clock=clock)
    for row in list_playbooks(session, principal.organization_id, clock=clock):
        row.is_default = row.id == chosen.id
        session.add(row)
    session.flush()
    return chosen
