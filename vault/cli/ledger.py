"""``offboard ledger ...``: read, prove and verify the organization's log without a running server."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session, col, select

from vault.cli.common import JsonOpt, app, emit_json, err, operator, out, services
from vault.db import Unit, read_session
from vault.errors import InvalidInput
from vault.ledger import keyring, log, service
from vault.ledger.checkpoint import PublishedCheckpoint, b64encode
from vault.ledger.integrity import verify_ledger
from vault.ledger.proofs import InclusionProof, TlogProof
from vault.ledger.publish import latest_checkpoint
from vault.models import Checkpoint, Organization, Witness

#: A ledger index or tree size: bounded like the API's integers (0 <= n < 2^63), a usage error beyond.
Index = Annotated[int, typer.Argument(min=0, max=2**63 - 1, help="A ledger index (0 or more).")]
Size = Annotated[int, typer.Argument(min=0, max=2**63 - 1, help="A tree size.")]

ledger_app = typer.Typer(no_args_is_help=True, help="The organization's Merkle ledger.")
app.add_typer(ledger_app, name="ledger")


def _org(session: Session) -> Organization:
    org = session.get(Organization, operator(session).organization_id)
    assert org is not None  # noqa: S101 - operator() resolved it
    return org


@ledger_app.command("checkpoint")
def checkpoint(as_json: JsonOpt = False) -> None:
    """Print a signed checkpoint covering every committed entry (signing one first if needed)."""
    with services() as svc:
        row = svc.transact(
            lambda session: service.current_checkpoint(session, svc.settings, _org(session), clock=svc.clock)
        )
    if as_json:
        emit_json(PublishedCheckpoint(row.note, row.key_id).to_json())
    else:
        sys.stdout.write(row.note)


@ledger_app.command("entry")
def entry(index: Index) -> None:
    """Write the exact bytes of entry INDEX to stdout."""
    with services() as svc, read_session(svc.engine) as session:
        row = log.entry(session, operator(session).organization_id, index)
    sys.stdout.buffer.write(bytes(row.body))
    sys.stdout.flush()


@ledger_app.command("prove")
def prove(
    index: Index,
    size: Annotated[
        int | None, typer.Option("--size", min=0, max=2**63 - 1, help="Tree size (default: latest checkpoint).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Inclusion proof of entry INDEX: a C2SP tlog-proof by default, JSON with --json."""
    with services() as svc:

        def work(session: Unit) -> tuple[Checkpoint | None, InclusionProof]:
            org = _org(session)
            cp: Checkpoint | None
            if size is None:
                cp = service.current_checkpoint(session, svc.settings, org, clock=svc.clock)
            else:
                found = session.exec(
                    select(Checkpoint)
                    .where(Checkpoint.organization_id == org.id, Checkpoint.size == size)
                    .order_by(col(Checkpoint.id).desc())
                ).first()
                if found is None and size == log.size(session, org.id):
                    found = service.current_checkpoint(session, svc.settings, org, clock=svc.clock)
                if found is None and not as_json:
                    raise InvalidInput(
                        f"no signed checkpoint of size {size}; omit --size or use --json for a bare proof"
                    )
                cp = found
            tree_size = cp.size if cp is not None else size
            return cp, service.prove_inclusion(session, org.id, index, tree_size)

        cp, proof = svc.transact(work)
    if as_json:
        emit_json(proof.to_json())
        return
    assert cp is not None  # noqa: S101 - handled above
    sys.stdout.write(TlogProof.of(proof, cp.note).to_text())


@ledger_app.command("consistency")
def consistency(first: Size, second: Size, as_json: JsonOpt = False) -> None:
    """Consistency proof between tree sizes FIRST and SECOND."""
    with services() as svc, read_session(svc.engine) as session:
        proof = service.prove_consistency(session, operator(session).organization_id, first, second)
    if as_json:
        emit_json(proof.to_json())
    else:
        for value in proof.hashes:
            out.print(b64encode(value))


@ledger_app.command("pdf-ca")
def pdf_ca(
    crl: Annotated[bool, typer.Option("--crl", help="The CA's current CRL (DER) instead of its certificate.")] = False,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to FILE (needed for --crl).")] = None,
) -> None:
    """Export the PDF issuing CA certificate (PEM), the trust anchor of long-term PDF signatures, or its CRL."""
    from vault.handover.receipt_pdf import ca_crl, issuing_ca

    if crl and output is None:
        raise InvalidInput("--crl writes DER bytes: give -o FILE")
    with services() as svc:
        with read_session(svc.engine) as session:
            org = _org(session)
        data = (
            ca_crl(svc.settings, org, clock=svc.clock) if crl else issuing_ca(svc.settings, org).cert_file.read_bytes()
        )
    if output is None:
        out.print(data.decode("ascii").rstrip("\n"), markup=False, highlight=False)
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise InvalidInput(f"cannot write {output}: {exc.strerror}") from exc
    err.print(f"wrote {output} ({len(data)} bytes)")


@ledger_app.command("verifier-key")
def verifier_key(
    all_keys: Annotated[bool, typer.Option("--all", help="Every key, with validity windows.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Print the verifier key (C2SP vkey) that checkpoints are signed with."""
    with services() as svc, read_session(svc.engine) as session:
        org = _org(session)
        keys = keyring.public_keys(session, org.id)
        active = keyring.active_key(session, org.id)
    chosen = keys if all_keys else [k for k in keys if k.key_id == active.key_id]
    if as_json:
        emit_json(
            [
                {
                    "vkey": k.vkey,
                    "key_id": k.key_id,
                    "valid_from": k.valid_from.isoformat(),
                    "valid_until": k.valid_until.isoformat() if k.valid_until else None,
                }
                for k in chosen
            ]
        )
    else:
        for k in chosen:
            out.print(k.vkey)


@ledger_app.command("rotate-key")
def rotate_key(as_json: JsonOpt = False) -> None:
    """Retire the checkpoint signing key and start signing with a new one (recorded in the log)."""
    with services() as svc:

        def work(session: Unit) -> tuple[int, str]:
            org = _org(session)
            index = service.rotate_key(session, svc.settings, org, operator(session).actor, clock=svc.clock)
            new = keyring.active_key(session, org.id)
            return index, next(k.vkey for k in keyring.public_keys(session, org.id) if k.key_id == new.key_id)

        index, new_vkey = svc.transact(work)
    if as_json:
        emit_json({"ledger_index": index, "vkey": new_vkey})
    else:
        out.print(new_vkey)
        err.print(f"rotation recorded at ledger index {index}; old checkpoints still verify with the old key")


@ledger_app.command("verify")
def verify(as_json: JsonOpt = False) -> None:
    """Recompute the tree from the stored entries and check every checkpoint; exit 1 on any problem."""
    with services() as svc:
        with read_session(svc.engine) as session:
            org = _org(session)
            latest = latest_checkpoint(session, org.id)
            report = verify_ledger(session, svc.settings, org)
    if as_json:
        emit_json(
            {
                "ok": report.ok,
                "organization": report.organization,
                "size": report.size,
                "checkpoints_checked": report.checkpoints_checked,
                "first_bad_index": report.first_bad_index,
                "problems": [{"index": p.index, "detail": p.detail} for p in report.problems],
            }
        )
    else:
        for problem in report.problems:
            where = f"index {problem.index}: " if problem.index is not None else ""
            err.print(f"FAIL {where}{problem.detail}", markup=False)
        if report.ok:
            covered = f", latest checkpoint size {latest.size}" if latest else ""
            out.print(f"ledger OK: {report.size} entries, {report.checkpoints_checked} checkpoints verified{covered}")
        else:
            out.print(f"ledger FAILED: first bad index {report.first_bad_index}")
    if not report.ok:
        raise typer.Exit(1)


@ledger_app.command("visibility")
def visibility(
    value: Annotated[str | None, typer.Argument(help="private, hashes or public; omit it to see the current.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Who may read the log's tiles (/tlog/<slug>/) without a token: private, hashes or public."""
    from vault.orgs.log_visibility import set_log_visibility

    with services() as svc:
        if value is None:
            with read_session(svc.engine) as session:
                org = session.get(Organization, operator(session).organization_id)
                assert org is not None  # noqa: S101 - the operator's organization exists
                shown, slug = org.log_visibility, org.slug
        else:
            shown = svc.transact(
                lambda session: set_log_visibility(session, operator(session), value, clock=svc.clock)
            ).value
            with read_session(svc.engine) as session:
                slug = operator_slug(session)
    if as_json:
        emit_json({"organization": slug, "log_visibility": shown})
    else:
        out.print(f"{slug}: {shown} (tiles at /tlog/{slug}/)", markup=False)


def operator_slug(session: Session) -> str:
    org = session.get(Organization, operator(session).organization_id)
    assert org is not None  # noqa: S101 - the operator's organization exists
    return org.slug


witness_app = typer.Typer(no_args_is_help=True, help="The witnesses that cosign the log's checkpoints.")
ledger_app.add_typer(witness_app, name="witness")


def _witness_json(w: Witness) -> dict[str, object]:
    return {
        "id": w.id,
        "name": w.name,
        "url": w.url,
        "vkey": w.vkey,
        "status": w.status,
        "known_size": w.known_size,
        "detail": w.detail,
    }


@witness_app.command("add")
def witness_add(
    url: Annotated[str, typer.Argument(help="The witness's submission URL (add-checkpoint is posted below it).")],
    vkey: Annotated[str, typer.Argument(help="The witness's cosigner vkey (name+keyid+base64, type 0x04).")],
    as_json: JsonOpt = False,
) -> None:
    """Submit every new checkpoint to the witness at URL, whose key is VKEY (recorded in the log)."""
    from vault.witnessing.roster import add_witness

    with services() as svc:
        shown = svc.transact(
            lambda session: _witness_json(add_witness(session, operator(session), url=url, vkey=vkey, clock=svc.clock))
        )
    if as_json:
        emit_json(shown)
    else:
        out.print(f"witness {shown['name']} added ({shown['url']})", markup=False)


@witness_app.command("list")
def witness_list(as_json: JsonOpt = False) -> None:
    """The configured witnesses, what each last answered, and the policy."""
    from vault.witnessing.roster import witness_roster

    with services() as svc, read_session(svc.engine) as session:
        roster = witness_roster(session, operator(session))
        shown = [_witness_json(w) for w in roster.witnesses]
        policy = roster.policy
    if as_json:
        emit_json({"witnesses": shown, "required": policy.required, "configured": policy.configured})
        return
    for w in shown:
        out.print(f"{w['name']}  {w['url']}  {w['status']} at size {w['known_size']}  {w['detail']}", markup=False)
    out.print(f"policy: {policy.describe()}", markup=False)


@witness_app.command("remove")
def witness_remove(ref: Annotated[str, typer.Argument(help="The witness's name, id or vkey.")]) -> None:
    """Stop submitting to a witness (recorded in the log); its stored cosignatures are kept."""
    from vault.witnessing.roster import remove_witness

    with services() as svc:
        name = svc.transact(lambda session: remove_witness(session, operator(session), ref, clock=svc.clock).name)
    out.print(f"witness {name} removed", markup=False)


@witness_app.command("policy")
def witness_policy(
    value: Annotated[str, typer.Argument(help="How many witnesses must cosign: a number, or 'all'.")],
) -> None:
    """How many of the configured witnesses must cosign a checkpoint for it to count as witnessed."""
    from vault.witnessing.roster import set_witness_policy

    with services() as svc:
        text = svc.transact(
            lambda session: set_witness_policy(session, operator(session), value, clock=svc.clock).describe()
        )
    out.print(f"policy: {text}", markup=False)
