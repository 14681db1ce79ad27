"""Recording a Python process that ``baton run`` started, from its ``sitecustomize``.

``start()`` runs before the program's own code and equips, without importing anything
heavy up front:

- OpenTelemetry: the provider the program sets (``trace.set_tracer_provider``) gets a
  processor exporting to the store beside the program's own exporters; if the program
  sets none by the time its first span starts, a provider of baton's becomes the global
  one. The OTLP variables ``baton run`` set for other programs are put back first, so a
  Python app's own exporters keep the targets they had and nothing reaches the store twice.
- The OpenAI Agents SDK, when the program imports ``agents``: baton's tracing processor
  (the SDK's own spans; an OpenInference or contrib bridge of the SDK to OpenTelemetry
  is then left out of the store, so a run is not recorded twice).
- The OpenInference instrumentor of LangChain/LangGraph, CrewAI and Swarm, when the
  program imports that framework and the instrumentor is installed.

Spans are flushed at exit and on SIGTERM (a program that leaves SIGTERM at its default
still dies of it, after the flush). Nothing here raises into the program.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import signal
import sys
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

from tracer.capture.config import current_conversation_id
from tracer.capture.import_hooks import when_imported
from tracer.capture.run_env import RunSettings, restore_original_otel

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor

    from tracer.capture.agents_sdk import StoreTracingProcessor
    from tracer.capture.run_store import RunStore

logger = logging.getLogger("baton.run")

CONVERSATION_ATTRIBUTE = "gen_ai.conversation.id"
#: Bridges of the Agents SDK's traces to OpenTelemetry: baton's own processor records
#: those runs, so their spans are not stored a second time.
AGENTS_SDK_BRIDGE_SCOPES = frozenset(
    {
        "openinference.instrumentation.openai_agents",
        "opentelemetry.instrumentation.openai_agents",
    }
)
#: Framework module -> (instrumentation module, instrumentor class), equipped on import.
INSTRUMENTORS = {
    "langchain_core": ("openinference.instrumentation.langchain", "LangChainInstrumentor"),
    "crewai": ("openinference.instrumentation.crewai", "CrewAIInstrumentor"),
    # Swarm emits no spans of its own: its model calls carry the handoffs.
    "swarm": ("openinference.instrumentation.openai", "OpenAIInstrumentor"),
}

_started = False


def start() -> None:
    """Equip this process for ``baton run`` (nothing outside it, nothing twice)."""
    global _started
    settings = RunSettings.from_env()
    if settings is None or _started:
        return
    _started = True
    restore_original_otel(os.environ)
    recorder = _Recorder(settings)
    recorder.watch_opentelemetry()
    if settings.conversation_id:
        current_conversation_id.set(settings.conversation_id)
    when_imported("agents", recorder.equip_agents_sdk)
    for framework, (module, name) in INSTRUMENTORS.items():
        when_imported(framework, _instrumentor(module, name))
    _flush_on_sigterm(recorder)


class _Recorder:
    def __init__(self, settings: RunSettings) -> None:
        self.settings = settings
        self.providers: weakref.WeakSet[Any] = weakref.WeakSet()
        self.sdk_processor: StoreTracingProcessor | None = None
        self._lock = threading.RLock()
        self._claimed = False

    @functools.cached_property
    def store(self) -> RunStore:
        """Made when first needed: the store loads DuckDB, which a process that records
        nothing should not pay for."""
        from tracer.capture.run_store import RunStore

        return RunStore(self.settings.store, self.settings.ledger, absorbs=False)

    # -- OpenTelemetry -------------------------------------------------------------------

    def watch_opentelemetry(self) -> None:
        original_set = trace.set_tracer_provider
        proxy_tracer = trace.ProxyTracer._tracer
        recorder = self

        def set_tracer_provider(tracer_provider: trace.TracerProvider) -> None:
            recorder.equip(tracer_provider)
            original_set(tracer_provider)

        def _tracer(self: trace.ProxyTracer) -> trace.Tracer:
            if getattr(self, "_real_tracer", None) is None:
                recorder.claim(original_set)
            return proxy_tracer.fget(self)  # type: ignore[attr-defined, no-any-return]

        trace.set_tracer_provider = set_tracer_provider
        trace.ProxyTracer._tracer = property(_tracer)  # type: ignore[method-assign, assignment]

    def claim(self, set_global: Any) -> None:
        """A span starts and the program set no provider: baton's becomes the global one."""
        with self._lock:
            if self._claimed or not isinstance(
                trace.get_tracer_provider(), trace.ProxyTracerProvider
            ):
                return
            self._claimed = True
            try:
                from opentelemetry.sdk.resources import SERVICE_NAME, Resource
                from opentelemetry.sdk.trace import TracerProvider

                attributes = {}
                if not os.environ.get("OTEL_SERVICE_NAME"):
                    attributes[SERVICE_NAME] = _program_name()
                provider = TracerProvider(resource=Resource.create(attributes))
                self.equip(provider)
                set_global(provider)
            except Exception:
                logger.exception("baton could not set up OpenTelemetry for recording")

    def equip(self, provider: object) -> None:
        """Add the store's processor to ``provider``, unless it already exports there."""
        with self._lock:
            try:
                from opentelemetry.sdk.trace import TracerProvider

                if not isinstance(provider, TracerProvider):
                    logger.warning(
                        "baton run cannot record spans of %s (not an OpenTelemetry SDK "
                        "TracerProvider)",
                        type(provider).__name__,
                    )
                    return
                if provider in self.providers or _exports_to(provider, self.store.path):
                    return
                provider.add_span_processor(self._store_processor())
                self.providers.add(provider)
            except Exception:
                logger.exception("baton could not add its processor to %r", provider)

    def _store_processor(self) -> SpanProcessor:
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        from tracer.capture.exporter import StoreExporter
        from tracer.capture.run_processor import RunSpanProcessor

        _import_what_exports_need()

        exporter = StoreExporter(self.store)
        return RunSpanProcessor(
            BatchSpanProcessor(exporter),
            conversation_id=self.settings.conversation_id,
            skip_scopes=AGENTS_SDK_BRIDGE_SCOPES,
        )

    # -- the Agents SDK ------------------------------------------------------------------

    def equip_agents_sdk(self, module: ModuleType) -> None:
        try:
            import tracer.capture.agents_sdk  # noqa: F401
        except ImportError:  # an `agents` package that is not the SDK
            return
        from tracer.capture.run_processor import register, run_tracing_processor

        _import_what_exports_need()
        processor = run_tracing_processor(self.store, self.settings.conversation_id)
        register(processor, keep_openai_export=self.settings.keep_openai_export)
        self.sdk_processor = processor

    # -- flushing ------------------------------------------------------------------------

    def flush(self) -> None:
        for provider in list(self.providers):
            try:
                provider.force_flush()
            except Exception:
                logger.exception("baton could not flush %r", provider)
        if self.sdk_processor is not None:
            self.sdk_processor.force_flush()


def _import_what_exports_need() -> None:
    """Import now what writing a segment imports, not in the exit flush: some of it runs
    Python code from C (pyarrow.compute's docstrings), which makes the interpreter forget
    that a KeyboardInterrupt ended the program, so it would exit 1 instead of dying of
    SIGINT as it does without baton."""
    import pyarrow.compute  # noqa: F401

    import tracer.store.segments  # noqa: F401


def _exports_to(provider: Any, store_path: Path) -> bool:
    """Whether one of ``provider``'s processors already exports to the store at
    ``store_path`` (the program called ``tracer.setup`` on the same store itself)."""
    from tracer.capture.exporter import StoreExporter

    multi = getattr(provider, "_active_span_processor", None)
    for processor in getattr(multi, "_span_processors", ()):
        inner = getattr(processor, "_batch_processor", processor)
        exporter = getattr(inner, "_exporter", None) or getattr(inner, "span_exporter", None)
        if isinstance(exporter, StoreExporter) and exporter.store.path == store_path:
            return True
    return False


def _instrumentor(module_name: str, class_name: str) -> Callable[[ModuleType], None]:
    """A hook that instruments the framework just imported, if its instrumentor is there."""

    def instrument(framework: ModuleType) -> None:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            return  # the framework is there, its instrumentor is not
        instrumentor = getattr(module, class_name)()
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument()

    return instrument


def _program_name() -> str:
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] not in ("", "-c", "-m") else ""
    return Path(argv0).stem or "python"


def _flush_on_sigterm(recorder: _Recorder) -> None:
    """SIGTERM at its default kills without running ``atexit``: flush first, then die of
    it as before."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def flush_then_die(signum: int, frame: FrameType | None) -> None:
        signal.signal(signum, signal.SIG_DFL)
        recorder.flush()
        os.kill(os.getpid(), signum)

    signal.signal(signal.SIGTERM, flush_then_die)
