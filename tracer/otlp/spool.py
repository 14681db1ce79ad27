"""The receiver's spool: accepted protobuf requests wait here, on disk, for a worker
thread to turn them into segments.

Writing the body is all a request waits for before its answer, so an acknowledged span
survives a crash, and the expensive part (one Python object per span, the dialects,
Arrow) runs off the request path. A body is appended to the open log as a checksummed
frame and synced once (``tracer.otlp.spool_log``): one ``fdatasync`` per request, shared
by requests that arrive together, where a file per request cost a file fsync and a
folder fsync. During a burst the CPU goes to answering senders: the worker converts once
requests pause (``CONVERT_WHEN_IDLE``), when the oldest waiting request has waited
``CONVERT_AT_LEAST_EVERY`` seconds, or when ``CONVERT_FROM_BACKLOG`` requests wait; and
then everything waiting at once, as one segment (one fsync) for many requests. Logs left
by a killed receiver (and the one-file-per-request ``.pb`` files of older receivers) are
converted when the next one starts.

Memory does not grow with the burst: the queue holds places in the log, and parsed
requests only up to ``HOLD_BYTES`` of bodies (the rest are read back from the disk when
converted); a conversion takes at most ``BATCH_BYTES`` of bodies at a time. The backlog
is bounded too: past ``BACKLOG_LIMIT`` waiting requests, a request waits for the worker,
so a receiver that falls behind slows its senders down instead of filling the disk.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from tracer.capture.spanrows import SpanRows
from tracer.otlp.decoded import MalformedRequest
from tracer.otlp.protobuf import parse_protobuf, protobuf_rows
from tracer.otlp.spool_log import Frame, SpoolLog, Sync, sync_data, sync_folder
from tracer.store import Store
from tracer.store.private import private_dir
from tracer.store.sanitize import Limits

logger = logging.getLogger("baton.collect")

SPOOL_DIR = "otlp-spool"
_LEGACY_SUFFIX = ".pb"  # a file per request, as receivers before the log wrote them
#: Seconds without a request after which the worker converts what waits.
CONVERT_WHEN_IDLE = 0.25
#: Under a steady stream, the longest a request waits to be converted (seconds).
CONVERT_AT_LEAST_EVERY = 5.0
#: Requests waiting that start a conversion even while requests keep coming.
CONVERT_FROM_BACKLOG = 64
#: Requests waiting beyond which a new request waits for the worker (backpressure).
BACKLOG_LIMIT = 256
#: Bodies whose parsed request is kept in memory for the worker (bytes); beyond, the
#: worker parses the file again.
HOLD_BYTES = 16 * 1024 * 1024
#: Bodies converted into one segment at most (bytes).
BATCH_BYTES = 8 * 1024 * 1024


@dataclass
class _Waiting:
    source: Frame | Path  # a frame in a log, or an older receiver's file
    size: int
    request: Any  # the parsed request, or None: read it back from ``path``
    since: float


class Spool:
    """Accepted OTLP protobuf bodies on their way to becoming segments."""

    def __init__(
        self,
        store: Store,
        limits: Limits,
        *,
        sync_file: Sync = sync_data,
        sync_dir: Sync = sync_folder,
    ) -> None:
        self.store = store
        self.limits = limits
        self.directory = store.incoming / SPOOL_DIR
        self.log = SpoolLog(self.directory, sync_file=sync_file, sync_dir=sync_dir)
        self._waiting: deque[_Waiting] = deque()
        self._held = 0  # bytes of bodies whose parsed request ``_waiting`` holds
        self._last_put = 0.0
        self._stopping = False
        self._changed = threading.Condition()
        self._worker: threading.Thread | None = None

    def start(self) -> None:
        """Start converting, beginning with what an earlier receiver left behind."""
        private_dir(self.directory)
        left: list[_Waiting] = []
        due = time.monotonic() - CONVERT_AT_LEAST_EVERY  # at once; sized, so that a batch
        for path in sorted(self.directory.iterdir()):  # stays within its bytes
            if path.name.endswith(_LEGACY_SUFFIX):
                try:
                    left.append(_Waiting(path, path.stat().st_size, None, due))
                except FileNotFoundError:
                    continue
        left.extend(_Waiting(frame, frame.size, None, due) for frame in self.log.recover())
        with self._changed:
            self._stopping = False
            self._waiting.extend(left)
        self._worker = threading.Thread(target=self._work, name="baton-collect-spool", daemon=True)
        self._worker.start()

    def put(self, body: bytes, request: Any) -> None:
        """Make ``body`` durable, then queue its parsed ``request`` for conversion."""
        with self._changed:
            while len(self._waiting) >= BACKLOG_LIMIT and self._worker is not None:
                self._changed.wait(1.0)
        frame = self.log.append(body)  # raises OSError: nothing accepted, the sender retries
        with self._changed:
            now = time.monotonic()
            if self._held + len(body) > HOLD_BYTES:
                request = None
            else:
                self._held += len(body)
            self._waiting.append(_Waiting(frame, len(body), request, now))
            self._last_put = now
            if len(self._waiting) in (1, CONVERT_FROM_BACKLOG):  # the worker's clock starts
                self._changed.notify_all()

    def stop(self) -> None:
        """Convert everything queued, then stop the worker."""
        if self._worker is None:
            return
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        self._worker.join()
        self._worker = None
        self.log.close()

    def _work(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            self._convert(batch)

    def _next_batch(self) -> list[_Waiting] | None:
        """Wait until the waiting requests are due (see the module's docstring), then
        take the oldest of them, up to ``BATCH_BYTES``; None once stopped and empty."""
        with self._changed:
            while True:
                if self._waiting and (self._stopping or self._due()):
                    break
                if self._stopping:
                    return None
                self._changed.wait(CONVERT_WHEN_IDLE / 2 if self._waiting else None)
            batch: list[_Waiting] = []
            size = 0
            while self._waiting and (not batch or size + self._waiting[0].size <= BATCH_BYTES):
                item = self._waiting.popleft()
                size += item.size
                if item.request is not None:
                    self._held -= item.size
                batch.append(item)
            self._changed.notify_all()  # a sender waiting for room
            return batch

    def _due(self) -> bool:
        now = time.monotonic()
        return (
            now - self._last_put >= CONVERT_WHEN_IDLE
            or now - self._waiting[0].since >= CONVERT_AT_LEAST_EVERY
            or len(self._waiting) >= CONVERT_FROM_BACKLOG
        )

    def _convert(self, batch: list[_Waiting]) -> None:
        """``batch``'s requests as one segment; then their frames count as converted (a log
        all converted is deleted) and older receivers' files are deleted. A request that
        cannot be read is set aside and costs only itself."""
        tables: list[pa.Table] = []
        frames: list[Frame] = []
        files: list[Path] = []
        for item in batch:
            source = item.source
            try:
                request = item.request
                item.request = None
                if request is None:
                    body = (
                        self.log.read(source) if isinstance(source, Frame) else source.read_bytes()
                    )
                    request = parse_protobuf(body)
                    del body
                rows = SpanRows(self.limits)
                protobuf_rows(request, rows)
                del request
                if len(rows):
                    tables.append(rows.to_arrow())
                if isinstance(source, Frame):
                    frames.append(source)
                else:
                    files.append(source)
            except Exception as exc:  # one bad request must not stop the others
                if not isinstance(exc, MalformedRequest):
                    logger.exception(
                        "unexpected error converting a request from %s", _where(source)
                    )
                self._set_aside(
                    source, str(exc) if isinstance(exc, MalformedRequest) else repr(exc)
                )
        try:
            if tables:
                self.store.write_segment(pa.concat_tables(tables))
        except Exception as exc:
            logger.exception("could not write a segment from %d spooled requests", len(batch))
            for path in files:
                self.store.set_aside(path, repr(exc))
            self.log.converted(frames, keep=True)  # their logs stay for the next receiver
            return
        self.log.converted(frames)  # only once their spans are durable in the segment
        for path in files:
            path.unlink(missing_ok=True)
        self.log.seal_if_drained()

    def _set_aside(self, source: Frame | Path, why: str) -> None:
        if isinstance(source, Frame):
            try:
                self.log.set_aside(source, why)
            except OSError:
                logger.exception("could not set aside a request of %s", source.log.path)
                self.log.converted([source], keep=True)
        else:
            self.store.set_aside(source, why)


def _where(source: Frame | Path) -> str:
    return (
        f"{source.log.path} at byte {source.offset}" if isinstance(source, Frame) else str(source)
    )
