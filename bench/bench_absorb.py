"""An absorb's cost against the size of the store it absorbs into: 10k new spans appended
to stores of growing size, beside the same 10k inserted into an empty store (the floor).

    python bench/bench_absorb.py --stores bench-100k.duckdb,bench-1M.duckdb

Stores are copied first, so the originals are not changed.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))

from synth import EPOCH_NS, support_run

from tracer.capture.spanrows import SpanRows
from tracer.store import Store


def batch(spans: int, seed: int) -> object:
    rng = random.Random(seed)
    rows = SpanRows()
    clock = EPOCH_NS + 10**18  # later than anything stored: new traces
    number = 10**7 + seed * 10**5
    while len(rows) < spans:
        number += 1
        clock = support_run(rows, number, clock, rng) + 1_000_000_000
    return rows.to_arrow()


def absorb_seconds(path: Path, table: object, repeat: int) -> tuple[float, float]:
    """The median wall and CPU (the process's, every thread) seconds of an absorb."""
    runs, cpu = [], []
    for _n in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "store.duckdb"
            if path.exists():
                shutil.copy(path, copy)
                _flush(copy)
            store = Store(copy)
            store.query("SELECT 1")  # upgraded and absorbed before the clock starts
            store.write_segment(table)  # type: ignore[arg-type]
            started, started_cpu = time.perf_counter(), time.process_time()
            store.absorb()
            runs.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
    return sorted(runs)[len(runs) // 2], sorted(cpu)[len(cpu) // 2]


def _flush(path: Path) -> None:
    """Write the copy's pages to the disk now: otherwise the absorb's checkpoint, which
    syncs the file, pays for writing the whole copy (300 ms for a 540 MB store)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _spans_held(path: Path) -> int:
    # Read-only and without Store: opening a store of an older schema with Store upgrades
    # it in place, and the originals are shared, never written.
    con = duckdb.connect(str(path), read_only=True)
    try:
        return int(con.execute("SELECT count(*) FROM spans").fetchall()[0][0])
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", required=True, help="comma-separated store paths")
    parser.add_argument("--spans", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    table = batch(args.spans, 1)
    with tempfile.TemporaryDirectory() as tmp:
        floor, floor_cpu = absorb_seconds(Path(tmp) / "empty.duckdb", table, args.repeat)
    print(f"absorbing {table.num_rows:,} new spans")  # type: ignore[attr-defined]
    print(
        f"  into an empty store (floor)          {floor * 1000:8.1f} ms"
        f"   (CPU {floor_cpu * 1000:7.1f} ms)"
    )
    for path in (Path(p) for p in args.stores.split(",")):
        held = _spans_held(path)
        seconds, cpu = absorb_seconds(path, table, args.repeat)
        print(
            f"  into a store of {held:>12,} spans  {seconds * 1000:8.1f} ms   "
            f"{seconds / floor:5.2f}× the floor   (CPU {cpu * 1000:7.1f} ms, "
            f"{cpu / floor_cpu:5.2f}×)"
        )


if __name__ == "__main__":
    main()
