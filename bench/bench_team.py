"""The team store (DuckLake, PostgreSQL catalog, a local data directory) beside a local
store, in the same run: spans/s committed by 1, 2 and 4 absorbers at once (separate
processes, each with its own segment folder, as separate machines are), and the
``handoffs`` aggregate over a store of SPANS spans.

    python bench/bench_team.py --absorb-spans 20000 --spans 1000000

Needs the team extra (pip install -e '.[team]') and PostgreSQL's binaries; the server is a
private cluster on a free port of 127.0.0.1, removed at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from lake_fixtures import private_postgres  # noqa: E402
from synth import many_conversations  # noqa: E402

from tracer.store import Store  # noqa: E402
from tracer.store.lake import LakeStore, push  # noqa: E402

AGGREGATE = "SELECT from_agent, to_agent, count(*) FROM handoffs GROUP BY ALL ORDER BY ALL"

# One absorber: its own spans (trace numbers of its own), as segments of SEGMENT spans,
# each absorbed as soon as it is written, the way a recorder's periodic absorb works.
ABSORBER = """
import random, sys
sys.path.insert(0, sys.argv[4])
from synth import EPOCH_NS, support_run
from tracer.capture.spanrows import SpanRows
from tracer.store import Store
store, spans, index, segment = Store(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[5])
rng = random.Random(index)
number, clock, written = (index + 1) * 10**7, EPOCH_NS, 0
while written < spans:
    rows = SpanRows()
    while len(rows) < segment:
        number += 1
        clock = support_run(rows, number, clock, rng) + 1_000_000_000
    store.write_segment(rows.to_arrow())
    store.absorb()
    written += len(rows)
print(written)
"""


def absorb_rate(target: str, absorbers: int, spans: int, segment: int, root: Path) -> float:
    """Spans per second committed by ``absorbers`` processes at once into ``target``."""
    env = {**os.environ, "BATON_FSYNC": "0"}
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", ABSORBER, target, str(spans), str(i), str(HERE), str(segment)],
            stdout=subprocess.PIPE,
            text=True,
            env={**env, "XDG_DATA_HOME": str(root / f"machine-{i}")},
        )
        for i in range(absorbers)
    ]
    total = 0
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"an absorber failed (exit {proc.returncode})")
        total += int(out.split()[-1])
    elapsed = time.perf_counter() - started
    stored = Store(target).query("SELECT count(*) FROM spans").rows[0][0]
    if stored != total:
        raise SystemExit(f"{target}: {stored} spans stored, {total} written")
    return total / elapsed


def open_query_seconds(store: Store, repeat: int) -> float:
    """The aggregate alone, on a connection opened (and the lake attached) beforehand."""
    with store.read_connection() as con:
        con.execute(AGGREGATE).fetchall()
        runs = []
        for _ in range(repeat):
            started = time.perf_counter()
            con.execute(AGGREGATE).fetchall()
            runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def query_seconds(store: Store, repeat: int) -> float:
    store.query(AGGREGATE)  # connected, attached and warm before the clock starts
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        store.query(AGGREGATE)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--absorb-spans", type=int, default=20_000, help="spans per absorber")
    parser.add_argument("--segment", type=int, default=2_000, help="spans per segment")
    parser.add_argument("--spans", type=int, default=1_000_000, help="store size for the query")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with private_postgres() as pg, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["XDG_DATA_HOME"] = str(root / "xdg")
        print(f"absorbing: {args.absorb_spans} spans per absorber, segments of {args.segment}")
        print(f"{'absorbers':>9}  {'local spans/s':>13}  {'lake spans/s':>12}  lake/local")
        for absorbers in (1, 2, 4):
            local = absorb_rate(
                str(root / f"local-{absorbers}.duckdb"),
                absorbers,
                args.absorb_spans,
                args.segment,
                root / f"l{absorbers}",
            )
            os.environ["BATON_LAKE_DATA"] = str(root / f"lake-data-{absorbers}") + "/"
            url = f"ducklake:postgres:{pg.libpq(pg.createdb())}"
            lake = absorb_rate(
                url, absorbers, args.absorb_spans, args.segment, root / f"k{absorbers}"
            )
            print(f"{absorbers:>9}  {local:>13,.0f}  {lake:>12,.0f}  {lake / local:.2f}")

        local_store = Store(root / "big.duckdb")
        started = time.perf_counter()
        count = many_conversations(local_store, args.spans)
        built = time.perf_counter() - started
        os.environ["BATON_LAKE_DATA"] = str(root / "lake-data-big") + "/"
        lake_store = LakeStore(f"ducklake:postgres:{pg.libpq(pg.createdb())}")
        started = time.perf_counter()
        pushed = push(local_store, lake_store)
        pushed_in = time.perf_counter() - started
        assert pushed == count, (pushed, count)
        print(
            f"\n{count:,} spans: local ingest {built:.1f}s, baton store push to the lake {pushed_in:.1f}s"
        )
        for label, measure in (
            ("a query as baton sql runs it (connect, attach, query)", query_seconds),
            ("the query alone on an open connection", open_query_seconds),
        ):
            local_s = measure(local_store, args.repeat)
            lake_s = measure(lake_store, args.repeat)
            print(
                f"handoffs aggregate, {label}, median of {args.repeat}: "
                f"local {local_s * 1000:.0f} ms, lake {lake_s * 1000:.0f} ms, "
                f"lake/local {lake_s / local_s:.1f}"
            )


if __name__ == "__main__":
    main()
