"""Per-span cost of turning spans into rows: ``SpanRows.add_readable`` and ``to_arrow``.

    python bench/bench_spanrows.py [--spans 50000] [--repeat 5]

Every ingest path (``StoreExporter``, ``baton collect``'s receiver, the Agents SDK
recorder's flusher, ``baton import``) pays this per span before anything is written. The
spans are ``bench_ingest.py``'s, in batches of 512 as an exporter gets them. CPU time of
this thread, best of ``--repeat`` rounds, so other programs on the machine matter less.
"""

from __future__ import annotations

import argparse
import time

from bench_ingest import BATCH, make_spans  # beside this file, on the path of a script

from tracer.capture.spanrows import SpanRows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spans", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    spans = make_spans(args.spans)
    batches = [spans[i : i + BATCH] for i in range(0, len(spans), BATCH)]
    add = to_arrow = float("inf")
    for _ in range(args.repeat):
        filled = []
        started = time.thread_time()
        for batch in batches:
            rows = SpanRows()
            for span in batch:
                rows.add_readable(span)
            filled.append(rows)
        added = time.thread_time()
        for rows in filled:
            rows.to_arrow()
        add = min(add, added - started)
        to_arrow = min(to_arrow, time.thread_time() - added)
    per = 1e6 / len(spans)
    print(f"{len(spans)} spans, batches of {BATCH}, best of {args.repeat}, CPU µs per span")
    print(f"SpanRows.add_readable   {add * per:6.2f}")
    print(f"SpanRows.to_arrow       {to_arrow * per:6.2f}   (columns + redaction)")
    print(f"together                {(add + to_arrow) * per:6.2f}")


if __name__ == "__main__":
    main()
