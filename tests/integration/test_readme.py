"""The README's five-minute walkthrough runs as written (issue 14, item 10): its shell blocks, pasted in
order into bash in an empty folder beside a running ``offboard serve``, with only the token and the API
address (the walkthrough's first block, which a user fills in) given by the test.

Slow-ish (a server and a dozen ``offboard`` processes, about a minute), and part of ``make test``.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.services import free_port
from tests.serving import offboard_serve, user_environment

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
_BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_FILLED_IN = re.compile(r"^export (TOKEN|API)=.*$", re.MULTILINE)


def walkthrough() -> str:
    """The shell blocks of the section "Five-minute walkthrough", in order, as one script."""
    text = README.read_text(encoding="utf-8")
    start = text.index("## Five-minute walkthrough")
    section = text[start : text.index("\n## ", start + 1)]
    blocks = _BLOCK.findall(section)
    assert len(blocks) >= 4, "the walkthrough's shell blocks moved: update this test"
    return _FILLED_IN.sub("", "\n".join(blocks))


def test_the_walkthrough_runs_as_pasted(tmp_path: Path) -> None:
    # `.venv/bin/offboard` as in the README: this checkout's venv seen from the folder the user works in.
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    env = user_environment()
    port = free_port()
    offboard = tmp_path / ".venv" / "bin" / "offboard"
    init = subprocess.run(
        [str(offboard), "init", "--port", str(port), "--json"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert init.returncode == 0, init.stderr
    with offboard_serve(offboard, cwd=tmp_path, env=env, port=port) as api:
        script = "set -euo pipefail\n" + walkthrough()
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=tmp_path,
            env={**env, "TOKEN": json.loads(init.stdout)["admin_token"], "API": api},
            capture_output=True,
            text=True,
            timeout=900,
        )
    assert done.returncode == 0, f"the walkthrough failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    assert "VERIFIED" in done.stdout + done.stderr
    assert (tmp_path / "acme-offboarding.zip").is_file() and (tmp_path / "receipt.pdf").read_bytes()[:4] == b"%PDF"
    assert '"problem' not in done.stdout and "Traceback" not in done.stderr
