"""A closed case's bundle with its certificate of completion, and the certificate's tamper corpus (issue 17,
requirement 3 and its Tests section), shared by ``test_bundle_tamper.py``.

``build_certified`` closes a case through the API (steps, a revoked access item, a receipt the client
acknowledged), issues its certificate as the worker does and exports the case. ``certificate_corpus``
derives bundles whose certificate contradicts the ledger: each is re-signed with the organization's own
key and re-bagged, as a forger holding the key would, so only the comparison with the signed entries
(and the ``certificate.issued`` entry's hash) can catch it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from signing.detached import DetachedSignature
from tests.integration.bundle_corpus import Tamper, export, rebag, rezip, unzip
from tests.integration.certificate_support import close_acknowledged_case
from vault.bundle import layout
from vault.canonical import dumps as canonical
from vault.certificates.issuing import issue_certificate
from vault.config import Settings
from vault.db import read_session
from vault.ledger import keyring
from vault.models import Job
from vault.orgs.organizations import Principal, Role
from vault.services import Services, build_services
from vault.setup import initialize


@dataclass(frozen=True)
class Certified:
    services: Services
    case_id: str
    vkey: str
    zip_bytes: bytes


def build_certified(home: Path) -> Certified:
    from api.app import create_app

    settings = Settings(home=home, base_url="http://testserver", worker=False)
    services = build_services(settings)
    init = initialize(services)
    with TestClient(create_app(settings, services=services)) as client:
        client.headers["Authorization"] = f"Bearer {init.admin_token.secret}"
        case_id = close_acknowledged_case(client)
    with read_session(services.engine) as session:
        final = client_final_index(session, case_id)
    issue_certificate(services, organization_id=init.organization_id, case_id=case_id, final_index=final)
    principal = Principal(init.organization_id, Role.ADMIN, "test:certificate")
    data = export(services, principal, case_id)[0]
    files = unzip(data)[1]
    vkey = files[next(p for p in files if p.endswith(".vkey"))].decode().strip()
    return Certified(services, case_id, vkey, data)


def client_final_index(session: Session, case_id: str) -> int:
    """The final-state index the close enqueued the certificate job for."""
    job = session.exec(select(Job).where(Job.kind == "certificate.issue")).one()
    assert job.payload["case_id"] == case_id
    return int(job.payload["final_index"])


def _forged(certified: Certified, change: Callable[[dict[str, Any]], None]) -> tuple[str, dict[str, bytes]]:
    """The bundle with its certificate changed by ``change``, re-signed with the organization's key."""
    root, files = unzip(certified.zip_bytes)
    document = json.loads(files[layout.CERTIFICATE_JSON])
    change(document)
    body = canonical(document)
    with read_session(certified.services.engine) as session:
        org_id = document["organization"]["id"]
        signer = keyring.load_signer(certified.services.settings, keyring.active_key(session, org_id))
    files[layout.CERTIFICATE_JSON] = body
    files[layout.CERTIFICATE_SIG] = canonical(DetachedSignature.sign(signer, body).to_bundle_json())
    return root, rebag(files)


def certificate_corpus(certified: Certified) -> list[Tamper]:
    def earlier(d: dict[str, Any]) -> None:
        d["obligations"][0]["completed_at"] = "2020-01-01T00:00:00.000000Z"

    def missing(d: dict[str, Any]) -> None:
        d["deliverables"].pop(0)

    def acknowledger(d: dict[str, Any]) -> None:
        d["acknowledgments"][0]["name"] = "Mallory Other"

    out = []
    for name, change, needle in (
        ("certificate-obligation-earlier", earlier, "the certificate says completed_at '2020-01-01T00:00:00.000000Z'"),
        ("certificate-deliverable-missing", missing, "is missing from the certificate"),
        ("certificate-other-acknowledger", acknowledger, "the certificate says name 'Mallory Other'"),
    ):
        root, files = _forged(certified, change)
        out.append(Tamper(name, rezip(root, files), needle, "certificate"))
    root, files = unzip(certified.zip_bytes)
    removed = {p: d for p, d in files.items() if not p.startswith(layout.CERTIFICATE_DIR)}
    out.append(Tamper("certificate-removed", rezip(root, rebag(removed)), "record a certificate", "certificate"))
    return out
