"""Recording OpenAI Agents SDK runs: ``install()`` registers a tracing processor that
turns the SDK's traces into spans in a baton store.

    import tracer.agents_sdk
    tracer.agents_sdk.install()          # before Runner.run(...)

Needs the ``openai-agents`` package (``pip install 'baton[agents]'``). Spans are kept
per trace and written as one segment when the trace ends (and every few seconds for
long traces, and on ``force_flush``/``shutdown``); the processor never waits for the
store's lock and never raises into the SDK. Segments move into the store file when it
is read, at shutdown, and in the background once many wait.

Once a processor has recorded ``_HELPER_AFTER_TRACES`` traces, it hands ended traces to a
helper process (``tracer.capture.sdk_worker``) that converts and writes them, so that
this process's interpreter, which the runs need, only marshals them; what the helper
does not acknowledge is converted here (``tracer.capture.sdk_offload``).
``BATON_SDK_CONVERSION_PROCESS=0`` (or ``conversion_process=False``) keeps it all here.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    from agents.tracing import (
        Span,
        Trace,
        TracingProcessor,
        get_trace_provider,
        set_trace_processors,
    )
    from agents.tracing.processors import default_processor
except ImportError as missing:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "tracer.agents_sdk records OpenAI Agents SDK runs and needs that SDK: "
        "pip install 'baton[agents]'"
    ) from missing

from tracer.capture.config import current_conversation_id, settings
from tracer.capture.sdk_live import handoff_facts, run_facts
from tracer.capture.sdk_loop_guard import (
    LoopGuard,
    SdkHandoffLoopError,
    install_runner,
)
from tracer.capture.sdk_loop_guard import uninstall_runner as uninstall_loop_guard
from tracer.capture.sdk_offload import ConversionProcess, Group, can_start
from tracer.capture.sdk_responses import CALL_FACTS, request_facts, response_facts
from tracer.capture.sdk_spans import HANDOFF_FACTS, RUN_FACTS, SdkSpanConverter, TraceBuffer
from tracer.capture.sdk_worker import current_settings
from tracer.capture.spanrows import SpanRows
from tracer.store import Store, register_before_read
from tracer.store.sanitize import Limits

__all__ = [
    "Destination",
    "LoopGuard",
    "RoutingTracingProcessor",
    "SdkHandoffLoopError",
    "StoreTracingProcessor",
    "flush_routing",
    "install",
    "routing_processor",
    "uninstall",
    "uninstall_loop_guard",
]

logger = logging.getLogger("baton.agents_sdk")


@dataclass(frozen=True)
class Destination:
    """Where one SDK trace is recorded."""

    store: Store
    conversation_id: str | None = None


class StoreTracingProcessor(TracingProcessor):
    """An Agents SDK ``TracingProcessor`` that records every trace into ``store``.

    A trace's ``group_id`` becomes its conversation id; without one, a trace started
    inside ``tracer.record(conversation_id=...)`` gets that conversation.
    """

    def __init__(
        self,
        store: Store | str | os.PathLike[str] | None = None,
        *,
        limits: Limits | None = None,
        flush_interval: float = 5.0,
        max_buffered_spans: int = 2000,
        absorb_interval: float = 5.0,
        absorb_from_segments: int = 256,
        conversion_process: bool | None = None,
    ) -> None:
        self.store = store if isinstance(store, Store) else Store(store)
        self.limits = limits or Limits.from_env()
        self.flush_interval = flush_interval
        self.max_buffered_spans = max_buffered_spans
        self.absorb_interval = absorb_interval
        self.absorb_from_segments = absorb_from_segments
        self._converter = SdkSpanConverter()
        self._destinations: dict[str, Destination] = {}
        self._lock = threading.RLock()
        # Held while ended traces are converted and written, without ``_lock``, so the
        # run's spans need not wait for that; a read in this process waits for it.
        self._writing = threading.RLock()
        self._flusher: threading.Thread | None = None
        self._stop_flusher = threading.Event()
        self._wake_flusher = threading.Event()
        # Ended traces the flusher writes, in batches, each with the content setting in
        # force when it ended (the setting may change before the flusher runs).
        self._finished: list[tuple[str, bool]] = []
        self._last_absorb = time.monotonic()
        self._absorbing: threading.Thread | None = None
        self._written: dict[Path, Store] = {}  # the stores segments went to, by path
        self._run_facts: dict[str, dict[str, Any]] = {}  # agent span id -> its run's facts
        self._call_facts: dict[str, dict[str, Any]] = {}  # model call span id -> its request
        self._stopped = False
        # Ended traces are converted in a helper process once this one has recorded
        # ``_HELPER_AFTER_TRACES`` (not for a few runs: the process costs a start-up).
        if conversion_process is None:
            conversion_process = os.environ.get(CONVERSION_PROCESS_ENV, "1") != "0"
        self._use_helper = conversion_process
        self._helper: ConversionProcess | None = None
        self._traces_ended = 0

    def destination(self) -> Destination | None:
        """Where a trace starting now, in this context, goes (None: not recorded)."""
        return Destination(self.store, current_conversation_id.get())

    # -- TracingProcessor ----------------------------------------------------------------

    def on_trace_start(self, trace: Trace) -> None:
        self._guard(self._trace_start, trace)

    def on_trace_end(self, trace: Trace) -> None:
        self._guard(self._trace_end, trace)

    def on_span_start(self, span: Span[Any]) -> None:
        self._guard(self._span_start, span)

    def on_span_end(self, span: Span[Any]) -> None:
        self._guard(self._span_end, span)

    def force_flush(self) -> None:
        """Write every buffered span (of open traces too) to the store's segments."""
        self._guard(self._flush, None)

    def shutdown(self) -> None:
        """Flush, then move the segments into the store file if its lock is free soon."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._stop_flushing()
        self._guard(self._flush, None)
        self._guard(self._close_helper, None)
        for store in list(self._written.values()):
            store.absorb_before_exit()

    # -- internals -----------------------------------------------------------------------

    def _guard(self, action: Callable[[Any], None], arg: Any) -> None:
        try:
            action(arg)
        except Exception:  # never into the SDK: a recording problem must not stop a run
            logger.exception("baton could not record an Agents SDK trace")

    def _trace_start(self, trace: Trace) -> None:
        record = trace.export()
        if record is None:
            return
        destination = self.destination()
        if destination is None:
            return
        with self._lock:
            buffer = self._converter.buffer(trace.trace_id)
            buffer.record = record
            buffer.start_ns = time.time_ns()
            buffer.conversation_id = destination.conversation_id
            self._destinations[trace.trace_id] = destination

    def _trace_end(self, trace: Trace) -> None:
        # Nothing is written on the run's thread: the flusher writes ended traces in
        # batches, at once; a read of the store in this process writes them first.
        with self._lock:
            buffer = self._converter.traces.get(trace.trace_id)
            if buffer is None:
                return
            buffer.end_ns = time.time_ns()
            record = trace.export()
            if record is not None:  # metadata or group id may have changed during the run
                buffer.record = record
            self._finished.append((trace.trace_id, settings.capture_content))
            if self._flusher is None:
                self._start_flusher()
        self._wake_flusher.set()

    def _span_start(self, span: Span[Any]) -> None:
        # The run loop's frames are on the stack when its agent span starts (not always
        # when it ends: a streamed run's last span may end from the consumer's task).
        kind = getattr(span.span_data, "type", None)
        if kind == "agent":
            facts = run_facts()
            if facts:
                with self._lock:
                    self._run_facts[span.span_id] = facts
        elif kind in _MODEL_CALLS:
            request = request_facts()  # enough to serve the call again (replay.sdk_rerun)
            if request:
                with self._lock:
                    self._call_facts[span.span_id] = request

    def _span_end(self, span: Span[Any]) -> None:
        item = span.export()
        if item is None:
            return
        _add_live_data(item, span)
        kind = getattr(span.span_data, "type", None)
        if kind == "agent":
            with self._lock:
                facts = self._run_facts.pop(span.span_id, None)
            if facts:
                item[RUN_FACTS] = facts
        elif kind == "handoff":
            facts = handoff_facts()
            if facts:
                item[HANDOFF_FACTS] = facts
        elif kind in _MODEL_CALLS:
            with self._lock:
                request = self._call_facts.pop(span.span_id, None)
            if request is not None:
                item[CALL_FACTS] = {**request, **response_facts(span.span_data)}
        with self._lock:
            if span.trace_id not in self._destinations:
                destination = self.destination()  # a trace that began before we were added
                if destination is None:
                    return
                self._destinations[span.trace_id] = destination
                self._converter.buffer(span.trace_id).conversation_id = destination.conversation_id
            buffer = self._converter.add_span(span.trace_id, item)
            full = len(buffer.spans) >= self.max_buffered_spans
            if not full and self._flusher is None:
                self._start_flusher()
        if full:
            self._flush(None)

    def _start_flusher(self) -> None:
        """A thread that writes what long-running traces hold every ``flush_interval``
        seconds, so a process killed mid-run loses at most that much."""

        def loop() -> None:
            last_flush = time.monotonic()
            while not self._stop_flusher.is_set():
                if self._wake_flusher.wait(self.flush_interval):
                    # Let the traces ending meanwhile join this segment: one file (and
                    # one fsync) for many short runs, not one each.
                    self._stop_flusher.wait(_BATCH_LINGER)
                self._wake_flusher.clear()
                self._guard(self._write_finished, None)
                if time.monotonic() - last_flush >= self.flush_interval:
                    last_flush = time.monotonic()
                    self._guard(self._flush, None)

        self._flusher = threading.Thread(target=loop, name="baton-sdk-flush", daemon=True)
        self._flusher.start()
        _with_threads.add(self)
        register_before_read(self.store, self._write_finished_now)

    def _write_finished_now(self) -> None:
        """Write the ended traces and wait until the helper has written what it was sent
        (a read in this process sees every ended trace)."""
        with self._writing:
            self._write_finished()
            self._wait_for_helper()

    def _write_finished(self, _: Any = None) -> None:
        """Write the traces that ended since the last time, as one segment per store:
        sent to the helper process when it runs, else converted here. Their buffers are
        taken under the lock and converted outside it."""
        with self._writing:
            with self._lock:
                ended, self._finished = self._finished, []
                taken = []
                for capture in (True, False):
                    ids = [trace_id for trace_id, content in ended if content is capture]
                    if ids:
                        by_store = self._by_store(ids, final=True)
                        taken.append((capture, by_store, self._converter.take(ids)))
            helper = self._helper if self._helper is not None and self._helper.usable() else None
            tables = []
            groups: list[Group] = []
            kept: list[_Kept] = []
            for capture, by_store, converter in taken:
                converter.capture_content = capture
                for store, ids in by_store.items():
                    if helper is not None and type(store) is Store:
                        buffers = [converter.traces[i] for i in ids if i in converter.traces]
                        groups.append((str(store.path), capture, [b.fields() for b in buffers]))
                        kept.append((store, capture, buffers))
                        continue
                    rows = SpanRows(self.limits)
                    converter.drain(rows, ids, final=True)
                    if len(rows):
                        tables.append((store, rows.to_arrow()))
            if kept:
                assert helper is not None
                if helper.send(current_settings(self.limits), groups, kept):
                    for store, _, _ in kept:
                        self._written[store.path] = store
                        self._absorb_now_and_then(store)
                else:  # a value marshal does not carry exactly: converted here
                    tables.extend(self._convert_kept(kept))
            tables.extend(self._convert_returned())
            self._write_tables(tables)
            self._traces_ended += len(ended)
            if (
                self._use_helper
                and self._helper is None
                and not self._stopped
                and self._traces_ended >= _HELPER_AFTER_TRACES
            ):
                self._start_helper()

    def _start_helper(self) -> None:
        if not can_start():
            self._use_helper = False
            return
        try:
            self._helper = ConversionProcess()
        except OSError:
            logger.warning("baton could not start its SDK conversion process", exc_info=True)
            self._use_helper = False
        else:
            _with_threads.add(self)

    def _convert_kept(self, kept: list[_Kept]) -> list[tuple[Store, Any]]:
        """Kept batches converted here, one table per group."""
        tables = []
        for store, capture, buffers in kept:
            converter = SdkSpanConverter.holding(buffers, capture_content=capture)
            rows = SpanRows(self.limits)
            converter.drain(rows, [b.sdk_trace_id for b in buffers], final=True)
            if len(rows):
                tables.append((store, rows.to_arrow()))
        return tables

    def _convert_returned(self) -> list[tuple[Store, Any]]:
        """What the helper sent back unwritten (it died, or could not write it)."""
        if self._helper is None:
            return []
        tables = []
        for kept in self._helper.take_returned():
            tables.extend(self._convert_kept(kept))
        return tables

    def _wait_for_helper(self) -> None:
        """Wait until the helper has written all it was sent (call holding ``_writing``);
        one that does not answer in ``_HELPER_WAIT`` seconds is stopped, and what it had is
        converted here."""
        helper = self._helper
        if helper is None:
            return
        if not helper.wait(_HELPER_WAIT):
            logger.warning("baton's SDK conversion process does not answer; stopping it")
            helper.close(timeout=0)
        self._write_tables(self._convert_returned())

    def _close_helper(self, _: Any = None) -> None:
        """Let the helper write what it has and exit; what it could not write is
        converted here."""
        with self._writing:
            helper = self._helper
            if helper is None:
                return
            helper.close(timeout=_HELPER_WAIT)
            self._write_tables(self._convert_returned())

    def _stop_flushing(self) -> None:
        self._stop_flusher.set()
        self._wake_flusher.set()
        for thread in (self._flusher, self._absorbing):
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=10)

    def _flush(self, _: Any) -> None:
        with self._writing:
            self._write_finished()
            with self._lock:
                open_traces = [tid for tid, b in self._converter.traces.items() if b.spans]
                tables = self._drain(open_traces, final=False)
            self._write_tables(tables)
            self._wait_for_helper()

    def _write_tables(self, tables: list[tuple[Store, Any]]) -> None:
        """Write drained tables as segments (no lock needed: the files are new)."""
        for store, table in tables:
            store.write_segment(table)
            self._written[store.path] = store
            self._absorb_now_and_then(store)

    def _drain(
        self, trace_ids: list[str], *, final: bool, capture_content: bool | None = None
    ) -> list[tuple[Store, Any]]:
        """``trace_ids``' buffered spans as one Arrow table per store (call under the lock;
        writing them needs no lock, so runs go on while a segment reaches the disk)."""
        by_store = self._by_store(trace_ids, final=final)
        self._converter.capture_content = (
            settings.capture_content if capture_content is None else capture_content
        )
        tables = []
        for store, ids in by_store.items():
            rows = SpanRows(self.limits)
            self._converter.drain(rows, ids, final=final)
            if len(rows):
                tables.append((store, rows.to_arrow()))
        return tables

    def _by_store(self, trace_ids: list[str], *, final: bool) -> dict[Store, list[str]]:
        """``trace_ids`` by the store each goes to (call under the lock); ``final``
        forgets their destinations."""
        by_store: dict[Store, list[str]] = {}
        for trace_id in trace_ids:
            destination = self._destinations.get(trace_id, Destination(self.store))
            by_store.setdefault(destination.store, []).append(trace_id)
            if final:
                self._destinations.pop(trace_id, None)
        return by_store

    def _absorb_now_and_then(self, store: Store) -> None:
        """Keep the segment folder short in long-lived processes, off the run's thread.
        Only once ``absorb_from_segments`` wait: an absorb holds the interpreter for much
        of its time (resolution is Python), which the runs of this process would wait
        for, and readers and the processor's shutdown absorb what is left anyway."""
        now = time.monotonic()
        running = self._absorbing is not None and self._absorbing.is_alive()
        if running or now - self._last_absorb < self.absorb_interval:
            return
        self._last_absorb = now
        if len(store.pending_segments()) < self.absorb_from_segments:
            return
        self._absorbing = threading.Thread(
            target=store.absorb_if_free, name="baton-absorb", daemon=True
        )
        self._absorbing.start()
        _with_threads.add(self)


_MODEL_CALLS = frozenset({"response", "generation"})
#: Seconds the flusher waits after a trace ends before writing, gathering more.
_BATCH_LINGER = 0.1
#: Set to 0 to convert ended traces in the recording process itself.
CONVERSION_PROCESS_ENV = "BATON_SDK_CONVERSION_PROCESS"
#: Traces a processor records before it starts its conversion process.
_HELPER_AFTER_TRACES = 100
#: Seconds to wait for the conversion process to write what it was sent.
_HELPER_WAIT = 60.0
#: A batch the conversion process was sent: per segment, its store, content setting and
#: the trace buffers (kept to convert here if the process does not write them).
_Kept = tuple[Store, bool, list[TraceBuffer]]
_with_threads: weakref.WeakSet[StoreTracingProcessor] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    """Write what every processor still holds and stop their threads before the
    interpreter tears down (the SDK shuts down only the processors still registered)."""
    for processor in list(_with_threads):
        processor.force_flush()
        processor._stop_flushing()
        processor._guard(processor._close_helper, None)


def _add_live_data(item: dict[str, Any], span: Span[Any]) -> None:
    """What a live span holds beyond ``export()``: a response span's model, output,
    instructions (the system prompt of a Responses API call) and input (the SDK keeps
    them only when the run includes sensitive data)."""
    data = span.span_data
    if getattr(data, "type", None) != "response":
        return
    exported = item.get("span_data")
    if not isinstance(exported, dict):
        return
    response = getattr(data, "response", None)
    if response is not None:
        exported["model"] = getattr(response, "model", None)
        output = getattr(response, "output", None)
        if output is not None:
            exported["output"] = [_dump(part) for part in output]
        instructions = getattr(response, "instructions", None)
        if instructions:
            exported["instructions"] = (
                instructions
                if isinstance(instructions, str)
                else [_dump(part) for part in instructions]
            )
        if exported.get("usage") is None and getattr(response, "usage", None) is not None:
            exported["usage"] = _dump(response.usage)
    given = getattr(data, "input", None)
    if given:
        exported["input"] = given if isinstance(given, str) else [_dump(x) for x in given]


def _dump(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    # By alias: the names the API sends ("async", not "async_"), so a re-run parses them back.
    return dump(mode="json", by_alias=True) if callable(dump) else value


def install(
    store: Store | str | os.PathLike[str] | None = None,
    *,
    keep_openai_export: bool = False,
    loop_guard: bool | LoopGuard = False,
) -> StoreTracingProcessor:
    """Record every Agents SDK trace from now on into ``store`` (default: the usual
    store, see ``baton store path``). Returns the processor.

    The SDK's default export to the OpenAI dashboard is removed (no API key needed)
    unless ``keep_openai_export=True``; other processors stay. Installing twice for
    the same store returns the processor already installed. ``loop_guard=True`` (or a
    ``LoopGuard``) also guards every run against ping-pong loops
    (``tracer.capture.sdk_loop_guard``; ``uninstall_loop_guard()`` stops it).
    """
    if loop_guard is not False:
        install_runner(loop_guard if isinstance(loop_guard, LoopGuard) else LoopGuard())
    target = store if isinstance(store, Store) else Store(store)
    current = _registered_processors()
    for processor in current:
        if isinstance(processor, StoreTracingProcessor) and processor.store.path == target.path:
            return processor
    processor = StoreTracingProcessor(target)
    default = default_processor()
    kept = [p for p in current if keep_openai_export or p is not default]
    set_trace_processors([*kept, processor])
    return processor


def uninstall(processor: StoreTracingProcessor) -> None:
    """Remove ``processor`` (flushing it first); other processors stay."""
    processor.force_flush()
    set_trace_processors([p for p in _registered_processors() if p is not processor])


def _registered_processors() -> list[TracingProcessor]:
    """The SDK's current processors (read from its provider, which has no public getter)."""
    provider = get_trace_provider()
    multi = getattr(provider, "_multi_processor", None)
    return list(getattr(multi, "_processors", ()))


class RoutingTracingProcessor(StoreTracingProcessor):
    """Records the traces that start while ``route()`` names a destination (what
    ``tracer.record`` blocks use); other traces are left alone."""

    def __init__(self, route: Callable[[], Destination | None]) -> None:
        super().__init__(None)
        self._route = route

    def destination(self) -> Destination | None:
        return self._route()


_routing: RoutingTracingProcessor | None = None
_routing_lock = threading.Lock()


def routing_processor(route: Callable[[], Destination | None]) -> RoutingTracingProcessor:
    """The process's one routing processor, registered alongside the others (again, if
    the program replaced the SDK's processor list since)."""
    global _routing
    with _routing_lock:
        if _routing is None:
            _routing = RoutingTracingProcessor(route)
        registered = _registered_processors()
        if not any(p is _routing for p in registered):
            set_trace_processors([*registered, _routing])
        return _routing


def flush_routing() -> None:
    """Write what the routing processor holds (the end of a ``tracer.record`` block)."""
    if _routing is not None:
        _routing.force_flush()
