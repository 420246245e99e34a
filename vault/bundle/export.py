"""Export: a case's evidence bundle as one streamed ZIP holding a BagIt 1.0 bag (RFC 8493).

The ZIP is written through a sink that cannot seek, so ``zipfile`` uses data descriptors and the bytes
are the same whether they go to a file (CLI) or an HTTP response (API). Member times are the export
time. Generated files of 16 KiB and more are deflated, smaller ones stored; evidence is stored as is and
streamed from the object store. Beside the copy, on threads of their own (``storage/offload.py``): the
store's SHA-256 check of the bytes read (the SHA-256 is the content address), the MD5 (for the load file)
of each evidence file whose ``evidence.md5`` entry is not in the bundle (``vault/evidence/md5.py``), the
SHA-512 (on request) of each, and the SHA-256 of the whole ZIP. Order: ``bagit.txt``, the evidence (while
the PDF report renders on a thread of its own, started by ``prepare``), ``bag-info.txt`` (Payload-Oxum needs
the report's size), generated payload, the two load files (which need the MD5s), then the manifests and the
tag manifest, which need the hashes. BagIt leaves the order of a bag's files free.

The export is recorded twice (chain of custody). Before the first byte, the plan appends
``bundle.exported`` (what the bundle holds), which is inside the bundle as its case's last entry. When the
last byte is out, ``bundle.completed`` records the SHA-256 of ``manifest-sha256.txt`` and of the ZIP; it
comes after the bundle's checkpoint, so only a later bundle or the live log shows it. An interrupted export
leaves ``bundle.exported`` without its ``bundle.completed``.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass

from storage.base import ObjectStore
from storage.offload import Offload, hashing
from vault.bundle import bagit, layout
from vault.bundle.background import in_background, settle
from vault.bundle.legal import legal_files, legal_format
from vault.bundle.legal_loadfile import load_files, loadfile_rows, recorded_md5s
from vault.bundle.plan import BundlePlan, PlannedEvidence, ReceiptSource, build_plan
from vault.bundle.read_ahead import ReadAhead
from vault.bundle.receipt_files import ReceiptPdf, case_receipts
from vault.bundle.report import build_report
from vault.bundle.report_cells import Entry
from vault.bundle.report_html import report_html
from vault.bundle.report_pdf import render_pdf
from vault.bundle.verifier_page import verify_page
from vault.clock import Clock, system_clock
from vault.config import Settings
from vault.db import Transact
from vault.errors import IntegrityFailure
from vault.evidence.ingest import stream_verified
from vault.ledger import log
from vault.ledger.entries import EntryDraft
from vault.orgs.organizations import Principal
from vault.pdfs.stored import read_pdf

#: Bundles are not a place to save space on small text; level 6 is zlib's balanced default.
DEFLATE_LEVEL = 6
#: Generated files smaller than this are stored, not deflated: deflating thousands of proof and entry files
#: of a few hundred bytes costs more time than the few KiB it saves.
DEFLATE_FROM = 16 * 1024
#: Generated members are handed out once this many bytes of them are waiting.
CHUNK_OUT = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What an export produced and where its custody record landed."""

    #: SHA-256 (hex) of ``manifest-sha256.txt``, as recorded in the ledger.
    manifest_sha256: str
    #: Ledger index of the ``bundle.exported`` entry (inside the bundle).
    ledger_index: int
    #: Ledger index of the ``bundle.completed`` entry (after the bundle's checkpoint).
    completed_index: int
    #: Payload files and their total size (Payload-Oxum).
    payload_files: int
    payload_bytes: int
    #: Bytes of the ZIP and its SHA-256 (hex).
    zip_bytes: int
    zip_sha256: str
    #: Size of the checkpoint the bundle's proofs are against.
    checkpoint_size: int


def prepare(
    transact: Transact,
    settings: Settings,
    principal: Principal,
    case_id: str,
    *,
    clock: Clock = system_clock,
    receipts: ReceiptSource | None = None,
    receipt_pdf: ReceiptPdf | None = None,
    recipient: str | None = None,
    store: ObjectStore | None = None,
    read_ahead: ReadAhead | None = None,
) -> BundlePlan:
    """The complete plan: ledger files, keys, index, both reports, the verifier page and the legal packaging.

    The export is recorded and its checkpoint signed in one unit of work (``transact``); the slow parts,
    the receipts' PDFs (signed, maybe timestamped over the network) and both reports, are made after it
    committed, from what it read. ``recipient``: to whom the bundle goes, when stated (recorded in the
    export entry, so in the chain of custody). ``receipts`` defaults to the case's stored receipts and
    acknowledgments, whose PDFs ``receipt_pdf`` makes (default: rendered; the adapters pass the one that
    serves stored long-term PDFs). With the ``store``, a certificate's stored long-term PDF replaces the one as
    issued (``certificate_files.py``). Both reports are rendered from the plan's entries alone, the ones the
    bundle carries, so a verifier can render ``report.html`` again and compare. A ``read_ahead``
    (``read_ahead.py``) starts on the evidence as soon as the plan is known.
    """
    source = receipts if receipts is not None else case_receipts(settings, clock, receipt_pdf)
    plan = transact(
        lambda session: build_plan(
            session, settings, principal, case_id, clock=clock, receipts=source, recipient=recipient
        )
    )
    entries = [(entry.index, entry.document) for entry in plan.entries]
    plan.recorded_md5.update(recorded_md5s(entries))
    if read_ahead is not None:
        read_ahead.start([item.row for item in plan.evidence if item.path not in plan.recorded_md5])
    for receipt in plan.receipts:
        if receipt.pdf is None and receipt.make_pdf is not None:
            plan.files[layout.receipt_paths(receipt.receipt_id)[2]] = receipt.make_pdf()
    if plan.certificate_pdf is not None and store is not None:
        plan.files[layout.CERTIFICATE_PDF] = read_pdf(store, plan.certificate_pdf)
    data = build_report(entries, origin=plan.origin, checkpoint_size=plan.checkpoint.size)
    # The PDF report (a second of pure Python for 10,000 entries) renders while the stream copies the
    # evidence, whose hashing and I/O run outside the interpreter lock; the stream waits for it after.
    plan.rendering[layout.REPORT_PDF] = in_background(lambda: render_pdf(data, plan.exported_at), "report-pdf")
    plan.files[layout.REPORT_HTML] = report_html(data)
    plan.files[layout.VERIFY_HTML] = verify_page()
    if legal_format(entries) == layout.LEGAL_FORMAT:
        # The load files' MD5 placeholders give their final size (Payload-Oxum); the stream writes the real ones.
        plan.files.update(_legal(plan, entries, None))
    return plan


def _legal(plan: BundlePlan, entries: Sequence[Entry], md5: dict[str, str] | None) -> dict[str, bytes]:
    return legal_files(
        entries,
        case_id=plan.case.id,
        origin=plan.origin,
        checkpoint_size=plan.checkpoint.size,
        root=bytes(plan.checkpoint.root_hash),
        md5=md5,
    )


class _Sink:
    """A write-only, non-seekable buffer that zipfile writes into and the exporter drains."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.position = 0
        #: Bytes handed out by ``drain`` so far.
        self.drained = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        # zipfile asks where it is; answering without supporting seek() keeps it in streaming mode.
        return self.position

    def seek(self, *_args: object) -> int:
        raise OSError("the bundle sink cannot seek")

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None

    def drain(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        self.drained += len(out)
        return out


class BundleStream:
    """Iterate to get the ZIP's bytes; after the last chunk ``result`` holds the recorded export."""

    def __init__(
        self,
        transact: Transact,
        store: ObjectStore,
        plan: BundlePlan,
        *,
        clock: Clock = system_clock,
        sha512: bool = False,
        read_ahead: ReadAhead | None = None,
    ) -> None:
        self._transact = transact
        self._store = store
        self._plan = plan
        self._clock = clock
        #: Also write the SHA-512 manifest pair (``--sha512``), for archives that demand it.
        self._sha512 = sha512
        #: MD5s read ahead while the plan rendered (the same one given to ``prepare``), if any.
        self._read_ahead = read_ahead
        self._member_time = plan.exported_at.timetuple()[:6]
        self.result: ExportResult | None = None

    @property
    def plan(self) -> BundlePlan:
        return self._plan

    def _info(self, path: str, *, deflate: bool, size: int) -> zipfile.ZipInfo:
        # One date tuple for every member: a bundle has tens of thousands, each kept until the central directory.
        info = zipfile.ZipInfo(f"{self._plan.root}/{path}", date_time=self._member_time)
        info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
        info.create_system = 3
        info.external_attr = 0o100644 << 16
        info.file_size = size
        return info

    def __iter__(self) -> Iterator[bytes]:
        plan = self._plan
        sink = _Sink()
        whole = hashlib.sha256()
        sha256: dict[str, str] = {}
        sha512: dict[str, str] = {}
        want512 = self._sha512
        with (
            zipfile.ZipFile(sink, "w", allowZip64=True) as archive,
            hashing([whole], name="zip-sha256") as whole_zip,
        ):

            def small(path: str, data: bytes) -> None:
                info = self._info(path, deflate=len(data) >= DEFLATE_FROM, size=len(data))
                archive.writestr(info, data, compresslevel=DEFLATE_LEVEL)

            def out() -> bytes:
                chunk_out = sink.drain()
                whole_zip.put(chunk_out)
                return chunk_out

            small(layout.BAGIT_TXT, bagit.BAGIT_TXT_BODY)
            yield out()
            # The evidence first, while the PDF report renders (``prepare``). The SHA-256 is the stored one,
            # which stream_verified checks the bytes against.
            sha256.update({item.path: item.row.sha256 for item in plan.evidence})
            md5, evidence512 = yield from self._all_evidence(archive, out)
            sha512.update(evidence512)
            settle(plan)
            oxum = bagit.payload_oxum(plan.payload_sizes)
            small(layout.BAG_INFO_TXT, bag_info(plan, oxum))

            def generated(path: str, data: bytes) -> None:
                small(path, data)
                sha256[path] = hashlib.sha256(data).hexdigest()
                if want512:
                    sha512[path] = hashlib.sha512(data).hexdigest()

            for path in sorted(plan.files.keys() - set(layout.LOAD_FILES)):
                generated(path, plan.files[path])
                if sink.position - sink.drained >= CHUNK_OUT:
                    yield out()  # a MiB at a time: thousands of entry files are never held twice
            for path, data in self._load_files(md5).items():
                generated(path, data)
            manifests = _manifests(sha256, sha512 if want512 else None, plan, oxum)
            for path, data in manifests.items():
                small(path, data)
            manifest256 = manifests[layout.MANIFEST_SHA256]
            archive.close()
            yield out()
        self.result = self._record(hashlib.sha256(manifest256).hexdigest(), whole.hexdigest(), oxum, sink.position)

    def _record(self, manifest_hash: str, zip_hash: str, oxum: str, zip_bytes: int) -> ExportResult:
        plan = self._plan
        index = record_completion(self._transact, plan, manifest_hash, zip_hash, oxum, clock=self._clock)
        octets, files = bagit.parse_oxum(oxum)
        return ExportResult(
            manifest_sha256=manifest_hash,
            ledger_index=plan.export_index,
            completed_index=index,
            payload_files=files,
            payload_bytes=octets,
            zip_bytes=zip_bytes,
            zip_sha256=zip_hash,
            checkpoint_size=plan.checkpoint.size,
        )

    def _all_evidence(
        self, archive: zipfile.ZipFile, out: Callable[[], bytes]
    ) -> Generator[bytes, None, tuple[dict[str, str], dict[str, str]]]:
        """Every evidence member; returns the MD5s and SHA-512s (when asked for) by path. MD5s come from the
        case's ``evidence.md5`` entries, else from the read-ahead where it finished the file, else from one
        thread beside the copy, like the SHA-512s."""
        digests: dict[str, list[hashlib._Hash]] = {}
        # Recorded by the worker after upload (``vault/evidence/md5.py``), in the entries the bundle carries.
        md5 = dict(self._plan.recorded_md5)
        recorded = set(md5)
        ahead = self._read_ahead
        try:
            with Offload(_update_all, name="evidence-digests") as beside:
                for item in self._plan.evidence:
                    known = item.path in recorded
                    early = ahead.take(item.row) if ahead is not None and not known else None
                    found = [hashlib.md5(usedforsecurity=False)] if not known and early is None else []
                    found += [hashlib.sha512()] if self._sha512 else []
                    digests[item.path] = found
                    crc = yield from self._evidence_member(archive, out, beside, item, found)
                    if early is not None:
                        if early.crc != crc:
                            raise IntegrityFailure(f"evidence {item.row.id}: its object changed while it was exported")
                        md5[item.path] = early.md5
        finally:
            if ahead is not None:
                ahead.stop()
        md5.update({path: found[0].hexdigest() for path, found in digests.items() if path not in md5})
        sha512 = {path: found[-1].hexdigest() for path, found in digests.items() if self._sha512}
        return md5, sha512

    def _evidence_member(
        self,
        archive: zipfile.ZipFile,
        out: Callable[[], bytes],
        digesting: Offload[tuple[list[hashlib._Hash], bytes]],
        item: PlannedEvidence,
        digests: list[hashlib._Hash],
    ) -> Generator[bytes, None, int]:
        """Stream one evidence file into the ZIP, yielding its bytes, while ``digesting`` updates its MD5
        (only for the load file's tools, ``docs/bundle.md``, "Legal packaging") and SHA-512 (when asked
        for) on another thread; returns the member's CRC-32."""
        info = self._info(item.path, deflate=False, size=item.row.size)
        with archive.open(info, "w") as member:
            for chunk in stream_verified(self._store, item.row):
                member.write(chunk)
                if digests:
                    digesting.put((digests, chunk))
                yield out()
        return info.CRC

    def _load_files(self, md5: dict[str, str]) -> dict[str, bytes]:
        """The load files with the evidence's MD5s, of the size the plan counted (none if it has none)."""
        plan = self._plan
        if not any(path in plan.files for path in layout.LOAD_FILES):
            return {}
        entries = [(entry.index, entry.document) for entry in plan.entries]
        # Only the load files change with the MD5s; the rest of data/legal/ was written from the plan.
        out = load_files(loadfile_rows(entries, plan.case.id, md5))
        if out.keys() != set(layout.LOAD_FILES):
            raise IntegrityFailure(f"expected the load files {layout.LOAD_FILES}, made {sorted(out)}")
        if any(len(data) != len(plan.files[path]) for path, data in out.items()):
            raise IntegrityFailure("a load file's size changed with its MD5 values: Payload-Oxum would be wrong")
        return out


def _update_all(work: tuple[list[hashlib._Hash], bytes]) -> None:
    digests, chunk = work
    for digest in digests:
        digest.update(chunk)


def _manifests(sha256: dict[str, str], sha512: dict[str, str] | None, plan: BundlePlan, oxum: str) -> dict[str, bytes]:
    """The payload manifests and then the tag manifests (RFC 8493 sections 2.1.3 and 2.2.1), in writing
    order: SHA-256, and SHA-512 when asked for."""
    payload = {layout.MANIFEST_SHA256: bagit.manifest_text(sha256)}
    if sha512 is not None:
        payload[layout.MANIFEST_SHA512] = bagit.manifest_text(sha512)
    tags = {layout.BAGIT_TXT: bagit.BAGIT_TXT_BODY, layout.BAG_INFO_TXT: bag_info(plan, oxum), **payload}
    out = dict(payload)
    for name, algorithm in layout.TAG_MANIFESTS.items():
        if algorithm == "sha256" or sha512 is not None:
            digests = {path: hashlib.new(algorithm, data).hexdigest() for path, data in tags.items()}
            out[name] = bagit.manifest_text(digests)
    return out


def bag_info(plan: BundlePlan, oxum: str) -> bytes:
    return bagit.bag_info_text(
        [
            ("Source-Organization", plan.organization.name),
            ("External-Identifier", plan.case.id),
            ("External-Description", f"Offboarding evidence bundle for {plan.case.client_name}"),
            ("Bagging-Date", plan.exported_at.date().isoformat()),
            ("Payload-Oxum", oxum),
            ("Bag-Software-Agent", "Offboard"),
            ("Offboard-Format", layout.FORMAT),
            ("Offboard-Case", plan.case.id),
            ("Offboard-Exported-By", plan.exported_by),
            ("Offboard-Origin", plan.origin),
            ("Offboard-Checkpoint-Size", str(plan.checkpoint.size)),
        ]
    )


def record_completion(
    transact: Transact, plan: BundlePlan, manifest_sha256: str, zip_sha256: str, oxum: str, *, clock: Clock
) -> int:
    """Append ``bundle.completed`` in its own unit of work; returns its ledger index."""
    draft = EntryDraft(
        type="bundle.completed",
        organization_id=plan.organization.id,
        case_id=plan.case.id,
        actor=plan.exported_by,
        data={
            "exported": plan.export_index,
            "manifest_sha256": manifest_sha256,
            "zip_sha256": zip_sha256,
            "payload_oxum": oxum,
            "checkpoint_size": plan.checkpoint.size,
        },
    )
    return transact(lambda session: log.append(session, draft, clock=clock).index)
