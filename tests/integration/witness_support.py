"""A real Offboard log for the witness tests, and its fork: a copy of the deployment's home (database,
keys, objects) that grows other entries under the same key; ``offboard witness serve`` as a process."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.services import free_port
from vault.cases.lifecycle import add_note
from vault.config import Settings
from vault.db import read_session
from vault.ledger import keyring, service
from vault.ledger.publish import head, publish
from vault.models import Organization
from vault.orgs.organizations import Principal, Role
from vault.services import Services, build_services
from vault.witness.submission import submission_text

OFFBOARD = str(Path(sys.executable).parent / "offboard")


@dataclass
class Log:
    """One deployment's log of one organization, grown by notes on one case."""

    services: Any
    organization_id: str
    case_id: str

    def grow(self, notes: int, label: str = "honest") -> str:
        """Add ``notes`` entries, publish, and return the signed checkpoint note."""
        principal = Principal(self.organization_id, Role.ADMIN, "test:witness")

        def work(session: Any) -> str:
            for i in range(notes):
                add_note(session, principal, self.case_id, f"{label} note {i}", clock=self.services.clock)
            org = session.get(Organization, self.organization_id)
            return str(publish(session, self.services.settings, org, clock=self.services.clock).note)

        return str(self.services.transact(work))

    def vkey(self) -> str:
        with read_session(self.services.engine) as session:
            return keyring.verifiers(session, self.organization_id)[0].vkey()

    def root(self, size: int) -> bytes:
        with read_session(self.services.engine) as session:
            return bytes(head(session, self.organization_id, size).root_hash)

    def body(self, old: int, checkpoint: str, size: int) -> bytes:
        """The add-checkpoint request for ``checkpoint`` (of ``size``) from ``old``, proof from this log."""
        proof: tuple[bytes, ...] = ()
        if 0 < old < size:
            with read_session(self.services.engine) as session:
                proof = service.prove_consistency(session, self.organization_id, old, size).hashes
        return submission_text(old, proof, checkpoint).encode()


def fork_of(log: Log, home: Path) -> Log:
    """A copy of ``log``'s deployment in ``home``: the same key and history so far, then its own."""
    shutil.copytree(log.services.settings.home, home)
    settings = Settings(home=home, base_url=log.services.settings.base_url)
    services: Services = build_services(settings)
    return Log(services, log.organization_id, log.case_id)


@contextmanager
def witness_serve(
    directory: Path, vkeys: list[str], *, port: int | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``offboard witness serve`` on loopback until it answers; yields its URL and process."""
    port = port or free_port()
    args = [OFFBOARD, "witness", "serve", "--dir", str(directory), "--port", str(port)]
    for vkey in vkeys:
        args += ["--log", vkey]
    log_path = directory / f"serve-{port}.log"
    with log_path.open("ab") as output:
        process = subprocess.Popen(args, stdout=output, stderr=output)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                assert process.poll() is None, log_path.read_text()
                try:
                    httpx.get(f"{base}/0/checkpoint", timeout=2)
                    break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "offboard witness serve did not answer in 120 s"
                time.sleep(0.2)
            yield base, process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
