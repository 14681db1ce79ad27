"""Command-line start-up: the wall time of ``baton`` commands beside bare ``import duckdb``.

    python bench/bench_cli.py [--repeat 15] [--spans 10000]

Each command runs as its own process, as a user runs it, on a store of ``--spans``
synthetic spans. The floor is ``python -c "import duckdb"``: any ``baton`` command that
answers from the store pays at least that. Commands and the floor run interleaved, round
after round, so a busy moment costs them alike; the median of ``--repeat`` rounds is
printed with its ratio to the floor's median. Goals (issue #10): ``baton sql "select 1"``
within 2× the floor, ``baton --help`` under 0.25 s.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import many_conversations

from tracer.store import Store


def baton_executable() -> str:
    """The ``baton`` script installed beside this interpreter (what a user runs)."""
    script = Path(sys.executable).with_name("baton")
    if not script.exists():
        sys.exit(f"no baton command beside {sys.executable}: pip install -e . first")
    return str(script)


def wall_time(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--spans", type=int, default=10_000)
    args = parser.parse_args()

    baton = baton_executable()
    with tempfile.TemporaryDirectory() as scratch:
        store_path = Path(scratch) / "bench.duckdb"
        spans = many_conversations(Store(store_path), args.spans)
        env = {**os.environ, "BATON_STORE": str(store_path)}
        commands = {
            'python -c "import duckdb"  (floor)': [sys.executable, "-c", "import duckdb"],
            "baton --help": [baton, "--help"],
            'baton sql "select 1"': [baton, "sql", "select 1"],
            "baton traces": [baton, "traces"],
        }
        for argv in commands.values():  # warm the page cache and .pyc files
            wall_time(argv, env)
        times: dict[str, list[float]] = {label: [] for label in commands}
        for _ in range(args.repeat):
            for label, argv in commands.items():
                times[label].append(wall_time(argv, env))

    medians = {label: statistics.median(values) for label, values in times.items()}
    floor = next(iter(medians.values()))
    print(f"store: {spans} spans; median of {args.repeat} runs each, interleaved")
    for label, median in medians.items():
        print(f"{label:<36} {median * 1000:7.0f} ms   {median / floor:5.2f}× the floor")


if __name__ == "__main__":
    main()
