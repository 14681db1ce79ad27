"""baton's part of ``bench/bench_peers.py``, run by baton's venv: recorded the way the
README says (``tracer.agents_sdk.install(path)``), read back with SQL (``Store.query``)."""

from __future__ import annotations

import argparse
from pathlib import Path

import workflow

import tracer.agents_sdk
from tracer.store import Store


def setup(args: argparse.Namespace) -> workflow.Tool:
    path = Path(args.workdir) / "runs.duckdb"
    processor = tracer.agents_sdk.install(path)

    def count() -> tuple[int, int]:
        spans, traces = (
            Store(path).query("SELECT count(*), count(DISTINCT trace_id) FROM spans").rows[0]
        )
        return int(spans), int(traces)

    return workflow.Tool(
        name="baton",
        package="baton",
        flush=processor.force_flush,
        count=count,
        extra_spans=lambda sdk: sdk.traces,
        extra_doc="+1 per trace (the SDK trace's own span)",
    )


if __name__ == "__main__":
    workflow.main(setup)
