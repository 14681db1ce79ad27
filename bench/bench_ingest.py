"""Ingest speed: spans/s through ``StoreExporter`` beside the minimal honest pipeline.

    python bench/bench_ingest.py [--spans 100000] [--repeat 7]

The floor is what any exporter must at least do with OpenTelemetry ``ReadableSpan``s:
build columns, serialise attributes to JSON, and insert Arrow batches of 512 into a
DuckDB table. ``StoreExporter`` additionally normalises, redacts and truncates, writes
each batch as a segment file, and later absorbs the segments (dedup + resolution) into
the store; its figure includes that absorb (``shutdown``). Both are timed from their
first span to their database's close, so both end with the spans checkpointed into the
database file; the schema is made before. Both run in this process, on the same spans,
alternately; the ratio is the median of the ``--repeat`` rounds' ratios (each round runs
both, one after the other).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from statistics import median

import duckdb
import pyarrow as pa
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tracer.capture.exporter import StoreExporter
from tracer.store import Store

BATCH = 512


def make_spans(count: int) -> list[ReadableSpan]:
    """Spans shaped like a real run: workflows of agents, chats and tool calls."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("baton")
    made = 0
    run = 0
    while made < count:
        run += 1
        with tracer.start_as_current_span(
            "invoke_workflow support",
            attributes={
                "gen_ai.operation.name": "invoke_workflow",
                "gen_ai.conversation.id": f"c{run}",
            },
        ):
            made += 1
            for agent, target in (("Triage", "Billing"), ("Billing", "Refunds"), ("Refunds", None)):
                with tracer.start_as_current_span(
                    f"invoke_agent {agent}",
                    attributes={
                        "gen_ai.operation.name": "invoke_agent",
                        "gen_ai.agent.name": agent,
                    },
                ):
                    with tracer.start_as_current_span(
                        "chat gpt-4.1",
                        kind=SpanKind.CLIENT,
                        attributes={
                            "gen_ai.operation.name": "chat",
                            "gen_ai.request.model": "gpt-4.1",
                            "gen_ai.usage.input_tokens": 812,
                            "gen_ai.usage.output_tokens": 64,
                            "gen_ai.response.finish_reasons": ["tool_calls"],
                            "gen_ai.output.messages": json.dumps(
                                [
                                    {
                                        "role": "assistant",
                                        "parts": [{"type": "text", "content": "x" * 200}],
                                    }
                                ]
                            ),
                        },
                    ):
                        pass
                    tool = f"transfer_to_{target.lower()}" if target else "lookup_invoice"
                    attributes: dict[str, str] = {
                        "gen_ai.operation.name": "execute_tool",
                        "gen_ai.tool.name": tool,
                        "gen_ai.tool.call.id": "call_123",
                        "gen_ai.tool.call.arguments": '{"invoice": "A-1"}',
                    }
                    if target:
                        attributes["gen_ai.transfer.mode"] = "pass_control"
                        attributes["gen_ai.transfer.target.name"] = target
                    with tracer.start_as_current_span(
                        f"execute_tool {tool}", attributes=attributes
                    ):
                        pass
                    made += 3
    provider.shutdown()
    return list(memory.get_finished_spans())[:count]


Timing = tuple[float, float]  # (wall seconds, CPU seconds of the process)


def floor_pipeline(spans: list[ReadableSpan], path: Path) -> Timing:
    """Columns + JSON attributes + Arrow insert, batches of 512, and the close."""
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE spans (trace_id VARCHAR, span_id VARCHAR, parent_span_id VARCHAR, "
        "name VARCHAR, kind VARCHAR, start_time TIMESTAMPTZ, end_time TIMESTAMPTZ, "
        "status VARCHAR, attributes JSON, resource JSON)"
    )
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(spans), BATCH):
        cols: dict[str, list[object]] = {
            k: []
            for k in (
                "trace_id",
                "span_id",
                "parent_span_id",
                "name",
                "kind",
                "start_time",
                "end_time",
                "status",
                "attributes",
                "resource",
            )
        }
        for span in spans[i : i + BATCH]:
            ctx = span.context
            assert ctx is not None and span.start_time is not None and span.end_time is not None
            cols["trace_id"].append(f"{ctx.trace_id:032x}")
            cols["span_id"].append(f"{ctx.span_id:016x}")
            cols["parent_span_id"].append(f"{span.parent.span_id:016x}" if span.parent else None)
            cols["name"].append(span.name)
            cols["kind"].append(span.kind.name)
            cols["start_time"].append(span.start_time // 1000)
            cols["end_time"].append(span.end_time // 1000)
            cols["status"].append(span.status.status_code.name)
            cols["attributes"].append(json.dumps(dict(span.attributes or {})))
            cols["resource"].append(json.dumps(dict(span.resource.attributes)))
        table = pa.table(
            {
                k: pa.array(v, type=pa.timestamp("us", tz="UTC"))
                if k.endswith("_time")
                else pa.array(v)
                for k, v in cols.items()
            }
        )
        con.register("batch", table)
        con.execute("INSERT INTO spans SELECT * FROM batch")
        con.unregister("batch")
    con.close()  # its checkpoint: the exporter's figure ends with one too
    return time.perf_counter() - started, time.process_time() - cpu


def store_exporter(spans: list[ReadableSpan], path: Path) -> Timing:
    """Through ``StoreExporter``, including the final absorb into DuckDB."""
    store = Store(path)
    store.absorb()  # create the schema outside the timing, as a long-lived store would be
    exporter = StoreExporter(store)
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(spans), BATCH):
        exporter.export(spans[i : i + BATCH])
    exporter.shutdown()  # the absorb, its checkpoint and the close
    timing = time.perf_counter() - started, time.process_time() - cpu
    row = store.query("SELECT count(*) FROM spans").rows[0]
    assert row[0] == len(spans), f"stored {row[0]} of {len(spans)} spans"
    return timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    spans = make_spans(args.spans)
    print(f"{len(spans)} spans, batches of {BATCH}, {args.repeat} rounds")
    floors: list[Timing] = []
    stores: list[Timing] = []
    for _ in range(args.repeat):
        work = Path(tempfile.mkdtemp(prefix="baton-bench-"))
        try:
            floors.append(floor_pipeline(spans, work / "floor.duckdb"))
            stores.append(store_exporter(spans, work / "store.duckdb"))
        finally:
            shutil.rmtree(work)
    # Each round's ratio, of two runs a few seconds apart: the host's speed drifts more
    # than that between rounds, so a ratio of the best of each side mixes two speeds.
    wall = [f[0] / s[0] for f, s in zip(floors, stores, strict=True)]
    cpu = [f[1] / s[1] for f, s in zip(floors, stores, strict=True)]
    best_floor, best_store = min(f[0] for f in floors), min(s[0] for s in stores)
    print(f"minimal pipeline (floor)   {len(spans) / best_floor:>10,.0f} spans/s (best round)")
    print(f"StoreExporter              {len(spans) / best_store:>10,.0f} spans/s (best round)")
    print(
        f"ratio StoreExporter/floor  {median(wall):>10.2f}x   (goal >= 0.80x; median of the "
        f"rounds' ratios, {min(wall):.2f}-{max(wall):.2f})"
    )
    # CPU time (all threads, the same stretch as the wall time) holds when other
    # programs share the cores.
    print(
        f"CPU s (best round): floor {min(f[1] for f in floors):.2f}, StoreExporter "
        f"{min(s[1] for s in stores):.2f}; ratio {median(cpu):.2f}x "
        f"(median of the rounds', {min(cpu):.2f}-{max(cpu):.2f})"
    )


if __name__ == "__main__":
    main()
