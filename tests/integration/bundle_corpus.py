"""A real bundle and its tamper corpus, shared by the CLI tests and the browser tests of verify.html.

``build_case`` makes a case with evidence, a signed receipt (which gives the client a checkpoint) that the
client opens and acknowledges through its link, a note, more evidence after it (so the receipt's checkpoint
is an earlier one with a consistency proof) and an RFC 3161 timestamp of that earlier checkpoint from a
local TSA; it exports the case twice (a note between the two) and exports a second, acknowledged case of
the same organization, so forgeries can reuse genuine material from another export and another case.

``corpus`` derives the tampered bundles, by class:

- integrity: a byte flipped in each kind of file, files deleted and added, checkpoints replaced by an older
  or a foreign one, the public key replaced, an entry edited, a proof truncated, everything re-signed, the report
  rewritten;
- omission: one entry of the case removed everywhere it appears (its file, its proof, its line in
  ``bundle.json``), a deliverable removed (file, listing, entry and proof), the acknowledgment removed;
- splicing: the other case's receipt and acknowledgment, and the earlier export's checkpoint and proofs;
- labels: ``bundle.json`` fields edited (client name, file name, kind, path, organization, status);
- formats: consistency proofs named as another bundle format names them (``first_size`` in format 3,
  ``first`` in a bundle labelled format 2). ``as_format_2`` is the genuine bundle as format 2 wrote it.

Every forgery but the flipped bytes also recomputes the manifests, the tag manifest and Payload-Oxum
(re-bagged), as a careful forger would, so only the checks against signed data can catch it. Each case
names the check kind a verifier must fail and text its item or detail must contain.
``with_verify_page`` swaps the verifier page, which verifiers report as a warning rather than a failure
(``docs/bundle.md``).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding
from sqlmodel import col, select

from signing.keys import Signer, generate_key
from signing.note import parse_note
from signing.timestamps import request_timestamp
from tests.conftest import add_owner
from tests.helpers import record_md5s
from tests.tsa import LocalTSA
from vault.bundle import bagit, layout
from vault.bundle.export import BundleStream, prepare
from vault.bundle.legal_loadfile import recorded_md5s
from vault.canonical import dumps as canonical
from vault.cases.lifecycle import add_note, open_case
from vault.config import Settings
from vault.db import read_session, session_scope
from vault.evidence.ingest import EvidenceIngest
from vault.evidence.retrieval import Channel, record_retrieval
from vault.handover.acknowledgments import ClientMeta, LinkView, acknowledge, open_link, view_link
from vault.handover.links import send_receipt
from vault.handover.receipts import create_receipt
from vault.ledger.checkpoint import CheckpointBody, sign_checkpoint
from vault.ledger.proofs import TlogProof
from vault.models import Checkpoint, TimestampToken
from vault.orgs.organizations import Principal, Role
from vault.services import Services, build_services
from vault.setup import initialize


@dataclass(frozen=True)
class Built:
    services: Services
    case_id: str
    vkey: str
    origin: str
    zip_bytes: bytes
    manifest_sha256: str
    ledger_index: int
    tsa_root_pem: bytes
    #: The same case's first export (before a note was added), and an export of another case of the log.
    earlier_zip: bytes
    other_zip: bytes


def upload(services: Services, principal: Principal, case_id: str, data: bytes, name: str) -> str:
    ingest = EvidenceIngest(services.store, principal, case_id, services.ingest_limits, transact=services.transact)
    ingest.feed(data)
    return ingest.finish(
        filename=name, kind="deliverable", content_type="application/octet-stream", description=None
    ).evidence.id


def export(
    services: Services, principal: Principal, case_id: str, recipient: str | None = None
) -> tuple[bytes, BundleStream]:
    plan = prepare(services.transact, services.settings, principal, case_id, clock=services.clock, recipient=recipient)
    stream = BundleStream(services.transact, services.store, plan, clock=services.clock)
    return b"".join(stream), stream


def _no_email(name: str, context: Any) -> Any:  # noqa: ARG001 - the renderer's signature
    return None


def acknowledged_receipt(services: Services, principal: Principal, case_id: str, contact: str) -> str:
    """Issue a receipt, send it (links by hand), and have the client open and acknowledge it."""
    with session_scope(services.engine) as session:
        receipt_id = create_receipt(session, services.settings, principal, case_id).id
    sent = send_receipt(services.transact, services.settings, principal, receipt_id, mailer=None, render=_no_email)
    token = sent.manual_links[0].url.rsplit("/", 1)[1]
    meta = ClientMeta(ip="198.51.100.7", user_agent="Mozilla/5.0 (corpus)")
    services.transact(lambda session: open_link(session, token, method="GET", meta=meta))
    with read_session(services.engine) as session:
        view = view_link(session, token)
    assert isinstance(view, LinkView) and view.recipient == contact
    outcome = acknowledge(
        services.transact,
        services.settings,
        token,
        name="Zoë Ångström",
        consent=True,
        shown_sha256=view.shown_sha256,
        meta=meta,
    )
    assert outcome is not None and outcome.kind == "acknowledged"
    return receipt_id


def build_case(services: Services, *, timestamp: bool = True) -> Built:
    init = initialize(services)
    owner = add_owner(services, init.organization_id)
    principal = Principal(init.organization_id, Role.ADMIN, "test:bundle")
    contact = "client@globex.example"
    with session_scope(services.engine) as session:
        case_id = open_case(
            session, principal, client_name="Globex Ünïcode «Ltd»", owner_email=owner, contacts=[contact]
        ).id
        other_id = open_case(
            session, principal, client_name="Initech", owner_email=owner, contacts=["it@initech.example"]
        ).id
    first = upload(services, principal, case_id, b"final report v1\n", "final report.txt")
    upload(services, principal, case_id, bytes(range(256)) * 300, "../../etc/passwd")
    upload(services, principal, other_id, b"initech deliverable\n", "initech.txt")
    acknowledged_receipt(services, principal, case_id, contact)
    acknowledged_receipt(services, principal, other_id, "it@initech.example")
    with session_scope(services.engine) as session:
        add_note(session, principal, case_id, "Client confirmed the handover call.")
    record_md5s(services)  # the files so far get evidence.md5 entries; the next one's MD5 is computed at export
    upload(services, principal, case_id, b"late confirmation\n", "confirm.txt")
    root_pem = b""
    if timestamp:
        with LocalTSA() as tsa, session_scope(services.engine) as session:
            # The receipt's checkpoint is the latest signed one: stamp it, as the publisher would.
            cp = session.exec(select(Checkpoint).order_by(col(Checkpoint.size).desc())).first()
            assert cp is not None and cp.id is not None
            record = request_timestamp(tsa.url, cp.note.encode(), roots=[tsa.root_certificate])
            session.add(
                TimestampToken(checkpoint_id=cp.id, token=record.token_der, gen_time=record.gen_time, tsa_url=tsa.url)
            )
            root_pem = tsa.root_certificate.public_bytes(Encoding.PEM)
    earlier_zip = export(services, principal, case_id)[0]
    other_zip = export(services, principal, other_id)[0]
    with session_scope(services.engine) as session:
        add_note(session, principal, case_id, "Second export requested by the client's counsel.")
    # A download, for the chain of custody (data/legal/).
    services.transact(
        lambda session: record_retrieval(session, principal, first, channel=Channel.CLI, clock=services.clock)
    )
    data, stream = export(services, principal, case_id, recipient="Counsel for Globex «LLP»")
    assert stream.result is not None
    files = unzip(data)[1]
    index = json.loads(files[layout.INDEX])
    vkey = files[next(p for p in files if p.endswith(".vkey"))].decode().strip()
    return Built(
        services,
        case_id,
        vkey,
        index["origin"],
        data,
        stream.result.manifest_sha256,
        stream.result.ledger_index,
        root_pem,
        earlier_zip,
        other_zip,
    )


def entry_count(built: Built) -> int:
    """How many ledger entries of its case the untouched bundle carries."""
    return len(json.loads(unzip(built.zip_bytes)[1][layout.INDEX])["entries"])


def build_services_at(home: Path) -> Services:
    return build_services(Settings(home=home, base_url="http://testserver"))


# --- zip surgery ---------------------------------------------------------------------------------


def unzip(data: bytes) -> tuple[str, dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        root = names[0].split("/", 1)[0]
        return root, {n[len(root) + 1 :]: archive.read(n) for n in names}


def rezip(root: str, files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(f"{root}/{path}", data)
    return buffer.getvalue()


def rebag(files: dict[str, bytes], *, sha512: bool | None = None) -> dict[str, bytes]:
    """Recompute every manifest, Payload-Oxum and the tag manifests, as a forger would (or as honest
    bagging with SHA-512 would: ``sha512=True`` adds the SHA-512 pair, ``False`` drops it; ``None`` keeps
    the algorithms the bag has)."""
    out = dict(files)
    if sha512 is None:
        sha512 = layout.MANIFEST_SHA512 in out
    for name in (layout.MANIFEST_SHA512, layout.TAGMANIFEST_SHA512):
        out.pop(name, None)
    algorithms = ("sha256", "sha512") if sha512 else ("sha256",)
    payload = {p: d for p, d in out.items() if p.startswith("data/")}
    info = bagit.BagInfo.parse(out[layout.BAG_INFO_TXT])
    oxum = bagit.payload_oxum(len(d) for d in payload.values())
    out[layout.BAG_INFO_TXT] = bagit.bag_info_text([(k, oxum if k == "Payload-Oxum" else v) for k, v in info.fields])
    for algorithm in algorithms:
        digests = {p: hashlib.new(algorithm, d).hexdigest() for p, d in payload.items()}
        out[f"manifest-{algorithm}.txt"] = bagit.manifest_text(digests)
    tag_files = [p for p in out if not p.startswith("data/") and p not in layout.TAG_MANIFESTS]
    for algorithm in algorithms:
        tags = {p: hashlib.new(algorithm, out[p]).hexdigest() for p in tag_files}
        out[f"tagmanifest-{algorithm}.txt"] = bagit.manifest_text(tags)
    return out


def with_sha512(built: Built) -> bytes:
    """The genuine bundle as ``offboard bundle export --sha512`` bags it: both manifest pairs."""
    root, files = unzip(built.zip_bytes)
    return rezip(root, rebag(files, sha512=True))


def sha512_cases(built: Built) -> list[Tamper]:
    """Tampering with the optional SHA-512 pair of a ``--sha512`` bag: each manifest present is checked,
    and dropping the pair is caught by the SHA-256 tag manifest, which lists ``manifest-sha512.txt``."""
    root, files = unzip(with_sha512(built))
    evidence = json.loads(files[layout.INDEX])["evidence"][0]["path"]
    dropped = {p: d for p, d in files.items() if p not in (layout.MANIFEST_SHA512, layout.TAGMANIFEST_SHA512)}
    wrong512 = files[layout.MANIFEST_SHA512].replace(hashlib.sha512(files[evidence]).hexdigest().encode(), b"0" * 128)
    flipped = {
        name: rezip(root, {**files, name: flip(files[name])})
        for name in (layout.MANIFEST_SHA512, layout.TAGMANIFEST_SHA512)
    }
    return [
        Tamper("sha512-flip-manifest", flipped[layout.MANIFEST_SHA512], layout.MANIFEST_SHA512),
        Tamper("sha512-flip-tagmanifest", flipped[layout.TAGMANIFEST_SHA512], layout.TAGMANIFEST_SHA512),
        Tamper("sha512-drop-pair", rezip(root, dropped), layout.MANIFEST_SHA512),
        Tamper("sha512-wrong-evidence-hash", rezip(root, {**files, layout.MANIFEST_SHA512: wrong512}), evidence),
    ]


def flip(data: bytes, at: int | None = None) -> bytes:
    position = len(data) // 2 if at is None else at
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]


@dataclass(frozen=True)
class Tamper:
    name: str
    data: bytes
    #: Text that must appear in a failed check's item or detail.
    names: str
    #: The kind of the check that must fail with it (``None``: any kind; the integrity cases).
    kind: str | None = None


def _resign(files: dict[str, bytes], signer: Signer) -> dict[str, bytes]:
    """Re-sign every checkpoint note in the bundle with ``signer`` and carry its key instead."""
    out = dict(files)

    def resigned(note: str) -> str:
        return sign_checkpoint(CheckpointBody.from_text(parse_note(note).body), [signer])

    old_note = out[layout.CHECKPOINT].decode()
    new_note = resigned(old_note)
    out[layout.CHECKPOINT] = new_note.encode()
    for path in list(out):
        if path.startswith(layout.PROOFS_DIR):
            proof = TlogProof.from_text(out[path].decode())
            out[path] = TlogProof(index=proof.index, hashes=proof.hashes, checkpoint=new_note).to_text().encode()
        elif path.startswith(layout.EARLIER_DIR) and path.endswith(".checkpoint"):
            out[path] = resigned(out[path].decode()).encode()
    return _replace_key(out, signer)


def _replace_key(files: dict[str, bytes], signer: Signer) -> dict[str, bytes]:
    out = {p: d for p, d in files.items() if not p.endswith(".vkey")}
    key_id = signer.key_id.hex()
    out[layout.key_path(key_id)] = (signer.verifier.vkey() + "\n").encode()
    listing: dict[str, Any] = json.loads(out[layout.KEYS_INDEX])
    listing["keys"] = [{**listing["keys"][0], "key_id": key_id, "path": layout.key_path(key_id)}]
    out[layout.KEYS_INDEX] = json.dumps(listing).encode()
    return out


#: Every tamper case, by name: the CLI and the browser tests are parametrized over this list, and
#: ``test_corpus_names_are_the_cases_built`` holds it equal to what ``corpus`` builds.
CORPUS_NAMES = (
    "flip-bagit-txt",
    "flip-bag-info",
    "flip-manifest-sha256",
    "flip-tagmanifest",
    "flip-index",
    "flip-checkpoint",
    "flip-entry",
    "flip-proof",
    "flip-evidence",
    "flip-vkey",
    "flip-keys-json",
    "flip-report-html",
    "flip-report-pdf",
    "flip-verify-html",
    "flip-earlier-checkpoint",
    "flip-consistency",
    "flip-receipt",
    "flip-receipt-sig",
    "flip-receipt-pdf",
    "flip-timestamp",
    "delete-evidence",
    "delete-evidence-rebagged",
    "add-file",
    "add-file-rebagged",
    "add-top-level-file",
    "edit-entry",
    "swap-evidence",
    "truncate-proof",
    "older-checkpoint",
    "foreign-checkpoint",
    "replace-public-key",
    "resign-other-key",
    "index-claims-other-hash",
    "receipt-edited",
    "report-rewritten",
    # the legal packaging (data/legal)
    "legal-loadfile-wrong-hash",
    "legal-loadfile-md5-not-recorded",
    "legal-custody-export-removed",
    # omission
    "omit-note-entry",
    "omit-receipt-opened",
    "omit-acknowledged",
    "omit-countersigned",
    "omit-export-record",
    "omit-deliverable",
    "omit-acknowledgment-files",
    "truncate-to-earlier-export",
    # splicing
    "splice-other-case-receipt",
    "splice-other-receipt-in-place",
    "splice-other-acknowledgment-in-place",
    "splice-earlier-export-checkpoint",
    "older-checkpoint-own-proofs",
    "relabel-format-1",
    # labels
    "label-client-name",
    "label-filename",
    "label-kind",
    "label-path",
    "label-organization-name",
    "label-exported-by",
    "label-receipt-status",
    "label-bag-info-organization",
    "format-3-old-consistency-names",
    "format-2-new-consistency-names",
    # the optional SHA-512 pair
    "sha512-flip-manifest",
    "sha512-flip-tagmanifest",
    "sha512-drop-pair",
    "sha512-wrong-evidence-hash",
)


def corpus(built: Built) -> list[Tamper]:
    root, files = unzip(built.zip_bytes)
    index = json.loads(files[layout.INDEX])
    entry = layout.entry_path(index["entries"][-1])
    proof = layout.proof_path(index["entries"][-1])
    evidence = index["evidence"][0]["path"]
    earlier = index["earlier_checkpoints"][0]
    receipt = index["receipts"][0]
    stamp = layout.timestamp_path(index["timestamps"][0]["size"])
    cases: list[Tamper] = []

    def add(name: str, changed: dict[str, bytes], names: str, *, rebagged: bool = False) -> None:
        cases.append(Tamper(name, rezip(root, rebag(changed) if rebagged else changed), names))

    # A byte flipped in each kind of file, manifests left alone.
    kinds = {
        "bagit-txt": layout.BAGIT_TXT,
        "bag-info": layout.BAG_INFO_TXT,
        "manifest-sha256": layout.MANIFEST_SHA256,
        "tagmanifest": layout.TAGMANIFEST_SHA256,
        "index": layout.INDEX,
        "checkpoint": layout.CHECKPOINT,
        "entry": entry,
        "proof": proof,
        "evidence": evidence,
        "vkey": next(p for p in files if p.endswith(".vkey")),
        "keys-json": layout.KEYS_INDEX,
        "report-html": layout.REPORT_HTML,
        "report-pdf": layout.REPORT_PDF,
        "verify-html": layout.VERIFY_HTML,
        "earlier-checkpoint": earlier["path"],
        "consistency": earlier["consistency"],
        "receipt": receipt["json"],
        "receipt-sig": receipt["sig"],
        "receipt-pdf": receipt["pdf"],
        "timestamp": stamp,
    }
    for kind, path in kinds.items():
        add(f"flip-{kind}", {**files, path: flip(files[path])}, path)
    add("delete-evidence", {p: d for p, d in files.items() if p != evidence}, evidence)
    add("delete-evidence-rebagged", {p: d for p, d in files.items() if p != evidence}, evidence, rebagged=True)
    add("add-file", {**files, "data/evidence/extra.bin": b"planted"}, "data/evidence/extra.bin")
    add("add-file-rebagged", {**files, "data/evidence/extra.bin": b"planted"}, "data/evidence/extra.bin", rebagged=True)
    add("add-top-level-file", {**files, "data/notes.txt": b"x"}, "data/notes.txt", rebagged=True)
    edited = files[entry].replace(b'"actor":"', b'"actor":"X', 1)
    add("edit-entry", {**files, entry: edited}, entry, rebagged=True)
    add("swap-evidence", {**files, evidence: b"other bytes"}, evidence, rebagged=True)
    truncated = files[proof].decode().split("\n\n", 1)
    head = truncated[0].rsplit("\n", 1)[0]
    add("truncate-proof", {**files, proof: f"{head}\n\n{truncated[1]}".encode()}, proof, rebagged=True)
    older = files[earlier["path"]]
    add("older-checkpoint", {**files, layout.CHECKPOINT: older}, layout.CHECKPOINT, rebagged=True)
    stranger = generate_key("elsewhere.example/other", random=lambda n: b"\x07" * n)
    body = CheckpointBody.from_text(parse_note(files[layout.CHECKPOINT].decode()).body)
    foreign = sign_checkpoint(CheckpointBody("elsewhere.example/other", body.size, body.root_hash), [stranger])
    add("foreign-checkpoint", {**files, layout.CHECKPOINT: foreign.encode()}, layout.CHECKPOINT, rebagged=True)
    impostor = generate_key(built.origin, random=lambda n: b"\x09" * n)
    add("replace-public-key", _replace_key(files, impostor), "pinned", rebagged=True)
    add("resign-other-key", _resign(files, impostor), layout.CHECKPOINT, rebagged=True)
    index_edit = json.loads(files[layout.INDEX])
    index_edit["evidence"][0]["sha256"] = "0" * 64
    add("index-claims-other-hash", {**files, layout.INDEX: json.dumps(index_edit).encode()}, evidence, rebagged=True)
    add(
        "receipt-edited",
        {**files, receipt["json"]: files[receipt["json"]].replace(b'"terms":"', b'"terms":"Y')},
        receipt["json"],
        rebagged=True,
    )
    # Class 4 of issue 11: the report claims something else; only rendering it again from the entries shows it.
    claimed = files[layout.REPORT_HTML].replace(b"Globex", b"Initech")
    assert claimed != files[layout.REPORT_HTML]
    add("report-rewritten", {**files, layout.REPORT_HTML: claimed}, layout.REPORT_HTML, rebagged=True)
    cases.extend(legal(root, files))
    cases.extend(omissions(built, root, files))
    cases.extend(splices(built, root, files))
    cases.extend(labels(root, files))
    cases.extend(formats(root, files))
    cases.extend(sha512_cases(built))
    return cases


def legal(root: str, files: dict[str, bytes]) -> list[Tamper]:
    """``data/legal/`` edited to agree with itself but not with the entries: a load-file row's SHA-256 (in the
    ``.dat`` only), and the earlier export left out of the chain of custody (JSON, text and CSV)."""
    dat = files[layout.LOADFILE_DAT].decode("utf-8")
    row = dat.split("\r\n")[1]
    sha256 = row.split("\u0014")[3].strip("\u00fe")
    wrong = dat.replace(sha256, "0" * 64, 1).encode("utf-8")
    custody = json.loads(files[layout.CUSTODY_JSON])
    removed = next(r for r in custody["records"] if r["event"] == "export")
    custody["records"].remove(removed)
    text = b"".join(
        line
        for line in files[layout.CUSTODY_TXT].splitlines(keepends=True)
        if not line.startswith(b"[%d]" % removed["ledger_index"])
    )
    table = b"".join(
        line
        for line in files[layout.CUSTODY_CSV].splitlines(keepends=True)
        if not line.startswith(b"%d," % removed["ledger_index"])
    )
    without = {layout.CUSTODY_JSON: canonical(custody), layout.CUSTODY_TXT: text, layout.CUSTODY_CSV: table}
    # A recorded MD5 changed in both load files alike (so they agree with each other, not with the ledger).
    recorded = recorded_md5s(sorted(_entries_of(files).items()))
    md5 = next(iter(recorded.values()))
    other = "f" * 32
    md5_changed = {path: files[path].replace(md5.encode(), other.encode(), 1) for path in layout.LOAD_FILES}
    return [
        _tamper("legal-loadfile-wrong-hash", root, {**files, layout.LOADFILE_DAT: wrong}, "SHA256 is 000", "legal"),
        _tamper(
            "legal-loadfile-md5-not-recorded",
            root,
            {**files, **md5_changed},
            f"MD5 is {other}, its evidence.md5 entry records {md5}",
            "legal",
        ),
        _tamper(
            "legal-custody-export-removed",
            root,
            {**files, **without},
            f"the export at ledger index {removed['ledger_index']}",
            "legal",
        ),
    ]


def _entries_of(files: dict[str, bytes]) -> dict[int, dict[str, Any]]:
    index = json.loads(files[layout.INDEX])
    return {i: json.loads(files[layout.entry_path(i)]) for i in index["entries"]}


def _of_type(files: dict[str, bytes], entry_type: str) -> int:
    return next(i for i, e in sorted(_entries_of(files).items()) if e["type"] == entry_type)


def without_entries(files: dict[str, bytes], *indexes: int) -> dict[str, bytes]:
    """The entries removed everywhere they appear: file, proof and ``bundle.json``'s list."""
    gone = set(indexes)
    out = {
        p: d for p, d in files.items() if p not in {f(i) for i in gone for f in (layout.entry_path, layout.proof_path)}
    }
    index = json.loads(out[layout.INDEX])
    index["entries"] = [i for i in index["entries"] if i not in gone]
    out[layout.INDEX] = json.dumps(index).encode()
    return out


def _tamper(name: str, root: str, files: dict[str, bytes], names: str, kind: str) -> Tamper:
    return Tamper(name, rezip(root, rebag(files)), names, kind)


def omissions(built: Built, root: str, files: dict[str, bytes]) -> list[Tamper]:
    """One thing of the case left out, and everything that would point at it rebuilt."""
    index = json.loads(files[layout.INDEX])
    note = _of_type(files, "case.note")
    opened = _of_type(files, "receipt.opened")
    acked = _of_type(files, "receipt.acknowledged")
    countersigned = _of_type(files, "receipt.countersigned")
    tip = index["entries"][-1]
    receipt_id = next(r["id"] for r in index["receipts"] if not r["id"].endswith("-acknowledgment"))
    ack = next(r for r in index["receipts"] if r["id"].endswith("-acknowledgment"))
    cases = [
        _tamper(
            "omit-note-entry",
            root,
            without_entries(files, note),
            f"entry {note} of the case is missing",
            "completeness",
        ),
        _tamper(
            "omit-receipt-opened",
            root,
            without_entries(files, opened),
            f"entry {opened} of the case is missing",
            "completeness",
        ),
        _tamper(
            "omit-acknowledged",
            root,
            without_entries(files, acked),
            f"entry {acked} of the case is missing",
            "completeness",
        ),
        _tamper(
            "omit-countersigned",
            root,
            without_entries(files, countersigned),
            f"entry {countersigned} of the case is missing",
            "completeness",
        ),
        _tamper(
            "omit-export-record",
            root,
            without_entries(files, tip),
            "not the export's bundle.exported record",
            "completeness",
        ),
    ]
    # A deliverable the receipt does not list: its file, its listing, its evidence.stored entry and proof.
    late = next(e for e in index["evidence"] if e["filename"] == "confirm.txt")
    dropped = without_entries(files, late["ledger_index"])
    dropped.pop(late["path"])
    listing = json.loads(dropped[layout.INDEX])
    listing["evidence"] = [e for e in listing["evidence"] if e["id"] != late["id"]]
    dropped[layout.INDEX] = json.dumps(listing).encode()
    cases.append(_tamper("omit-deliverable", root, dropped, f"evidence {late['id']}", "completeness"))
    # The client's acknowledgment: both files and its listing.
    no_ack = {p: d for p, d in files.items() if p not in (ack["json"], ack["sig"])}
    listing = json.loads(no_ack[layout.INDEX])
    listing["receipts"] = [r for r in listing["receipts"] if r["id"] != ack["id"]]
    no_ack[layout.INDEX] = json.dumps(listing).encode()
    cases.append(_tamper("omit-acknowledgment-files", root, no_ack, f"receipt {receipt_id}", "binding"))
    # Everything after the earlier export cut off: its bundle.exported record becomes the last entry.
    earlier_tip = json.loads(unzip(built.earlier_zip)[1][layout.INDEX])["entries"][-1]
    later = [i for i in index["entries"] if i > earlier_tip]
    cases.append(
        _tamper(
            "truncate-to-earlier-export",
            root,
            without_entries(files, *later),
            "does not end with its export record",
            "completeness",
        )
    )
    return cases


def splices(built: Built, root: str, files: dict[str, bytes]) -> list[Tamper]:
    """Genuine material from the other case and from the earlier export of this case."""
    _, other = unzip(built.other_zip)
    other_index = json.loads(other[layout.INDEX])
    other_receipt = next(r for r in other_index["receipts"] if not r["id"].endswith("-acknowledgment"))
    other_ack = next(r for r in other_index["receipts"] if r["id"].endswith("-acknowledgment"))
    index = json.loads(files[layout.INDEX])
    own_receipt = next(r for r in index["receipts"] if not r["id"].endswith("-acknowledgment"))
    own_ack = next(r for r in index["receipts"] if r["id"].endswith("-acknowledgment"))
    cases = []
    # The other case's receipt and acknowledgment added under their own names.
    added = dict(files)
    for item in (other_receipt, other_ack):
        for key in ("json", "sig", "pdf"):
            if item.get(key):
                added[item[key]] = other[item[key]]
    listing = json.loads(added[layout.INDEX])
    listing["receipts"] += [other_receipt, other_ack]
    added[layout.INDEX] = json.dumps(listing).encode()
    cases.append(
        _tamper("splice-other-case-receipt", root, added, f"not this bundle's case {built.case_id}", "binding")
    )
    # The other case's receipt, and separately its acknowledgment, put in place of this case's.
    for name, own, theirs in (
        ("splice-other-receipt-in-place", own_receipt, other_receipt),
        ("splice-other-acknowledgment-in-place", own_ack, other_ack),
    ):
        swapped = {**files, own["json"]: other[theirs["json"]], own["sig"]: other[theirs["sig"]]}
        cases.append(_tamper(name, root, swapped, f"this bundle's case {built.case_id}", "binding"))
    # The earlier export's checkpoint with its genuine proofs, the later entries' proofs re-wrapped around it.
    _, earlier = unzip(built.earlier_zip)
    old_note = earlier[layout.CHECKPOINT].decode()
    stale = {**files, layout.CHECKPOINT: earlier[layout.CHECKPOINT]}
    index_stale = json.loads(files[layout.INDEX])
    old_size = json.loads(earlier[layout.INDEX])["checkpoint"]["size"]
    index_stale["checkpoint"]["size"] = old_size
    stale[layout.INDEX] = json.dumps(index_stale).encode()
    for i in index_stale["entries"]:
        path = layout.proof_path(i)
        if path in earlier:
            stale[path] = earlier[path]
        else:
            proof = TlogProof.from_text(files[path].decode())
            stale[path] = TlogProof(index=proof.index, hashes=proof.hashes, checkpoint=old_note).to_text().encode()
    newest = index_stale["entries"][-1]
    cases.append(
        _tamper(
            "splice-earlier-export-checkpoint",
            root,
            stale,
            f"the bundle's checkpoint (size {old_size}) is older than entry {newest} it must cover",
            "entry",
        )
    )
    # An older genuine checkpoint of the log with its own consistency proof, as the bundle's checkpoint.
    earlier_cp = index["earlier_checkpoints"][0]
    older = {**files, layout.CHECKPOINT: files[earlier_cp["path"]]}
    index_older = json.loads(files[layout.INDEX])
    index_older["checkpoint"]["size"] = earlier_cp["size"]
    older[layout.INDEX] = json.dumps(index_older).encode()
    cases.append(
        _tamper(
            "older-checkpoint-own-proofs",
            root,
            older,
            f"the bundle's checkpoint has size {earlier_cp['size']}",
            "consistency",
        )
    )
    relabeled = json.loads(files[layout.INDEX])
    relabeled["format"] = layout.FORMAT_1
    cases.append(
        _tamper(
            "relabel-format-1",
            root,
            {**files, layout.INDEX: json.dumps(relabeled).encode()},
            "carry case links",
            "completeness",
        )
    )
    return cases


def labels(root: str, files: dict[str, bytes]) -> list[Tamper]:
    """``bundle.json`` saying something the signed entries do not."""
    cases = []

    def edit(name: str, change: Any, names: str, kind: str, extra: dict[str, bytes] | None = None) -> None:
        index = json.loads(files[layout.INDEX])
        change(index)
        changed = {**files, **(extra or {}), layout.INDEX: json.dumps(index).encode()}
        cases.append(_tamper(name, root, changed, names, kind))

    index = json.loads(files[layout.INDEX])
    first = index["evidence"][0]
    edit("label-client-name", lambda i: i.update(client_name="Someone Else Ltd"), "client_name", "index")
    edit("label-filename", lambda i: i["evidence"][0].update(filename="signed-contract.pdf"), "filename", "evidence")
    edit("label-kind", lambda i: i["evidence"][0].update(kind="confirmation"), "kind", "evidence")
    moved = "data/evidence/" + first["id"] + "-renamed.txt"
    without = {p: d for p, d in files.items() if p != first["path"]}
    index_moved = json.loads(files[layout.INDEX])
    index_moved["evidence"][0]["path"] = moved
    without[moved] = files[first["path"]]
    without[layout.INDEX] = json.dumps(index_moved).encode()
    cases.append(_tamper("label-path", root, without, "path", "evidence"))
    edit(
        "label-organization-name", lambda i: i["organization"].update(name="Other Agency"), "organization.name", "index"
    )
    edit("label-exported-by", lambda i: i.update(exported_by="staff:ceo@agency.example"), "exported_by", "index")

    def status(i: dict[str, Any]) -> None:
        next(r for r in i["receipts"] if not r["id"].endswith("-acknowledgment"))["status"] = "disputed"

    edit("label-receipt-status", status, "status", "binding")
    info = files[layout.BAG_INFO_TXT].replace(b"Source-Organization: ", b"Source-Organization: Not ")
    cases.append(
        _tamper("label-bag-info-organization", root, {**files, layout.BAG_INFO_TXT: info}, "Source-Organization", "bag")
    )
    return cases


def _consistency_names(files: dict[str, bytes], first: str, second: str) -> dict[str, bytes]:
    """Every ``<n>.consistency.json`` rewritten (RFC 8785, as exported) with its sizes under these names."""
    out = dict(files)
    for path in (p for p in files if p.startswith(layout.EARLIER_DIR) and p.endswith(".consistency.json")):
        proof = json.loads(files[path])
        out[path] = canonical({first: proof["first"], second: proof["second"], "hashes": proof["hashes"]})
    return out


def _format_labelled(files: dict[str, bytes], fmt: str) -> dict[str, bytes]:
    """``bundle.json`` and ``bag-info.txt`` (Offboard-Format) saying format ``fmt``."""
    index = json.loads(files[layout.INDEX])
    index["format"] = fmt
    info = bagit.BagInfo.parse(files[layout.BAG_INFO_TXT])
    labelled = [(k, fmt if k == "Offboard-Format" else v) for k, v in info.fields]
    return {**files, layout.INDEX: canonical(index), layout.BAG_INFO_TXT: bagit.bag_info_text(labelled)}


def formats(root: str, files: dict[str, bytes]) -> list[Tamper]:
    """Consistency proofs named as another bundle format names them: each format's names, and only those."""
    old_names = _consistency_names(files, "first_size", "second_size")
    new_names_old_format = _format_labelled(files, layout.FORMAT_2)
    return [
        _tamper("format-3-old-consistency-names", root, old_names, "unexpected field 'first_size'", "consistency"),
        _tamper(
            "format-2-new-consistency-names", root, new_names_old_format, "unexpected field 'first'", "consistency"
        ),
    ]


def as_format_2(built: Built) -> bytes:
    """The genuine bundle as Offboard wrote bundle format 2: labelled so, its consistency proofs saying
    ``first_size``/``second_size``, both manifest pairs. (Only the signed ``bundle.exported`` entry still names
    format 4: it is signed, and no verifier compares it with the label.)"""
    root, files = unzip(built.zip_bytes)
    legacy = _consistency_names(_format_labelled(files, layout.FORMAT_2), "first_size", "second_size")
    return rezip(root, rebag(legacy, sha512=True))


def as_format_3(built: Built) -> bytes:
    """The genuine bundle as Offboard wrote bundle format 3: labelled so, always with the SHA-512 manifests."""
    root, files = unzip(built.zip_bytes)
    return rezip(root, rebag(_format_labelled(files, layout.FORMAT_3), sha512=True))


#: A page that says PASS whatever it is given: what a forger would put in place of data/verify.html.
ALWAYS_PASS_PAGE = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>verifier</title></head>'
    b'<body data-verdict="pass"><div id="verdict">PASS: all 1 checks passed</div></body></html>\n'
)


def with_verify_page(built: Built, page: bytes) -> bytes:
    """The genuine bundle with ``data/verify.html`` replaced by ``page``, manifests rebuilt."""
    root, files = unzip(built.zip_bytes)
    return rezip(root, rebag({**files, layout.VERIFY_HTML: page}))
