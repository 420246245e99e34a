"""CLI start-up (issue 14, item 6): how long ``offboard`` takes against Python loading typer and rich.

Every figure is a ratio to the baseline ``python -c "import typer, rich"`` measured in the same run, each
command a fresh process, as a person at a shell runs it:

- ``offboard --help`` and ``offboard --version``: targets at most 1.5x the baseline;
- ``offboard case list`` on a home with ``--cases`` cases (default 100; built once, not timed): target at
  most 3x;
- for reference, no target: ``python -c "import sqlmodel"``, the ORM that any command reading the database
  loads, so the distance between ``case list`` and its floor can be read off.

Rounds are interleaved and rotate their order (baseline, help, version, ...; help, version, ..., baseline)
so machine noise hits every command alike; one untimed round first warms the page cache. Each ratio is the
median of the per-round ratios (a round's command time over the same round's baseline); the seconds are
medians too. ``--bytecode cached`` lets every process write and reuse compiled bytecode in a scratch
folder (``PYTHONPYCACHEPREFIX``), as a pip-installed deployment has; the default runs in the environment
as given (this machine sets ``PYTHONDONTWRITEBYTECODE=1`` and the editable venv holds no bytecode, so
every process compiles every module it imports).

    .venv/bin/python bench/cli.py [--cases 100] [--repeat 7] [--bytecode as-is|cached] [--json]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from bench.common import SCRATCH, Figure, median, note, print_figures  # noqa: E402

HELP_TARGET = 1.5
VERSION_TARGET = 1.5
CASE_LIST_TARGET = 3.0
OWNER = "owner@bench.example"


def make_home(home: Path, cases: int) -> None:
    """An initialized embedded home (SQLite + local folder) holding ``cases`` open cases. Not timed.

    Built in this process through the domain (not through ``offboard``), so a slow CLI cannot slow it.
    """
    from vault.cases.lifecycle import open_case
    from vault.config import Settings
    from vault.orgs.organizations import Principal, Role
    from vault.orgs.staff import add_staff
    from vault.services import build_services
    from vault.setup import initialize

    services = build_services(Settings(home=home, database_url=None, storage_url=None, keys_dir=None))
    try:
        init = initialize(services)
        principal = Principal(init.organization_id, Role.ADMIN, "cli:bench")
        services.transact(lambda s: add_staff(s, principal, email=OWNER, name="Bench owner", role=Role.ADMIN))
        for number in range(cases):
            services.transact(
                lambda s, n=number: open_case(s, principal, client_name=f"Client {n:03d}", owner_email=OWNER)
            )
    finally:
        services.close()
    # What `offboard init` leaves: the home's offboard.env, which marks it initialized for every command.
    from vault.config_file import write_env_file

    write_env_file(services.settings.env_file, {})


def offboard_command() -> list[str]:
    """The installed ``offboard`` console script beside this interpreter: what a person runs."""
    script = Path(sys.executable).parent / "offboard"
    if not script.exists():
        raise SystemExit(f"expected the offboard console script at {script}; run `make install-dev` first")
    return [str(script)]


def commands(offboard: list[str]) -> dict[str, list[str]]:
    return {
        "baseline": [sys.executable, "-c", "import typer, rich"],
        "help": [*offboard, "--help"],
        "version": [*offboard, "--version"],
        "case_list": [*offboard, "case", "list"],
        "import_sqlmodel": [sys.executable, "-c", "import sqlmodel"],
    }


def child_env(home: Path, pycache: Path | None) -> dict[str, str]:
    """This environment without ``OFFBOARD_*`` (so nothing points elsewhere), with the bench's home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFFBOARD_")}
    env["OFFBOARD_HOME"] = str(home)
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace")[-2000:]
        raise RuntimeError(f"{' '.join(argv)} exited {result.returncode}: {stderr}")
    return seconds


def run(scratch: Path, cases: int, repeat: int, *, cached_bytecode: bool) -> dict[str, list[float]]:
    home = scratch / "home"
    note(f"building a home with {cases} cases in {home} ...")
    make_home(home, cases)
    env = child_env(home, scratch / "pycache" if cached_bytecode else None)
    named = list(commands(offboard_command()).items())
    seconds: dict[str, list[float]] = {name: [] for name, _ in named}
    for _, argv in named:  # warm-up: page cache (and bytecode, when cached), not counted
        timed(argv, env, scratch)
    for round_no in range(repeat):
        shift = round_no % len(named)
        for name, argv in named[shift:] + named[:shift]:
            seconds[name].append(timed(argv, env, scratch))
        note(f"round {round_no + 1}/{repeat}: " + ", ".join(f"{n} {s[-1]:.3f} s" for n, s in seconds.items()))
    return seconds


def ratios(seconds: dict[str, list[float]]) -> dict[str, float]:
    """Per command, the median over rounds of its time over that round's baseline."""
    base = seconds["baseline"]
    return {
        name: median(value / b for value, b in zip(values, base, strict=True))
        for name, values in seconds.items()
        if name != "baseline"
    }


def figures(seconds: dict[str, list[float]], ratio: dict[str, float]) -> list[Figure]:
    result = [Figure('baseline: python -c "import typer, rich"', median(seconds["baseline"]), "s")]
    rows = [
        ("offboard --help", "help", HELP_TARGET),
        ("offboard --version", "version", VERSION_TARGET),
        ("offboard case list", "case_list", CASE_LIST_TARGET),
        ('reference: python -c "import sqlmodel"', "import_sqlmodel", None),
    ]
    for label, name, target in rows:
        result.append(Figure(label, median(seconds[name]), "s"))
        if target is None:
            result.append(Figure(f"{label}: ratio to baseline", ratio[name], "x"))
        else:
            ok = ratio[name] <= target
            result.append(Figure(f"{label}: ratio to baseline", ratio[name], "x", f"<= {target}", ok))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=100, help="cases in the home `case list` reads (100)")
    parser.add_argument("--repeat", type=int, default=7, help="timed rounds; figures are medians (default 7)")
    parser.add_argument(
        "--bytecode",
        choices=["as-is", "cached"],
        default="as-is",
        help="as-is: the environment as given; cached: compiled bytecode kept in a scratch folder",
    )
    parser.add_argument("--dir", type=Path, default=SCRATCH, help="parent of the scratch folder (default bench/out)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object on stdout")
    args = parser.parse_args(argv)
    if args.cases < 0 or args.repeat < 1:
        parser.error("--cases must be at least 0 and --repeat at least 1")
    args.dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="cli-", dir=args.dir))
    try:
        seconds = run(scratch, args.cases, args.repeat, cached_bytecode=args.bytecode == "cached")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ratio = ratios(seconds)
    extra = {
        "ratios": ratio,
        "targets": {"help": HELP_TARGET, "version": VERSION_TARGET, "case_list": CASE_LIST_TARGET},
        "seconds": seconds,
        "cases": args.cases,
        "repeat": args.repeat,
        "bytecode": args.bytecode,
        "cpus": os.cpu_count(),
    }
    print_figures(figures(seconds, ratio), as_json=args.json, extra=extra)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
