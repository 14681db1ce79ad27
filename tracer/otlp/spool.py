"""The receiver's spool: accepted protobuf requests wait here, on disk, for a worker
thread to turn them into segments.

Writing the body is all a request waits for before its answer, so an acknowledged span
survives a crash, and the expensive part (one Python object per span, the dialects,
Arrow) runs while the exporter is already encoding its next batch. Files left by a
killed receiver are converted when the next one starts. The queue is bounded: a
receiver that falls behind slows its senders down instead of growing without limit.
"""

from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path
from typing import Any

from tracer.capture.spanrows import SpanRows
from tracer.otlp.decoded import MalformedRequest
from tracer.otlp.protobuf import parse_protobuf, protobuf_rows
from tracer.store import Store
from tracer.store.private import private_dir
from tracer.store.sanitize import Limits
from tracer.store.segments import write_new_file

logger = logging.getLogger("baton.collect")

SPOOL_DIR = "otlp-spool"
_SUFFIX = ".pb"
_QUEUE_LIMIT = 64


class Spool:
    """Accepted OTLP protobuf bodies on their way to becoming segments."""

    def __init__(self, store: Store, limits: Limits) -> None:
        self.store = store
        self.limits = limits
        self.directory = store.incoming / SPOOL_DIR
        self._queue: queue.Queue[tuple[Path, Any] | None] = queue.Queue(_QUEUE_LIMIT)
        self._worker: threading.Thread | None = None

    def start(self) -> None:
        """Start converting, beginning with what an earlier receiver left behind."""
        private_dir(self.directory)
        left = sorted(p for p in self.directory.iterdir() if p.name.endswith(_SUFFIX))
        self._worker = threading.Thread(target=self._work, name="baton-collect-spool", daemon=True)
        self._worker.start()
        for path in left:
            self._queue.put((path, None))

    def put(self, body: bytes, request: Any) -> None:
        """Make ``body`` durable, then queue its parsed ``request`` for conversion."""
        final = write_new_file(self.directory, _SUFFIX, lambda tmp: tmp.write_bytes(body))
        self._queue.put((final, request))

    def stop(self) -> None:
        """Convert everything queued, then stop the worker."""
        if self._worker is None:
            return
        self._queue.put(None)
        self._worker.join()
        self._worker = None

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            path, request = item
            try:
                if request is None:
                    request = parse_protobuf(path.read_bytes())
                rows = SpanRows(self.limits)
                protobuf_rows(request, rows)
                if len(rows):
                    self.store.write_segment(rows.to_arrow())
                path.unlink(missing_ok=True)
            except MalformedRequest as exc:
                self.store.set_aside(path, str(exc))
            except Exception as exc:  # one bad file must not stop the others
                logger.exception("unexpected error converting %s", path)
                self.store.set_aside(path, repr(exc))
