"""``offboard bundle export`` and ``offboard verify``: write a case's evidence bundle; check one offline.

``verify`` needs no database, server or settings: only the ZIP and, ideally, the organization's key
obtained out of band (``--key`` / ``--key-file``). Without one it checks the bundle against the key the
bundle carries and says loudly that the signer was not pinned.

Only what ``verify`` needs is imported with this module (the verifier, its signature and ZIP code); the
database, the settings and the exporter are imported inside ``export``, so checking a bundle never loads
sqlalchemy, sqlmodel, pydantic or fastapi (``tests/unit/test_cli_imports.py``; issue 17, requirement 2).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from signing.errors import InvalidKey, TimestampError
from signing.keys import Verifier, parse_vkey
from signing.timestamps import load_pem_roots
from vault.bundle.proof_file import is_tlog_proof, verify_proof_file
from vault.bundle.verify import prompt_gil_handoff, verify_bundle
from vault.bundle.witness_checks import WitnessPolicy
from vault.bundle.zipsafe import DEFAULT_MAX_ARCHIVE_BYTES
from vault.cli.common import (
    JsonOpt,
    app,
    emit_json,
    err,
    id_text,
    operator,
    out,
    resolve_in,
    services,
    write_atomically,
)
from vault.errors import InvalidInput
from vault.witnessing.cosigners import parse_witness_key

if TYPE_CHECKING:
    from vault.bundle.export import ExportResult
    from vault.bundle.verify import BundleVerification

bundle_app = typer.Typer(no_args_is_help=True, help="Evidence bundles: one file that proves a case.")
app.add_typer(bundle_app, name="bundle")

#: The environment variable giving ``--max-archive-bytes`` when the option is absent.
MAX_ARCHIVE_ENV = "OFFBOARD_VERIFY_MAX_ARCHIVE_BYTES"
_SIZE = re.compile(r"\s*([0-9]+)\s*(B|KiB|MiB|GiB|TiB)?\s*", re.IGNORECASE)
_UNITS = {"b": 0, "kib": 10, "mib": 20, "gib": 30, "tib": 40}

NOT_PINNED = (
    "SIGNER NOT PINNED: the bundle was checked against the key it carries itself, so anyone could have "
    "made it. Get the organization's verifier key out of band and pass it with --key or --key-file."
)


@bundle_app.command("export")
def export(
    case_id: Annotated[
        str, typer.Argument(help="Case id, or its first 8+ characters.", metavar="CASE", parser=id_text)
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the bundle ZIP.")],
    sha512: Annotated[
        bool, typer.Option("--sha512", help="Also write SHA-512 manifests, for archives that demand them.")
    ] = False,
    recipient: Annotated[
        str | None,
        typer.Option("--recipient", help="To whom the bundle goes (recorded in the chain of custody)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write CASE's evidence bundle (a BagIt ZIP) and record the export in the ledger."""
    from functools import partial

    from storage.local import LocalStore
    from vault.bundle.export import BundleStream, prepare
    from vault.bundle.read_ahead import ReadAhead
    from vault.db import read_session
    from vault.handover.receipt_pdf_store import receipt_pdf

    target = output.resolve()
    if target.is_dir():
        raise InvalidInput(f"{output} is a directory; expected a file name such as case.zip")
    # The read-ahead, hashing and writing threads take the interpreter lock back after every C call; while the
    # reports render in Python they would wait out the default 5 ms switch interval each time.
    with services() as svc, prompt_gil_handoff():
        with read_session(svc.engine) as session:
            principal = operator(session)
            case_id = resolve_in(session, "case", case_id)
        # A second read of a local folder comes from the page cache; of S3 it would be a second download.
        ahead = ReadAhead(svc.store) if isinstance(svc.store, LocalStore) else None
        plan = prepare(
            svc.transact,
            svc.settings,
            principal,
            case_id,
            clock=svc.clock,
            receipt_pdf=partial(receipt_pdf, svc),
            recipient=recipient,
            store=svc.store,
            read_ahead=ahead,
        )
        stream = BundleStream(svc.transact, svc.store, plan, clock=svc.clock, sha512=sha512, read_ahead=ahead)
        write_atomically(stream, target, total=sum(plan.payload_sizes), label=f"bundle {case_id}", as_json=as_json)
    result = stream.result
    assert result is not None  # noqa: S101 - the stream records its result after the last chunk
    _print_export(target, case_id, result, as_json=as_json)


def _print_export(target: Path, case_id: str, result: ExportResult, *, as_json: bool) -> None:
    summary = {
        "path": str(target),
        "case": case_id,
        "zip_bytes": result.zip_bytes,
        "zip_sha256": result.zip_sha256,
        "manifest_sha256": result.manifest_sha256,
        "payload_files": result.payload_files,
        "payload_bytes": result.payload_bytes,
        "checkpoint_size": result.checkpoint_size,
        "ledger_index": result.ledger_index,
        "completed_index": result.completed_index,
    }
    if as_json:
        emit_json(summary)
    else:
        out.print(f"wrote {target} ({result.zip_bytes} bytes, sha256 {result.zip_sha256})")
        err.print(
            f"export recorded at ledger index {result.ledger_index}, completed at {result.completed_index} "
            f"(manifest sha256 {result.manifest_sha256})"
        )


def _pinned_keys(keys: list[str], key_file: Path | None) -> list[Verifier]:
    if keys and key_file is not None:
        raise InvalidInput("give the signer's key with --key or with --key-file, not both")
    lines = list(keys)
    if key_file is not None:
        try:
            text = key_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"cannot read the key file {key_file}: {exc}") from exc
        lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
        if not lines:
            raise InvalidInput(f"the key file {key_file} holds no verifier key")
    try:
        return [parse_vkey(line.strip()) for line in lines]
    except InvalidKey as exc:
        raise InvalidInput(f"not a verifier key (name+keyid+base64): {exc}") from exc


def _witness_policy(keys: list[str], required: int | None) -> WitnessPolicy | None:
    """The ``--witness-key`` / ``--witnesses-required`` policy; a bad key or count is a usage error (exit 2)."""
    if not keys:
        if required is not None:
            raise typer.BadParameter("needs at least one --witness-key", param_hint="--witnesses-required")
        return None
    try:
        parsed = [parse_witness_key(key) for key in keys]
    except InvalidInput as exc:
        raise typer.BadParameter(exc.message, param_hint="--witness-key") from None
    try:
        return WitnessPolicy.of(parsed, required)
    except InvalidInput as exc:
        raise typer.BadParameter(exc.message, param_hint="--witnesses-required") from None


def _held(since: Path | None) -> tuple[str, str] | None:
    """``--since``: (file name, text) of the checkpoint or tlog-proof the client kept."""
    if since is None:
        return None
    try:
        return since.name, since.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read the kept checkpoint {since}: {exc}") from exc


def byte_size(text: str, what: str) -> int:
    """``text`` as a number of bytes: plain digits or with a binary unit (``500MiB``, ``64 GiB``)."""
    found = _SIZE.fullmatch(text)
    if found is None or int(found.group(1)) == 0:
        raise InvalidInput(f"{what}: expected a positive number of bytes such as 68719476736 or 64GiB, found {text!r}")
    return int(found.group(1)) << _UNITS[(found.group(2) or "B").lower()]


def _print_report(report: BundleVerification, *, proof: bool = False) -> None:
    """The report for people; ``proof``: of a kept tlog-proof file, which has no completeness to prove."""
    if not report.pinned:
        err.print(f"[bold red]{NOT_PINNED}[/bold red]")
    for check in report.warnings:
        err.print(f"WARNING [{check.kind}] {check.item}: {check.detail}", style="bold red", markup=False)
        out.print(f"WARNING [{check.kind}] {check.item}: {check.detail}", markup=False)
    for check in report.failures:
        out.print(f"FAIL [{check.kind}] {check.item}: {check.detail}", markup=False)
    size = report.checkpoint_size if report.checkpoint_size is not None else "absent"
    subject = "tlog-proof" if proof else f"bundle of case {report.case_id or 'absent'}"
    out.print(f"{subject}, log {report.origin or 'absent'}, checkpoint size {size}", markup=False)
    out.print(f"witnesses: {report.witnesses}", markup=False)
    counts = report.to_json()["passed_by_kind"]
    assert isinstance(counts, dict)  # noqa: S101 - built as a dict above
    out.print("passed: " + ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items())), markup=False)
    if report.ok:
        pinned = "signer pinned" if report.pinned else "signer NOT pinned"
        if report.complete:
            complete = f"complete from the case's first entry ({report.complete_from})"
        elif proof:
            complete = "the entry itself is checked against a bundle, with --since"
        else:
            complete = "completeness NOT proven"
        warned = f"; {len(report.warnings)} warning(s) above" if report.warnings else ""
        out.print(f"VERIFIED: all {len(report.checks)} checks passed ({pinned}; {complete}{warned})", markup=False)
    else:
        out.print(f"FAILED: {len(report.failures)} of {len(report.checks)} checks failed", markup=False)


@app.command("verify")
def verify(
    bundle: Annotated[Path, typer.Argument(help="The bundle ZIP, or a .tlog-proof file you kept.")],
    key: Annotated[list[str] | None, typer.Option("--key", help="Signer verifier key (vkey); repeatable.")] = None,
    key_file: Annotated[Path | None, typer.Option("--key-file", help="A file of verifier keys, one a line.")] = None,
    tsa_roots: Annotated[
        Path | None, typer.Option("--tsa-roots", help="PEM roots to verify RFC 3161 timestamps against.")
    ] = None,
    max_archive_bytes: Annotated[
        str | None,
        typer.Option(
            "--max-archive-bytes",
            envvar=MAX_ARCHIVE_ENV,
            show_default=False,
            help="Refuse a bundle whose members declare more bytes uncompressed in all "
            "(bytes, or with a unit: 500MiB, 64GiB; default 64GiB).",
        ),
    ] = None,
    since: Annotated[
        Path | None,
        typer.Option("--since", help="A checkpoint or .tlog-proof you kept: the bundle's log must extend it."),
    ] = None,
    witness_key: Annotated[
        list[str] | None,
        typer.Option("--witness-key", help="A witness's cosigner key (tlog-cosignature/v1 vkey); repeatable."),
    ] = None,
    witnesses_required: Annotated[
        int | None,
        typer.Option("--witnesses-required", help="How many of the witness keys must have cosigned (default: all)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check an evidence bundle offline; exit 0 only if every check passes, else list every failure."""
    witnesses = _witness_policy(list(witness_key or []), witnesses_required)
    limit = DEFAULT_MAX_ARCHIVE_BYTES
    if max_archive_bytes is not None:
        limit = byte_size(max_archive_bytes, f"--max-archive-bytes (or ${MAX_ARCHIVE_ENV})")
    pinned = _pinned_keys(list(key or []), key_file)
    roots = None
    if tsa_roots is not None:
        try:
            roots = load_pem_roots(tsa_roots.read_bytes())
        except (OSError, TimestampError) as exc:
            raise InvalidInput(f"cannot read TSA roots from {tsa_roots}: {exc}") from exc
    held = _held(since)
    proof = is_tlog_proof(bundle)
    if proof:
        if held is not None:
            raise typer.BadParameter("checks a bundle against a kept file, not a kept file alone", param_hint="--since")
        report = verify_proof_file(bundle, pinned=pinned, witnesses=witnesses)
    else:
        report = verify_bundle(
            bundle, pinned=pinned, tsa_roots=roots, max_total_bytes=limit, since=held, witnesses=witnesses
        )
    if as_json:
        emit_json(report.to_json())
    if report.refused is not None:
        # Nothing in the file was read: one line says why, without a report of checks never run.
        err.print(report.refused if proof else f"not a bundle: {report.refused}", markup=False)
    elif not as_json:
        _print_report(report, proof=proof)
    if not report.ok:
        raise typer.Exit(1)
