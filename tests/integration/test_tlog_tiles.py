"""``/tlog/<slug>/``: the log as C2SP tlog-tiles on both backends: full and partial tiles of every level
hash to what the proofs are built from (leaf hashes, then RFC 9162 subtree hashes), entry bundles frame
each entry so it hashes to its tile's hash, nothing past the latest checkpoint is served, and the
organization's visibility decides what needs a token (issue 16, requirement 1)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from tests.helpers import cli_json
from vault.cases.lifecycle import add_note
from vault.db import read_session, session_scope
from vault.ledger.publish import publish
from vault.ledger.tiles import Tile
from vault.models import LedgerEntry, Organization
from vault.orgs.organizations import Principal, Role, create_organization, create_token, organization_by_slug
from vault.orgs.staff import revoke_token

NOTES = 300  # plus the case's own entries: past one full level-0 tile


def _mth(hashes: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.1 over leaf hashes, by the definition (largest power of two below n)."""
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(hashes[:k]) + _mth(hashes[k:])).digest()


@pytest.fixture
def grown(client: TestClient, services: Any, initialized: Any) -> tuple[str, int]:
    """A log of more than 256 entries with a checkpoint at its end: (slug, size)."""
    staff = client.post("/api/v1/staff", json={"email": "owner@agency.example", "name": "Owner"})
    assert staff.status_code == 201, staff.text
    case = client.post("/api/v1/cases", json={"client_name": "Acme", "owner_email": "owner@agency.example"})
    principal = Principal(initialized.organization_id, Role.ADMIN, "test:tiles")

    def grow(session: Any) -> tuple[str, int]:
        for i in range(NOTES):
            add_note(session, principal, case.json()["id"], f"note {i}", clock=services.clock)
        org = session.get(Organization, initialized.organization_id)
        return org.slug, publish(session, services.settings, org, clock=services.clock).size

    return services.transact(grow)


def _leaves(client: TestClient, size: int) -> list[bytes]:
    out = []
    for i in range(size):
        body = client.get(f"/api/v1/ledger/entries/{i}").content
        out.append(hashlib.sha256(b"\x00" + body).digest())
    return out


def test_tiles_and_entry_bundles_match_the_tree(client: TestClient, grown: tuple[str, int]) -> None:
    slug, size = grown
    assert 256 < size < 512
    leaves, rest = _leaves(client, size), size - 256
    base = f"/tlog/{slug}"
    full = client.get(f"{base}/tile/0/000")
    assert full.status_code == 200 and full.headers["content-type"] == "application/octet-stream"
    assert full.content == b"".join(leaves[:256]) and len(full.content) == 8192
    assert "immutable" in full.headers["cache-control"]
    partial = client.get(f"{base}/tile/0/001.p/{rest}")
    assert partial.content == b"".join(leaves[256:])
    assert client.get(f"{base}/tile/0/001.p/{rest - 1}").content == b"".join(leaves[256 : size - 1])
    # Level 1: one hash per full level-0 tile, the RFC 9162 hash of its 256 entries.
    assert client.get(f"{base}/tile/1/000.p/1").content == _mth(leaves[:256])
    # Entry bundles: big-endian uint16 lengths, each entry hashing to its leaf.
    bundle, entries = client.get(f"{base}/tile/entries/000").content, []
    while bundle:
        n = int.from_bytes(bundle[:2], "big")
        entries.append(bundle[2 : 2 + n])
        bundle = bundle[2 + n :]
    assert [hashlib.sha256(b"\x00" + e).digest() for e in entries] == leaves[:256]
    assert len(client.get(f"{base}/tile/entries/001.p/{rest}").content) > 2 * rest
    # The checkpoint is the latest signed one; nothing it does not cover is served.
    note = client.get(f"{base}/checkpoint")
    assert note.status_code == 200 and note.text.splitlines()[1] == str(size)
    assert note.headers["content-type"].startswith("text/plain") and "max-age=5" in note.headers["cache-control"]
    for path in ("0/001", f"0/001.p/{rest + 1}", "1/000", "1/000.p/2", "2/000.p/1", "entries/001", "0/x000/001"):
        missing = client.get(f"{base}/tile/{path}")
        assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")


def test_visibility_decides_what_needs_a_token(
    client: TestClient, services: Any, grown: tuple[str, int], cli_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    slug, _ = grown
    base = f"/tlog/{slug}"
    anonymous = {"Authorization": ""}
    paths = {"checkpoint": f"{base}/checkpoint", "hashes": f"{base}/tile/0/000", "entries": f"{base}/tile/entries/000"}

    def answers() -> dict[str, int]:
        return {k: client.get(p, headers=anonymous).status_code for k, p in paths.items()}

    assert answers() == {"checkpoint": 401, "hashes": 401, "entries": 401}  # private by default
    assert all(client.get(p).status_code == 200 for p in paths.values())  # the organization's own token
    assert "private" in client.get(paths["hashes"]).headers["cache-control"]
    assert cli_json(capsys, "ledger", "visibility", "hashes")["log_visibility"] == "hashes"
    assert answers() == {"checkpoint": 200, "hashes": 200, "entries": 401}
    assert "public" in client.get(paths["hashes"], headers=anonymous).headers["cache-control"]
    cli_json(capsys, "ledger", "visibility", "public")
    assert answers() == {"checkpoint": 200, "hashes": 200, "entries": 200}
    assert client.get("/tlog/no-such-org/checkpoint", headers=anonymous).status_code == 404
    cli_json(capsys, "ledger", "visibility", "private")
    with session_scope(services.engine) as session:
        other = create_organization(session, name="Other agency", slug="other-agency")
        token = create_token(session, organization_id=other.id, name="other", role=Role.ADMIN)
    foreign = client.get(paths["hashes"], headers={"Authorization": f"Bearer {token.secret}"})
    assert foreign.status_code == 401, "another organization's token reads nothing"
    # Both full tiles were read (and kept) above: kept or not, private again means a token again.
    org_id = services.read(lambda s: organization_by_slug(s, slug)).id
    assert services.tiles.get(org_id, Tile(0, 0)) is not None
    assert answers() == {"checkpoint": 401, "hashes": 401, "entries": 401}
    assert client.get(paths["hashes"], headers={"Authorization": "Bearer obt_guessed"}).status_code == 401
    with session_scope(services.engine) as session:
        own = create_token(session, organization_id=org_id, name="soon revoked", role=Role.VIEWER)
    mine = {"Authorization": f"Bearer {own.secret}"}
    assert client.get(paths["entries"], headers=mine).status_code == 200
    with session_scope(services.engine) as session:
        revoke_token(session, Principal(org_id, Role.ADMIN, "test"), own.id)
    assert client.get(paths["entries"], headers=mine).status_code == 401, "a revoked token reads nothing, kept or not"
    with read_session(services.engine) as session:
        changes = session.exec(
            select(LedgerEntry.body).where(LedgerEntry.entry_type == "organization.log_visibility_changed")
        ).all()
    assert [json.loads(body)["data"]["to"] for body in changes] == ["hashes", "public", "private"]
