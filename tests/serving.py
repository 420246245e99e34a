"""``offboard serve`` as a user runs it: a real process on a loopback port, stopped when the test ends."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def user_environment(**extra: str) -> dict[str, str]:
    """This process's environment without any ``OFFBOARD_*`` variable or ``PYTHONPATH``: a new user's shell."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("OFFBOARD_") and k != "PYTHONPATH"}
    return {**env, **extra}


@contextmanager
def offboard_serve(offboard: Path, *, cwd: Path, env: dict[str, str], port: int) -> Iterator[str]:
    """Run ``offboard serve`` (its port from the home's offboard.env) until it answers; yields its URL."""
    log_path = cwd / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen([str(offboard), "serve"], cwd=cwd, env=env, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180  # a loaded machine takes a minute to import it
            while True:
                assert server.poll() is None, log_path.read_text()
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "offboard serve did not answer in 180 s"
                time.sleep(0.3)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
