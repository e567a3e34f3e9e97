"""What a model file is, by its content and never by its name (src/core/scan/classify.ts, the
same rules and verdicts): safetensors, a zip (a PyTorch archive or a NumPy .npz: every pickle and
.npy member checked), a legacy PyTorch file (its pickles checked), a NumPy array (object arrays
are pickles), a raw pickle. A file none of these whose name a loader would unpickle is refused.

A file is read in two steps: the ranges ``wanted()`` names (its first 4 bytes; for a zip, the
end records and the central directory), read by position and handed to ``provide()``; then every
byte once, in order, through ``push()``, in chunks of any size, as hashing reads them; then
``finish()``. Anything kept from a chunk is copied when kept, so a caller may reuse one buffer."""
from __future__ import annotations

import codecs
import re
from typing import Callable, List, Optional, Union

from .npy import NPY_MAGIC, NpyCheck
from .pickle_vm import PickleReader, PickleScan, judge_pickle
from .safetensors import SafetensorsCheck
from .verdict import ContentReport, Finding, malformed, worst
from .zip_plan import ByteRange, ZipPlan, ZipPreread, is_zip
from .zip_stream import MemberResult, ZipStream

#: Names a loader unpickles, and extensionless ones (a Hugging Face cache blob is one).
PICKLE_CAPABLE_EXTENSIONS = (".ckpt", ".pt", ".pth", ".pth.tar", ".bin", ".pkl", ".pickle", ".joblib", ".npy", ".npz")
_LEGACY_TORCH_MAGIC = bytes([0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E])
#: How much of a file that is not a pickle is looked at to call it text.
_TEXT_SNIFF = 64 * 1024
#: Bytes enough to tell every format apart (the tar magic sits at 257).
_SNIFF = 265
_TORCH_DATA = re.compile(r"[^/]+/data\.pkl")
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f]")

Bytes = Union[bytes, bytearray, memoryview]


def _is_pickle_capable_name(name: str) -> bool:
    base = name[name.rfind("/") + 1 :].lower()
    dot = base.rfind(".")
    return dot <= 0 or base.endswith(PICKLE_CAPABLE_EXTENSIONS)


def _extension_of(name: str) -> str:
    base = name[name.rfind("/") + 1 :]
    return base[base.rfind(".") :] if base.rfind(".") > 0 else "extensionless"


class _TextSniff:
    """Whether the first bytes of a file are UTF-8 text (LICENSE, a README with no extension)."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._seen = 0
        self.text = True

    def push(self, data: memoryview) -> None:
        if not self.text or self._seen >= _TEXT_SNIFF:
            return
        part = bytes(data[: _TEXT_SNIFF - self._seen])
        self._seen += len(part)
        # Control characters other than tab, newline, form feed and carriage return are not text.
        if _CONTROL.search(part):
            self.text = False
            return
        try:
            self._decoder.decode(part, final=self._seen >= _TEXT_SNIFF)
        except UnicodeDecodeError:
            self.text = False


class ContentCheck:
    """The content check of one file in one hashing pass, in bounded memory. ``name`` is the
    file's path (for its extension), ``size`` its size when opened."""

    def __init__(self, name: str, size: int) -> None:
        self._name = name
        self._size = size
        self._mode = "sniff"
        self._head = bytearray()
        self._hashed = 0
        self._head_read: Optional[bytes] = b"" if size < 4 else None
        self._preread: Optional[ZipPreread] = None
        # Per mode:
        self._report: Optional[ContentReport] = None
        self._safetensors: Optional[SafetensorsCheck] = None
        self._zip: Optional[ZipStream] = None
        self._plan: Optional[ZipPlan] = None
        self._scans: List[PickleScan] = []
        self._reader: Optional[PickleReader] = None
        self._npy: Optional[NpyCheck] = None
        self._trailing = False
        self._text: Optional[_TextSniff] = None

    def wanted(self) -> Optional[ByteRange]:
        """The next (offset, length) to read ahead of the stream, or None when streaming may start."""
        if self._head_read is None:
            return (0, 4)
        return self._preread.wanted() if self._preread is not None else None

    def provide(self, data: Bytes) -> None:
        if self._head_read is None:
            self._head_read = bytes(data)
            if is_zip(self._head_read):
                self._preread = ZipPreread(self._size)
            return
        if self._preread is None or self._preread.wanted() is None:
            raise RuntimeError("ContentCheck: nothing was wanted")
        self._preread.provide(bytes(data))

    def push(self, chunk: Bytes) -> None:
        if self._hashed == 0 and self.wanted() is not None:
            raise RuntimeError("ContentCheck: read the ranges wanted() names before pushing the file")
        view = memoryview(chunk)
        self._hashed += len(view)
        if self._mode == "sniff":
            take = min(_SNIFF - len(self._head), len(view))
            self._head += view[:take]
            if len(self._head) < _SNIFF:
                return
            self._choose()
            self._feed(memoryview(bytes(self._head)))
            self._feed(view[take:])
            return
        self._feed(view)

    def finish(self) -> ContentReport:
        if self._mode == "sniff":
            if self.wanted() is not None:
                raise RuntimeError("ContentCheck: read the ranges wanted() names before finishing")
            self._choose()
            self._feed(memoryview(bytes(self._head)))
        mode = self._mode
        if mode == "decided":
            assert self._report is not None
            if self._safetensors is not None and self._safetensors.finish(self._hashed).verdict == "data-only":
                return _polyglot()
            return self._report
        if mode == "safetensors":
            assert self._safetensors is not None
            return self._safetensors.finish(self._hashed)
        if mode == "zip":
            return self._finish_zip()
        if mode == "legacy":
            assert self._reader is not None
            # The reader still open (the file ended inside a pickle) has not been counted yet.
            last = self._reader.finish()
            if not any(s is last for s in self._scans):
                self._scans.append(last)
            return worst("pytorch-legacy", [judge_pickle(s, "pytorch-legacy") for s in self._scans])
        if mode == "npy":
            assert self._npy is not None
            return self._npy.finish()
        assert self._reader is not None and self._text is not None
        return self._finish_pickle(self._reader.finish())

    def _choose(self) -> None:
        data = bytes(self._head)
        also_safetensors = len(data) >= 9 and data[8] == 0x7B
        if is_zip(data) or self._preread is not None:
            preread = self._preread
            if preread is None or not is_zip(data):
                self._decide(malformed("zip", "zip_changed_while_read", "the file began otherwise when its first bytes were read ahead than when it was hashed"), False)
            elif preread.plan is not None:
                self._mode = "zip"
                self._plan = preread.plan
                self._zip = ZipStream(preread.plan, preread.ranges)
                self._safetensors = SafetensorsCheck() if also_safetensors else None
            else:
                self._decide(malformed("zip", "zip_malformed", preread.error or "the directory was not read"), also_safetensors)
        elif data.startswith(_LEGACY_TORCH_MAGIC):
            self._mode = "legacy"
            self._reader = PickleReader(0)
        elif len(data) > 262 and data[257:262] == b"ustar":
            self._decide(malformed("pytorch-legacy-tar", "legacy_tar_refused", "a tar archive (PyTorch's pre-1.6 tar format, which even weights_only loading refuses)"), False)
        elif data.startswith(NPY_MAGIC):
            self._mode = "npy"
            self._npy = NpyCheck(0)
        elif also_safetensors:
            self._mode = "safetensors"
            self._safetensors = SafetensorsCheck()
        else:
            self._mode = "pickle"
            self._reader = PickleReader(0)
            self._text = _TextSniff()

    def _decide(self, report: ContentReport, also_safetensors: bool) -> None:
        """A verdict known before the stream (a safetensors reading still runs, for the polyglot)."""
        self._mode = "decided"
        self._report = report
        self._safetensors = SafetensorsCheck() if also_safetensors else None

    def _feed(self, chunk: memoryview) -> None:
        if not len(chunk):
            return
        mode = self._mode
        if mode == "zip":
            assert self._zip is not None
            self._zip.push(chunk)
            if self._safetensors is not None:
                self._safetensors.push(chunk)
        elif mode in ("decided", "safetensors"):
            if self._safetensors is not None:
                self._safetensors.push(chunk)
        elif mode == "pickle":
            assert self._reader is not None and self._text is not None
            self._text.push(chunk)
            if self._reader.done:
                self._trailing = True
                return
            if self._reader.push(chunk) < len(chunk):
                self._trailing = True
        elif mode == "legacy":
            # Five pickles in a row (magic number, protocol version, system info, the object, the storage keys); then raw storage bytes.
            k = 0
            while k < len(chunk) and len(self._scans) < 5:
                assert self._reader is not None
                k += self._reader.push(chunk[k:])
                if not self._reader.done:
                    return
                scan = self._reader.finish()
                self._scans.append(scan)
                if scan.error is not None:
                    return
                if len(self._scans) < 5:
                    self._reader = PickleReader(scan.end)
        elif mode == "npy":
            assert self._npy is not None
            self._npy.push(chunk)

    def _finish_pickle(self, scan: PickleScan) -> ContentReport:
        """A raw pickle: see classify.ts's finishPickle for the rules by name."""
        assert self._text is not None
        capable = _is_pickle_capable_name(self._name)
        stopped = scan.error is None
        trailing = self._trailing
        trailing_finding = [Finding("pickle_trailing_bytes", f"bytes after the pickle's STOP at offset {scan.end}, which a loader ignores")] if trailing and stopped else []

        def judged() -> ContentReport:
            report = judge_pickle(scan)
            return ContentReport(report.verdict, report.format, [*report.findings, *trailing_finding])

        if scan.unsafe and (capable or stopped):
            return judged()
        if stopped and (capable or not trailing):
            return judged()
        if stopped and scan.globals:
            return judged()
        if not capable or stopped:
            return ContentReport("unknown", None, [])
        # A text file (LICENSE, an extensionless README) is not a pickle: unpickling it fails before it imports anything.
        if self._text.text:
            return ContentReport("unknown", "text", [])
        return malformed(
            "unrecognised",
            "unrecognised_content",
            f"none of the formats the checker reads (safetensors, PyTorch zip or legacy, NumPy, pickle), and a {_extension_of(self._name)} file can hold a pickle: refused",
        )

    def _finish_zip(self) -> ContentReport:
        assert self._zip is not None and self._plan is not None
        result = self._zip.finish()
        if self._safetensors is not None and self._safetensors.finish(self._hashed).verdict == "data-only":
            return _polyglot()
        if result.changed is not None:
            return malformed("zip", "zip_changed_while_read", f"{result.changed}: the file changed while it was read")
        entries = self._plan.entries
        is_torch = any(_TORCH_DATA.fullmatch(e.name) for e in entries)
        is_npz = not is_torch and bool(result.members) and all(m.npy is not None for m in result.members)
        fmt = "pytorch-zip" if is_torch else "npz" if is_npz else "zip"
        # Problems do not stop the scan: a payload in any member is still named (code-capable wins).
        reports: List[ContentReport] = [malformed(fmt, "zip_malformed", p) for p in result.problems]
        tops = {e.name[: e.name.index("/")] if "/" in e.name else "" for e in entries}
        if is_torch and (len(tops) != 1 or "" in tops):
            reports.append(malformed(fmt, "zip_layout", "a PyTorch archive must keep every member under one top folder"))
        if sum(1 for e in entries if e.name.endswith("/data.pkl")) > 1:
            reports.append(malformed(fmt, "zip_layout", "more than one data.pkl"))
        unjudged = False
        for member in result.members:
            report = _member_report(member, fmt)
            if report is not None:
                reports.append(report)
            else:
                unjudged = True
        # A zip that is neither a PyTorch archive nor all arrays holds members no check reads.
        if not is_torch and unjudged:
            reports.append(ContentReport("unknown", fmt, []))
        if not reports:
            return ContentReport("data-only" if is_npz else "unknown", fmt, [])
        return worst(fmt, reports)


def _member_report(member: MemberResult, fmt: str) -> Optional[ContentReport]:
    """The verdict on one zip member, or None for data no check reads (classify.ts's memberReport)."""
    entry = member.entry
    compressed = entry.method != 0

    def prefix(report: ContentReport) -> ContentReport:
        return ContentReport(report.verdict, report.format, [Finding(f.code, f"{entry.name}: {f.message}") for f in report.findings])

    def compressed_pickle() -> ContentReport:
        return malformed(fmt, "zip_compressed_pickle", f"{entry.name}: the pickle is compressed (PyTorch stores its pickles uncompressed; a compressed one is refused)")

    if member.pickle is not None:
        scan, trailing = member.pickle
        is_pkl = entry.name.endswith(".pkl")
        stopped = scan.error is None
        if not is_pkl and not (stopped and scan.unsafe):
            return None
        judged = judge_pickle(scan, fmt)
        findings = [*judged.findings, Finding("pickle_trailing_bytes", "bytes after the pickle's STOP, which a loader ignores")] if trailing and stopped else judged.findings
        report = prefix(ContentReport(judged.verdict, judged.format, findings))
        if compressed and report.verdict != "code-capable":
            return compressed_pickle()
        return worst(fmt, [report, compressed_pickle()]) if compressed else report
    if member.npy is not None:
        report = prefix(ContentReport(member.npy.verdict, fmt, member.npy.findings))
        # An object array is a pickle: compressed, it is refused like any compressed pickle.
        if compressed and report.verdict == "allowlisted-pickle":
            return compressed_pickle()
        if compressed and report.verdict == "code-capable":
            return worst(fmt, [report, compressed_pickle()])
        return report
    if compressed and entry.name.endswith(".pkl"):
        return compressed_pickle()
    return None


def _polyglot() -> ContentReport:
    return malformed("zip", "polyglot", "the file is valid safetensors and also begins as a zip archive (a polyglot)")


def read_ahead(check: ContentCheck, read_at: Callable[[int, int], bytes]) -> None:
    """Reads the ranges ``check.wanted()`` names with ``read_at(offset, length)``."""
    while (want := check.wanted()) is not None:
        check.provide(read_at(*want))


def check_content(name: str, data: Bytes) -> ContentReport:
    """One verdict for the file ``name`` (its path, for the extension) holding ``data``."""
    view = memoryview(data)
    check = ContentCheck(name, len(view))
    read_ahead(check, lambda at, length: bytes(view[at : at + length]))
    check.push(view)
    return check.finish()
