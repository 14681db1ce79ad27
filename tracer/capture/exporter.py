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
        self._failed_since_flush = False
        self._received = 0

    def take_received(self) -> int:
        """How many spans ``export`` was handed since the last call."""
        with self._lock:
            received, self._received = self._received, 0
        return received

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self._lock:
            self._received += len(spans)
        if self._stopped:
            return SpanExportResult.FAILURE
        try:
            rows = SpanRows(self.limits)
            problems = [p for p in map(rows.add_readable, spans) if p is not None]
            if len(rows):
                self.store.write_segment(rows.to_arrow())
        except Exception as exc:
            self._failed_since_flush = True
            logger.error(
                "baton could not write %d spans to %s (%s); they are not recorded",
                len(spans),
                self.store.incoming,
                exc,
            )
            return SpanExportResult.FAILURE
        if problems:
            self._failed_since_flush = True
            logger.warning(
                "baton could not store %d of %d spans: %s", len(problems), len(spans), problems[0]
            )
        self._absorb_now_and_then()
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Every export is already on disk (readers absorb segments when they open), so
        this reports whether every span since the last flush was stored."""
        failed, self._failed_since_flush = self._failed_since_flush, False
        return not failed

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
