"""``tracer.record``: record everything that runs inside a block into a store.

    with tracer.record(conversation_id="support-42"):
        await Runner.run(triage, "Where is my refund?")

    @tracer.record(conversation_id="nightly")
    async def job() -> None: ...

Inside the block, spans started through OpenTelemetry (baton's runner, the
OpenInference or contrib instrumentations, any instrumented library) and Agents SDK
traces started in the block are recorded; the conversation id is stamped on them
(``gen_ai.conversation.id``; the SDK's own ``group_id`` wins when a run sets one) and
published in ``tracer.capture.config.current_conversation_id``. When the block ends its spans
are written, so the store answers for them right away. Spans that end after the block
(a background task it started) are written when they end.

OpenTelemetry: if the program has no tracer provider yet, ``record`` installs one; an
SDK ``TracerProvider`` already in place gets a span processor added. Agents SDK:
recorded when ``agents`` is imported before the block starts.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import sys
import threading
import weakref
from collections.abc import Callable
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any, TypeVar, overload

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace import Span as SdkSpan

from tracer.capture.config import current_conversation_id
from tracer.capture.provider import current_provider
from tracer.capture.spanrows import SpanRows
from tracer.store import Store
from tracer.store.sanitize import Limits

logger = logging.getLogger("baton.record")

F = TypeVar("F", bound=Callable[..., Any])
_WRITE_EVERY = 512
CONVERSATION_ATTRIBUTE = "gen_ai.conversation.id"


class Recording:
    """One active ``record`` block: where its spans go, and the ones not written yet."""

    def __init__(self, store: Store, conversation_id: str | None, limits: Limits) -> None:
        self.store = store
        self.conversation_id = conversation_id
        self.limits = limits
        self.closed = False
        self._pending: list[ReadableSpan] = []
        self._lock = threading.Lock()

    def add(self, span: ReadableSpan) -> None:
        """Keep a finished span; they are written in batches, and at once after the block."""
        with self._lock:
            self._pending.append(span)
            due = self.closed or len(self._pending) >= _WRITE_EVERY
        if due:
            self.flush()

    def flush(self) -> None:
        """Write the spans kept so far as one segment."""
        with self._lock:
            spans, self._pending = self._pending, []
        if not spans:
            return
        try:
            rows = SpanRows(self.limits)
            for span in spans:
                rows.add_readable(span)
            self.store.write_segment(rows.to_arrow())
        except Exception:  # never into the recorded program
            logger.exception("baton could not record %d spans to %s", len(spans), self.store.path)


_active: ContextVar[Recording | None] = ContextVar("baton_recording", default=None)


class _RecordingSpanProcessor(SpanProcessor):
    """Routes spans started inside a ``record`` block to that block's recording."""

    def __init__(self) -> None:
        self._owners: dict[tuple[int, int], Recording] = {}
        self._lock = threading.Lock()

    def on_start(self, span: SdkSpan, parent_context: otel_context.Context | None = None) -> None:
        recording = _active.get()
        if recording is None or span.context is None:
            return
        with self._lock:
            self._owners[(span.context.trace_id, span.context.span_id)] = recording
        attributes = span.attributes or {}
        if recording.conversation_id and CONVERSATION_ATTRIBUTE not in attributes:
            span.set_attribute(CONVERSATION_ATTRIBUTE, recording.conversation_id)

    def on_end(self, span: ReadableSpan) -> None:
        if span.context is None:
            return
        with self._lock:
            recording = self._owners.pop((span.context.trace_id, span.context.span_id), None)
        if recording is not None:
            recording.add(span)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        with self._lock:
            recordings = {id(r): r for r in self._owners.values()}
        for recording in recordings.values():
            recording.flush()
        return True

    def shutdown(self) -> None:
        self.force_flush()


_processor = _RecordingSpanProcessor()
_equipped: weakref.WeakSet[TracerProvider] = weakref.WeakSet()
_setup_lock = threading.Lock()


def _equip_opentelemetry() -> None:
    """Make sure the providers spans are started from carry the recording processor."""
    with _setup_lock:
        providers: list[Any] = [trace.get_tracer_provider(), current_provider()]
        if isinstance(providers[0], trace.ProxyTracerProvider):
            created = TracerProvider(resource=Resource.create({"service.name": "baton"}))
            trace.set_tracer_provider(created)
            providers[0] = trace.get_tracer_provider()
        for provider in providers:
            if provider is None or provider in _equipped:
                continue
            if isinstance(provider, TracerProvider):
                provider.add_span_processor(_processor)
                _equipped.add(provider)
            else:
                logger.warning(
                    "baton cannot record OpenTelemetry spans from %s (not an SDK "
                    "TracerProvider); use tracer.setup() or the SDK's TracerProvider",
                    type(provider).__name__,
                )


def _equip_agents_sdk() -> None:
    """The Agents SDK processor that routes traces to the active recording (only when the
    program uses the SDK: importing it is not free)."""
    if "agents" not in sys.modules:
        return
    from tracer.capture.agents_sdk import Destination, routing_processor

    def route() -> Destination | None:
        recording = _active.get()
        if recording is None:
            return None
        return Destination(recording.store, current_conversation_id.get())

    routing_processor(route)


class record:
    """Record what runs inside the block (or the decorated function) into ``store``.

    ``conversation_id`` groups the runs recorded inside into one conversation.
    Usable as ``with record(...)``, ``async with record(...)``, ``@record(...)`` and
    bare ``@record`` on sync and async functions; each call of a decorated function is
    its own block.
    """

    @overload
    def __init__(self, store: F, *, conversation_id: str | None = None) -> None: ...
    @overload
    def __init__(
        self,
        store: Store | str | os.PathLike[str] | None = None,
        *,
        conversation_id: str | None = None,
    ) -> None: ...
    def __init__(self, store: Any = None, *, conversation_id: str | None = None) -> None:
        self._function: Callable[..., Any] | None = None
        if callable(store) and not isinstance(store, (Store, str, os.PathLike)):
            self._function, store = store, None  # bare @record
            functools.update_wrapper(self, self._function)
        self._store_arg = store
        self.conversation_id = conversation_id
        self._tokens: list[tuple[Recording, Token[Recording | None], Token[str | None]]] = []

    # -- context manager -----------------------------------------------------------------

    def __enter__(self) -> Recording:
        store = self._store_arg if isinstance(self._store_arg, Store) else Store(self._store_arg)
        conversation = self.conversation_id or current_conversation_id.get()
        recording = Recording(store, conversation, Limits.from_env())
        _equip_opentelemetry()
        _equip_agents_sdk()
        self._tokens.append(
            (recording, _active.set(recording), current_conversation_id.set(conversation))
        )
        return recording

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        recording, active_token, conversation_token = self._tokens.pop()
        _active.reset(active_token)
        current_conversation_id.reset(conversation_token)
        recording.closed = True
        if "tracer.capture.agents_sdk" in sys.modules:
            from tracer.capture.agents_sdk import flush_routing

            flush_routing()
        recording.flush()

    async def __aenter__(self) -> Recording:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    # -- decorator -----------------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._function is not None:  # bare @record: this call is a call of the function
            return self._wrap(self._function)(*args, **kwargs)
        if len(args) == 1 and not kwargs and callable(args[0]):
            return self._wrap(args[0])
        raise TypeError("record(...) decorates one function: @record() or @record")

    def _wrap(self, function: F) -> F:
        store, conversation_id = self._store_arg, self.conversation_id

        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with record(store, conversation_id=conversation_id):
                    return await function(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with record(store, conversation_id=conversation_id):
                return function(*args, **kwargs)

        return run  # type: ignore[return-value]
