"""Regenerate sample_traces/*.otlp.json: the scenarios of scenarios.py, recorded by
baton's runner on scripted models, with fixed ids and timestamps.

    python sample_traces/generate.py [--check]

Running it twice gives byte-identical files, from any checkout: span and trace ids come
from a seeded generator, times from a synthetic clock that keeps the recorded order of
every start, end and event but spaces them like a real run (model calls take about a
second, tools a fraction), and recorded stack traces name files relative to the
repository, without line numbers. ``--check`` regenerates into a temporary folder and
fails if any file differs from the committed one. Never edit the files by hand.
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator

import tracer
from tracer.capture.config import settings
from tracer.capture.exporter import StoreExporter
from tracer.capture.exporting import SpanFilter, export_spans

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import scenarios  # noqa: E402

#: 2026-11-02T09:00:00Z; each scenario starts an hour after the previous one.
EPOCH_NS = 1_793_610_000_000_000_000
HOUR_NS = 3_600_000_000_000
MS = 1_000_000
_FRAME = re.compile(r'^  File "(?P<path>[^"]+)", line \d+, in (?P<function>.+)$')
_MARKERS = re.compile(r"^\s*[~^]+\s*$")  # the carets under a frame's code (Python 3.11+)


class SeededIds(IdGenerator):
    """Trace and span ids from a counter hashed with the scenario's name."""

    def __init__(self) -> None:
        self.seed = ""
        self.count = 0

    def reset(self, seed: str) -> None:
        self.seed, self.count = seed, 0

    def _next(self, bits: int) -> int:
        self.count += 1
        digest = hashlib.sha256(f"{self.seed}/{self.count}".encode()).digest()
        return int.from_bytes(digest[: bits // 8], "big") or 1

    def generate_span_id(self) -> int:
        return self._next(64)

    def generate_trace_id(self) -> int:
        return self._next(128)


def synthetic_times(spans: Sequence[ReadableSpan], start_ns: int) -> list[ReadableSpan]:
    """The same spans with times from a synthetic clock that keeps their real order."""
    moments: list[tuple[int, int, int, int]] = []  # real time, kind, span index, event index
    for i, span in enumerate(spans):
        assert span.start_time is not None and span.end_time is not None
        moments.append((span.start_time, 0, i, -1))
        moments.append((span.end_time, 2, i, -1))
        moments.extend((event.timestamp, 1, i, e) for e, event in enumerate(span.events))
    moments.sort()
    clock = start_ns
    new_time: dict[tuple[int, int, int], int] = {}
    for position, (_, kind, i, e) in enumerate(moments):
        operation = (spans[i].attributes or {}).get("gen_ai.operation.name")
        if kind == 2 and operation == "chat":
            clock += (650 + (position * 137) % 900) * MS  # a model call: about a second
        elif kind == 2 and operation == "execute_tool":
            clock += (30 + (position * 53) % 170) * MS
        else:
            clock += MS
        new_time[(kind, i, e)] = clock
    rebuilt = []
    for i, span in enumerate(spans):
        events = [
            Event(event.name, portable(event.attributes), timestamp=new_time[(1, i, e)])
            for e, event in enumerate(span.events)
        ]
        rebuilt.append(
            ReadableSpan(
                name=span.name,
                context=span.context,
                parent=span.parent,
                resource=span.resource,
                attributes=span.attributes,
                events=events,
                links=span.links,
                kind=span.kind,
                instrumentation_scope=span.instrumentation_scope,
                status=span.status,
                start_time=new_time[(0, i, -1)],
                end_time=new_time[(2, i, -1)],
            )
        )
    return rebuilt


def portable(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """An event's attributes with its ``exception.stacktrace`` (if any) the same from any
    checkout and after unrelated edits: files relative to the repository (others by
    name), no line numbers, no caret markers."""
    found = dict(attributes or {})
    trace_text = found.get("exception.stacktrace")
    if not isinstance(trace_text, str):
        return found
    lines = []
    for line in trace_text.splitlines():
        frame = _FRAME.match(line)
        if frame is not None:
            path = Path(frame["path"])
            shown = path.relative_to(HERE.parent) if path.is_relative_to(HERE.parent) else path.name
            lines.append(f'  File "{shown}", in {frame["function"]}')
        elif not _MARKERS.match(line):
            lines.append(line)
    found["exception.stacktrace"] = "\n".join(lines) + "\n"
    return found


def generate(out_dir: Path) -> list[Path]:
    """Record every scenario and write one OTLP/JSON file per scenario into ``out_dir``."""
    ids = SeededIds()
    memory = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource({"service.name": "baton-samples"}), id_generator=ids
    )
    provider.add_span_processor(SimpleSpanProcessor(memory))
    trace.set_tracer_provider(provider)  # baton's runner records through the global provider
    work = Path(tempfile.mkdtemp(prefix="baton-samples-"))
    written = []
    try:
        store = tracer.Store(work / "samples.duckdb")
        exporter = StoreExporter(store)
        for number, (name, run) in enumerate(scenarios.SCENARIOS.items()):
            ids.reset(name)
            memory.clear()
            settings.capture_content = name != "content_off"
            run()
            spans = memory.get_finished_spans()
            exporter.export(synthetic_times(spans, EPOCH_NS + number * HOUR_NS))
            traces = sorted({f"{span.context.trace_id:032x}" for span in spans if span.context})
            target = out_dir / f"{name}.otlp.json"
            export_spans(store, target, "otlp-json", SpanFilter(traces=traces), spans_per_line=1)
            written.append(target)
        exporter.shutdown()
    finally:
        settings.capture_content = True
        shutil.rmtree(work, ignore_errors=True)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed files differ")
    args = parser.parse_args()
    if not args.check:
        for path in generate(HERE):
            print(f"wrote {path.relative_to(HERE.parent)} ({path.stat().st_size:,} bytes)")
        return
    fresh = Path(tempfile.mkdtemp(prefix="baton-samples-check-"))
    try:
        stale = [
            p.name for p in generate(fresh) if not filecmp.cmp(p, HERE / p.name, shallow=False)
        ]
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
    if stale:
        sys.exit(f"sample traces differ from a fresh generation: {', '.join(stale)}")
    print("sample traces are up to date")


if __name__ == "__main__":
    main()
