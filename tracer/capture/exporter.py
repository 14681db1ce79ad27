"""``StoreExporter``: an OpenTelemetry span exporter that writes to a baton store."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from tracer.capture.spanrows import SpanRows
from tracer.store import Store
from tracer.store.sanitize import Limits

logger = logging.getLogger("baton.exporter")


class StoreExporter(SpanExporter):
    """Exports finished spans to a baton store; usable with any ``TracerProvider``.

    Each ``export`` call writes one segment file (never blocking on the database lock),
    and every ``absorb_interval`` seconds moves segments into the database if the lock is
    free. ``shutdown`` absorbs what is left. Like OpenTelemetry's own exporters it never
    raises into the application: failures are logged and reported as ``FAILURE``.
    """

    def __init__(
        self,
        store: Store | str | os.PathLike[str] | None = None,
        *,
        limits: Limits | None = None,
        absorb_interval: float = 5.0,
    ) -> None:
        self.store = store if isinstance(store, Store) else Store(store)
        self.limits = limits or Limits.from_env()
        self.absorb_interval = absorb_interval
        self._last_absorb = time.monotonic()
        self._stopped = False
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._stopped:
            return SpanExportResult.FAILURE
        try:
            rows = SpanRows(self.limits)
            for span in spans:
                rows.add_readable(span)
            if len(rows):
                self.store.write_segment(rows.to_arrow())
        except Exception:
            logger.exception("baton could not write %d spans to %s", len(spans), self.store.path)
            return SpanExportResult.FAILURE
        self._absorb_now_and_then()
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        # Every export is already on disk; readers absorb segments when they open.
        return True

    def shutdown(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self.store.absorb_before_exit()

    def _absorb_now_and_then(self) -> None:
        """Keep the segment folder short in long runs, without ever waiting for a lock."""
        now = time.monotonic()
        if now - self._last_absorb < self.absorb_interval:
            return
        self._last_absorb = now
        self.store.absorb_if_free()
