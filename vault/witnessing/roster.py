"""An organization's witnesses and its policy: how many of them must cosign a checkpoint.

Adding or removing a witness and changing the policy are admins' decisions, each recorded in the log
(``organization.witness_added``, ``organization.witness_removed``, ``organization.witness_policy_changed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from vault.clock import Clock, system_clock
from vault.errors import Conflict, NotFound, UnacceptableWitness
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.models import Organization, Witness
from vault.orgs.organizations import Principal, Role
from vault.witnessing.cosigners import parse_witness_key

#: A policy beyond this many witnesses is a typing mistake, not a plan.
MAX_POLICY = 100


@dataclass(frozen=True, slots=True)
class WitnessPolicy:
    """How many cosignatures make a checkpoint witnessed, out of how many witnesses."""

    #: Cosignatures from configured witnesses a checkpoint needs; 0 when no witness is configured.
    required: int
    #: Configured witnesses.
    configured: int
    #: Whether the organization asked for all of them (no number set).
    all_of_them: bool

    def describe(self) -> str:
        if self.configured == 0:
            return "no witnesses are configured"
        return f"{self.required} of {self.configured} witnesses must cosign"


def witness_url(value: str) -> str:
    """The witness's submission prefix: an http(s) URL with a host, no credentials, query or fragment."""
    text = value.strip().rstrip("/")
    try:
        parts = urlsplit(text)
        port_ok = parts.port is None or 0 < parts.port
    except ValueError as exc:
        raise UnacceptableWitness(f"expected a witness URL like https://witness.example/, found {value!r}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise UnacceptableWitness(f"expected an http or https witness URL with a host, found {value!r}")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise UnacceptableWitness(f"a witness URL carries no credentials, query or fragment, found {value!r}")
    if len(text) > 1024:
        raise UnacceptableWitness(f"a witness URL is at most 1024 characters, found {len(text)}")
    return text


@dataclass(frozen=True, slots=True)
class WitnessRoster:
    """An organization's witnesses, oldest first, and its policy, as admins see them."""

    witnesses: tuple[Witness, ...]
    policy: WitnessPolicy


def witnesses_of(session: Session, organization_id: str) -> list[Witness]:
    query = select(Witness).where(Witness.organization_id == organization_id)
    return list(session.exec(query.order_by(col(Witness.created_at), col(Witness.id))))


def policy_of(session: Session, org: Organization) -> WitnessPolicy:
    configured = len(witnesses_of(session, org.id))
    wanted = org.witness_policy
    return WitnessPolicy(
        required=configured if wanted is None else wanted, configured=configured, all_of_them=wanted is None
    )


def witness_roster(session: Session, principal: Principal) -> WitnessRoster:
    """The configured witnesses and the policy (admins only: the list names who checks the log)."""
    principal.require(Role.ADMIN)
    org = session.get(Organization, principal.organization_id)
    assert org is not None  # noqa: S101 - a principal always names an existing organization
    return WitnessRoster(witnesses=tuple(witnesses_of(session, org.id)), policy=policy_of(session, org))


def find_witness(session: Session, organization_id: str, ref: str) -> Witness:
    """A witness of the organization by its id, its key name or its vkey."""
    for witness in witnesses_of(session, organization_id):
        if ref in (witness.id, witness.name, witness.vkey):
            return witness
    raise NotFound(f"no witness {ref!r} in this organization (see offboard ledger witness list)")


def add_witness(session: Session, principal: Principal, *, url: str, vkey: str, clock: Clock = system_clock) -> Witness:
    """Configure a witness (admins only): its submission URL and its cosigner vkey."""
    principal.require(Role.ADMIN)
    key = parse_witness_key(vkey)
    address = witness_url(url)
    for other in witnesses_of(session, principal.organization_id):
        if other.key_id == key.key_id or other.name == key.name:
            raise Conflict(f"witness {other.name} ({other.key_id}) is already configured")
    witness = Witness(
        organization_id=principal.organization_id,
        name=key.name,
        url=address,
        vkey=key.vkey,
        key_id=key.key_id,
        created_at=clock(),
    )
    session.add(witness)
    data = {"name": key.name, "url": address, "vkey": key.vkey}
    draft = EntryDraft("organization.witness_added", witness.organization_id, None, principal.actor, data)
    log.append(session, draft, clock=clock)
    session.flush()
    return witness


def remove_witness(session: Session, principal: Principal, ref: str, *, clock: Clock = system_clock) -> Witness:
    """Stop submitting to a witness (admins only); its cosignatures already stored are kept."""
    principal.require(Role.ADMIN)
    witness = find_witness(session, principal.organization_id, ref)
    session.delete(witness)
    data = {"name": witness.name, "url": witness.url, "vkey": witness.vkey}
    draft = EntryDraft("organization.witness_removed", witness.organization_id, None, principal.actor, data)
    log.append(session, draft, clock=clock)
    session.flush()
    return witness


def parse_policy(value: str) -> int | None:
    """``all`` (``None``) or a number of witnesses from 1 to ``MAX_POLICY``."""
    text = value.strip().lower()
    if text == "all":
        return None
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_POLICY:
        raise UnacceptableWitness(
            f"expected a witness policy of 'all' or a number from 1 to {MAX_POLICY}, found {value!r}"
        )
    return int(text)


def set_witness_policy(
    session: Session, principal: Principal, value: str, *, clock: Clock = system_clock
) -> WitnessPolicy:
    """How many witnesses must cosign (admins only); more than are configured leaves every checkpoint
    unwitnessed until more are added, which ``describe`` and the console say."""
    principal.require(Role.ADMIN)
    wanted = parse_policy(value)
    org = session.get(Organization, principal.organization_id)
    assert org is not None  # noqa: S101 - a principal always names an existing organization
    before = org.witness_policy
    if before != wanted:
        org.witness_policy = wanted
        session.add(org)
        data = {"from": "all" if before is None else before, "to": "all" if wanted is None else wanted}
        draft = EntryDraft("organization.witness_policy_changed", org.id, None, principal.actor, data)
        log.append(session, draft, clock=clock)
    return policy_of(session, org)
