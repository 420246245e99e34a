"""The runtime lock pins every package at the version the development lock pins.

``make test`` installs requirements-dev.lock; the wheel test and ``make run`` install requirements.lock. When the two
resolve one package to different versions, the runtime one may never have been downloaded on a machine that only
ran the tests, and an offline install from the cache fails (CI found ``httpx`` 0.29.0 against 0.28.1 this way).
``make lock`` compiles the runtime lock constrained by the development lock, so the two cannot drift.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def _pins(name: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        if found := PIN.match(line):
            pins[re.sub(r"[-_.]+", "-", found.group(1)).lower()] = found.group(2)
    return pins


def test_every_runtime_pin_matches_the_development_lock() -> None:
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    assert runtime, "requirements.lock pins nothing"
    drift = {name: (version, dev.get(name)) for name, version in runtime.items() if dev.get(name) != version}
    assert drift == {}, f"runtime pin -> development pin differ; run `make lock`: {drift}"


def test_the_makefile_compiles_the_runtime_lock_against_the_development_lock() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-c requirements-dev.lock -o requirements.lock" in makefile
