"""A real bundle and its tamper corpus, shared by the CLI tests and the browser tests of verify.html.

``build_case`` makes a case with evidence, a signed receipt (which gives the client a checkpoint), more
evidence after it (so the receipt's checkpoint is an earlier one with a consistency proof) and an RFC
3161 timestamp of that earlier checkpoint from a local TSA. ``corpus`` derives the tampered bundles:
a byte flipped in each kind of file, files deleted and added, checkpoints replaced by an older or a
foreign one, the public key replaced, an entry edited, a proof truncated, everything re-signed with
another key, the report rewritten. Cases marked re-bagged also recompute every manifest, as a careful
forger would, so only the cryptographic checks (and the report's rendering) can catch them. Each case
names the item a verifier must report. ``with_verify_page`` swaps the verifier page, which verifiers
report as a warning rather than a failure (``docs/bundle.md``).
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
from tests.tsa import LocalTSA
from vault.bundle import bagit, layout
from vault.bundle.export import BundleStream, prepare
from vault.cases import open_case
from vault.config import Settings
from vault.db import session_scope
from vault.evidence import EvidenceIngest
from vault.ledger.checkpoint import CheckpointBody, sign_checkpoint
from vault.ledger.proofs import TlogProof
from vault.models import Checkpoint, TimestampToken
from vault.orgs import Principal, Role
from vault.receipts import create_receipt
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


def upload(services: Services, principal: Principal, case_id: str, data: bytes, name: str) -> str:
    ingest = EvidenceIngest(services.engine, services.store, principal, case_id, services.ingest_limits)
    ingest.feed(data)
    return ingest.finish(
        filename=name, kind="deliverable", content_type="application/octet-stream", description=None
    ).evidence.id


def export(services: Services, principal: Principal, case_id: str) -> tuple[bytes, BundleStream]:
    with session_scope(services.engine) as session:
        plan = prepare(session, services.settings, principal, case_id, clock=services.clock)
    stream = BundleStream(services.engine, services.store, plan, clock=services.clock)
    return b"".join(stream), stream


def build_case(services: Services, *, timestamp: bool = True) -> Built:
    init = initialize(services)
    owner = add_owner(services, init.organization_id)
    principal = Principal(init.organization_id, Role.ADMIN, "test:bundle")
    with session_scope(services.engine) as session:
        case_id = open_case(session, principal, client_name="Globex Ünïcode «Ltd»", owner_email=owner).id
    upload(services, principal, case_id, b"final report v1\n", "final report.txt")
    upload(services, principal, case_id, bytes(range(256)) * 300, "../../etc/passwd")
    with session_scope(services.engine) as session:
        create_receipt(session, services.settings, principal, case_id)
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
    data, stream = export(services, principal, case_id)
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
    )


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


def rebag(files: dict[str, bytes]) -> dict[str, bytes]:
    """Recompute both payload manifests, Payload-Oxum and the tag manifest, as a forger would."""
    out = dict(files)
    payload = {p: d for p, d in out.items() if p.startswith("data/")}
    out[layout.MANIFEST_SHA256] = bagit.manifest_text({p: hashlib.sha256(d).hexdigest() for p, d in payload.items()})
    out[layout.MANIFEST_SHA512] = bagit.manifest_text({p: hashlib.sha512(d).hexdigest() for p, d in payload.items()})
    info = bagit.BagInfo.parse(out[layout.BAG_INFO_TXT])
    oxum = bagit.payload_oxum(len(d) for d in payload.values())
    out[layout.BAG_INFO_TXT] = bagit.bag_info_text([(k, oxum if k == "Payload-Oxum" else v) for k, v in info.fields])
    tags = {p: hashlib.sha256(out[p]).hexdigest() for p in layout.TAG_FILES if p != layout.TAGMANIFEST_SHA256}
    out[layout.TAGMANIFEST_SHA256] = bagit.manifest_text(tags)
    return out


def flip(data: bytes, at: int | None = None) -> bytes:
    position = len(data) // 2 if at is None else at
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]


@dataclass(frozen=True)
class Tamper:
    name: str
    data: bytes
    #: Text that must appear in a failed check's item or detail.
    names: str


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
    "flip-manifest-sha512",
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
        "manifest-sha512": layout.MANIFEST_SHA512,
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
    return cases


#: A page that says PASS whatever it is given: what a forger would put in place of data/verify.html.
ALWAYS_PASS_PAGE = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>verifier</title></head>'
    b'<body data-verdict="pass"><div id="verdict">PASS: all 1 checks passed</div></body></html>\n'
)


def with_verify_page(built: Built, page: bytes) -> bytes:
    """The genuine bundle with ``data/verify.html`` replaced by ``page``, manifests rebuilt."""
    root, files = unzip(built.zip_bytes)
    return rezip(root, rebag({**files, layout.VERIFY_HTML: page}))
