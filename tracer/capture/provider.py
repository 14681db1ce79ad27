"""``tracer.setup`` and ``tracer.shutdown``: an OpenTelemetry provider that records to a store."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from tracer.capture.config import content_from_env, settings
from tracer.capture.exporter import StoreExporter
from tracer.store import Store
from tracer.store.sanitize import Limits

logger = logging.getLogger("baton.exporter")

#: baton's instrumentation scope; the store's GenAI dialect recognises it.
SCOPE = "baton"
#: Spans per export, unless OTEL_BSP_MAX_EXPORT_BATCH_SIZE says otherwise. Smaller than
#: OpenTelemetry's 512 so that, when spans come fast, they wait less in the queue and
#: fewer live long enough to trigger the garbage collector's full collections on the
#: recording thread (about half the caller's cost per span in bench/bench_runner.py).
EXPORT_BATCH_SIZE = 128

_providers: list[TracerProvider] = []
_current: TracerProvider | None = None
_current_tracer: trace.Tracer | None = None  # made once: every run asks for it
_guard = threading.Lock()
# Set by `recording_to` for the runs of one context (a thread, a task) only.
_scoped_tracer: ContextVar[trace.Tracer | None] = ContextVar("baton_scoped_tracer", default=None)


def setup(
    store: Store | str | os.PathLike[str] | None = None,
    *,
    capture_content: bool | None = None,
    max_value_chars: int | None = None,
    service_name: str = "baton",
) -> TracerProvider:
    """A ``TracerProvider`` whose batch processor exports to ``store``.

    baton's runner records through it; it also becomes the global OpenTelemetry provider
    if none was set, so other instrumentation in the process records there too. Add
    your own processors to it (an OTLP exporter to Jaeger or Phoenix) as usual. Spans
    are flushed at interpreter exit and by ``tracer.shutdown()``.
    ``capture_content=False`` leaves message contents, tool arguments and results out;
    the default (None) keeps what ``$BATON_CAPTURE_CONTENT`` says, else records them.
    """
    global _current, _current_tracer
    settings.capture_content = (
        capture_content if capture_content is not None else content_from_env()
    )
    exporter = StoreExporter(store, limits=Limits.from_env(max_value_chars))
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    batch_size = None if "OTEL_BSP_MAX_EXPORT_BATCH_SIZE" in os.environ else EXPORT_BATCH_SIZE
    provider.add_span_processor(_StoreSpanProcessor(exporter, max_export_batch_size=batch_size))
    with _guard:
        _providers.append(provider)
        _current = provider
        _current_tracer = provider.get_tracer(SCOPE)
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        trace.set_tracer_provider(provider)
    return provider


class _StoreSpanProcessor(BatchSpanProcessor):
    """OpenTelemetry's batch processor, except that ``force_flush`` tells the truth: it
    returns False when spans since the last flush were dropped (the queue was full) or
    could not be written, where the stock one always says True."""

    def __init__(self, exporter: StoreExporter, **options: object) -> None:
        super().__init__(exporter, **options)  # type: ignore[arg-type]
        self.store_exporter = exporter
        self._ended = 0
        self._count_lock = threading.Lock()

    def on_end(self, span: ReadableSpan) -> None:
        if span.context is not None and span.context.trace_flags.sampled:
            with self._count_lock:
                self._ended += 1
        super().on_end(span)

    def force_flush(self, timeout_millis: int | None = None) -> bool:
        flushed = super().force_flush(timeout_millis)
        with self._count_lock:
            dropped = self._ended - self.store_exporter.take_received()
            self._ended = 0
        if dropped > 0:
            logger.warning("baton dropped %d spans: more ended than it could queue", dropped)
        stored = self.store_exporter.force_flush()
        return flushed and stored and dropped <= 0


def current_provider() -> TracerProvider | None:
    """The provider ``setup`` made last, None before ``setup`` or after ``shutdown``."""
    return _current


def get_tracer() -> trace.Tracer:
    """The tracer baton's instrumentation uses: ``recording_to``'s provider in its block,
    else ``setup``'s, else the global one."""
    tracer = _scoped_tracer.get() or _current_tracer
    if tracer is not None:
        return tracer
    return trace.get_tracer(SCOPE)


@contextmanager
def recording_to(provider: TracerProvider) -> Iterator[None]:
    """Runs started in this block (in this thread or task) record through ``provider``
    rather than ``setup``'s, leaving the process's recording as it is: how ``baton
    replay`` records a re-run apart from the store it replays."""
    token = _scoped_tracer.set(provider.get_tracer(SCOPE))
    try:
        yield
    finally:
        _scoped_tracer.reset(token)


def shutdown() -> None:
    """Flush every provider ``setup`` made and move their spans into the store file."""
    global _current, _current_tracer
    with _guard:
        providers = list(_providers)
        _providers.clear()
        _current = None
        _current_tracer = None
    for provider in providers:
        provider.shutdown()
