"""Where a ``bench_ingest`` round goes: the seconds each stage of ``StoreExporter`` takes
for the same spans, beside the floor's whole round, measured in the same rounds.

    python bench/bench_ingest_phases.py [--spans 50000] [--repeat 4]

The stages are the exporter's own functions, each wrapped in this process with a timer
(nested stages count inside their callers too: ``durable`` is part of the segment write,
``_scope`` and ``_summarise`` of the derived facts). The first round also pays one-time
costs (the price table's first load), so read the later ones.
"""

from __future__ import annotations

import argparse
import functools
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_ingest import BATCH, floor_pipeline, make_spans

import tracer.capture.spanrows as spanrows
import tracer.store.derived as derived
import tracer.store.ingest as ingest
import tracer.store.segments as segments
from tracer.capture.exporter import StoreExporter
from tracer.store import Store

#: (module or class, function, what it is)
STAGES: list[tuple[Any, str, str]] = [
    (spanrows.SpanRows, "add_readable", "span to row (normalise, clean, JSON)"),
    (spanrows.SpanRows, "to_arrow", "rows to Arrow, redaction"),
    (segments, "write_segment", "segment write"),
    (segments, "durable", "  of which fsyncs"),
    (segments, "read_segment", "segment read back"),
    (ingest, "resolve", "resolution"),
    (ingest, "refresh", "derived facts"),
    (derived, "_scope", "  of which scope"),
    (derived, "_summarise", "  of which summaries"),
]
spent: Counter[str] = Counter()


def timed(owner: Any, name: str) -> None:
    original: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - started

    setattr(owner, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spans", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=4)
    args = parser.parse_args()
    for owner, name, _ in STAGES:
        timed(owner, name)
    spans = make_spans(args.spans)
    print(f"{len(spans)} spans, batches of {BATCH}; seconds per round")
    for round_ in range(1, args.repeat + 1):
        work = Path(tempfile.mkdtemp(prefix="baton-bench-"))
        try:
            floor = floor_pipeline(spans, work / "floor.duckdb")[0]
            store = Store(work / "store.duckdb")
            store.absorb()
            exporter = StoreExporter(store)
            spent.clear()
            started = time.perf_counter()
            for i in range(0, len(spans), BATCH):
                exporter.export(spans[i : i + BATCH])
            exported = time.perf_counter()
            exporter.shutdown()
            ended = time.perf_counter()
        finally:
            shutil.rmtree(work)
        total = ended - started
        print(
            f"round {round_}: floor {floor:.3f}, StoreExporter {total:.3f} "
            f"(export {exported - started:.3f}, absorb {ended - exported:.3f}), "
            f"ratio {floor / total:.2f}"
        )
        for _, name, what in STAGES:
            print(f"    {what:<40} {spent[name]:.3f}")


if __name__ == "__main__":
    main()
