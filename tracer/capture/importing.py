"""Importing trace files into a store (``baton import``).

Reads, line by line, OTLP/JSON export requests (what the OpenTelemetry Collector's
file exporter writes, one per line) and Agents SDK exports (``trace.export()`` /
``span.export()`` dicts, one per line, or ``{"data": [...]}`` batches as the SDK posts
them); also a whole file holding one JSON document of either kind, gzip-compressed
files, and baton's own Parquet exports. A bad line is reported with its file and line
number and skipped; a file that cannot be read is reported and skipped; everything
else is imported.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from tracer.capture.sdk_spans import SdkSpanConverter
from tracer.capture.spanrows import SpanRows
from tracer.otlp.decoded import Decoded, MalformedRequest
from tracer.otlp.json_body import decode_json_document, is_otlp_json
from tracer.store import Store
from tracer.store.rows import conform
from tracer.store.sanitize import Limits

#: Show progress for files at least this large.
PROGRESS_MIN_BYTES = 1024 * 1024
_BATCH_ROWS = 50_000
_MAX_REPORTED_LINES = 10

Progress = Callable[[Path, int], AbstractContextManager[Callable[[int], None]]]
Report = Callable[[str], None]


@dataclass
class ImportSummary:
    """What ``import_files`` did: files read, spans read and added, and what it skipped."""

    files: int = 0
    spans_read: int = 0
    spans_added: int = 0
    bad_lines: int = 0
    rejected_spans: int = 0
    skipped_files: list[str] = field(default_factory=list)


class _Batches:
    """Rows waiting to be inserted; flushed into the store every ``_BATCH_ROWS``."""

    def __init__(self, store: Store, limits: Limits, summary: ImportSummary) -> None:
        self.store = store
        self.limits = limits
        self.summary = summary
        self.rows = SpanRows(limits)
        self.sdk = SdkSpanConverter()

    def maybe_flush(self) -> None:
        if len(self.sdk) >= _BATCH_ROWS:
            self.sdk.drain(self.rows, final=False)
        if len(self.rows) >= _BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if len(self.rows):
            self.summary.spans_read += len(self.rows)
            self.summary.spans_added += self.store.ingest(self.rows.to_arrow())
            self.rows = SpanRows(self.limits)


def import_files(
    store: Store,
    paths: list[Path],
    *,
    report: Report,
    progress: Progress | None = None,
    limits: Limits | None = None,
) -> ImportSummary:
    """Import ``paths`` into ``store``; problems go to ``report`` as one-line messages."""
    summary = ImportSummary()
    batches = _Batches(store, limits or Limits.from_env(), summary)
    for path in paths:
        try:
            if _is_parquet(path):
                _import_parquet(path, batches)
            else:
                _import_json_lines(path, batches, report, progress)
            summary.files += 1
        except (OSError, EOFError, zlib.error, ValueError) as exc:
            summary.skipped_files.append(str(path))
            report(f"{path}: cannot read it ({_reason(exc)}); skipped")
    batches.sdk.drain(batches.rows, final=True)
    batches.flush()
    if batches.sdk.skipped:
        summary.rejected_spans += len(batches.sdk.skipped)
        named = ", ".join(batches.sdk.skipped[:_MAX_REPORTED_LINES])
        more = len(batches.sdk.skipped) - _MAX_REPORTED_LINES
        report(
            f"Agents SDK spans with no start or end time, not imported: {named}"
            + (f" and {more} more" if more > 0 else "")
        )
    return summary


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _is_parquet(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"PAR1"


def _import_parquet(path: Path, batches: _Batches) -> None:
    batches.flush()
    try:
        parquet = pq.ParquetFile(path)
        for batch in parquet.iter_batches(batch_size=_BATCH_ROWS):
            table = conform(pa.Table.from_batches([batch]))
            batches.summary.spans_read += table.num_rows
            batches.summary.spans_added += batches.store.ingest(table)
    except Exception as exc:  # pyarrow's errors are many and unrelated; all mean unreadable
        raise ValueError(f"not a readable baton Parquet export: {exc}") from exc


def _open_decompressed(path: Path) -> IO[bytes]:
    """``path``'s bytes, gunzipped when it is a gzip file."""
    handle = path.open("rb")
    magic = handle.read(2)
    handle.seek(0)
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=handle)  # type: ignore[return-value]
    return handle


def _import_json_lines(
    path: Path, batches: _Batches, report: Report, progress: Progress | None
) -> None:
    if _starts_unfinished_document(path) and _whole_document(path, batches, report):
        return
    size = path.stat().st_size
    show = progress is not None and size >= PROGRESS_MIN_BYTES
    meter = progress(path, size) if show and progress is not None else nullcontext(None)
    good = bad = 0
    first_error: str | None = None
    with _open_decompressed(path) as handle, meter as advance:
        raw = getattr(handle, "fileobj", None) or handle
        position = 0
        for number, line in enumerate(handle, start=1):
            if advance is not None:
                now = raw.tell()
                advance(now - position)
                position = now
            if not line.strip():
                continue
            problem, imported = _import_line(line, batches)
            if imported:
                good += 1
                batches.maybe_flush()
                if problem:
                    report(f"{path}:{number}: {problem}")
                continue
            bad += 1
            batches.summary.bad_lines += 1
            first_error = first_error or problem
            if bad <= _MAX_REPORTED_LINES:
                report(f"{path}:{number}: {problem}; line skipped")
    if bad > _MAX_REPORTED_LINES:
        report(f"{path}: {bad - _MAX_REPORTED_LINES} more bad lines skipped")
    if good == 0 and bad > 0:
        raise ValueError(f"not OTLP JSON or Agents SDK JSONL (first problem: {first_error})")


def _starts_unfinished_document(path: Path) -> bool:
    """Whether the first line opens a JSON document it does not close (pretty-printed)."""
    with _open_decompressed(path) as handle:
        first = handle.readline(1 << 20).strip()
    if not first.startswith((b"{", b"[")):
        return False
    try:
        json.loads(first)
    except ValueError:
        return True
    return False


def _import_line(line: bytes, batches: _Batches) -> tuple[str | None, bool]:
    """Import one JSON line: (the problem with it, whether it was imported)."""
    try:
        document = json.loads(line.decode("utf-8", "replace"))
    except (ValueError, RecursionError) as exc:
        return f"not valid JSON ({exc})", False
    return _import_document(document, batches)


def _import_document(document: Any, batches: _Batches) -> tuple[str | None, bool]:
    if isinstance(document, dict) and is_otlp_json(document):
        decoded = Decoded(batches.rows)
        try:
            decode_json_document(document, decoded)
        except MalformedRequest as exc:
            return str(exc), False
        if decoded.rejected:
            batches.summary.rejected_spans += decoded.rejected
            return f"{decoded.rejected} spans not imported ({decoded.error_message})", True
        return None, True
    items = document.get("data") if isinstance(document, dict) else None
    if isinstance(items, list):
        unknown = sum(1 for item in items if not _sdk_item(item, batches))
        if unknown == len(items) and items:
            return "no item in it is an Agents SDK trace or span export", False
        return (f"{unknown} items are not Agents SDK exports" if unknown else None), True
    if isinstance(document, dict) and _sdk_item(document, batches):
        return None, True
    return "neither an OTLP export request nor an Agents SDK trace/span export", False


def _sdk_item(item: Any, batches: _Batches) -> bool:
    return isinstance(item, dict) and batches.sdk.add_export(item)


def _whole_document(path: Path, batches: _Batches, report: Report) -> bool:
    """A pretty-printed file: one JSON document (or a list of them) over many lines."""
    try:
        with _open_decompressed(path) as handle:
            document = json.loads(handle.read().decode("utf-8", "replace"))
    except (ValueError, RecursionError, OSError, EOFError, zlib.error):
        return False
    documents = document if isinstance(document, list) else [document]
    imported = False
    for index, item in enumerate(documents, start=1):
        problem, ok = _import_document(item, batches)
        imported = imported or ok
        if problem:
            where = f"document {index}" if isinstance(document, list) else "the document"
            report(f"{path}: {where}: {problem}")
    batches.maybe_flush()
    return imported
