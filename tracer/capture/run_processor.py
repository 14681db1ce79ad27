"""The processors ``baton run`` adds inside a Python program: one for OpenTelemetry
providers, one for the OpenAI Agents SDK (imported only when the program uses it)."""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace import Span as SdkSpan

from tracer.capture.config import current_conversation_id

if TYPE_CHECKING:
    from tracer.capture.agents_sdk import StoreTracingProcessor
    from tracer.store import Store

logger = logging.getLogger("baton.run")

CONVERSATION_ATTRIBUTE = "gen_ai.conversation.id"


class RunSpanProcessor(SpanProcessor):
    """``inner`` (exporting to the store), stamping ``conversation_id`` on spans that have
    none and leaving out spans of the instrumentation scopes in ``skip_scopes``."""

    def __init__(
        self,
        inner: SpanProcessor,
        *,
        conversation_id: str | None,
        skip_scopes: Collection[str] = (),
    ) -> None:
        self.inner = inner
        self.conversation_id = conversation_id
        self.skip_scopes = frozenset(skip_scopes)

    def on_start(self, span: SdkSpan, parent_context: otel_context.Context | None = None) -> None:
        if self.conversation_id and CONVERSATION_ATTRIBUTE not in (span.attributes or {}):
            span.set_attribute(CONVERSATION_ATTRIBUTE, self.conversation_id)
        self.inner.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        scope = span.instrumentation_scope
        if scope is not None and scope.name in self.skip_scopes:
            return
        self.inner.on_end(span)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self.inner.shutdown()


def run_tracing_processor(store: Store, conversation_id: str | None) -> StoreTracingProcessor:
    """An Agents SDK processor recording into ``store``; traces without a group id (and
    outside ``tracer.record``) get ``conversation_id``."""
    from tracer.capture.agents_sdk import Destination, StoreTracingProcessor

    class RunTracingProcessor(StoreTracingProcessor):
        def destination(self) -> Destination | None:
            return Destination(self.store, current_conversation_id.get() or conversation_id)

    return RunTracingProcessor(store)


def register(processor: StoreTracingProcessor, *, keep_openai_export: bool) -> None:
    """Have the SDK call ``processor`` beside whatever processors the program registers,
    dropping the SDK's export to the OpenAI dashboard unless ``keep_openai_export``.

    ``processor`` is not put in the SDK's list, which programs and bridges replace
    (``set_trace_processors``, OpenInference's exclusive processor): the SDK's
    multi-processor calls it after the listed ones, for every trace, unless a processor
    the program registered already records into the same store (it installed baton
    itself)."""
    from agents.tracing import get_trace_provider
    from agents.tracing.processors import default_processor

    from tracer.capture.agents_sdk import StoreTracingProcessor

    provider = get_trace_provider()
    multi = getattr(provider, "_multi_processor", None)
    if multi is None:  # not the SDK's own provider: join its list, as install() does
        provider.register_processor(processor)
        return
    if not keep_openai_export:
        default = default_processor()
        listed = _registered(provider)
        if any(p is default for p in listed):
            provider.set_processors([p for p in listed if p is not default])
    store_path = processor.store.path

    def ours_too(self: Any) -> bool:
        return not any(
            isinstance(p, StoreTracingProcessor) and p.store.path == store_path
            for p in getattr(self, "_processors", ())
        )

    base: Any = type(multi)

    class WithBaton(base):  # type: ignore[misc]
        def on_trace_start(self, trace: Any) -> None:
            super().on_trace_start(trace)
            if ours_too(self):
                processor.on_trace_start(trace)

        def on_trace_end(self, trace: Any) -> None:
            super().on_trace_end(trace)
            if ours_too(self):
                processor.on_trace_end(trace)

        def on_span_start(self, span: Any) -> None:
            super().on_span_start(span)
            if ours_too(self):
                processor.on_span_start(span)

        def on_span_end(self, span: Any) -> None:
            super().on_span_end(span)
            if ours_too(self):
                processor.on_span_end(span)

        def force_flush(self) -> None:
            super().force_flush()
            processor.force_flush()

        def shutdown(self, *args: Any, **kwargs: Any) -> None:
            super().shutdown(*args, **kwargs)
            processor.shutdown()

    multi.__class__ = WithBaton


def _registered(provider: Any) -> list[Any]:
    """The SDK's current processors (its provider has no public getter)."""
    multi = getattr(provider, "_multi_processor", None)
    return list(getattr(multi, "_processors", ()))
