"""``offboard witness init|serve``: run a C2SP tlog-witness for Offboard logs (``docs/witness.md``).

The witness needs no Offboard home: its key and state live in ``--dir``. ``serve`` checks the folder and
the log keys here, so a mistake is one line, then starts uvicorn on ``api.witness_app`` by name (the CLI
never imports the API package), handing it the folder and the keys through the environment.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated

import typer

from vault.cli.common import JsonOpt, app, emit_json, err, out

witness_app = typer.Typer(no_args_is_help=True, help="A witness: cosigns checkpoints consistent with those before.")
app.add_typer(witness_app, name="witness")

DirOpt = Annotated[Path, typer.Option("--dir", help="The witness's folder: its key and its state file.")]


@witness_app.command("init")
def init(
    directory: DirOpt,
    name: Annotated[
        str | None, typer.Option("--name", help="The witness's key name, a schema-less URL (default: <host>/witness).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Make the witness's key (mode 0600) and state in DIR, and print its vkey (tlog-cosignature form)."""
    from signing.cosignature import cosigner_of
    from vault.witness.witness_home import KEY_FILE, init_witness

    made = init_witness(directory, name=name or f"{socket.gethostname()}/witness")
    vkey = cosigner_of(made.signer).vkey()
    if as_json:
        emit_json({"vkey": vkey, "created": made.created, "key_file": str(directory / KEY_FILE)})
        return
    if not made.created:
        err.print(f"{directory / KEY_FILE} already holds a key; kept it.", markup=False)
    out.print(vkey, markup=False)


@witness_app.command("serve")
def serve(
    directory: DirOpt,
    log: Annotated[list[str], typer.Option("--log", help="A log's signed-note vkey (repeat for more logs).")],
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8090,
) -> None:
    """Serve POST /add-checkpoint (C2SP tlog-witness) for the logs given."""
    import uvicorn

    from vault.witness.witness_home import open_witness

    witness = open_witness(directory, log)
    err.print(f"Witness {witness.vkey()}", markup=False)
    err.print(f"Logs: {', '.join(sorted(witness.logs))}", markup=False)
    # The app reads the same folder and keys in the server process; by name, as the CLI never imports api/.
    os.environ["OFFBOARD_WITNESS_DIR"] = str(directory.resolve())
    os.environ["OFFBOARD_WITNESS_LOGS"] = "\n".join(log)
    uvicorn.run("api.witness_app:app_from_env", factory=True, host=host, port=port, proxy_headers=False)
