"""How baton's costs grow with the store: for stores of 100k, 1M and 10M spans (many small
conversations and one huge one), ingest rate and peak memory, and each view question
beside its floor — the plain GROUP BY over ``spans`` that answers the same thing.

    python bench/bench_scale.py --sizes 100000,1000000 [--keep DIR]

Which costs grow with the store and which with the answer shows in the columns: a view
within a small ratio of its floor grows only as a scan of the table does.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

HERE = Path(__file__).parent
LONG_TURNS = 10_000
QUESTIONS: tuple[tuple[str, str, str], ...] = (
    (
        "conversations first page (100 rows)",
        "SELECT * FROM conversations ORDER BY started_at DESC LIMIT 100",
        "SELECT trace_id, min(start_time) AS s, count(*) FROM spans GROUP BY trace_id "
        "ORDER BY s DESC LIMIT 100",
    ),
    (
        "handoffs aggregate",
        "SELECT from_agent, to_agent, count(*) FROM handoffs GROUP BY ALL",
        "SELECT from_agent, to_agent, count(*) FROM spans WHERE op = 'handoff' GROUP BY ALL",
    ),
    ("loops view", "SELECT count(*) FROM loops", "SELECT count(*) FROM spans WHERE op = 'handoff'"),
    ("any read: select 1", "SELECT 1", ""),
)


def build(path: Path, spans: int) -> dict[str, Any]:
    """Build the store in a child process: its ingest rate and peak memory are its own."""
    code = (
        "import sys, time, json, resource; sys.path.insert(0, sys.argv[3]);"
        "from synth import many_conversations, long_conversation;"
        "from tracer.store import Store;"
        "s = Store(sys.argv[1]); t = time.perf_counter();"
        "n = many_conversations(s, int(sys.argv[2])); long_conversation(s, int(sys.argv[4]));"
        "e = time.perf_counter() - t;"
        "print(json.dumps({'spans': n, 'seconds': e,"
        " 'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), str(spans), str(HERE), str(LONG_TURNS)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def timed(run: Any, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        runs.append(time.perf_counter() - started)
    return median(runs)


def measure(path: Path, repeat: int) -> list[tuple[str, float, float | None]]:
    import duckdb

    from replay import load_conversation
    from tracer.store import Store

    store = Store(path)
    store.query("SELECT 1")  # absorbed, views current: what every later read finds
    rows: list[tuple[str, float, float | None]] = []
    for label, question, floor in QUESTIONS:
        baton = timed(lambda q=question: Store(path).query(q), repeat)
        if floor:
            bare = timed(lambda f=floor: _bare(duckdb, path, f), repeat)
        else:
            bare = timed(lambda: _bare(duckdb, path, "SELECT 1"), repeat)
        rows.append((label, baton, bare))
    trace = store.query(
        "SELECT trace_id FROM spans GROUP BY trace_id ORDER BY count(*) DESC LIMIT 1"
    ).rows[0][0]
    load = timed(lambda: load_conversation(store, str(trace)), max(1, repeat // 2))
    raw = timed(
        lambda: _bare(duckdb, path, f"SELECT * FROM spans WHERE trace_id = '{trace}'"), repeat
    )
    rows.append((f"open the {LONG_TURNS:,}-turn conversation", load, raw))
    return rows


def _bare(duckdb: Any, path: Path, sql: str) -> None:
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute(sql).fetchall()
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build stores here and reuse them")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    with tempfile.TemporaryDirectory() as tmp:
        where = args.keep or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        for size in (int(s) for s in args.sizes.split(",")):
            path = where / f"scale-{size}.duckdb"
            if not path.exists():
                built = build(path, size)
                print(
                    f"{built['spans']:,} spans: ingest {built['spans'] / built['seconds']:,.0f} "
                    f"spans/s, peak memory {built['peak_mb']:,.0f} MB"
                )
            else:
                print(f"{size:,} spans (reusing {path})")
            for label, baton, floor in measure(path, args.repeat):
                ratio = f"{baton / floor:6.2f}×" if floor else ""
                print(
                    f"  {label:<42}{baton * 1000:9.1f} ms   floor {floor * 1000:8.1f} ms  {ratio}"
                )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the reading process: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
