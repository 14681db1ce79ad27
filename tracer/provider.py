"""``tracer.setup`` and ``tracer.shutdown``: an OpenTelemetry provider that records to a store."""

from __future__ import annotations

import os
import threading

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from tracer.config import settings
from tracer.exporter import StoreExporter
from tracer.sanitize import Limits
from tracer.store import Store

#: baton's instrumentation scope; the store's GenAI dialect recognises it.
SCOPE = "baton"

_providers: list[TracerProvider] = []
_current: TracerProvider | None = None
_guard = threading.Lock()


def setup(
    store: Store | str | os.PathLike[str] | None = None,
    *,
    capture_content: bool = True,
    max_value_chars: int | None = None,
    service_name: str = "baton",
) -> TracerProvider:
    """A ``TracerProvider`` whose batch processor exports to ``store``.

    baton's runner records through it; it also becomes the global OpenTelemetry provider
    if none was set, so other instrumentation in the process records there too. Add
    your own processors to it (an OTLP exporter to Jaeger or Phoenix) as usual. Spans
    are flushed at interpreter exit and by ``tracer.shutdown()``.
    ``capture_content=False`` leaves message contents, tool arguments and results out.
    """
    global _current
    settings.capture_content = capture_content
    exporter = StoreExporter(store, limits=Limits.from_env(max_value_chars))
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    with _guard:
        _providers.append(provider)
        _current = provider
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        trace.set_tracer_provider(provider)
    return provider


def get_tracer() -> trace.Tracer:
    """The tracer baton's instrumentation uses: ``setup``'s provider, else the global one."""
    provider = _current
    if provider is not None:
        return provider.get_tracer(SCOPE)
    return trace.get_tracer(SCOPE)


def shutdown() -> None:
    """Flush every provider ``setup`` made and move their spans into the store file."""
    global _current
    with _guard:
        providers = list(_providers)
        _providers.clear()
        _current = None
    for provider in providers:
        provider.shutdown()
